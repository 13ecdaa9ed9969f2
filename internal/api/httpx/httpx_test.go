package httpx_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/errs"
)

func serve(t *testing.T, render httpx.Renderer, h http.HandlerFunc, req *http.Request) (*httptest.ResponseRecorder, map[string]any, string) {
	t.Helper()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	handler := httpx.Observe(log, httpx.NewMetrics(prometheus.NewRegistry()), httpx.Recover(render, h))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	var body map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q is not JSON: %v", rec.Body.String(), err)
		}
	}
	return rec, body, logs.String()
}

func fail(err error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { httpx.Misakey(w, r, err) }
}

var badField = errs.Field(errs.Body, "title", errs.Required, "title is required")

func TestMisakeyShape(t *testing.T) {
	rec, body, _ := serve(t, httpx.Misakey, fail(badField), httptest.NewRequest("POST", "/boxes", nil))
	if rec.Code != 400 || body["code"] != "bad_request" || body["origin"] != "body" || body["desc"] != "title is required" {
		t.Fatalf("got %d %v", rec.Code, body)
	}
	if d, _ := body["details"].(map[string]any); d["title"] != "required" {
		t.Fatalf("details %v", body["details"])
	}
	// details is always an object, origin always set.
	_, body, _ = serve(t, httpx.Misakey, fail(errs.E(errs.Forbidden, "no")), httptest.NewRequest("GET", "/", nil))
	if d, ok := body["details"].(map[string]any); !ok || len(d) != 0 || body["origin"] != "not_defined" || body["code"] != "forbidden" {
		t.Fatalf("forbidden body %v", body)
	}
}

func TestBoxShape(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) {
		httpx.Box(w, r, &errs.Error{Code: errs.RateLimited, Message: "slow down", RetryAfter: 1500 * time.Millisecond})
	}
	rec, body, _ := serve(t, httpx.Box, h, httptest.NewRequest("GET", "/2.0/events", nil))
	if rec.Code != 429 || body["type"] != "error" || body["status"] != 429.0 || body["code"] != "rate_limit_exceeded" ||
		body["message"] != "slow down" || body["request_id"] != rec.Header().Get("X-Request-Id") {
		t.Fatalf("got %d %v", rec.Code, body)
	}
	if got := rec.Header().Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After %q, want whole seconds rounded up", got)
	}
	rec, body, _ = serve(t, httpx.Box, func(w http.ResponseWriter, r *http.Request) { httpx.Box(w, r, badField) }, httptest.NewRequest("GET", "/", nil))
	ci, _ := body["context_info"].(map[string]any)
	list, _ := ci["errors"].([]any)
	if rec.Code != 400 || len(list) != 1 || list[0].(map[string]any)["name"] != "title" {
		t.Fatalf("field errors %v", body)
	}
}

func TestProblemShape(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) { httpx.Problem(w, r, badField) }
	rec, body, _ := serve(t, httpx.Problem, h, httptest.NewRequest("POST", "/contact", nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q", ct)
	}
	list, _ := body["errors"].([]any)
	if rec.Code != 400 || body["status"] != 400.0 || body["title"] != "Bad Request" || body["code"] != "invalid" ||
		body["requestId"] != rec.Header().Get("X-Request-Id") || len(list) != 1 || list[0].(map[string]any)["field"] != "title" {
		t.Fatalf("got %d %v", rec.Code, body)
	}
}

func TestInternalErrorsAreLoggedNotShown(t *testing.T) {
	secret := "pq: password authentication failed for user boxwire"
	for name, h := range map[string]http.HandlerFunc{
		"error": func(w http.ResponseWriter, r *http.Request) {
			httpx.Problem(w, r, errs.Wrap(errString(secret), "query"))
		},
		"panic": func(w http.ResponseWriter, r *http.Request) { panic(secret) },
	} {
		rec, body, logs := serve(t, httpx.Problem, h, httptest.NewRequest("GET", "/x", nil))
		id := rec.Header().Get("X-Request-Id")
		if rec.Code != 500 || strings.Contains(rec.Body.String(), "password") || body["detail"] != "internal error" {
			t.Fatalf("%s: %d %s leaks or is not a 500", name, rec.Code, rec.Body.String())
		}
		if id == "" || !strings.Contains(logs, secret) || !strings.Contains(logs, `"request_id":"`+id+`"`) {
			t.Fatalf("%s: the log must hold the cause and request id %q:\n%s", name, id, logs)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestRequestIDs(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) {
		if httpx.RequestID(r.Context()) == "" {
			t.Error("no request id in the context")
		}
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-Id", "trace-42.a_b")
	rec, _, logs := serve(t, httpx.Problem, ok, req)
	if rec.Header().Get("X-Request-Id") != "trace-42.a_b" || !strings.Contains(logs, `"request_id":"trace-42.a_b"`) {
		t.Fatalf("a sane incoming id is kept: %q\n%s", rec.Header().Get("X-Request-Id"), logs)
	}
	req = httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-Id", "bad id\n{}")
	rec, _, _ = serve(t, httpx.Problem, ok, req)
	if id := rec.Header().Get("X-Request-Id"); id == "bad id\n{}" || len(id) != 24 {
		t.Fatalf("an unsafe incoming id must be replaced, got %q", id)
	}
}

func TestDecodeJSONNamesTheProblem(t *testing.T) {
	type input struct {
		Title string `json:"title"`
		Count int    `json:"count"`
		Tags  []string
	}
	cases := []struct {
		name, body, ctype string
		status            int
		field             string
	}{
		{"empty", "", "", 400, "body"},
		{"malformed", `{"title":`, "", 400, "body"},
		{"not json", `title=x`, "", 400, "body"},
		{"wrong type", `{"title": 3}`, "", 400, "title"},
		{"wrong nested type", `{"count": "three"}`, "", 400, "count"},
		{"two values", `{} {}`, "", 400, "body"},
		{"content type", `{}`, "text/plain", 400, "Content-Type"},
		{"too large", `{"title":"` + strings.Repeat("a", httpx.MaxJSONBody) + `"}`, "", 413, "body"},
		{"fine", `{"title":"x","count":2}`, "application/json; charset=utf-8", 200, ""},
	}
	for _, tc := range cases {
		h := func(w http.ResponseWriter, r *http.Request) {
			var in input
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				httpx.Misakey(w, r, err)
			}
		}
		req := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		rec, body, _ := serve(t, httpx.Misakey, h, req)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d (%v)", tc.name, rec.Code, tc.status, body)
			continue
		}
		if tc.field != "" {
			if d, _ := body["details"].(map[string]any); d[tc.field] == nil {
				t.Errorf("%s: details %v do not name %s", tc.name, body["details"], tc.field)
			}
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"title":"x"}`, `{"title":1}`, `[`, `null`, `{"a":{"b":[1,2,{}]}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var in struct {
			Title string         `json:"title"`
			Extra map[string]any `json:"extra"`
		}
		rec := httptest.NewRecorder()
		err := httpx.DecodeJSON(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)), &in)
		if err != nil && errs.CodeOf(err) == errs.Internal {
			t.Fatalf("bad input %q became an internal error: %v", body, err)
		}
	})
}
