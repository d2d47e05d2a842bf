// The upstream of bench/compare.sh: Go's net/http answering every request with the same
// ~100 bytes of JSON over HTTP/1.1 keep-alive. Usage: upstream 127.0.0.1:PORT
package main

import (
	"net/http"
	"os"
)

var body = []byte(`{"city":"Paris","temp_c":21,"conditions":"sunny","humidity_pct":40,"source":"bench upstream"}`)

func main() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	if err := http.ListenAndServe(os.Args[1], handler); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
