package httpx

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the address ranges of the reverse proxies in front of the
// server (--trusted-proxies). Only a request whose peer is one of them
// may say, in Forwarded or X-Forwarded-For, who the client is: anyone
// else could name a new address on every request and so escape the
// login throttle, or put someone else's address in the log.
type Proxies []netip.Prefix

type clientKey struct{}

// Wrap records each request's client address for ClientAddr. Run it
// outside Observe, whose log line carries the address.
func (p Proxies) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := p.client(r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, addr)))
	})
}

// ClientAddr is the address of the client that sent r: the peer, or
// what a trusted proxy says it forwarded for.
func ClientAddr(r *http.Request) string {
	if a, ok := r.Context().Value(clientKey{}).(string); ok {
		return a
	}
	return peerAddr(r).String()
}

func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		a, _ := netip.ParseAddr(host)
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

func (p Proxies) trusts(a netip.Addr) bool {
	for _, pre := range p {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// client walks the forwarding chain from the nearest hop back: each hop
// a trusted proxy vouches for the one before it. The first address not
// a trusted proxy is the client; an entry that is not an address (say
// "unknown") stops the walk at the proxy that wrote it.
func (p Proxies) client(r *http.Request) string {
	addr := peerAddr(r)
	if !addr.IsValid() {
		return r.RemoteAddr
	}
	if len(p) == 0 || !p.trusts(addr) {
		return addr.String()
	}
	chain := forwardedFor(r.Header)
	for i := len(chain) - 1; i >= 0 && p.trusts(addr); i-- {
		hop, ok := parseHop(chain[i])
		if !ok {
			break
		}
		addr = hop
	}
	return addr.String()
}

// forwardedFor lists the for= addresses of Forwarded (RFC 7239) or,
// without it, of X-Forwarded-For, the client first.
func forwardedFor(h http.Header) []string {
	var out []string
	if fwd := h.Values("Forwarded"); len(fwd) > 0 {
		for _, line := range fwd {
			for _, elem := range strings.Split(line, ",") {
				for _, pair := range strings.Split(elem, ";") {
					k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
					if strings.EqualFold(k, "for") {
						out = append(out, v)
					}
				}
			}
		}
		return out
	}
	for _, line := range h.Values("X-Forwarded-For") {
		for _, v := range strings.Split(line, ",") {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// parseHop reads 192.0.2.1, "192.0.2.1:4711", "[2001:db8::1]:4711" or
// 2001:db8::1.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}
