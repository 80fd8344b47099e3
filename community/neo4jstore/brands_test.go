package neo4jstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

// The tests of this file check, for the brand part of the store, what the contract suite
// leaves to each store or cannot see from outside: conflict messages, the order of
// invitations made at the same time, writes that race in more ways than the contract's,
// and that the locks leave nothing behind.

var brandBase = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func brandAt(minutes int) time.Time { return brandBase.Add(time.Duration(minutes) * time.Minute) }

func wantErrCode(t *testing.T, err error, code community.Code) {
	t.Helper()
	if got := community.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func mustDo(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func addMember(t *testing.T, s *Store, handle string) string {
	t.Helper()
	m := community.Member{ID: community.NewID(), Handle: handle, DisplayName: handle, JoinedAt: brandBase}
	mustDo(t, s.CreateMember(context.Background(), m, community.Identity{Provider: community.ProviderWeChat, ExternalID: "o-" + handle, LinkedAt: brandBase}))
	return m.ID
}

func addBrand(t *testing.T, s *Store, slug string) community.Brand {
	t.Helper()
	b := community.Brand{ID: community.NewID(), Slug: slug, Name: "品牌 " + slug, Tiers: community.DefaultTiers, CreatedAt: brandBase}
	mustDo(t, s.CreateBrand(context.Background(), b))
	return b
}

// concurrently runs f n times at once and returns how many calls succeeded; every failure
// must have one of the codes allowed.
func concurrently(t *testing.T, n int, f func(i int) error, allowed ...community.Code) int {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		code := community.ErrorCode(err)
		found := false
		for _, c := range allowed {
			found = found || c == code
		}
		if !found {
			t.Errorf("unexpected error: %v", err)
		}
	}
	return ok
}

// TestBrandConflicts checks that slugs are unique case-insensitively, and that conflicts
// reach the caller with messages about brands.
func TestBrandConflicts(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	bmw := addBrand(t, s, "bmw")
	cases := []struct {
		name  string
		brand community.Brand
		want  string
	}{
		{"slug", community.Brand{ID: community.NewID(), Slug: "bmw", Name: "x"}, "the slug is taken"},
		{"slug in another case", community.Brand{ID: community.NewID(), Slug: "BMW", Name: "x"}, "the slug is taken"},
		{"id", community.Brand{ID: bmw.ID, Slug: "other", Name: "x"}, "the brand exists already"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.CreateBrand(ctx, c.brand)
			wantErrCode(t, err, community.CodeConflict)
			if got := community.ErrorMessage(err); got != c.want {
				t.Errorf("message = %q, want %q", got, c.want)
			}
		})
	}
	got, err := s.BrandBySlug(ctx, "BMW")
	mustDo(t, err)
	if diff := cmp.Diff(bmw, got); diff != "" {
		t.Errorf("BrandBySlug in another case (-want +got):\n%s", diff)
	}
}

// TestPartnershipOrder checks what the contract leaves to the store: invitations made at
// the same time are listed in the order they were made, and a brand cannot invite itself.
func TestPartnershipOrder(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	a, b, c, d := addBrand(t, s, "a-brand").ID, addBrand(t, s, "b-brand").ID, addBrand(t, s, "c-brand").ID, addBrand(t, s, "d-brand").ID
	invite := func(from, to string) community.Partnership {
		t.Helper()
		p := community.Partnership{InviterID: from, InviteeID: to, Status: community.PartnershipPending, InvitedAt: brandAt(0)}
		mustDo(t, s.InvitePartner(ctx, p))
		return p
	}
	wantErrCode(t, s.InvitePartner(ctx, community.Partnership{InviterID: a, InviteeID: a, InvitedAt: brandAt(0)}), community.CodeBadUserInput)
	// d is invited and invites, between a's invitations; all at the same time.
	da := invite(d, a)
	bd := invite(b, d)
	ca := invite(c, a)
	dc := invite(d, c)
	ab := invite(a, b)
	got, err := s.PartnershipsOf(ctx, []string{a, b, c, d})
	mustDo(t, err)
	want := map[string][]community.Partnership{
		a: {da, ca, ab},
		b: {bd, ab},
		c: {ca, dc},
		d: {da, bd, dc},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PartnershipsOf (-want +got):\n%s", diff)
	}
	// Ending one and inviting again puts the new invitation last.
	mustDo(t, s.EndPartnership(ctx, a, d, brandAt(1)))
	ad := invite(a, d)
	got, err = s.PartnershipsOf(ctx, []string{a})
	mustDo(t, err)
	if diff := cmp.Diff(map[string][]community.Partnership{a: {ca, ab, ad}}, got); diff != "" {
		t.Errorf("PartnershipsOf after inviting again (-want +got):\n%s", diff)
	}
}

