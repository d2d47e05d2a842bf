// A path-normalisation tier upstream: Go's net/http ServeMux (it cleans paths, redirecting
// unclean ones, and matches decoded segments). Answers "priced <path>" from the priced
// handler, "free <path>" from the free one, "none <path>" (404) otherwise.
// Usage: go run upstream.go PORT
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func handler(kind string, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		fmt.Fprintf(w, "%s %s\n", kind, r.URL.Path)
	}
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/weather", handler("priced", 200))
	mux.HandleFunc("/api/weather/", handler("priced", 200))
	mux.HandleFunc("/api/free/", handler("free", 200))
	mux.HandleFunc("/", handler("none", 404))
	log.Fatal(http.ListenAndServe("127.0.0.1:"+os.Args[1], mux))
}
