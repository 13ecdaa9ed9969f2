package httpx_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/errs"
)

// TestServerSideKindsKeepTheirMessage: a 507 tells the client the disk is
// full in every surface's shape, but its cause (a path) only reaches the
// log; a too-slow body is a 408.
func TestServerSideKindsKeepTheirMessage(t *testing.T) {
	const path = "/var/lib/boxwire/files/tmp/upload-123"
	full := &errs.Error{Code: errs.InsufficientStorage, Message: "the server has no room left to store this file",
		Err: errors.New("write " + path + ": no space left on device")}
	slow := &errs.Error{Code: errs.Timeout, Message: "the request body did not arrive within 30s", Where: errs.Body}
	for name, render := range map[string]httpx.Renderer{"misakey": httpx.Misakey, "box": httpx.Box, "problem": httpx.Problem} {
		h := func(w http.ResponseWriter, r *http.Request) { render(w, r, full) }
		rec, _, logs := serve(t, render, h, httptest.NewRequest("POST", "/x", nil))
		body := rec.Body.String()
		if rec.Code != http.StatusInsufficientStorage || !strings.Contains(body, full.Message) || !strings.Contains(body, "insufficient_storage") {
			t.Errorf("%s: full disk rendered %d %s", name, rec.Code, body)
		}
		if strings.Contains(body, path) || !strings.Contains(logs, path) {
			t.Errorf("%s: the path must be in the log only; body %s\nlog %s", name, body, logs)
		}
		h = func(w http.ResponseWriter, r *http.Request) { render(w, r, slow) }
		rec, _, _ = serve(t, render, h, httptest.NewRequest("POST", "/x", nil))
		if rec.Code != http.StatusRequestTimeout || !strings.Contains(rec.Body.String(), slow.Message) {
			t.Errorf("%s: slow body rendered %d %s", name, rec.Code, rec.Body.String())
		}
	}
}
