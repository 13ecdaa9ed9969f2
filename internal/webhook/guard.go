package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/boxwire/boxwire/internal/netguard"
)

// lookupTimeout bounds the resolution of a target's name when a hook is
// created: an admin waits for the answer.
const lookupTimeout = 5 * time.Second

// Guard keeps webhook deliveries out of the server's own network (issue
// 13): a target is refused when its host is, or resolves to, an address
// netguard forbids. It is asked twice: when an admin sets a target, to
// refuse it with a reason, and for every connection the dispatcher
// makes, on the address actually connected to. The second check is the
// one that holds: a name can resolve to a public address when the hook
// is created and to 127.0.0.1 when it is delivered to (DNS rebinding).
// The zero Guard refuses every forbidden address and uses the system
// resolver.
type Guard struct {
	Policy netguard.Policy
	// Lookup resolves a host name. Default: the system resolver. Tests
	// make a name resolve differently at creation and at delivery.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// CheckTarget refuses a target URL whose host is a forbidden address in
// any spelling, or a name any of whose addresses is forbidden. A name
// that does not resolve now is accepted: it reaches nothing now, and
// whatever it resolves to later is checked when it is connected to.
func (g *Guard) CheckTarget(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if literal, err := g.Policy.CheckHost(host); literal {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := g.lookup(ctx, host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if err := g.Policy.Check(a); err != nil {
			err.(*netguard.Forbidden).Host = host
			return err
		}
	}
	return nil
}

func (g *Guard) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, ok := netguard.ParseIP(host); ok {
		return []netip.Addr{a}, nil
	}
	if netguard.IsLocalhost(host) { // RFC 6761: never asked of DNS
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}, nil
	}
	if g.Lookup != nil {
		return g.Lookup(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// Client returns an HTTP client whose every connection is checked. It
// uses no proxy (a proxy's address is not the target's, so the check
// would judge the wrong address) and follows no redirect: a 3xx is a
// failure the admin should see, not a POST silently sent elsewhere, and
// a redirect could point inside.
func (g *Guard) Client() *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         g.dialer(d),
			ForceAttemptHTTP2:   true,
			MaxIdleConns:        100,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// dialer resolves the host with g's resolver and tries its addresses in
// turn; d's Control refuses the forbidden ones.
func (g *Guard) dialer(d *net.Dialer) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		addrs, err := g.lookup(ctx, host)
		if err != nil {
			return nil, err
		}
		var failures []error
		for _, a := range addrs {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
			if err == nil {
				return c, nil
			}
			failures = append(failures, err)
			if ctx.Err() != nil {
				break
			}
		}
		if len(failures) == 0 {
			return nil, fmt.Errorf("%s has no address", host)
		}
		return nil, errors.Join(failures...)
	}
}

// control runs just before a socket connects, on the address it connects
// to, whatever resolved it: this is what defeats DNS rebinding.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: unexpected address %q: %w", address, err)
	}
	return g.Policy.Check(ap.Addr())
}
