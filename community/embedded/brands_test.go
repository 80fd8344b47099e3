package embedded_test

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/embedded"
)

var clock = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return clock.Add(time.Duration(minutes) * time.Minute) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code community.Code) {
	t.Helper()
	if got := community.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := gocmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

func newStore(t *testing.T) *embedded.Store {
	t.Helper()
	s := open(t, filepath.Join(t.TempDir(), "graph.db"))
	t.Cleanup(func() { s.Close() })
	return s
}

// members creates n members and returns their ids in creation order.
func members(t *testing.T, s community.Store, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		m := community.Member{ID: community.NewID(), Handle: fmt.Sprintf("owner_%d_%s", i, community.NewID()[24:]), DisplayName: "车主", JoinedAt: clock}
		must(t, s.CreateMember(context.Background(), m, community.Identity{Provider: community.ProviderWeChat, ExternalID: "o-" + m.ID, LinkedAt: clock}))
		ids[i] = m.ID
	}
	return ids
}

// brands creates brands with the given slugs and returns them.
func brands(t *testing.T, s community.Store, slugs ...string) []community.Brand {
	t.Helper()
	out := make([]community.Brand, len(slugs))
	for i, slug := range slugs {
		out[i] = community.Brand{ID: community.NewID(), Slug: slug, Name: "品牌 " + slug, Description: "汽车", Tiers: community.DefaultTiers, CreatedAt: at(i)}
		must(t, s.CreateBrand(context.Background(), out[i]))
	}
	return out
}

func TestBrands(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	bs := brands(t, s, "nio", "xpeng")

	wantCode(t, s.CreateBrand(ctx, community.Brand{ID: bs[0].ID, Slug: "other"}), community.CodeConflict)
	wantCode(t, s.CreateBrand(ctx, community.Brand{ID: community.NewID(), Slug: "nio"}), community.CodeConflict)

	unknown := community.NewID()
	got, err := s.BrandsByID(ctx, []string{bs[0].ID, unknown, bs[1].ID})
	must(t, err)
	diff(t, "BrandsByID", map[string]community.Brand{bs[0].ID: bs[0], bs[1].ID: bs[1]}, got)

	bySlug, err := s.BrandBySlug(ctx, "xpeng")
	must(t, err)
	diff(t, "BrandBySlug", bs[1], bySlug)
	_, err = s.BrandBySlug(ctx, "other")
	wantCode(t, err, community.CodeNotFound)

	tiers := []community.Tier{{Name: "会员", Threshold: 0}, {Name: "黑卡", Threshold: 20000}}
	must(t, s.SetBrandTiers(ctx, bs[0].ID, tiers))
	wantCode(t, s.SetBrandTiers(ctx, unknown, tiers), community.CodeNotFound)
	tiers[1].Name = "changed by the caller afterwards"
	got, err = s.BrandsByID(ctx, []string{bs[0].ID})
	must(t, err)
	want := bs[0]
	want.Tiers = []community.Tier{{Name: "会员", Threshold: 0}, {Name: "黑卡", Threshold: 20000}}
	diff(t, "brand after SetBrandTiers", want, got[bs[0].ID])

	t.Run("times come back in UTC", func(t *testing.T) {
		b := community.Brand{ID: community.NewID(), Slug: "byd", Name: "比亚迪", CreatedAt: clock.In(time.FixedZone("CST", 8*3600))}
		must(t, s.CreateBrand(ctx, b))
		got, err := s.BrandBySlug(ctx, "byd")
		must(t, err)
		if got.CreatedAt.Location() != time.UTC || !got.CreatedAt.Equal(clock) {
			t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, clock)
		}
	})
}

