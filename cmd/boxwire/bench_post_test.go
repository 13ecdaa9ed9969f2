package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http/httptest"
	"testing"

	boxclient "github.com/boxwire/boxwire/client"
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
	ctx := b.Context()
	data := b.TempDir()
	if out, code := runCLIB(data, "migrate"); code != 0 {
		b.Fatal(out)
	}
	if out, code := runCLIB(data, "user", "add", "--email", "a@example.com", "--password", "alice-password", "--name", "Alice"); code != 0 {
		b.Fatal(out)
	}
	srv, err := Start(ctx, Config{StoreConfig: StoreConfig{Data: data}, Addr: "127.0.0.1:0", LogLevel: "warn"}, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close(context.Background())
	alice := boxclient.New(srv.URL())
	tok, err := alice.Login(ctx, "a@example.com", "alice-password")
	if err != nil {
		b.Fatal(err)
	}
	keys, _ := boxclient.NewKeyPair()
	box, err := alice.CreateBox(ctx, boxclient.NewBox{Title: "bench", PublicKey: keys.PublicKey})
	if err != nil {
		b.Fatal(err)
	}
	path := "/boxes/" + box.ID + "/events"
	// A ~290-byte msg.text, the size bench/peers.sh posts: 150 bytes of
	// ciphertext and a public key, both base64.
	cipher := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("ciphertext"), 15))
	body := []byte(`{"type":"msg.text","content":{"encrypted":"` + cipher + `","public_key":"` + keys.PublicKey + `"}}`)
	h := srv.http.Handler
	b.SetParallelism(32) // 32 per processor: 64 writers on the two cores
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", path, bytes.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
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
