package main

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/redis/go-redis/v9"

	"quanzi/community"
	"quanzi/community/communitytest"
	"quanzi/community/embedded"
	"quanzi/community/redislease"
)

// redisLeases returns a maker of leases in the test run's Redis, each over a client of its
// own, as two instances of the server have; the test skips without a Redis (CI must have
// one).
func redisLeases(t *testing.T) func(t *testing.T) community.Leases {
	t.Helper()
	url := redisURL(t)
	if url == "" {
		t.Skip("REDIS_URL not set: start one with scripts/redis.sh start")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	prefix := "test:rewards:" + community.NewID() + ":"
	return func(t *testing.T) community.Leases {
		client := redis.NewClient(opts)
		t.Cleanup(func() { client.Close() })
		return redislease.New(client, prefix)
	}
}

// TestRewardJobOnTwoInstances runs the reward job on two instances that share a Redis:
// every reward is granted once. (The contract suite runs two jobs at once without a lease,
// and a crash between reading and granting, on both stores.)
func TestRewardJobOnTwoInstances(t *testing.T) {
	leases := redisLeases(t)
	t.Run("embedded", func(t *testing.T) {
		s, err := embedded.Open(embedded.Config{Path: filepath.Join(t.TempDir(), "graph.db"), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		communitytest.RewardJobInstances(t, s, leases)
	})
}
