package netguard_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/boxwire/boxwire/internal/netguard"
)

// TestEverySpellingOfAnInsideAddressIsRefused checks the hosts an attacker
// would try in a webhook's URL: each reaches the server's own network, so
// each is refused under the default policy, with its class named.
func TestEverySpellingOfAnInsideAddressIsRefused(t *testing.T) {
	for _, c := range []struct{ host, class string }{
		{"127.0.0.1", netguard.Loopback},
		{"127.1", netguard.Loopback},
		{"127.0.1", netguard.Loopback},
		{"0x7f000001", netguard.Loopback},
		{"0X7F.0.0.1", netguard.Loopback},
		{"2130706433", netguard.Loopback},
		{"0177.0.0.1", netguard.Loopback},
		{"017700000001", netguard.Loopback},
		{"127.0.0.1.", netguard.Loopback},
		{"127.255.255.254", netguard.Loopback},
		{"::1", netguard.Loopback},
		{"[::1]", netguard.Loopback},
		{"::ffff:127.0.0.1", netguard.Loopback},
		{"::ffff:7f00:1", netguard.Loopback},
		{"::127.0.0.1", netguard.Loopback},
		{"64:ff9b::7f00:1", netguard.Loopback},
		{"2002:7f00:1::1", netguard.Loopback},
		{"localhost", netguard.Loopback},
		{"LocalHost.", netguard.Loopback},
		{"api.localhost", netguard.Loopback},
		{"10.0.0.1", netguard.Private},
		{"10.1", netguard.Private},
		{"167772161", netguard.Private},
		{"172.16.0.1", netguard.Private},
		{"172.31.255.255", netguard.Private},
		{"192.168.1.1", netguard.Private},
		{"0xc0.0xa8.1.1", netguard.Private},
		{"100.64.0.1", netguard.Private},
		{"198.18.0.1", netguard.Private},
		{"::ffff:10.0.0.1", netguard.Private},
		{"169.254.1.1", netguard.LinkLocal},
		{"fe80::1", netguard.LinkLocal},
		{"fe80::1%eth0", netguard.LinkLocal},
		{"fc00::1", netguard.UniqueLocal},
		{"fd12:3456::1", netguard.UniqueLocal},
		{"fec0::1", netguard.UniqueLocal},
		{"224.0.0.1", netguard.Multicast},
		{"ff02::1", netguard.Multicast},
		{"0.0.0.0", netguard.Unspecified},
		{"0", netguard.Unspecified},
		{"0.1.2.3", netguard.Unspecified},
		{"::", netguard.Unspecified},
		{"255.255.255.255", netguard.Reserved},
		{"240.0.0.1", netguard.Reserved},
		{"169.254.169.254", netguard.Metadata},
		{"0xa9fea9fe", netguard.Metadata},
		{"2852039166", netguard.Metadata},
		{"::ffff:169.254.169.254", netguard.Metadata},
		{"[::ffff:a9fe:a9fe]", netguard.Metadata},
		{"169.254.170.2", netguard.Metadata},
		{"100.100.100.200", netguard.Metadata},
		{"fd00:ec2::254", netguard.Metadata},
	} {
		literal, err := netguard.Policy{}.CheckHost(c.host)
		var f *netguard.Forbidden
		if !literal || !errors.As(err, &f) || f.Class != c.class {
			t.Errorf("%s: literal %v, error %v; want a %s address refused", c.host, literal, err, c.class)
		}
	}
}