func TestPartnerships(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	bs := brands(t, s, "nio", "xpeng", "li-auto", "byd")
	a, b, c, d := bs[0].ID, bs[1].ID, bs[2].ID, bs[3].ID
	invite := func(from, to string, minute int) community.Partnership {
		return community.Partnership{InviterID: from, InviteeID: to, Status: community.PartnershipPending, InvitedAt: at(minute)}
	}

	wantCode(t, s.InvitePartner(ctx, invite(a, community.NewID(), 1)), community.CodeNotFound)
	wantCode(t, s.InvitePartner(ctx, invite(community.NewID(), a, 1)), community.CodeNotFound)
	must(t, s.InvitePartner(ctx, invite(a, b, 5)))
	must(t, s.InvitePartner(ctx, invite(c, a, 3)))
	wantCode(t, s.InvitePartner(ctx, invite(a, b, 6)), community.CodeConflict)
	wantCode(t, s.InvitePartner(ctx, invite(b, a, 6)), community.CodeConflict)

	// Only the invitee accepts, and only a pending invitation.
	wantCode(t, s.AcceptPartnership(ctx, b, a, at(7)), community.CodeNotFound)
	wantCode(t, s.AcceptPartnership(ctx, a, d, at(7)), community.CodeNotFound)
	must(t, s.AcceptPartnership(ctx, a, b, at(7)))
	wantCode(t, s.AcceptPartnership(ctx, a, b, at(8)), community.CodeNotFound)
	wantCode(t, s.InvitePartner(ctx, invite(b, a, 9)), community.CodeConflict)

	active := invite(a, b, 5)
	active.Status, active.AcceptedAt = community.PartnershipActive, at(7)
	got, err := s.PartnershipsOf(ctx, []string{a, b, c, d})
	must(t, err)
	diff(t, "PartnershipsOf", map[string][]community.Partnership{
		a: {invite(c, a, 3), active},
		b: {active},
		c: {invite(c, a, 3)},
		d: nil,
	}, got)

	// Either brand ends it, either way round; an ended one is gone and can start again.
	must(t, s.EndPartnership(ctx, b, a, at(10)))
	wantCode(t, s.EndPartnership(ctx, a, b, at(11)), community.CodeNotFound)
	wantCode(t, s.AcceptPartnership(ctx, a, b, at(11)), community.CodeNotFound)
	must(t, s.EndPartnership(ctx, a, c, at(11)))
	wantCode(t, s.EndPartnership(ctx, a, d, at(11)), community.CodeNotFound)
	got, err = s.PartnershipsOf(ctx, []string{a, b, c})
	must(t, err)
	diff(t, "PartnershipsOf after ending", map[string][]community.Partnership{a: nil, b: nil, c: nil}, got)

	must(t, s.InvitePartner(ctx, invite(b, a, 12)))
	got, err = s.PartnershipsOf(ctx, []string{a})
	must(t, err)
	diff(t, "PartnershipsOf after inviting again", map[string][]community.Partnership{a: {invite(b, a, 12)}}, got)

	// Invitations made at the same time are ordered by inviter, then invitee.
	must(t, s.InvitePartner(ctx, invite(d, a, 12)))
	must(t, s.InvitePartner(ctx, invite(a, c, 12)))
	want := []community.Partnership{invite(b, a, 12), invite(d, a, 12), invite(a, c, 12)}
	slices.SortFunc(want, func(x, y community.Partnership) int {
		return cmp.Compare(x.InviterID+x.InviteeID, y.InviterID+y.InviteeID)
	})
	got, err = s.PartnershipsOf(ctx, []string{a})
	must(t, err)
	diff(t, "partnerships invited at the same time", map[string][]community.Partnership{a: want}, got)
}

func TestMemberships(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	bs := brands(t, s, "nio", "xpeng", "li-auto")
	ms := members(t, s, 2)
	m := ms[0]

	wantCode(t, s.JoinBrand(ctx, community.NewID(), bs[0].ID, at(1)), community.CodeNotFound)
	wantCode(t, s.JoinBrand(ctx, m, community.NewID(), at(1)), community.CodeNotFound)
	must(t, s.JoinBrand(ctx, m, bs[2].ID, at(5)))
	must(t, s.JoinBrand(ctx, m, bs[1].ID, at(3)))
	must(t, s.JoinBrand(ctx, m, bs[0].ID, at(5)))
	_, err := s.RecordPurchase(ctx, community.Purchase{ID: community.NewID(), MemberID: m, BrandID: bs[1].ID, Amount: 12345, Currency: "CNY", ExternalID: "o-1", At: at(4), RecordedAt: at(4)}, nil)
	must(t, err)
	must(t, s.JoinBrand(ctx, m, bs[1].ID, at(9))) // changes neither Since nor points

	want := []community.BrandMembership{
		{MemberID: m, BrandID: bs[1].ID, Points: 123, Since: at(3)},
		{MemberID: m, BrandID: bs[0].ID, Since: at(5)},
		{MemberID: m, BrandID: bs[2].ID, Since: at(5)},
	}
	if bs[2].ID < bs[0].ID {
		want[1], want[2] = want[2], want[1]
	}
	got, err := s.MembershipsOf(ctx, []string{m, ms[1], community.NewID()})
	must(t, err)
	diff(t, "MembershipsOf", map[string][]community.BrandMembership{m: want, ms[1]: nil}, got)

	counts, err := s.BrandMemberCounts(ctx, []string{bs[0].ID, bs[1].ID})
	must(t, err)
	diff(t, "BrandMemberCounts", map[string]int{bs[0].ID: 1, bs[1].ID: 1}, counts)
}

