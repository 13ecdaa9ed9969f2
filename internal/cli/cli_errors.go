package cli

import (
	"errors"
	"fmt"
	"net"
	"net/url"

	boxclient "github.com/boxwire/boxwire/client"
)

// humanError phrases the failure of a call to the server at server as a
// sentence a person can act on, never as raw JSON or a Go value.
func humanError(server string, err error) error {
	var e *boxclient.Error
	if errors.As(err, &e) {
		what := e.Desc
		if f := e.Fields(); f != "" {
			what += " (" + f + ")"
		}
		switch {
		case e.Status == 401:
			return fmt.Errorf("your session has ended: run boxwire login --server %s", server)
		case e.Status == 403:
			return fmt.Errorf("the server refused: %s", what)
		case e.Status == 404:
			return fmt.Errorf("not found: %s", what)
		case e.Status == 429:
			return fmt.Errorf("the server asks to slow down: try again in a moment (%s)", what)
		case e.Status >= 500:
			return fmt.Errorf("the server at %s failed (%d): %s", server, e.Status, what)
		default:
			return fmt.Errorf("the server refused the request: %s", what)
		}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("could not reach the server at %s: is it running? (%v)", server, op.Err)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Errorf("could not find the server %s: is the address right? (%v)", server, dns)
	}
	var u *url.Error
	if errors.As(err, &u) && u.Timeout() {
		return fmt.Errorf("the server at %s did not answer in time", server)
	}
	return err
}

// explain is humanError for a signed-in person: an ended session names
// the login that starts a new one.
func (p *profile) explain(err error) error {
	var e *boxclient.Error
	if errors.As(err, &e) && e.Status == 401 {
		return p.ended()
	}
	return humanError(p.Server, err)
}
