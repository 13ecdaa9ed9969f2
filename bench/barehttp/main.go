// Command barehttp is the baseline of bench/peers.sh: a bare net/http
// server that answers 201 to POST /boxes/{id}/events after reading the
// body, with no authentication, validation or storage. Boxwire's durable
// append is measured as a ratio of it under the same wrk command
// (DESIGN §9).
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /boxes/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"0"}`)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	log.Fatal(http.ListenAndServe(*addr, mux))
}