func TestBrandMembers(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	brand := brands(t, s, "nio", "xpeng")
	b, other := brand[0].ID, brand[1].ID
	ms := members(t, s, 7)
	// Joins: m0 at 1, m1..m3 at 2, m4 at 3, m5 at 4; m6 joins but never consents.
	joins := []int{1, 2, 2, 2, 3, 4, 5}
	for i, id := range ms {
		must(t, s.JoinBrand(ctx, id, b, at(joins[i])))
		if i < 6 {
			_, err := s.ChangeConsent(ctx, id, b, []community.ConsentScope{community.ScopeProfile}, true, at(10), []string{community.NewID()})
			must(t, err)
		}
	}
	// m4 consents to share its contact only; m5 is also in the other brand's programme.
	_, err := s.ChangeConsent(ctx, ms[4], b, []community.ConsentScope{community.ScopeContact, community.ScopeProfile}, false, at(11), []string{community.NewID(), community.NewID()})
	must(t, err)
	_, err = s.ChangeConsent(ctx, ms[4], b, []community.ConsentScope{community.ScopeContact}, true, at(12), []string{community.NewID()})
	must(t, err)
	must(t, s.JoinBrand(ctx, ms[5], other, at(1)))

	// Points: m1 has 1500 (银卡), m2 6000 (金卡), the others 0.
	for i, amount := range map[int]int64{1: 150000, 2: 600000} {
		_, err := s.RecordPurchase(ctx, community.Purchase{ID: community.NewID(), MemberID: ms[i], BrandID: b, Amount: amount, Currency: "CNY", ExternalID: fmt.Sprint("o-", i), At: at(20)}, nil)
		must(t, err)
	}
	mem := func(i, points int) community.BrandMembership {
		return community.BrandMembership{MemberID: ms[i], BrandID: b, Points: points, Since: at(joins[i])}
	}
	// m1..m3 joined at the same time: by member id.
	same := []community.BrandMembership{mem(1, 1500), mem(2, 6000), mem(3, 0)}
	for i := range same {
		for j := i + 1; j < len(same); j++ {
			if same[j].MemberID < same[i].MemberID {
				same[i], same[j] = same[j], same[i]
			}
		}
	}
	all := append([]community.BrandMembership{mem(5, 0)}, same...)
	all = append(all, mem(0, 0))
	pos := func(m community.BrandMembership) *community.Position {
		return &community.Position{Since: m.Since, ID: m.MemberID}
	}
	only := func(keep func(community.BrandMembership) bool) []community.BrandMembership {
		var out []community.BrandMembership
		for _, m := range all {
			if keep(m) {
				out = append(out, m)
			}
		}
		return out
	}

	for _, tc := range []struct {
		name string
		q    community.MembersQuery
		want community.MembershipPage
	}{
		{"all", community.MembersQuery{First: 10, MaxPoints: -1}, community.MembershipPage{Memberships: all}},
		{"first page", community.MembersQuery{First: 2, MaxPoints: -1}, community.MembershipPage{Memberships: all[:2], HasNextPage: true}},
		{"exactly the rest", community.MembersQuery{First: 3, After: pos(all[1]), MaxPoints: -1}, community.MembershipPage{Memberships: all[2:]}},
		{"after the last", community.MembersQuery{First: 3, After: pos(all[4]), MaxPoints: -1}, community.MembershipPage{}},
		{"first 0", community.MembersQuery{First: 0, MaxPoints: -1}, community.MembershipPage{HasNextPage: true}},
		{"after a position no member holds", community.MembersQuery{First: 10, After: &community.Position{Since: at(2), ID: ""}, MaxPoints: -1}, community.MembershipPage{Memberships: all[1:]}},
		{"tier 普通", community.MembersQuery{First: 10, MinPoints: 0, MaxPoints: 1000}, community.MembershipPage{Memberships: only(func(m community.BrandMembership) bool { return m.Points < 1000 })}},
		{"tier 银卡", community.MembersQuery{First: 10, MinPoints: 1000, MaxPoints: 5000}, community.MembershipPage{Memberships: []community.BrandMembership{mem(1, 1500)}}},
		{"tier 金卡", community.MembersQuery{First: 10, MinPoints: 5000, MaxPoints: -1}, community.MembershipPage{Memberships: []community.BrandMembership{mem(2, 6000)}}},
		{"bound is exclusive", community.MembersQuery{First: 10, MinPoints: 1000, MaxPoints: 1500}, community.MembershipPage{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.BrandMembers(ctx, b, tc.q)
			must(t, err)
			diff(t, "BrandMembers", tc.want, got)
		})
	}

	got, err := s.BrandMembers(ctx, other, community.MembersQuery{First: 10, MaxPoints: -1})
	must(t, err)
	diff(t, "members of a brand no one consents to", community.MembershipPage{}, got)
	counts, err := s.BrandMemberCounts(ctx, []string{b, other})
	must(t, err)
	diff(t, "BrandMemberCounts", map[string]int{b: 7, other: 1}, counts)
}

