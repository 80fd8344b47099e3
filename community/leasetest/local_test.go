package leasetest_test

import (
	"testing"

	"quanzi/community"
	"quanzi/community/leasetest"
)

func TestLocalLeases(t *testing.T) {
	leasetest.Run(t, func(*testing.T) community.Leases { return &community.LocalLeases{} })
}
