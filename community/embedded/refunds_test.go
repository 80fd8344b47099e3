package embedded_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

// recordCNY records a member's purchase at a brand, in fen, made and recorded at the minute.
func recordCNY(t *testing.T, s community.Store, brandID, memberID, ext string, amount int64, minute int) community.Purchase {
	t.Helper()
	p, err := s.RecordPurchase(context.Background(), community.Purchase{ID: community.NewID(), MemberID: memberID, BrandID: brandID, Amount: amount, Currency: "CNY", ExternalID: ext, At: at(minute), RecordedAt: at(minute)}, nil)
	must(t, err)
	return p
}

// TestRefundTakesBackWhatWasCredited checks that a refund takes back the points that
// recording the purchase credited, across a reopen of the file.
func TestRefundTakesBackWhatWasCredited(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "graph.db")
	s := open(t, path)
	b := brands(t, s, "nio")[0].ID
	ms := members(t, s, 3)
	joined, late, outsider := ms[0], ms[1], ms[2]
	points := func(memberID string) int {
		t.Helper()
		got, err := s.MembershipsOf(ctx, []string{memberID})
		must(t, err)
		if len(got[memberID]) != 1 {
			t.Fatalf("memberships of %s = %+v, want one", memberID, got[memberID])
		}
		return got[memberID][0].Points
	}
	refund := func(p community.Purchase, minute int) {
		t.Helper()
		_, err := s.RefundPurchase(ctx, b, p.ID, at(minute))
		must(t, err)
	}

	must(t, s.JoinBrand(ctx, joined, b, at(0)))
	credited := recordCNY(t, s, b, joined, "order-1", 300_00, 1)
	beforeJoining := recordCNY(t, s, b, late, "order-2", 500_00, 2)
	must(t, s.JoinBrand(ctx, late, b, at(3)))
	recordCNY(t, s, b, late, "order-3", 80_00, 4)
	cameRefunded, err := s.RecordPurchase(ctx, community.Purchase{ID: community.NewID(), MemberID: joined, BrandID: b, Amount: 1000_00, Currency: "CNY", ExternalID: "order-4", At: at(5), RefundedAt: at(5)}, nil)
	must(t, err)
	nonMember := recordCNY(t, s, b, outsider, "order-5", 50_00, 6)
	if got := points(joined); got != 300 {
		t.Fatalf("points of the member = %d, want 300", got)
	}

	// What each purchase credited is kept in the file.
	must(t, s.Close())
	s = open(t, path)
	defer s.Close()

	refund(beforeJoining, 10)
	if got := points(late); got != 80 {
		t.Errorf("points after refunding a purchase from before joining = %d, want 80", got)
	}
	refund(cameRefunded, 11)
	refund(credited, 12)
	if got := points(joined); got != 0 {
		t.Errorf("points after refunding the credited purchase = %d, want 0", got)
	}
	refund(nonMember, 13)
	if got, err := s.MembershipsOf(ctx, []string{outsider}); err != nil || len(got[outsider]) != 0 {
		t.Errorf("refunding a non-member's purchase: memberships %+v, %v; want none", got[outsider], err)
	}
}

// TestRefundOfOlderDocuments checks that a purchase stored before the file kept what it
// credited counts as having credited its points, and that a refund never takes points
// below 0.
func TestRefundOfOlderDocuments(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "graph.db")
	s := open(t, path)
	b := brands(t, s, "nio")[0].ID
	ms := members(t, s, 2)
	joined, late := ms[0], ms[1]
	must(t, s.JoinBrand(ctx, joined, b, at(0)))
	old := recordCNY(t, s, b, joined, "order-1", 300_00, 1)
	recordCNY(t, s, b, joined, "order-2", 20_00, 2)
	beforeJoining := recordCNY(t, s, b, late, "order-3", 500_00, 3)
	must(t, s.JoinBrand(ctx, late, b, at(4)))
	recordCNY(t, s, b, late, "order-4", 80_00, 5)
	must(t, s.Close())

	// Write the two purchases back as the previous layout had them: without "credited".
	// A timeout, as the store has: without one, a file still locked by an open store
	// would hold the test until go test's timeout.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	must(t, err)
	err = db.Update(func(tx *bolt.Tx) error {
		bucket := tx.Bucket([]byte("purchases"))
		for _, id := range []string{old.ID, beforeJoining.ID} {
			var doc map[string]any
			if err := json.Unmarshal(bucket.Get([]byte(id)), &doc); err != nil {
				return err
			}
			if _, ok := doc["credited"]; !ok {
				t.Errorf("purchase %s is stored without what it credited: %v", id, doc)
			}
			delete(doc, "credited")
			v, err := json.Marshal(doc)
			if err != nil {
				return err
			}
			if err := bucket.Put([]byte(id), v); err != nil {
				return err
			}
		}
		return nil
	})
	must(t, err)
	must(t, db.Close())

	s = open(t, path)
	defer s.Close()
	for _, p := range []community.Purchase{old, beforeJoining} {
		_, err := s.RefundPurchase(ctx, b, p.ID, at(10))
		must(t, err)
	}
	got, err := s.MembershipsOf(ctx, []string{joined, late})
	must(t, err)
	want := map[string][]community.BrandMembership{
		joined: {{MemberID: joined, BrandID: b, Points: 20, Since: at(0)}},
		late:   {{MemberID: late, BrandID: b, Points: 0, Since: at(4)}},
	}
	diff(t, "memberships after refunding purchases of the older layout", want, got)
}
