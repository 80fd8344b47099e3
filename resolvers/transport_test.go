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
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/query", nil)
			r.RemoteAddr = c.remote
			for _, f := range c.forwarded {
				r.Header.Add("X-Forwarded-For", f)
			}
			if got := ClientAddress(r, proxies); got != c.want {
				t.Errorf("ClientAddress = %s, want %s", got, c.want)
			}
		})
	}
}
