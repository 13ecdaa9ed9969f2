package httpx

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/errs"
)

// A streamed array has the bytes JSON gives the whole slice, empty or
// larger than the buffer.
func TestJSONArraySameBytesAsJSON(t *testing.T) {
	type row struct {
		ID   int    `json:"id"`
		Text string `json:"text"`
	}
	for _, n := range []int{0, 1, 3, 5000} {
		rows := make([]row, n)
		for i := range rows {
			rows[i] = row{i, "<b>&" + strings.Repeat("x", i%50)}
		}
		want := httptest.NewRecorder()
		JSON(want, http.StatusOK, rows)
		got := httptest.NewRecorder()
		a := NewJSONArray(got)
		for _, r := range rows {
			if err := a.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		req := httptest.NewRequest("GET", "/x", nil)
		a.Finish(req, nil, Misakey)
		if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) || got.Code != 200 || got.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%d rows: %d %q…, want the bytes of JSON", n, got.Code, got.Body.String()[:min(40, got.Body.Len())])
		}
	}
}

// An error before any byte left keeps its status; after, the connection
// is cut rather than the array closed.
func TestJSONArrayErrors(t *testing.T) {
	req := httptest.NewRequest("GET", "/x", nil)
	w := httptest.NewRecorder()
	a := NewJSONArray(w)
	a.Add(map[string]int{"a": 1})
	a.Finish(req, errs.E(errs.NotFound, "no such box"), Misakey)
	if w.Code != 404 || strings.Contains(w.Body.String(), `"a"`) {
		t.Fatalf("early error: %d %s", w.Code, w.Body)
	}

	w = httptest.NewRecorder()
	a = NewJSONArray(w)
	for i := 0; i < 10000; i++ {
		a.Add(map[string]int{"a": i})
	}
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Fatalf("late error: panic %v, want http.ErrAbortHandler; body ends %q", p, w.Body.String()[w.Body.Len()-10:])
		}
		if w.Code != 200 || bytes.HasSuffix(w.Body.Bytes(), []byte("]\n")) {
			t.Fatalf("late error: %d, body closed", w.Code)
		}
	}()
	a.Finish(req, errors.New("read failed"), Misakey)
}