func TestConsent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	bs := brands(t, s, "nio", "xpeng")
	b, other := bs[0].ID, bs[1].ID
	m := members(t, s, 1)[0]
	scopes := func(sc ...community.ConsentScope) []community.ConsentScope { return sc }
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = community.NewID() // NewID increases: later changes sort later
		}
		return out
	}

	_, err := s.ChangeConsent(ctx, community.NewID(), b, scopes(community.ScopeProfile), true, at(1), ids(1))
	wantCode(t, err, community.CodeNotFound)
	_, err = s.ChangeConsent(ctx, m, community.NewID(), scopes(community.ScopeProfile), true, at(1), ids(1))
	wantCode(t, err, community.CodeNotFound)

	first := ids(2)
	got, err := s.ChangeConsent(ctx, m, b, scopes(community.ScopeActivity, community.ScopeProfile), true, at(1), first)
	must(t, err)
	c1 := community.ConsentChange{ID: first[0], MemberID: m, BrandID: b, Scope: community.ScopeActivity, Granted: true, At: at(1)}
	c2 := community.ConsentChange{ID: first[1], MemberID: m, BrandID: b, Scope: community.ScopeProfile, Granted: true, At: at(1)}
	diff(t, "first grant", []community.ConsentChange{c1, c2}, got)

	// Granting a granted scope changes nothing; the id of a changed scope is that of its index.
	second := ids(3)
	got, err = s.ChangeConsent(ctx, m, b, scopes(community.ScopeProfile, community.ScopeActivity, community.ScopeContact), true, at(2), second)
	must(t, err)
	c3 := community.ConsentChange{ID: second[2], MemberID: m, BrandID: b, Scope: community.ScopeContact, Granted: true, At: at(2)}
	diff(t, "second grant", []community.ConsentChange{c3}, got)
	got, err = s.ChangeConsent(ctx, m, b, scopes(community.ScopeProfile), true, at(3), ids(1))
	must(t, err)
	diff(t, "granting again", []community.ConsentChange(nil), got)
	got, err = s.ChangeConsent(ctx, m, other, scopes(community.ScopeContact), false, at(3), ids(1))
	must(t, err)
	diff(t, "revoking what was never granted", []community.ConsentChange(nil), got)

	third := ids(2)
	got, err = s.ChangeConsent(ctx, m, b, scopes(community.ScopeActivity, community.ScopeContact), false, at(4), third)
	must(t, err)
	c4 := community.ConsentChange{ID: third[0], MemberID: m, BrandID: b, Scope: community.ScopeActivity, At: at(4)}
	c5 := community.ConsentChange{ID: third[1], MemberID: m, BrandID: b, Scope: community.ScopeContact, At: at(4)}
	diff(t, "revoke", []community.ConsentChange{c4, c5}, got)
	fourth := ids(1)
	_, err = s.ChangeConsent(ctx, m, other, scopes(community.ScopeContact), true, at(5), fourth)
	must(t, err)
	c6 := community.ConsentChange{ID: fourth[0], MemberID: m, BrandID: other, Scope: community.ScopeContact, Granted: true, At: at(5)}

	consents, err := s.ConsentsOf(ctx, []string{m})
	must(t, err)
	want := []community.Consent{
		{BrandID: b, Scopes: scopes(community.ScopeProfile), UpdatedAt: at(4)},
		{BrandID: other, Scopes: scopes(community.ScopeContact), UpdatedAt: at(5)},
	}
	if other < b {
		want[0], want[1] = want[1], want[0]
	}
	diff(t, "ConsentsOf", map[string][]community.Consent{m: want}, consents)

	// A consent with no scope left is not listed.
	_, err = s.ChangeConsent(ctx, m, other, scopes(community.ScopeContact), false, at(6), ids(1))
	must(t, err)
	consents, err = s.ConsentsOf(ctx, []string{m})
	must(t, err)
	diff(t, "ConsentsOf after revoking all", map[string][]community.Consent{m: {{BrandID: b, Scopes: scopes(community.ScopeProfile), UpdatedAt: at(4)}}}, consents)

	all, more, err := s.ConsentHistory(ctx, m, 100, "")
	must(t, err)
	if len(all) != 7 || more {
		t.Fatalf("whole ledger: %d changes, more %v; want 7 and false", len(all), more)
	}
	diff(t, "newest changes of the ledger", []community.ConsentChange{c6, c5, c4, c3, c2, c1}, all[1:])
	page, more, err := s.ConsentHistory(ctx, m, 2, c5.ID)
	must(t, err)
	diff(t, "page before c5", []community.ConsentChange{c4, c3}, page)
	if !more {
		t.Error("the page before c5 says there is nothing more")
	}
	page, more, err = s.ConsentHistory(ctx, m, 2, c2.ID)
	must(t, err)
	diff(t, "last page", []community.ConsentChange{c1}, page)
	if more {
		t.Error("the last page says there is more")
	}
	page, more, err = s.ConsentHistory(ctx, m, 0, "")
	must(t, err)
	if len(page) != 0 || !more {
		t.Errorf("first 0: %d changes, more %v; want none and true", len(page), more)
	}
}

