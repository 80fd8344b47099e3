package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// Tests of the server that run lets serve: its shutdown, readiness and limits as
// configured.

func TestShutdownWithRequestsInFlight(t *testing.T) {
	env := map[string]string{"QUANZI_ADDR": "127.0.0.1:0", "QUANZI_DATA_DIR": t.TempDir(), "QUANZI_JWT_SECRET": testSecret, "QUANZI_SHUTDOWN_TIMEOUT": "1s"}
	p := start(t, env)
	conns := []net.Conn{stalledRequest(t, p.url), stalledRequest(t, p.url)}
	a := newClient(t, p.url)
	a.OK("", `{ __typename }`, nil, nil) // the server is serving: the stalled requests have been read
	if err := p.stop(); err != nil {
		t.Fatalf("stopping with requests in flight: %v, want a clean exit", err)
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Errorf("a stalled request's connection was left open: %v", err)
		}
		c.Close()
	}
}

func TestReadiness(t *testing.T) {
	env := map[string]string{"QUANZI_ADDR": "127.0.0.1:0", "QUANZI_DATA_DIR": t.TempDir(), "QUANZI_JWT_SECRET": testSecret}
	want := map[string]string{"store": "ok", "search": "ok"}
	if url := redisURL(t); url != "" {
		env["REDIS_URL"] = url
		want["redis"] = "ok"
	}
	p := start(t, env)
	defer p.stop()
	code, body := get(t, p.url+"/readyz")
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil || code != http.StatusOK {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("/readyz = %v, want %v", got, want)
	}
}

func TestLimitsConfiguration(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"a word for a number":      {"QUANZI_MAX_COMPLEXITY": "lots"},
		"a negative number":        {"QUANZI_MAX_IN_FLIGHT": "-1"},
		"a duration without units": {"QUANZI_REQUEST_TIMEOUT": "10"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseConfig("serve", nil, func(k string) string { return env[k] }, io.Discard)
			if err == nil {
				t.Fatal("accepted")
			}
		})
	}
	cfg, err := parseConfig("serve", []string{"-max-complexity", "900"}, func(k string) string {
		return map[string]string{"QUANZI_MAX_COMPLEXITY": "100", "QUANZI_REQUEST_TIMEOUT": "3s"}[k]
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Limits.MaxComplexity != 900 || cfg.Limits.RequestTimeout != 3*time.Second || cfg.Limits.MaxDepth != defaultLimits.MaxDepth {
		t.Errorf("limits %+v", cfg.Limits)
	}
}

// TestReferralSettings checks the settings of fraud signals and of the reward job: each is
// read from its variable and its flag, the flag winning, and a value out of range is refused
// whichever way it came.
func TestReferralSettings(t *testing.T) {
	cfg, err := parseConfig("serve", []string{"-burst-limit", "5", "-rewards-every", "30s"}, func(k string) string {
		return map[string]string{"QUANZI_BURST_LIMIT": "3", "QUANZI_BURST_WINDOW": "15m", "QUANZI_REWARDS_EVERY": "2m",
			"QUANZI_DEVICE_KEY": testDeviceKey}[k]
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Burst.Limit != 5 || cfg.Burst.Window != 15*time.Minute || cfg.RewardsEvery != 30*time.Second || cfg.DeviceKey != testDeviceKey {
		t.Errorf("settings: burst %+v, rewards every %s, device key %q", cfg.Burst, cfg.RewardsEvery, cfg.DeviceKey)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"a zero burst limit", []string{"-burst-limit", "0"}, nil},
		{"a burst window of nothing", []string{"-burst-window", "0s"}, nil},
		{"a burst window over a week", nil, map[string]string{"QUANZI_BURST_WINDOW": "169h"}},
		{"a reward job that never waits", []string{"-rewards-every", "0s"}, nil},
		{"a negative reward job interval", []string{"-rewards-every=-1m"}, nil},
		{"a reward job interval without units", nil, map[string]string{"QUANZI_REWARDS_EVERY": "60"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseConfig("serve", tc.args, func(k string) string { return tc.env[k] }, io.Discard); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// redisURL returns the Redis of the test run, or "" locally when none was started; CI
// must have one.
func redisURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" && os.Getenv("CI") == "true" {
		t.Fatal("REDIS_URL not set: CI must check readiness against a real Redis")
	}
	return url
}

// stalledRequest opens a request to url whose body never arrives.
func stalledRequest(t *testing.T, url string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"query\": \"")
	return conn
}