// TestConcurrentInvitations checks that of many invitations of one pair, made either way
// round at the same time, exactly one is stored, and that an accept racing an end does not
// bring the partnership back.
func TestConcurrentInvitations(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	a, b := addBrand(t, s, "a-brand").ID, addBrand(t, s, "b-brand").ID
	for round := range 3 {
		invited := concurrently(t, 12, func(i int) error {
			from, to := a, b
			if i%2 == 1 {
				from, to = b, a
			}
			return s.InvitePartner(ctx, community.Partnership{InviterID: from, InviteeID: to, Status: community.PartnershipPending, InvitedAt: brandAt(round)})
		}, community.CodeConflict)
		if invited != 1 {
			t.Fatalf("round %d: %d concurrent invitations stored, want 1", round, invited)
		}
		got, err := s.PartnershipsOf(ctx, []string{a})
		mustDo(t, err)
		if len(got[a]) != 1 {
			t.Fatalf("round %d: %d partnerships not ended, want 1", round, len(got[a]))
		}
		p := got[a][0]
		// An accept and an end at the same time: whichever runs first, the partnership
		// ends, and is not made active once ended.
		ended := concurrently(t, 2, func(i int) error {
			if i == 0 {
				return s.AcceptPartnership(ctx, p.InviterID, p.InviteeID, brandAt(round))
			}
			return s.EndPartnership(ctx, a, b, brandAt(round))
		}, community.CodeNotFound)
		got, err = s.PartnershipsOf(ctx, []string{a})
		mustDo(t, err)
		if len(got[a]) != 0 || ended == 0 {
			t.Fatalf("round %d: after an accept and an end, %d succeeded and %+v is not ended", round, ended, got[a])
		}
	}
	noLocksLeft(t, s)
}

// TestConcurrentConsent checks that changes of one member's consent, made at the same time,
// append exactly the changes a serial order would.
func TestConcurrentConsent(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	m := addMember(t, s, "li_hua")
	brand := addBrand(t, s, "nio").ID
	const n = 10
	concurrently(t, n, func(int) error {
		_, err := s.ChangeConsent(ctx, m, brand, community.ConsentScopes, true, brandAt(1), []string{community.NewID(), community.NewID(), community.NewID()})
		return err
	})
	history, _, err := s.ConsentHistory(ctx, m, 100, "")
	mustDo(t, err)
	if len(history) != len(community.ConsentScopes) {
		t.Errorf("%d concurrent grants of every scope appended %d changes, want %d", n, len(history), len(community.ConsentScopes))
	}
	// Alternating grants and revokes of one scope: the ledger alternates too.
	concurrently(t, n, func(i int) error {
		_, err := s.ChangeConsent(ctx, m, brand, []community.ConsentScope{community.ScopeContact}, i%2 == 1, brandAt(2), []string{community.NewID()})
		return err
	})
	history, _, err = s.ConsentHistory(ctx, m, 100, "")
	mustDo(t, err)
	// Ids are made before the locks are taken, so the ledger's id order need not be the
	// order of the changes: check that revokes and grants are as many as a serial order
	// allows (the first one revokes; then they alternate or repeat).
	var contact []bool
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Scope == community.ScopeContact {
			contact = append(contact, history[i].Granted)
		}
	}
	grants, revokes := 0, 0
	for _, g := range contact {
		if g {
			grants++
		} else {
			revokes++
		}
	}
	if grants-revokes != 1 && grants-revokes != 0 {
		t.Errorf("contact ledger %v: grants and revokes do not alternate", contact)
	}
	consents, err := s.ConsentsOf(ctx, []string{m})
	mustDo(t, err)
	granted := consents[m][0].Allows(community.ScopeContact)
	if granted != (grants > revokes) {
		t.Errorf("contact granted = %v after ledger %v", granted, contact)
	}
	noLocksLeft(t, s)
}