func TestPurchases(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	bs := brands(t, s, "nio", "xpeng")
	b, other := bs[0].ID, bs[1].ID
	ms := members(t, s, 2)
	m := ms[0]
	must(t, s.JoinBrand(ctx, m, b, at(0)))
	buy := func(brandID, ext string, amount int64, minute int) community.Purchase {
		return community.Purchase{ID: community.NewID(), MemberID: m, BrandID: brandID, Amount: amount, Currency: "CNY", ExternalID: ext, At: at(minute), RecordedAt: at(60)}
	}
	points := func(want int) {
		t.Helper()
		got, err := s.MembershipsOf(ctx, []string{m})
		must(t, err)
		if len(got[m]) != 1 || got[m][0].Points != want {
			t.Fatalf("memberships = %+v, want %d points", got[m], want)
		}
	}

	_, err := s.RecordPurchase(ctx, community.Purchase{ID: community.NewID(), MemberID: community.NewID(), BrandID: b, Amount: 100, Currency: "CNY", ExternalID: "x", At: at(1)}, nil)
	wantCode(t, err, community.CodeNotFound)
	_, err = s.RecordPurchase(ctx, buy(community.NewID(), "x", 100, 1), nil)
	wantCode(t, err, community.CodeNotFound)

	p1 := buy(b, "order-1", 199_99, 10)
	got, err := s.RecordPurchase(ctx, p1, nil)
	must(t, err)
	diff(t, "recorded purchase", p1, got)
	points(199)

	t.Run("recording again", func(t *testing.T) {
		again := buy(b, "order-1", 199_99, 10)
		again.At = again.At.In(time.FixedZone("CST", 8*3600))
		got, err := s.RecordPurchase(ctx, again, nil)
		must(t, err)
		diff(t, "purchase recorded again", p1, got)
		points(199)
		for name, change := range map[string]func(*community.Purchase){
			"member":   func(p *community.Purchase) { p.MemberID = ms[1] },
			"amount":   func(p *community.Purchase) { p.Amount++ },
			"currency": func(p *community.Purchase) { p.Currency = "USD" },
			"time":     func(p *community.Purchase) { p.At = p.At.Add(time.Second) },
		} {
			t.Run("other "+name, func(t *testing.T) {
				p := buy(b, "order-1", 199_99, 10)
				change(&p)
				_, err := s.RecordPurchase(ctx, p, nil)
				wantCode(t, err, community.CodeConflict)
			})
		}
		// The same external id at another brand is another purchase.
		_, err = s.RecordPurchase(ctx, buy(other, "order-1", 50_00, 11), nil)
		must(t, err)
		points(199)
	})

	p2 := buy(b, "order-2", 10_00, 20)
	_, err = s.RecordPurchase(ctx, p2, nil)
	must(t, err)
	points(209)

	_, err = s.RefundPurchase(ctx, other, p1.ID, at(30))
	wantCode(t, err, community.CodeNotFound)
	_, err = s.RefundPurchase(ctx, b, community.NewID(), at(30))
	wantCode(t, err, community.CodeNotFound)
	refunded, err := s.RefundPurchase(ctx, b, p1.ID, at(30))
	must(t, err)
	p1.RefundedAt = at(30)
	diff(t, "refunded purchase", p1, refunded)
	points(10)
	again, err := s.RefundPurchase(ctx, b, p1.ID, at(31))
	must(t, err)
	diff(t, "refunded again", p1, again)
	points(10)

	// A purchase recorded before the member joined credited nothing, so its refund takes
	// nothing back.
	m2 := ms[1]
	early := community.Purchase{ID: community.NewID(), MemberID: m2, BrandID: b, Amount: 500_00, Currency: "CNY", ExternalID: "order-3", At: at(1)}
	_, err = s.RecordPurchase(ctx, early, nil)
	must(t, err)
	must(t, s.JoinBrand(ctx, m2, b, at(2)))
	late := early
	late.ID, late.ExternalID, late.Amount, late.At = community.NewID(), "order-4", 100_00, at(3)
	_, err = s.RecordPurchase(ctx, late, nil)
	must(t, err)
	_, err = s.RefundPurchase(ctx, b, early.ID, at(4))
	must(t, err)
	got2, err := s.MembershipsOf(ctx, []string{m2})
	must(t, err)
	if got2[m2][0].Points != 100 {
		t.Errorf("points after refunding a purchase from before joining = %d, want 100", got2[m2][0].Points)
	}

	all, err := s.PurchasesOf(ctx, "", []string{m, community.NewID()})
	must(t, err)
	if n := len(all[m]); n != 3 {
		t.Fatalf("%d purchases from all brands, want 3", n)
	}
	if all[m][0].ID != p2.ID || all[m][1].BrandID != other || all[m][2].ID != p1.ID {
		t.Errorf("purchases are not newest first: %+v", all[m])
	}
	fromB, err := s.PurchasesOf(ctx, b, []string{m})
	must(t, err)
	diff(t, "purchases from one brand", map[string][]community.Purchase{m: {p2, p1}}, fromB)

	t.Run("same time: by id descending", func(t *testing.T) {
		x, y := buy(b, "order-5", 1_00, 50), buy(b, "order-6", 1_00, 50)
		_, err := s.RecordPurchase(ctx, x, nil)
		must(t, err)
		_, err = s.RecordPurchase(ctx, y, nil)
		must(t, err)
		got, err := s.PurchasesOf(ctx, b, []string{m})
		must(t, err)
		if x.ID < y.ID {
			x, y = y, x
		}
		diff(t, "purchases at the same time", []community.Purchase{x, y, p2, p1}, got[m])
	})
}