// TestPublicAddressesAndNamesPass checks what must keep working: public
// addresses in any spelling pass, and names are left to the resolver
// (literal false), whose answers are checked one by one.
func TestPublicAddressesAndNamesPass(t *testing.T) {
	for _, host := range []string{"93.184.215.14", "8.8.8.8", "0x08080808", "134744072", "2606:4700::1111",
		"::ffff:8.8.8.8", "203.0.113.7", "172.32.0.1", "100.128.0.1", "198.20.0.1"} {
		if literal, err := (netguard.Policy{}).CheckHost(host); !literal || err != nil {
			t.Errorf("%s: literal %v, error %v; want a public address passed", host, literal, err)
		}
	}
	for _, host := range []string{"hooks.example.com", "localhost.example.com", "1.2.3.4.5", "127.0.0.1x",
		"0x1g", "1.2.3.256", "4294967296", "+1", "1_0.0.0.1", "08.0.0.1"} {
		if literal, err := (netguard.Policy{}).CheckHost(host); literal || err != nil {
			t.Errorf("%s: literal %v, error %v; want a name left to the resolver", host, literal, err)
		}
	}
}

// TestParseIPReadsResolverSpellings pins the inet_aton reading: the last
// part fills the bytes left, and each part may be octal or hex.
func TestParseIPReadsResolverSpellings(t *testing.T) {
	for in, want := range map[string]string{
		"127.1":            "127.0.0.1",
		"127.0.1":          "127.0.0.1",
		"10.65535":         "10.0.255.255",
		"1.2.65535":        "1.2.255.255",
		"0x7f.1":           "127.0.0.1",
		"0177.01":          "127.0.0.1",
		"2130706433":       "127.0.0.1",
		"0xffffffff":       "255.255.255.255",
		"0x":               "0.0.0.0",
		"[::ffff:1.2.3.4]": "::ffff:1.2.3.4",
	} {
		a, ok := netguard.ParseIP(in)
		if !ok || a != netip.MustParseAddr(want) {
			t.Errorf("ParseIP(%q) = %v, %v; want %s", in, a, ok, want)
		}
	}
	for _, in := range []string{"1.256.0.1", "1.2.65536", "256.1", "0x100000000", "", ".", "1..2", "0o17"} {
		if a, ok := netguard.ParseIP(in); ok {
			t.Errorf("ParseIP(%q) = %v; want no address", in, a)
		}
	}
}

// TestPolicyAllowances checks the operator's two allowances: private
// targets in general (never the metadata endpoint), and listed ranges
// (anything, metadata included, because the operator named it).
func TestPolicyAllowances(t *testing.T) {
	private := netguard.Policy{AllowPrivate: true}
	for _, host := range []string{"127.0.0.1", "10.0.0.1", "::1", "fd12::1", "169.254.1.1", "::ffff:192.168.0.1"} {
		if _, err := private.CheckHost(host); err != nil {
			t.Errorf("AllowPrivate refuses %s: %v", host, err)
		}
	}
	for _, host := range []string{"169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254"} {
		if _, err := private.CheckHost(host); err == nil {
			t.Errorf("AllowPrivate lets %s (cloud metadata) through", host)
		}
	}

	cidrs := netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"),
		netip.MustParsePrefix("169.254.169.254/32")}}
	for _, host := range []string{"10.1.2.3", "10.1.515", "::ffff:10.1.2.3", "169.254.169.254"} {
		if _, err := cidrs.CheckHost(host); err != nil {
			t.Errorf("Allow 10.1.0.0/16 refuses %s: %v", host, err)
		}
	}
	for _, host := range []string{"10.2.0.1", "127.0.0.1", "192.168.1.1", "169.254.1.1"} {
		if _, err := cidrs.CheckHost(host); err == nil {
			t.Errorf("Allow 10.1.0.0/16 lets %s through", host)
		}
	}
}

// FuzzParseIP checks that whatever ParseIP reads as an address is judged
// like that address's plain spelling, so no spelling escapes Check.
func FuzzParseIP(f *testing.F) {
	for _, s := range []string{"127.1", "0x7f000001", "2130706433", "[::ffff:169.254.169.254]", "0177.0.0.1", "1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := netguard.ParseIP(s)
		if !ok {
			return
		}
		plain, err := netip.ParseAddr(a.String())
		if err != nil || netguard.Classify(plain) != netguard.Classify(a) {
			t.Fatalf("%q read as %v, which reparses as %v (%v)", s, a, plain, err)
		}
	})
}
