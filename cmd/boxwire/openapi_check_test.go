package main

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/boxwire/boxwire/internal/api/openapi"
	"github.com/boxwire/boxwire/internal/web"
)

// The OpenAPI document (internal/api/openapi/openapi.yaml) is checked
// against the real traffic of the end-to-end tests: every client made
// by newClient sends through docCheck, which validates each request and
// response with libopenapi-validator and fails the test on a mismatch.

var (
	docOnce      sync.Once
	docValidator validator.Validator
	docErr       error
	// The validator keeps caches; one exchange at a time keeps it simple.
	docMu sync.Mutex
)

func apiValidator() (validator.Validator, error) {
	docOnce.Do(func() {
		var d libopenapi.Document
		d, docErr = libopenapi.NewDocument(openapi.YAML)
		if docErr != nil {
			return
		}
		v, errs := validator.NewValidator(d, config.WithFormatAssertions())
		if len(errs) > 0 {
			docErr = fmt.Errorf("openapi.yaml: %v", errs)
			return
		}
		docValidator = v
	})
	return docValidator, docErr
}

// notInDocument are the server's routes that are no API: the web app's
// page and files, the mux's catch-all 404 (in each surface's error
// shape), and the test-only clock.
var notInDocument = map[string]string{
	"/":                 "catch-all: a 404 in the messaging problem shape",
	"GET /{$}":          "the web app's page",
	"GET /app/":         "the web app's files",
	"POST /_test/clock": "test-only clock (--test-clock)",
}

// documented reports whether path is one of the document's API paths
// (not the web app).
func documented(path string) bool {
	if path == "/" || strings.HasPrefix(path, "/app/") || strings.HasPrefix(path, "/_test/") {
		return false
	}
	return true
}

// docCheck is an http.RoundTripper that validates every exchange against
// the OpenAPI document: the response always (status, headers, body
// shape), the request when the server accepted it (a 2xx or 3xx): tests
// send refused requests on purpose, and the document describes what the
// server accepts, not every way to be refused.
type docCheck struct {
	t    testing.TB
	next http.RoundTripper
	mu   sync.Mutex
	// seen counts the exchanges validated, by "METHOD path pattern".
	seen map[string]int
	// failures are the mismatches, also reported with t.Errorf.
	failures []string
}

func newDocCheck(t testing.TB) *docCheck {
	return &docCheck{t: t, next: http.DefaultTransport, seen: map[string]int{}}
}

func (c *docCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	// The web app, a CORS preflight (rs/cors answers it on every path)
	// and a browser navigation to a box's link (the web app's page) are
	// no API exchanges.
	if !documented(req.URL.Path) || (req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "") ||
		web.WantsPage(req) {
		return c.next.RoundTrip(req)
	}
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	res, err := c.next.RoundTrip(req)
	if err != nil {
		return res, err
	}
	// An event stream or a WebSocket never ends: only its status and
	// media type are checked.
	streaming := res.StatusCode == http.StatusSwitchingProtocols
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt == "text/event-stream" {
		streaming = true
	}
	var resBody []byte
	if !streaming {
		resBody, err = io.ReadAll(res.Body)
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(resBody))
		if err != nil {
			return res, nil // the test sees the short body itself
		}
	}
	c.check(req, reqBody, res, resBody, streaming)
	return res, nil
}

func (c *docCheck) check(req *http.Request, reqBody []byte, res *http.Response, resBody []byte, streaming bool) {
	v, err := apiValidator()
	if err != nil {
		c.fail(err.Error())
		return
	}
	vreq := req.Clone(req.Context())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	vres := &http.Response{StatusCode: res.StatusCode, Header: res.Header.Clone(), Request: vreq,
		Body: io.NopCloser(bytes.NewReader(resBody))}
	if streaming {
		vres.Header.Del("Content-Type") // the body is not read: check only that the status is documented
	}
	docMu.Lock()
	defer docMu.Unlock()
	var problems []string
	// A path or method that is no route answers the catch-all's 404 (or
	// a 4xx for a malformed path): TestOpenAPIDocumentsEveryRoute keeps
	// the routes and the document the same.
	if _, errs := v.ValidateHttpRequest(vreq); res.StatusCode >= 400 && res.StatusCode < 500 && noSuchPath(errs) {
		return
	}
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	// A JSON body labelled as a form is a leniency, not in the document.
	jsonAsForm := strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") &&
		bytes.HasPrefix(bytes.TrimSpace(reqBody), []byte("{"))
	if res.StatusCode < 400 && !jsonAsForm {
		if ok, errs := v.ValidateHttpRequest(vreq); !ok {
			problems = append(problems, docProblems("request", errs)...)
		}
		vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	if ok, errs := v.ValidateHttpResponse(vreq, vres); !ok {
		problems = append(problems, docProblems("response", errs)...)
	}
	c.mu.Lock()
	c.seen[req.Method+" "+req.URL.Path]++
	c.mu.Unlock()
	for _, p := range problems {
		c.fail(fmt.Sprintf("%s %s -> %d: %s (response body %.300s)", req.Method, req.URL.RequestURI(), res.StatusCode, p, resBody))
	}
}

// noSuchPath reports a request the document has no operation for.
func noSuchPath(errs []*verrors.ValidationError) bool {
	for _, e := range errs {
		if e.ValidationType == "path" && (e.ValidationSubType == "missing" || e.ValidationSubType == "missingOperation") {
			return true
		}
	}
	return false
}

func (c *docCheck) fail(msg string) {
	c.mu.Lock()
	c.failures = append(c.failures, msg)
	c.mu.Unlock()
	c.t.Errorf("OpenAPI document and server disagree: %s", msg)
}

func docProblems(what string, errs []*verrors.ValidationError) []string {
	var out []string
	for _, e := range errs {
		s := what + ": " + e.Message
		if e.Reason != "" && e.Reason != e.Message {
			s += ": " + e.Reason
		}
		for _, f := range e.SchemaValidationErrors {
			s += fmt.Sprintf(" [%s at %s]", f.Reason, f.FieldPath)
		}
		out = append(out, s)
	}
	return out
}