// brandState is everything the BrandStore answers about a set of brands and members.
type brandState struct {
	Brands       map[string]community.Brand
	BySlug       map[string]community.Brand
	Partnerships map[string][]community.Partnership
	Memberships  map[string][]community.BrandMembership
	Members      map[string]community.MembershipPage
	Counts       map[string]int
	Consents     map[string][]community.Consent
	History      map[string][]community.ConsentChange
	Purchases    map[string][]community.Purchase
}

func snapshotBrands(t *testing.T, s community.Store, bs []community.Brand, ms []string) brandState {
	t.Helper()
	ctx := context.Background()
	var ids []string
	st := brandState{BySlug: map[string]community.Brand{}, Members: map[string]community.MembershipPage{}, History: map[string][]community.ConsentChange{}}
	for _, b := range bs {
		ids = append(ids, b.ID)
		var err error
		st.BySlug[b.Slug], err = s.BrandBySlug(ctx, b.Slug)
		must(t, err)
		st.Members[b.ID], err = s.BrandMembers(ctx, b.ID, community.MembersQuery{First: 100, MaxPoints: -1})
		must(t, err)
	}
	var err error
	st.Brands, err = s.BrandsByID(ctx, ids)
	must(t, err)
	st.Partnerships, err = s.PartnershipsOf(ctx, ids)
	must(t, err)
	st.Counts, err = s.BrandMemberCounts(ctx, ids)
	must(t, err)
	st.Memberships, err = s.MembershipsOf(ctx, ms)
	must(t, err)
	st.Consents, err = s.ConsentsOf(ctx, ms)
	must(t, err)
	st.Purchases, err = s.PurchasesOf(ctx, "", ms)
	must(t, err)
	for _, m := range ms {
		st.History[m], _, err = s.ConsentHistory(ctx, m, 100, "")
		must(t, err)
	}
	return st
}

