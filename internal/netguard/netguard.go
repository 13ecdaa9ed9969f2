// Package netguard decides which network addresses the server may
// connect to on a user's behalf. A URL that a user gives the server
// (a webhook's target) must not reach the server's own network: its
// loopback, the private ranges around it, link-local neighbours, the
// cloud's metadata endpoint. The package does no I/O: it classifies
// addresses and reads host spellings the way resolvers do, and the
// callers that dial (internal/webhook) ask it about every address they
// are about to connect to.
package netguard

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Classes of refused addresses, as named in errors and logs.
const (
	Loopback    = "loopback"
	Private     = "private"
	LinkLocal   = "link-local"
	UniqueLocal = "unique-local"
	Multicast   = "multicast"
	Unspecified = "unspecified"
	Reserved    = "reserved"
	Metadata    = "cloud metadata"
)

// metadata are the cloud providers' instance metadata endpoints. Most are
// link-local already; they are named apart because they stay refused
// even when private addresses are allowed (they hand out credentials).
var metadata = []netip.Prefix{
	netip.MustParsePrefix("169.254.169.254/32"), // AWS, GCP, Azure, OpenStack, DigitalOcean…
	netip.MustParsePrefix("169.254.170.2/32"),   // AWS ECS task credentials
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS over IPv6
}

// ranges are refused besides what netip.Addr's predicates recognise.
var ranges = []struct {
	prefix netip.Prefix
	class  string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), Unspecified},  // "this network": 0.0.0.0 reaches the host itself
	{netip.MustParsePrefix("100.64.0.0/10"), Private},  // carrier-grade NAT, used inside clouds
	{netip.MustParsePrefix("192.0.0.0/24"), Reserved},  // IETF protocol assignments
	{netip.MustParsePrefix("198.18.0.0/15"), Private},  // benchmarking, used as internal space
	{netip.MustParsePrefix("240.0.0.0/4"), Reserved},   // reserved, and the broadcast address
	{netip.MustParsePrefix("64:ff9b:1::/48"), Private}, // local-use NAT64
	{netip.MustParsePrefix("fec0::/10"), UniqueLocal},  // deprecated site-local, still routed by some
}

// Classify names the class of a forbidden address, or returns "" for an
// address on the public internet. An IPv6 address that carries an IPv4
// one (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96,
// 6to4 2002::/16) is judged by the IPv4 address it reaches.
func Classify(a netip.Addr) string {
	a = embedded(a.WithZone(""))
	for _, p := range metadata {
		if p.Contains(a) {
			return Metadata
		}
	}
	switch {
	case !a.IsValid():
		return Unspecified
	case a.IsUnspecified():
		return Unspecified
	case a.IsLoopback():
		return Loopback
	case a.IsLinkLocalUnicast():
		return LinkLocal
	case a.IsMulticast():
		return Multicast
	case a.Is6() && a.IsPrivate():
		return UniqueLocal
	case a.IsPrivate():
		return Private
	}
	for _, r := range ranges {
		if r.prefix.Contains(a) {
			return r.class
		}
	}
	return ""
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	compat    = netip.MustParsePrefix("::/96")
)

// embedded returns the IPv4 address an IPv6 address leads to, or a
// itself. Without this, [::ffff:127.0.0.1] or a NAT64 gateway would reach
// what 127.0.0.1 is refused for.
func embedded(a netip.Addr) netip.Addr {
	if !a.Is6() {
		return a
	}
	if a.Is4In6() {
		return a.Unmap()
	}
	b := a.As16()
	switch {
	case nat64.Contains(a), compat.Contains(a) && !a.IsUnspecified() && !a.IsLoopback():
		return netip.AddrFrom4([4]byte(b[12:16]))
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6]))
	}
	return a
}

// Policy says which forbidden addresses an operator allows anyway, for
// targets on the premises.
type Policy struct {
	// AllowPrivate allows every class but cloud metadata: loopback,
	// private, link-local and unique-local targets.
	AllowPrivate bool
	// Allow lists ranges allowed whatever their class, metadata included
	// (an operator who lists 169.254.169.254/32 means it).
	Allow []netip.Prefix
}

// Forbidden is the error for an address the policy refuses.
type Forbidden struct {
	Host  string // as given, if there was one
	Addr  netip.Addr
	Class string
}

func (e *Forbidden) Error() string {
	if e.Host != "" && e.Host != e.Addr.String() {
		return fmt.Sprintf("%s resolves to %s, a %s address", e.Host, e.Addr, e.Class)
	}
	return fmt.Sprintf("%s is a %s address", e.Addr, e.Class)
}

// Check returns a *Forbidden error if the policy refuses a, else nil.
func (p Policy) Check(a netip.Addr) error {
	class := Classify(a)
	if class == "" {
		return nil
	}
	a = a.WithZone("")
	for _, pr := range p.Allow {
		if pr.Contains(a) || pr.Contains(embedded(a)) {
			return nil
		}
	}
	if p.AllowPrivate && class != Metadata {
		return nil
	}
	return &Forbidden{Addr: a, Class: class}
}

// CheckHost checks a URL's host (without port, as url.URL.Hostname gives
// it) that needs no resolver: an IP address in any spelling, or a name
// that always means this machine (localhost). literal reports that the
// host was one of those; any other name must be resolved and each of its
// addresses checked.
func (p Policy) CheckHost(host string) (literal bool, err error) {
	a, ok := ParseIP(host)
	if !ok && IsLocalhost(host) {
		a, ok = netip.AddrFrom4([4]byte{127, 0, 0, 1}), true
	}
	if !ok {
		return false, nil
	}
	if err := p.Check(a); err != nil {
		err.(*Forbidden).Host = host
		return true, err
	}
	return true, nil
}

// IsLocalhost reports a name that resolves to loopback whatever DNS says:
// localhost and its subdomains (RFC 6761), with or without a final dot.
func IsLocalhost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// ParseIP reads an IP address the way resolvers do, so that every
// spelling of an address is judged as that address: IPv6 with or without
// brackets and zone; dotted IPv4; and the BSD inet_aton forms that
// getaddrinfo and browsers accept, of one to four parts, each decimal,
// octal (leading 0) or hex (0x), the last filling the remaining bytes:
// 127.1, 0x7f000001, 2130706433, 0177.0.0.1. A final dot is ignored.
func ParseIP(host string) (netip.Addr, bool) {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, err := netip.ParseAddr(h); err == nil {
		return a.WithZone(""), true
	}
	return parseIPv4(strings.TrimSuffix(host, "."))
}

func parseIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if s == "" || len(parts) > 4 {
		return netip.Addr{}, false
	}
	var out [4]byte
	for i, part := range parts {
		n, ok := parsePart(part)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 0xff {
				return netip.Addr{}, false
			}
			out[i] = byte(n)
			continue
		}
		// The last part fills the bytes that are left.
		left := 4 - i
		if n >= 1<<(8*left) {
			return netip.Addr{}, false
		}
		for j := 3; j >= i; j-- {
			out[j] = byte(n)
			n >>= 8
		}
	}
	return netip.AddrFrom4(out), true
}

// parsePart reads one part of an inet_aton address.
func parsePart(s string) (uint64, bool) {
	base := 10
	switch {
	case s == "":
		return 0, false
	case s == "0x" || s == "0X":
		return 0, true // inet_aton reads a bare 0x as zero
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	for _, c := range s {
		// ParseUint would also take a sign or underscores.
		if !strings.ContainsRune("0123456789abcdefABCDEF"[:digits(base)], c) {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, base, 32)
	return n, err == nil
}

func digits(base int) int {
	if base == 16 {
		return 22
	}
	return base
}