// TestConcurrentPurchases checks that concurrent records of one purchase store it once and
// credit it once, that concurrent refunds of one purchase take its points back once, and
// that concurrent records and refunds of different purchases lose no points.
func TestConcurrentPurchases(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	m := addMember(t, s, "li_hua")
	brand := addBrand(t, s, "nio").ID
	mustDo(t, s.JoinBrand(ctx, m, brand, brandAt(0)))
	points := func() int {
		t.Helper()
		ms, err := s.MembershipsOf(ctx, []string{m})
		mustDo(t, err)
		return ms[m][0].Points
	}
	const n = 12
	ids := make([]string, n)
	concurrently(t, n, func(i int) error {
		p, err := s.RecordPurchase(ctx, community.Purchase{ID: community.NewID(), MemberID: m, BrandID: brand, Amount: 10000, Currency: "CNY", ExternalID: "same", At: brandAt(1), RecordedAt: brandAt(1)}, nil)
		ids[i] = p.ID
		return err
	})
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent records of one purchase returned ids %v", ids)
		}
	}
	if got := points(); got != 100 {
		t.Errorf("points after %d concurrent records of one purchase = %d, want 100", n, got)
	}
	others := make([]string, n)
	concurrently(t, n, func(i int) error {
		p, err := s.RecordPurchase(ctx, community.Purchase{ID: community.NewID(), MemberID: m, BrandID: brand, Amount: 10000, Currency: "CNY", ExternalID: fmt.Sprintf("o-%d", i), At: brandAt(2), RecordedAt: brandAt(2)}, nil)
		others[i] = p.ID
		return err
	})
	if got := points(); got != 100*(n+1) {
		t.Errorf("points after %d concurrent purchases = %d, want %d", n, got, 100*(n+1))
	}
	list, err := s.PurchasesOf(ctx, brand, []string{m})
	mustDo(t, err)
	if len(list[m]) != n+1 {
		t.Errorf("%d purchases stored, want %d", len(list[m]), n+1)
	}
	concurrently(t, n, func(i int) error {
		_, err := s.RefundPurchase(ctx, brand, ids[0], brandAt(3+i))
		return err
	})
	if got := points(); got != 100*n {
		t.Errorf("points after %d concurrent refunds of one purchase = %d, want %d", n, got, 100*n)
	}
	// Refunds of different purchases, and records of new ones, at the same time.
	concurrently(t, n, func(i int) error {
		if i%2 == 0 {
			_, err := s.RefundPurchase(ctx, brand, others[i], brandAt(4))
			return err
		}
		_, err := s.RecordPurchase(ctx, community.Purchase{ID: community.NewID(), MemberID: m, BrandID: brand, Amount: 30000, Currency: "CNY", ExternalID: fmt.Sprintf("n-%d", i), At: brandAt(4), RecordedAt: brandAt(4)}, nil)
		return err
	})
	if got, want := points(), 100*n-100*n/2+300*n/2; got != want {
		t.Errorf("points after concurrent refunds and records = %d, want %d", got, want)
	}
	list, err = s.PurchasesOf(ctx, brand, []string{m})
	mustDo(t, err)
	for _, p := range list[m] {
		if p.ID == ids[0] && p.RefundedAt.Before(brandAt(3)) {
			t.Errorf("refunded purchase %+v", p)
		}
	}
	noLocksLeft(t, s)
}

