"""A path-normalisation tier upstream: Python's standard http.server, resolving the path the
way SimpleHTTPRequestHandler.translate_path does (percent-decode, normpath, drop empty, `.`
and `..` words). Answers "priced <path>" from the priced handler, "free <path>" from the free
one, "none <path>" (404) otherwise. Usage: python3 upstream.py PORT"""

import http.server
import posixpath
import sys
import urllib.parse


def resolve(target):
    path = target.split("?", 1)[0].split("#", 1)[0]
    path = posixpath.normpath(urllib.parse.unquote(path, errors="replace"))
    words = [w for w in path.split("/") if w and w not in (".", "..")]
    return "/" + "/".join(words)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = resolve(self.path)
        if path == "/api/weather" or path.startswith("/api/weather/"):
            status, kind = 200, "priced"
        elif path.startswith("/api/free/"):
            status, kind = 200, "free"
        else:
            status, kind = 404, "none"
        body = f"{kind} {path}\n".encode("utf-8", "replace")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