// TestReopenBrands checks that brands, partnerships (ended ones included), memberships,
// consents and purchases are there, the same, after the file is reopened.
func TestReopenBrands(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "graph.db")
	s := open(t, path)
	bs := brands(t, s, "nio", "xpeng", "li-auto")
	ms := members(t, s, 3)
	must(t, s.SetBrandTiers(ctx, bs[0].ID, []community.Tier{{Name: "会员", Threshold: 0}, {Name: "黑卡", Threshold: 100}}))
	must(t, s.InvitePartner(ctx, community.Partnership{InviterID: bs[0].ID, InviteeID: bs[1].ID, Status: community.PartnershipPending, InvitedAt: at(1)}))
	must(t, s.AcceptPartnership(ctx, bs[0].ID, bs[1].ID, at(2)))
	must(t, s.InvitePartner(ctx, community.Partnership{InviterID: bs[2].ID, InviteeID: bs[0].ID, Status: community.PartnershipPending, InvitedAt: at(3)}))
	must(t, s.InvitePartner(ctx, community.Partnership{InviterID: bs[1].ID, InviteeID: bs[2].ID, Status: community.PartnershipPending, InvitedAt: at(3)}))
	must(t, s.EndPartnership(ctx, bs[2].ID, bs[1].ID, at(4)))
	for i, m := range ms {
		must(t, s.JoinBrand(ctx, m, bs[0].ID, at(10+i%2)))
		_, err := s.ChangeConsent(ctx, m, bs[0].ID, []community.ConsentScope{community.ScopeProfile, community.ScopeActivity}, true, at(20+i), []string{community.NewID(), community.NewID()})
		must(t, err)
	}
	must(t, s.JoinBrand(ctx, ms[0], bs[1].ID, at(12)))
	_, err := s.ChangeConsent(ctx, ms[0], bs[0].ID, []community.ConsentScope{community.ScopeActivity}, false, at(30), []string{community.NewID()})
	must(t, err)
	var refund community.Purchase
	for i := range 4 {
		p := community.Purchase{ID: community.NewID(), MemberID: ms[i%2], BrandID: bs[i%2].ID, Amount: int64(i+1) * 100_00, Currency: "CNY", ExternalID: fmt.Sprint("order-", i), At: at(40 + i), RecordedAt: at(50)}
		p, err := s.RecordPurchase(ctx, p, nil)
		must(t, err)
		refund = p
	}
	_, err = s.RefundPurchase(ctx, refund.BrandID, refund.ID, at(60))
	must(t, err)

	before := snapshotBrands(t, s, bs, ms)
	if len(before.Partnerships[bs[0].ID]) != 2 || len(before.Purchases[ms[1]]) != 2 || before.Memberships[ms[0]][0].Points == 0 {
		t.Fatalf("the populated brands lack something to compare: %+v", before)
	}
	must(t, s.Close())
	s = open(t, path)
	defer s.Close()
	diff(t, "brands after reopening", before, snapshotBrands(t, s, bs, ms))

	// What was ended stays ended, and what is not ended still constrains writes.
	wantCode(t, s.InvitePartner(ctx, community.Partnership{InviterID: bs[1].ID, InviteeID: bs[0].ID, InvitedAt: at(70)}), community.CodeConflict)
	must(t, s.InvitePartner(ctx, community.Partnership{InviterID: bs[1].ID, InviteeID: bs[2].ID, InvitedAt: at(70)}))
	_, err = s.RecordPurchase(ctx, community.Purchase{ID: community.NewID(), MemberID: ms[1], BrandID: bs[0].ID, Amount: 1, Currency: "CNY", ExternalID: "order-0", At: at(40)}, nil)
	wantCode(t, err, community.CodeConflict)
	wantCode(t, s.CreateBrand(ctx, community.Brand{ID: community.NewID(), Slug: "nio"}), community.CodeConflict)
}