// noLocksLeft checks that the locks taken by writes leave no property behind, on any node.
func noLocksLeft(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	recs, err := query(ctx, s, cypherAnyLockLeftovers, nil)
	mustDo(t, err)
	if n := integer(get(recs[0], "n")); n != 0 {
		t.Errorf("%d nodes keep a _lock property", n)
	}
}

const cypherAnyLockLeftovers = `MATCH (n) WHERE n._lock IS NOT NULL RETURN count(n) AS n`

// TestConsentScopes checks the store's answer to scopes the service never sends: a scope
// named twice changes once, with the id of its first place; an unknown scope is refused.
func TestConsentScopes(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	m := addMember(t, s, "li_hua")
	brand := addBrand(t, s, "nio").ID
	ids := []string{community.NewID(), community.NewID(), community.NewID()}
	scopes := []community.ConsentScope{community.ScopeContact, community.ScopeProfile, community.ScopeContact}
	got, err := s.ChangeConsent(ctx, m, brand, scopes, true, brandAt(1), ids)
	mustDo(t, err)
	want := []community.ConsentChange{
		{ID: ids[0], MemberID: m, BrandID: brand, Scope: community.ScopeContact, Granted: true, At: brandAt(1)},
		{ID: ids[1], MemberID: m, BrandID: brand, Scope: community.ScopeProfile, Granted: true, At: brandAt(1)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ChangeConsent with a scope named twice (-want +got):\n%s", diff)
	}
	consents, err := s.ConsentsOf(ctx, []string{m})
	mustDo(t, err)
	wantConsents := map[string][]community.Consent{m: {{BrandID: brand, Scopes: []community.ConsentScope{community.ScopeProfile, community.ScopeContact}, UpdatedAt: brandAt(1)}}}
	if diff := cmp.Diff(wantConsents, consents); diff != "" {
		t.Errorf("ConsentsOf (-want +got):\n%s", diff)
	}
	_, err = s.ChangeConsent(ctx, m, brand, []community.ConsentScope{"LOCATION"}, true, brandAt(2), []string{community.NewID()})
	wantErrCode(t, err, community.CodeBadUserInput)
	_, err = s.ChangeConsent(ctx, m, brand, []community.ConsentScope{community.ScopeActivity}, true, brandAt(2), nil)
	wantErrCode(t, err, community.CodeInternal)
	// A change id taken by the ledger already.
	_, err = s.ChangeConsent(ctx, m, brand, []community.ConsentScope{community.ScopeActivity}, true, brandAt(2), ids[:1])
	wantErrCode(t, err, community.CodeConflict)
	history, _, err := s.ConsentHistory(ctx, m, 10, "")
	mustDo(t, err)
	if len(history) != 2 {
		t.Errorf("ledger after refused changes: %+v", history)
	}
}

// creditedPoints reads the points each of a member's purchases from a brand keeps as
// credited when it was recorded, by external id.
func creditedPoints(t *testing.T, s *Store, memberID, brandID string) map[string]int {
	t.Helper()
	ctx := context.Background()
	recs, err := query(ctx, s, cypherCreditedPoints, map[string]any{"memberId": memberID, "brandId": brandID})
	mustDo(t, err)
	out := map[string]int{}
	for _, r := range recs {
		out[str(get(r, "externalId"))] = integer(get(r, "points"))
	}
	return out
}

const cypherCreditedPoints = `
MATCH (:Member {id: $memberId})-[:BOUGHT]->(p:Purchase)-[:FROM]->(:Brand {id: $brandId})
RETURN p.externalId AS externalId, p.points AS points`

// TestRefundTakesBackCredit checks that a purchase keeps the points recording it credited
// (none before the member joined the programme, none for a purchase that came refunded),
// and that a refund takes back those, also when purchases are recorded while the member
// joins.
func TestRefundTakesBackCredit(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	m := addMember(t, s, "li_hua")
	brand := addBrand(t, s, "nio").ID
	points := func() int {
		t.Helper()
		ms, err := s.MembershipsOf(ctx, []string{m})
		mustDo(t, err)
		if len(ms[m]) == 0 {
			return -1
		}
		return ms[m][0].Points
	}
	purchase := func(ref string, amount int64, minute int) community.Purchase {
		return community.Purchase{ID: community.NewID(), MemberID: m, BrandID: brand, Amount: amount, Currency: "CNY", ExternalID: ref, At: brandAt(minute), RecordedAt: brandAt(minute)}
	}
	record := func(p community.Purchase) community.Purchase {
		t.Helper()
		got, err := s.RecordPurchase(ctx, p, nil)
		mustDo(t, err)
		return got
	}
	refund := func(p community.Purchase, minute int) {
		t.Helper()
		_, err := s.RefundPurchase(ctx, brand, p.ID, brandAt(minute))
		mustDo(t, err)
	}

	before := record(purchase("before", 5000_00, 1))
	mustDo(t, s.JoinBrand(ctx, m, brand, brandAt(2)))
	after := record(purchase("after", 300_00, 3))
	cameRefunded := purchase("came-refunded", 700_00, 4)
	cameRefunded.RefundedAt = brandAt(4)
	cameRefunded = record(cameRefunded)
	if got := points(); got != 300 {
		t.Fatalf("points = %d, want 300", got)
	}
	want := map[string]int{"before": 0, "after": 300, "came-refunded": 0}
	if diff := cmp.Diff(want, creditedPoints(t, s, m, brand)); diff != "" {
		t.Errorf("credited points (-want +got):\n%s", diff)
	}
	refund(before, 5)
	if got := points(); got != 300 {
		t.Errorf("points after refunding a purchase from before joining = %d, want 300", got)
	}
	refund(cameRefunded, 5)
	if got := points(); got != 300 {
		t.Errorf("points after refunding a purchase that came refunded = %d, want 300", got)
	}
	refund(after, 5)
	if got := points(); got != 0 {
		t.Errorf("points after refunding the credited purchase = %d, want 0", got)
	}

	// Records racing the member's joining: each purchase keeps what it credited, whichever
	// came first, so the points are the sum of the credits, and refunding every purchase
	// brings them back to 0.
	other := addMember(t, s, "wang_fang")
	const n = 12
	recorded := make([]community.Purchase, n)
	concurrently(t, n+1, func(i int) error {
		if i == n {
			return s.JoinBrand(ctx, other, brand, brandAt(10))
		}
		p, err := s.RecordPurchase(ctx, community.Purchase{ID: community.NewID(), MemberID: other, BrandID: brand, Amount: 100_00, Currency: "CNY", ExternalID: fmt.Sprintf("race-%d", i), At: brandAt(10), RecordedAt: brandAt(10)}, nil)
		recorded[i] = p
		return err
	})
	sum := 0
	for _, c := range creditedPoints(t, s, other, brand) {
		if c != 0 && c != 100 {
			t.Errorf("a purchase credited %d points, want 0 or 100", c)
		}
		sum += c
	}
	ms, err := s.MembershipsOf(ctx, []string{other})
	mustDo(t, err)
	if got := ms[other][0].Points; got != sum {
		t.Errorf("points after records racing a join = %d, want the %d credited", got, sum)
	}
	concurrently(t, n, func(i int) error {
		_, err := s.RefundPurchase(ctx, brand, recorded[i].ID, brandAt(11))
		return err
	})
	ms, err = s.MembershipsOf(ctx, []string{other})
	mustDo(t, err)
	if got := ms[other][0].Points; got != 0 {
		t.Errorf("points after refunding every purchase = %d, want 0", got)
	}
	noLocksLeft(t, s)
}
