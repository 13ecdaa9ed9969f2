package main

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/errs"
)

// movableClock is the messaging clock of a server started with --test-clock:
// the real time plus an offset that POST /_test/clock moves forward, so
// a test (or someone trying the quickstart) can close a 24-hour session
// window without waiting a day. Only the messaging clock moves: tokens,
// sessions and the journal keep the real time.
type movableClock struct {
	base   func() time.Time
	offset atomic.Int64 // nanoseconds
}

func (c *movableClock) Now() time.Time { return c.base().Add(time.Duration(c.offset.Load())) }

// ServeHTTP is POST /_test/clock {"advance": "25h"}: it answers the new time.
func (c *movableClock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Advance string `json:"advance"`
	}
	r.Header.Del("Content-Type") // a test tool: take curl -d as JSON
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		httpx.Problem(w, r, err)
		return
	}
	d, err := time.ParseDuration(in.Advance)
	if err != nil || d < 0 {
		httpx.Problem(w, r, errs.Field(errs.Body, "advance", errs.Invalid_, "advance must be a positive Go duration such as 25h"))
		return
	}
	c.offset.Add(int64(d))
	httpx.JSON(w, http.StatusOK, map[string]string{"now": c.Now().UTC().Format(time.RFC3339Nano)})
}
