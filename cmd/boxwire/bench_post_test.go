package main

import (
	"bytes"
	"encoding/base64"
	"net/http/httptest"
	"runtime"
	"testing"
)

// BenchmarkPostEvent is a durable POST /boxes/{id}/events through the
// server's whole handler (authentication, decoding, the box rules, the
// committer and its fsync), called in-process by 64 concurrent writers,
// as wrk -c64 does over the network. Without the network and a load
// generator beside it, its allocs/op and B/op are the server's own per
// request (plus the recorder's, the same for every build), so an
// allocation cut shows as an exact count where a throughput figure on
// this machine would drift.
//
//	go test -run '^$' -bench BenchmarkPostEvent -benchtime 20000x ./cmd/boxwire/
func BenchmarkPostEvent(b *testing.B) {
	srv, token, box, keys := benchBox(b, "warn")
	path := "/boxes/" + box.ID + "/events"
	// A ~290-byte msg.text, the size bench/peers.sh posts: 150 bytes of
	// ciphertext and a public key, both base64.
	cipher := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("ciphertext"), 15))
	body := []byte(`{"type":"msg.text","content":{"encrypted":"` + cipher + `","public_key":"` + keys.PublicKey + `"}}`)
	h := srv.http.Handler
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0))) // 64 writers in all, as wrk -c64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", path, bytes.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+token)
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 201 {
				b.Errorf("status %d: %s", w.Code, w.Body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}
