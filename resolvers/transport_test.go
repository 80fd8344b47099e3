package resolvers

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddress(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	cases := []struct {
		name, remote string
		forwarded    []string
		want         string
	}{
		{"no proxy", "198.51.100.9:4321", nil, "198.51.100.9"},
		{"an untrusted peer cannot name another address", "198.51.100.9:4321", []string{"203.0.113.7"}, "198.51.100.9"},
		{"a trusted proxy names the caller", "10.1.2.3:80", []string{"203.0.113.7"}, "203.0.113.7"},
		{"the nearest untrusted hop, not what the caller wrote", "10.1.2.3:80", []string{"1.2.3.4, 203.0.113.7, 10.9.9.9"}, "203.0.113.7"},
		{"several header lines", "127.0.0.1:80", []string{"1.2.3.4", "203.0.113.7"}, "203.0.113.7"},
		{"a garbled hop stops the walk at the last trusted one", "10.1.2.3:80", []string{"203.0.113.7, nonsense"}, "10.1.2.3"},
		{"a trusted proxy without the header", "10.1.2.3:80", nil, "10.1.2.3"},
		{"IPv4 in IPv6", "[::ffff:10.1.2.3]:80", []string{"203.0.113.7"}, "203.0.113.7"},
		{"a hop with a port", "10.1.2.3:80", []string{"203.0.113.7:51234"}, "203.0.113.7"},
		{"an IPv6 hop with a port", "10.1.2.3:80", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"an IPv6 hop", "10.1.2.3:80", []string{"2001:db8::1"}, "2001:db8::1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/query", nil)
			r.RemoteAddr = c.remote
			for _, f := range c.forwarded {
				r.Header.Add("X-Forwarded-For", f)
			}
			if got := ClientAddress(r, proxies).String(); got != c.want {
				t.Errorf("ClientAddress = %s, want %s", got, c.want)
			}
		})
	}
}

func TestAddressKey(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"},
		{"198.51.100.9", "198.51.100.9"},
	} {
		if addressKey(netip.MustParseAddr(c.a)) != addressKey(netip.MustParseAddr(c.b)) {
			t.Errorf("%s and %s are different callers", c.a, c.b)
		}
	}
	for _, c := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
		{"198.51.100.9", "198.51.100.10"},
	} {
		if addressKey(netip.MustParseAddr(c.a)) == addressKey(netip.MustParseAddr(c.b)) {
			t.Errorf("%s and %s are one caller", c.a, c.b)
		}
	}
}
