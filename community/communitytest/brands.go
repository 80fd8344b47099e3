package communitytest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"quanzi/community"
)

// testBrandStore runs the contract of community.BrandStore, each part on a fresh store.
func testBrandStore(t *testing.T, newStore NewStore) {
	t.Run("Brands", func(t *testing.T) { testBrands(t, newStore(t)) })
	t.Run("Partnerships", func(t *testing.T) { testPartnerships(t, newStore(t)) })
	t.Run("BrandMembership", func(t *testing.T) { testBrandMembership(t, newStore(t)) })
	t.Run("BrandMembers", func(t *testing.T) { testBrandMembers(t, newStore(t)) })
	t.Run("Consent", func(t *testing.T) { testConsent(t, newStore(t)) })
	t.Run("Purchases", func(t *testing.T) { testPurchases(t, newStore(t)) })
	t.Run("Refunds", func(t *testing.T) { testRefunds(t, newStore(t)) })
	t.Run("PointsLimit", func(t *testing.T) { testPointsLimit(t, newStore(t)) })
	t.Run("ConcurrentBrandWrites", func(t *testing.T) { testConcurrentBrandWrites(t, newStore(t)) })
}

// equateEmpty lets a store answer an empty list as nil or as an empty slice.
var equateEmpty = cmpopts.EquateEmpty()

// ordered returns a source of ids that increase with every call, for ledgers and lists
// whose order the id decides: their order is plain to read in a case (NewID increases too,
// but its ids do not say which came first). The prefix of a fresh NewID keeps the ids
// unique across runs.
func ordered() func() string {
	prefix := community.NewID()[:24]
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("%s%012d", prefix, n)
	}
}

func newBrand(slug string) community.Brand {
	return community.Brand{
		ID: community.NewID(), Slug: slug, Name: "品牌 " + slug, Description: slug + " 车主俱乐部",
		Tiers: slices.Clone(community.DefaultTiers), CreatedAt: base,
	}
}

// createBrands stores brands with the given slugs and returns them.
func createBrands(t *testing.T, s community.Store, slugs ...string) []community.Brand {
	t.Helper()
	out := make([]community.Brand, len(slugs))
	for i, slug := range slugs {
		out[i] = newBrand(slug)
		must(t, s.CreateBrand(context.Background(), out[i]))
	}
	return out
}

// nonEmpty drops the empty lists of a map: stores may omit keys with nothing to report.
func nonEmpty[V any](m map[string][]V) map[string][]V {
	out := map[string][]V{}
	for k, v := range m {
		if len(v) > 0 {
			out[k] = v
		}
	}
	return out
}

// cny is a purchase in fen, at minute n of the suite's clock, recorded a minute later.
func cny(id, memberID, brandID, externalID string, amount int64, n int) community.Purchase {
	return community.Purchase{
		ID: id, MemberID: memberID, BrandID: brandID, Amount: amount, Currency: "CNY",
		ExternalID: externalID, At: at(n), RecordedAt: at(n + 1),
	}
}

func checkBrands(t *testing.T, s community.Store, ids []string, want map[string]community.Brand) {
	t.Helper()
	got, err := s.BrandsByID(context.Background(), ids)
	checkRead(t, "BrandsByID", want, got, err)
}

func checkPartnerships(t *testing.T, s community.Store, brandIDs []string, want map[string][]community.Partnership) {
	t.Helper()
	got, err := s.PartnershipsOf(context.Background(), brandIDs)
	checkGrouped(t, "PartnershipsOf", want, got, err)
}

func checkMemberships(t *testing.T, s community.Store, memberIDs []string, want map[string][]community.BrandMembership) {
	t.Helper()
	got, err := s.MembershipsOf(context.Background(), memberIDs)
	checkGrouped(t, "MembershipsOf", want, got, err)
}

func checkPurchases(t *testing.T, s community.Store, brandID string, memberIDs []string, want map[string][]community.Purchase) {
	t.Helper()
	got, err := s.PurchasesOf(context.Background(), brandID, memberIDs)
	checkGrouped(t, fmt.Sprintf("PurchasesOf(%q)", brandID), want, got, err)
}

func checkConsents(t *testing.T, s community.Store, memberIDs []string, want map[string][]community.Consent) {
	t.Helper()
	got, err := s.ConsentsOf(context.Background(), memberIDs)
	checkGrouped(t, "ConsentsOf", want, got, err)
}

// points returns a member's points in a brand's programme, and whether it is a member.
func points(t *testing.T, s community.Store, memberID, brandID string) (int, bool) {
	t.Helper()
	got, err := s.MembershipsOf(context.Background(), []string{memberID})
	must(t, err)
	for _, m := range got[memberID] {
		if m.BrandID == brandID {
			return m.Points, true
		}
	}
	return 0, false
}

func wantPoints(t *testing.T, s community.Store, memberID, brandID string, want int) {
	t.Helper()
	got, ok := points(t, s, memberID, brandID)
	if !ok {
		t.Fatalf("member %s is not in the programme of brand %s", memberID, brandID)
	}
	if got != want {
		t.Errorf("member %s has %d points at brand %s, want %d", memberID, got, brandID, want)
	}
}

func testBrands(t *testing.T, s community.Store) {
	ctx := context.Background()
	nio := newBrand("nio")
	li := newBrand("li-auto")
	li.Name, li.Description, li.CreatedAt = "理想汽车", "", at(3)
	li.Tiers = []community.Tier{{Name: "会员", Threshold: 0}}
	must(t, s.CreateBrand(ctx, nio))
	must(t, s.CreateBrand(ctx, li))
	stored := map[string]community.Brand{nio.ID: nio, li.ID: li}
	bySlug := map[string]community.Brand{nio.Slug: nio, li.Slug: li}

	checkBrands(t, s, []string{nio.ID, community.NewID(), li.ID}, stored)
	for slug, want := range bySlug {
		got, err := s.BrandBySlug(ctx, slug)
		checkRead(t, fmt.Sprintf("BrandBySlug(%q)", slug), want, got, err)
	}
	_, err := s.BrandBySlug(ctx, "xpeng")
	wantCode(t, err, community.CodeNotFound)
	got, err := s.BrandsByID(ctx, nil)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("BrandsByID of no ids = %v", got)
	}

	t.Run("refused create stores nothing", func(t *testing.T) {
		slugTaken := newBrand("nio")
		slugTaken.Name = "另一个蔚来"
		idTaken := newBrand("nio-club")
		idTaken.ID = li.ID
		bothTaken := newBrand("li-auto")
		bothTaken.ID = nio.ID
		cases := []struct {
			name  string
			brand community.Brand
		}{
			{"slug taken", slugTaken},
			{"id taken", idTaken},
			{"id and slug of different brands taken", bothTaken},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, s.CreateBrand(ctx, tc.brand), community.CodeConflict)
				checkBrands(t, s, []string{nio.ID, li.ID, tc.brand.ID}, stored)
				got, err := s.BrandBySlug(ctx, tc.brand.Slug)
				if owner, taken := bySlug[tc.brand.Slug]; taken {
					must(t, err)
					if diff := cmp.Diff(owner, got); diff != "" {
						t.Errorf("the slug's owner after a refused create (-want +got):\n%s", diff)
					}
				} else {
					wantCode(t, err, community.CodeNotFound)
				}
			})
		}
		// The slug refused with a taken id is still free.
		club := newBrand("nio-club")
		must(t, s.CreateBrand(ctx, club))
		stored[club.ID] = club
		checkBrands(t, s, []string{nio.ID, li.ID, club.ID}, stored)
	})

	t.Run("SetBrandTiers", func(t *testing.T) {
		cases := []struct {
			name  string
			tiers []community.Tier
		}{
			{"more tiers", []community.Tier{{Name: "粉丝", Threshold: 0}, {Name: "铁粉", Threshold: 300}, {Name: "银卡", Threshold: 1000}, {Name: "黑卡", Threshold: 20000}}},
			{"fewer tiers", []community.Tier{{Name: "车主", Threshold: 0}, {Name: "金卡", Threshold: 8000}}},
			{"one tier", []community.Tier{{Name: "会员", Threshold: 0}}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				must(t, s.SetBrandTiers(ctx, nio.ID, slices.Clone(tc.tiers)))
				want := nio
				want.Tiers = tc.tiers
				checkBrands(t, s, []string{nio.ID, li.ID}, map[string]community.Brand{nio.ID: want, li.ID: li})
				got, err := s.BrandBySlug(ctx, nio.Slug)
				checkRead(t, "BrandBySlug after SetBrandTiers", want, got, err)
			})
		}
		unknown := community.NewID()
		wantCode(t, s.SetBrandTiers(ctx, unknown, slices.Clone(community.DefaultTiers)), community.CodeNotFound)
		checkBrands(t, s, []string{unknown}, map[string]community.Brand{})
	})
}

func testPartnerships(t *testing.T, s community.Store) {
	ctx := context.Background()
	bs := createBrands(t, s, "brand-a", "brand-b", "brand-c", "brand-d", "brand-e")
	a, b, c, d, e := bs[0].ID, bs[1].ID, bs[2].ID, bs[3].ID, bs[4].ID
	all := []string{a, b, c, d, e, community.NewID()}
	invite := func(from, to string, n int) community.Partnership {
		return community.Partnership{InviterID: from, InviteeID: to, Status: community.PartnershipPending, InvitedAt: at(n)}
	}
	accepted := func(p community.Partnership, n int) community.Partnership {
		p.Status, p.AcceptedAt = community.PartnershipActive, at(n)
		return p
	}

	// c's invitation is recorded first but made later: lists are by invitation time.
	ca := invite(c, a, 2)
	must(t, s.InvitePartner(ctx, ca))
	ab := invite(a, b, 1)
	must(t, s.InvitePartner(ctx, ab))
	checkPartnerships(t, s, all, map[string][]community.Partnership{a: {ab, ca}, b: {ab}, c: {ca}})
	must(t, s.AcceptPartnership(ctx, c, a, at(3)))
	ca = accepted(ca, 3)
	want := map[string][]community.Partnership{a: {ab, ca}, b: {ab}, c: {ca}}
	checkPartnerships(t, s, all, want)

	t.Run("invite refused", func(t *testing.T) {
		cases := []struct {
			name string
			p    community.Partnership
			code community.Code
		}{
			{"unknown invitee", invite(d, community.NewID(), 4), community.CodeNotFound},
			{"unknown inviter", invite(community.NewID(), d, 4), community.CodeNotFound},
			{"pending, same way round", invite(a, b, 4), community.CodeConflict},
			{"pending, other way round", invite(b, a, 4), community.CodeConflict},
			{"active, same way round", invite(c, a, 4), community.CodeConflict},
			{"active, other way round", invite(a, c, 4), community.CodeConflict},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, s.InvitePartner(ctx, tc.p), tc.code) })
		}
		checkPartnerships(t, s, all, want)
	})

	t.Run("accept refused", func(t *testing.T) {
		cases := []struct {
			name             string
			inviter, invitee string
		}{
			{"wrong direction", b, a},
			{"already active", c, a},
			{"active, wrong direction", a, c},
			{"no partnership", a, d},
			{"unknown inviter", community.NewID(), b},
			{"unknown invitee", a, community.NewID()},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, s.AcceptPartnership(ctx, tc.inviter, tc.invitee, at(5)), community.CodeNotFound)
			})
		}
		checkPartnerships(t, s, all, want)
	})

	must(t, s.AcceptPartnership(ctx, a, b, at(6)))
	ab = accepted(ab, 6)
	checkPartnerships(t, s, all, map[string][]community.Partnership{a: {ab, ca}, b: {ab}, c: {ca}})

	// A pending invitation declined by the invitee, one withdrawn by the inviter.
	db := invite(d, b, 7)
	must(t, s.InvitePartner(ctx, db))
	dc := invite(d, c, 8)
	must(t, s.InvitePartner(ctx, dc))
	checkPartnerships(t, s, all, map[string][]community.Partnership{a: {ab, ca}, b: {ab, db}, c: {ca, dc}, d: {db, dc}})
	must(t, s.EndPartnership(ctx, b, d, at(9)))
	must(t, s.EndPartnership(ctx, d, c, at(10)))
	checkPartnerships(t, s, all, map[string][]community.Partnership{a: {ab, ca}, b: {ab}, c: {ca}})
	// An active partnership ended by the invitee, one by the inviter.
	must(t, s.EndPartnership(ctx, a, c, at(11)))
	must(t, s.EndPartnership(ctx, a, b, at(12)))
	checkPartnerships(t, s, all, map[string][]community.Partnership{})

	t.Run("after the end", func(t *testing.T) {
		ends := []struct {
			name         string
			brand, other string
		}{
			{"ended active", a, c},
			{"ended active, other way round", c, a},
			{"ended pending", d, b},
			{"never partners", e, a},
			{"unknown brand", a, community.NewID()},
		}
		for _, tc := range ends {
			t.Run("end "+tc.name, func(t *testing.T) {
				wantCode(t, s.EndPartnership(ctx, tc.brand, tc.other, at(13)), community.CodeNotFound)
			})
		}
		accepts := []struct {
			name             string
			inviter, invitee string
		}{
			{"ended active", c, a},
			{"ended pending", d, b},
			{"withdrawn", d, c},
		}
		for _, tc := range accepts {
			t.Run("accept "+tc.name, func(t *testing.T) {
				wantCode(t, s.AcceptPartnership(ctx, tc.inviter, tc.invitee, at(13)), community.CodeNotFound)
			})
		}
		checkPartnerships(t, s, all, map[string][]community.Partnership{})
	})

	// Two brands may start again either way round, and nothing of the ended partnership
	// carries over.
	ac := invite(a, c, 14)
	must(t, s.InvitePartner(ctx, ac))
	db2 := invite(d, b, 15)
	must(t, s.InvitePartner(ctx, db2))
	ab2 := invite(a, b, 16)
	must(t, s.InvitePartner(ctx, ab2))
	must(t, s.AcceptPartnership(ctx, a, c, at(17)))
	ac = accepted(ac, 17)
	// e's invitations are recorded out of time order.
	ea := invite(e, a, 20)
	must(t, s.InvitePartner(ctx, ea))
	ed := invite(e, d, 18)
	must(t, s.InvitePartner(ctx, ed))
	checkPartnerships(t, s, all, map[string][]community.Partnership{
		a: {ac, ab2, ea},
		b: {db2, ab2},
		c: {ac},
		d: {db2, ed},
		e: {ed, ea},
	})
	got, err := s.PartnershipsOf(ctx, nil)
	checkNone(t, "PartnershipsOf no brands", got, err)
}

func testBrandMembership(t *testing.T, s community.Store) {
	ctx := context.Background()
	bs := createBrands(t, s, "nio", "li-auto", "xpeng")
	nio, li, xpeng := bs[0].ID, bs[1].ID, bs[2].ID
	ms := create(t, s, "wang_fang", "li_na", "zhang_wei")
	wang, lina, zhang := ms[0].ID, ms[1].ID, ms[2].ID
	everyone := []string{wang, lina, zhang, community.NewID()}

	must(t, s.JoinBrand(ctx, wang, nio, at(5)))
	must(t, s.JoinBrand(ctx, wang, li, at(2)))
	must(t, s.JoinBrand(ctx, lina, nio, at(7)))
	want := map[string][]community.BrandMembership{
		wang: {{MemberID: wang, BrandID: li, Since: at(2)}, {MemberID: wang, BrandID: nio, Since: at(5)}},
		lina: {{MemberID: lina, BrandID: nio, Since: at(7)}},
	}
	checkMemberships(t, s, everyone, want)

	// Points earned, then joining again, later or earlier: the membership keeps its time
	// and its points.
	_, err := s.RecordPurchase(ctx, cny(community.NewID(), wang, nio, "nio-order-1", 250_00, 6), nil)
	must(t, err)
	must(t, s.JoinBrand(ctx, wang, nio, at(9)))
	must(t, s.JoinBrand(ctx, wang, nio, at(1)))
	want[wang][1].Points = 250
	checkMemberships(t, s, everyone, want)

	t.Run("unknown", func(t *testing.T) {
		cases := []struct {
			name          string
			member, brand string
		}{
			{"unknown member", community.NewID(), nio},
			{"unknown brand", zhang, community.NewID()},
			{"unknown brand of a member", wang, community.NewID()},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, s.JoinBrand(ctx, tc.member, tc.brand, at(10)), community.CodeNotFound)
			})
		}
		checkMemberships(t, s, everyone, want)
	})

	counts, err := s.BrandMemberCounts(ctx, []string{nio, li, xpeng, community.NewID()})
	must(t, err)
	if diff := cmp.Diff(map[string]int{nio: 2, li: 1}, nonZero(counts)); diff != "" {
		t.Errorf("BrandMemberCounts (-want +got):\n%s", diff)
	}
	got, err := s.MembershipsOf(ctx, nil)
	checkNone(t, "MembershipsOf no members", got, err)
}

// sortMembersOrder sorts memberships as BrandMembers lists them: newest first, then by id.
func sortMembersOrder(ms []community.BrandMembership) {
	slices.SortFunc(ms, func(x, y community.BrandMembership) int {
		if c := y.Since.Compare(x.Since); c != 0 {
			return c
		}
		return strings.Compare(x.MemberID, y.MemberID)
	})
}

// checkMemberPages pages through a brand's members with pages of the given size, from the
// first page or after a position, and compares every page with the part of want it should
// hold; want is the whole list in list order.
func checkMemberPages(t *testing.T, s community.Store, brandID string, q community.MembersQuery, want []community.BrandMembership) {
	t.Helper()
	for start := 0; ; start += q.First {
		end := min(start+q.First, len(want))
		got, err := s.BrandMembers(context.Background(), brandID, q)
		must(t, err)
		wantPage := community.MembershipPage{Memberships: want[start:end], HasNextPage: end < len(want)}
		if diff := cmp.Diff(wantPage, got, equateEmpty); diff != "" {
			t.Fatalf("page of %d from item %d (-want +got):\n%s", q.First, start, diff)
		}
		if end == len(want) {
			return
		}
		last := want[end-1]
		q.After = &community.Position{Since: last.Since, ID: last.MemberID}
	}
}

func testBrandMembers(t *testing.T, s community.Store) {
	ctx := context.Background()
	bs := createBrands(t, s, "nio", "li-auto")
	nio, li := bs[0].ID, bs[1].ID
	ids := ordered()
	change := func(memberID, brandID string, granted bool, scopes ...community.ConsentScope) {
		t.Helper()
		keys := make([]string, len(scopes))
		for i := range keys {
			keys[i] = ids()
		}
		_, err := s.ChangeConsent(ctx, memberID, brandID, scopes, granted, at(0), keys)
		must(t, err)
	}
	profileTo := func(brandID string) func(string) {
		return func(m string) { change(m, brandID, true, community.ScopeProfile) }
	}
	profileToNIO := profileTo(nio)
	fixture := []struct {
		handle  string
		brand   string // the programme the member joins
		joined  int    // minute of joining
		points  int
		consent func(memberID string)
		listed  bool // among nio's members that BrandMembers lists
	}{
		{"points_0", nio, 10, 0, profileToNIO, true},
		{"points_999", nio, 10, 999, profileToNIO, true},
		{"points_1000", nio, 10, 1000, profileToNIO, true},
		{"points_4999", nio, 20, 4999, profileToNIO, true},
		{"points_5000", nio, 20, 5000, profileToNIO, true},
		{"points_12000", nio, 20, 12000, profileToNIO, true},
		{"points_300", nio, 5, 300, profileToNIO, true},
		{"every_scope", nio, 30, 3000, func(m string) { change(m, nio, true, community.ConsentScopes...) }, true},
		{"contact_revoked", nio, 15, 2000, func(m string) {
			change(m, nio, true, community.ScopeProfile, community.ScopeContact)
			change(m, nio, false, community.ScopeContact)
		}, true},
		{"granted_again", nio, 15, 7000, func(m string) {
			change(m, nio, true, community.ScopeProfile)
			change(m, nio, false, community.ScopeProfile)
			change(m, nio, true, community.ScopeProfile)
		}, true},
		{"other_brand", nio, 10, 1500, profileTo(li), false},
		{"contact_only", nio, 20, 1500, func(m string) { change(m, nio, true, community.ScopeContact, community.ScopeActivity) }, false},
		{"revoked", nio, 15, 1500, func(m string) {
			change(m, nio, true, community.ScopeProfile, community.ScopeContact)
			change(m, nio, false, community.ScopeProfile)
		}, false},
		{"no_consent", nio, 25, 1500, nil, false},
		{"not_joined", li, 25, 1500, profileToNIO, false},
	}
	var all []community.BrandMembership // nio's listed members, in list order
	excluded := map[string]community.Position{}
	memberIDs := map[string]string{}
	for i, f := range fixture {
		m := create(t, s, f.handle)[0].ID
		memberIDs[f.handle] = m
		// Consent given before joining counts as much as consent given after.
		if f.consent != nil && i%2 == 0 {
			f.consent(m)
		}
		must(t, s.JoinBrand(ctx, m, f.brand, at(f.joined)))
		if f.consent != nil && i%2 == 1 {
			f.consent(m)
		}
		if f.points > 0 {
			_, err := s.RecordPurchase(ctx, cny(community.NewID(), m, f.brand, "order-"+f.handle, int64(f.points)*100, f.joined+1), nil)
			must(t, err)
		}
		if f.listed {
			all = append(all, community.BrandMembership{MemberID: m, BrandID: nio, Points: f.points, Since: at(f.joined)})
		} else {
			excluded[f.handle] = community.Position{Since: at(f.joined), ID: m}
		}
	}
	// A member of both programmes who consents to li only.
	must(t, s.JoinBrand(ctx, memberIDs["other_brand"], li, at(40)))
	sortMembersOrder(all)

	queries := []struct {
		name     string
		min, max int
	}{
		{"all", 0, -1},
		{"below 1000", 0, 1000},
		{"from 1000 below 5000", 1000, 5000},
		{"from 5000", 5000, -1},
		{"from 1", 1, -1},
		{"none that high", 100_000, -1},
		{"empty range", 1000, 1000},
	}
	for _, q := range queries {
		var want []community.BrandMembership
		for _, m := range all {
			if m.Points >= q.min && (q.max == -1 || m.Points < q.max) {
				want = append(want, m)
			}
		}
		t.Run(q.name, func(t *testing.T) {
			for size := 1; size <= len(want)+1; size++ {
				checkMemberPages(t, s, nio, community.MembersQuery{First: size, MinPoints: q.min, MaxPoints: q.max}, want)
			}
			got, err := s.BrandMembers(ctx, nio, community.MembersQuery{First: 0, MinPoints: q.min, MaxPoints: q.max})
			checkRead(t, "first=0", community.MembershipPage{HasNextPage: len(want) > 0}, got, err, equateEmpty)
		})
	}

	t.Run("after a position", func(t *testing.T) {
		// The positions of members who are not listed, such as one who revoked consent
		// since the cursor was issued, and one past the end.
		last := all[len(all)-1]
		positions := map[string]community.Position{
			"past the end": {Since: last.Since, ID: last.MemberID},
		}
		for handle, p := range excluded {
			positions["of "+handle] = p
		}
		for name, p := range positions {
			t.Run(name, func(t *testing.T) {
				var want []community.BrandMembership
				for _, m := range all {
					if p.Precedes(m.Since, m.MemberID) {
						want = append(want, m)
					}
				}
				got, err := s.BrandMembers(ctx, nio, community.MembersQuery{First: 100, After: &p, MaxPoints: -1})
				must(t, err)
				if diff := cmp.Diff(community.MembershipPage{Memberships: want}, got, equateEmpty); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("other brands", func(t *testing.T) {
		cases := []struct {
			name  string
			brand string
			want  []community.BrandMembership
		}{
			{"li", li, []community.BrandMembership{{MemberID: memberIDs["other_brand"], BrandID: li, Since: at(40)}}},
			{"unknown brand", community.NewID(), nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.BrandMembers(ctx, tc.brand, community.MembersQuery{First: 10, MaxPoints: -1})
				must(t, err)
				if diff := cmp.Diff(community.MembershipPage{Memberships: tc.want}, got, equateEmpty); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	})

	counts, err := s.BrandMemberCounts(ctx, []string{nio, li})
	checkRead(t, "BrandMemberCounts counts members whether they consent or not", map[string]int{nio: len(fixture) - 1, li: 2}, counts, err)
}

func testConsent(t *testing.T, s community.Store) {
	ctx := context.Background()
	bs := createBrands(t, s, "nio", "li-auto", "xpeng")
	a, b, c := bs[0].ID, bs[1].ID, bs[2].ID
	ms := create(t, s, "wang_fang", "li_na", "zhang_wei")
	m, o, nobody := ms[0].ID, ms[1].ID, ms[2].ID
	ids := ordered()
	ledgers := map[string][]community.ConsentChange{} // each member's ledger, oldest first
	var unused []string                               // ids handed over for scopes that did not change

	const (
		profile  = community.ScopeProfile
		contact  = community.ScopeContact
		activity = community.ScopeActivity
	)
	steps := []struct {
		name          string
		member, brand string
		scopes        []community.ConsentScope
		granted       bool
		changed       []int // the indexes of the scopes whose state changes
	}{
		{"grant two", m, a, []community.ConsentScope{activity, profile}, true, []int{0, 1}},
		{"grant one more", m, a, []community.ConsentScope{profile, contact}, true, []int{1}},
		{"grant again", m, a, []community.ConsentScope{profile}, true, nil},
		{"revoke what was never granted", m, b, []community.ConsentScope{contact}, false, nil},
		{"grant to another brand", m, b, []community.ConsentScope{contact}, true, []int{0}},
		{"revoke one", m, a, []community.ConsentScope{activity}, false, []int{0}},
		{"grant to a third brand", m, c, []community.ConsentScope{profile, activity}, true, []int{0, 1}},
		{"revoke every scope", m, c, []community.ConsentScope{contact, activity, profile}, false, []int{1, 2}},
		{"another member", o, a, []community.ConsentScope{profile}, true, []int{0}},
		{"grant again, later", m, b, []community.ConsentScope{contact}, true, nil},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			keys := make([]string, len(st.scopes))
			for j := range keys {
				keys[j] = ids()
			}
			got, err := s.ChangeConsent(ctx, st.member, st.brand, slices.Clone(st.scopes), st.granted, at(i+1), slices.Clone(keys))
			must(t, err)
			var want []community.ConsentChange
			for j := range keys {
				if !slices.Contains(st.changed, j) {
					unused = append(unused, keys[j])
					continue
				}
				want = append(want, community.ConsentChange{
					ID: keys[j], MemberID: st.member, BrandID: st.brand, Scope: st.scopes[j], Granted: st.granted, At: at(i + 1),
				})
			}
			ledgers[st.member] = append(ledgers[st.member], want...)
			if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
				t.Errorf("ChangeConsent (-want +got):\n%s", diff)
			}
		})
	}

	consents := map[string][]community.Consent{
		m: {
			{BrandID: a, Scopes: []community.ConsentScope{profile, contact}, UpdatedAt: at(6)},
			{BrandID: b, Scopes: []community.ConsentScope{contact}, UpdatedAt: at(5)},
		},
		o: {{BrandID: a, Scopes: []community.ConsentScope{profile}, UpdatedAt: at(9)}},
	}
	slices.SortFunc(consents[m], func(x, y community.Consent) int { return strings.Compare(x.BrandID, y.BrandID) })
	everyone := []string{m, o, nobody, community.NewID()}
	checkConsents(t, s, everyone, consents)

	t.Run("unknown", func(t *testing.T) {
		cases := []struct {
			name          string
			member, brand string
		}{
			{"unknown member", community.NewID(), a},
			{"unknown brand", m, community.NewID()},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.ChangeConsent(ctx, tc.member, tc.brand, []community.ConsentScope{profile, activity}, true, at(20), []string{ids(), ids()})
				wantCode(t, err, community.CodeNotFound)
			})
		}
		checkConsents(t, s, everyone, consents)
	})

	t.Run("ConsentHistory", func(t *testing.T) {
		history := func(memberID string) []community.ConsentChange {
			h := slices.Clone(ledgers[memberID])
			slices.Reverse(h)
			return h
		}
		want := history(m)
		for size := 1; size <= len(want)+1; size++ {
			t.Run(fmt.Sprintf("first=%d", size), func(t *testing.T) {
				before := ""
				for start := 0; ; start += size {
					end := min(start+size, len(want))
					got, more, err := s.ConsentHistory(ctx, m, size, before)
					must(t, err)
					if diff := cmp.Diff(want[start:end], got, equateEmpty); diff != "" {
						t.Fatalf("page from entry %d (-want +got):\n%s", start, diff)
					}
					if more != (end < len(want)) {
						t.Fatalf("page from entry %d: more = %v, want %v", start, more, end < len(want))
					}
					if end == len(want) {
						break
					}
					before = want[end-1].ID
				}
			})
		}
		// before need not be the id of an entry: ids that were handed over for scopes that
		// did not change were never stored, and the id past every other.
		befores := append(slices.Clone(unused), "ffffffff-ffff-ffff-ffff-ffffffffffff")
		for _, before := range befores {
			var below []community.ConsentChange
			for _, c := range want {
				if c.ID < before {
					below = append(below, c)
				}
			}
			got, more, err := s.ConsentHistory(ctx, m, 100, before)
			must(t, err)
			if diff := cmp.Diff(below, got, equateEmpty); diff != "" || more {
				t.Errorf("before %s: more = %v (-want +got):\n%s", before, more, diff)
			}
		}
		cases := []struct {
			name   string
			member string
			want   []community.ConsentChange
		}{
			{"another member", o, history(o)},
			{"a member without consents", nobody, nil},
			{"unknown member", community.NewID(), nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, more, err := s.ConsentHistory(ctx, tc.member, 10, "")
				must(t, err)
				if diff := cmp.Diff(tc.want, got, equateEmpty); diff != "" || more {
					t.Errorf("more = %v (-want +got):\n%s", more, diff)
				}
			})
		}
	})
}

func testPurchases(t *testing.T, s community.Store) {
	ctx := context.Background()
	bs := createBrands(t, s, "nio", "li-auto")
	nio, li := bs[0].ID, bs[1].ID
	ms := create(t, s, "wang_fang", "li_na", "zhang_wei")
	wang, lina, zhang := ms[0].ID, ms[1].ID, ms[2].ID
	everyone := []string{wang, lina, zhang, community.NewID()}
	ids := ordered()
	must(t, s.JoinBrand(ctx, wang, nio, at(0)))
	must(t, s.JoinBrand(ctx, lina, li, at(0)))
	record := func(t *testing.T, p community.Purchase) community.Purchase {
		t.Helper()
		got, err := s.RecordPurchase(ctx, p, nil)
		must(t, err)
		return got
	}

	p1 := cny(ids(), wang, nio, "order-1001", 1288_00, 10)
	if diff := cmp.Diff(p1, record(t, p1)); diff != "" {
		t.Errorf("RecordPurchase (-want +got):\n%s", diff)
	}
	wantPoints(t, s, wang, nio, 1288)

	t.Run("same purchase again", func(t *testing.T) {
		retry := p1
		retry.ID, retry.RecordedAt = ids(), at(30)
		inZone := retry
		inZone.ID, inZone.At = ids(), p1.At.In(time.FixedZone("CST", 8*60*60))
		cases := []struct {
			name string
			p    community.Purchase
		}{
			{"identical", p1},
			{"with a new id and time of recording", retry},
			{"at the same instant in another zone", inZone},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before, _ := points(t, s, wang, nio)
				if diff := cmp.Diff(p1, record(t, tc.p)); diff != "" {
					t.Errorf("RecordPurchase again returns the stored purchase (-want +got):\n%s", diff)
				}
				wantPoints(t, s, wang, nio, before)
			})
		}
		wantPoints(t, s, wang, nio, 1288)
		checkPurchases(t, s, "", everyone, map[string][]community.Purchase{wang: {p1}})
	})

	t.Run("different purchase, same external id", func(t *testing.T) {
		cases := []struct {
			name   string
			change func(p *community.Purchase)
		}{
			// One fen more earns the same points, yet it is another purchase.
			{"amount", func(p *community.Purchase) { p.Amount++ }},
			{"member", func(p *community.Purchase) { p.MemberID = lina }},
			{"currency", func(p *community.Purchase) { p.Currency = "HKD" }},
			{"time", func(p *community.Purchase) { p.At = at(11) }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before, _ := points(t, s, wang, nio)
				p := p1
				p.ID, p.RecordedAt = ids(), at(30)
				tc.change(&p)
				_, err := s.RecordPurchase(ctx, p, nil)
				wantCode(t, err, community.CodeConflict)
				wantPoints(t, s, wang, nio, before)
			})
			// A client that retries with its own id for the purchase.
			t.Run(tc.name+", same id", func(t *testing.T) {
				before, _ := points(t, s, wang, nio)
				p := p1
				tc.change(&p)
				_, err := s.RecordPurchase(ctx, p, nil)
				wantCode(t, err, community.CodeConflict)
				wantPoints(t, s, wang, nio, before)
			})
		}
		checkPurchases(t, s, "", everyone, map[string][]community.Purchase{wang: {p1}})
		wantPoints(t, s, wang, nio, 1288)
	})

	// The same external id at another brand is another purchase; wang is no member of li.
	p2 := cny(ids(), wang, li, "order-1001", 50_00, 12)
	if diff := cmp.Diff(p2, record(t, p2)); diff != "" {
		t.Errorf("RecordPurchase at another brand (-want +got):\n%s", diff)
	}
	p3 := cny(ids(), lina, li, "li-77", 999_99, 14)
	record(t, p3)
	// The largest amount there is; external ids are compared exactly, case and all.
	p8 := cny(ids(), lina, li, "订单 №77/β", community.MaxPurchaseAmount, 13)
	record(t, p8)
	p9 := cny(ids(), lina, li, "LI-77", 1_00, 3)
	record(t, p9)
	// Less than a yuan earns nothing; the same time as p1 puts the greater id first.
	p4 := cny(ids(), wang, nio, "order-1002", 99, 10)
	record(t, p4)
	// Recorded last, bought first.
	p5 := cny(ids(), wang, nio, "order-0999", 300_00, 5)
	record(t, p5)
	// zhang buys before joining: nothing is credited, then or when joining.
	p6 := cny(ids(), zhang, nio, "order-2001", 2000_00, 15)
	record(t, p6)
	checkMemberships(t, s, everyone, map[string][]community.BrandMembership{
		wang: {{MemberID: wang, BrandID: nio, Points: 1588, Since: at(0)}},
		lina: {{MemberID: lina, BrandID: li, Points: 999 + community.MaxPurchaseAmount/100 + 1, Since: at(0)}},
	})
	must(t, s.JoinBrand(ctx, zhang, nio, at(16)))
	wantPoints(t, s, zhang, nio, 0)

	t.Run("unknown", func(t *testing.T) {
		unknownMember := cny(ids(), community.NewID(), nio, "order-3001", 100_00, 20)
		unknownBrand := cny(ids(), wang, community.NewID(), "order-3002", 100_00, 20)
		for _, tc := range []struct {
			name string
			p    community.Purchase
		}{{"unknown member", unknownMember}, {"unknown brand", unknownBrand}} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.RecordPurchase(ctx, tc.p, nil)
				wantCode(t, err, community.CodeNotFound)
			})
		}
		checkPurchases(t, s, unknownBrand.BrandID, []string{wang}, map[string][]community.Purchase{})
		checkPurchases(t, s, "", []string{wang, unknownMember.MemberID}, map[string][]community.Purchase{wang: {p2, p4, p1, p5}})
		wantPoints(t, s, wang, nio, 1588)
	})
	// Nothing of the purchase refused for its unknown member was kept: its external id is
	// free for wang.
	p7 := cny(ids(), wang, nio, "order-3001", 100_00, 20)
	if diff := cmp.Diff(p7, record(t, p7)); diff != "" {
		t.Errorf("RecordPurchase of a refused external id (-want +got):\n%s", diff)
	}
	wantPoints(t, s, wang, nio, 1688)

	t.Run("PurchasesOf", func(t *testing.T) {
		cases := []struct {
			name  string
			brand string
			want  map[string][]community.Purchase
		}{
			{"nio", nio, map[string][]community.Purchase{wang: {p7, p4, p1, p5}, zhang: {p6}}},
			{"li", li, map[string][]community.Purchase{wang: {p2}, lina: {p3, p8, p9}}},
			{"every brand", "", map[string][]community.Purchase{wang: {p7, p2, p4, p1, p5}, lina: {p3, p8, p9}, zhang: {p6}}},
			{"unknown brand", community.NewID(), map[string][]community.Purchase{}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { checkPurchases(t, s, tc.brand, everyone, tc.want) })
		}
	})
}

// testPointsLimit checks that no purchase takes a member's points in a brand above
// community.MaxPoints, alone or among concurrent ones, and that a purchase refused for it
// leaves nothing behind.
func testPointsLimit(t *testing.T, s community.Store) {
	ctx := context.Background()
	nio := createBrands(t, s, "nio")[0].ID
	wang := create(t, s, "wang_fang")[0].ID
	must(t, s.JoinBrand(ctx, wang, nio, at(0)))
	ids := ordered()
	record := func(t *testing.T, p community.Purchase) community.Purchase {
		t.Helper()
		got, err := s.RecordPurchase(ctx, p, nil)
		must(t, err)
		return got
	}
	// purchases returns how many purchases wang has at nio.
	purchases := func(t *testing.T) int {
		t.Helper()
		got, err := s.PurchasesOf(ctx, nio, []string{wang})
		must(t, err)
		return len(got[wang])
	}

	// Purchases of the largest amount, one short of the limit.
	largest := community.MaxPurchaseAmount / 100
	var big []community.Purchase
	for i := range community.MaxPoints/largest - 1 {
		big = append(big, record(t, cny(ids(), wang, nio, fmt.Sprintf("big-%d", i), community.MaxPurchaseAmount, 1)))
	}
	left := community.MaxPoints - len(big)*largest
	wantPoints(t, s, wang, nio, community.MaxPoints-left)

	t.Run("one point too many", func(t *testing.T) {
		_, err := s.RecordPurchase(ctx, cny(ids(), wang, nio, "over-1", int64(left+1)*100, 2), nil)
		wantCode(t, err, community.CodeConflict)
		wantPoints(t, s, wang, nio, community.MaxPoints-left)
		if n := purchases(t); n != len(big) {
			t.Errorf("wang has %d purchases after a refused one, want %d", n, len(big))
		}
	})

	t.Run("concurrent purchases up to the limit", func(t *testing.T) {
		const n, fit = 8, 4
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, err := s.RecordPurchase(ctx, cny(community.NewID(), wang, nio, fmt.Sprintf("quarter-%d", i), int64(left/fit)*100, 3), nil)
				errs <- err
			}()
		}
		codes := map[community.Code]int{}
		for range n {
			codes[community.ErrorCode(<-errs)]++
		}
		if diff := cmp.Diff(map[community.Code]int{"": fit, community.CodeConflict: n - fit}, codes); diff != "" {
			t.Errorf("error codes of %d concurrent purchases of a quarter of what is left (-want +got):\n%s", n, diff)
		}
		wantPoints(t, s, wang, nio, community.MaxPoints)
		if got := purchases(t); got != len(big)+fit {
			t.Errorf("wang has %d purchases, want %d", got, len(big)+fit)
		}
	})

	t.Run("at the limit", func(t *testing.T) {
		// The same purchase again credits nothing: it is returned, not refused.
		if diff := cmp.Diff(big[0], record(t, big[0])); diff != "" {
			t.Errorf("RecordPurchase again at the limit (-want +got):\n%s", diff)
		}
		// Less than a unit earns no point.
		record(t, cny(ids(), wang, nio, "small-1", 99, 4))
		_, err := s.RecordPurchase(ctx, cny(ids(), wang, nio, "over-2", 1_00, 4), nil)
		wantCode(t, err, community.CodeConflict)
		wantPoints(t, s, wang, nio, community.MaxPoints)
	})

	t.Run("after a refund", func(t *testing.T) {
		_, err := s.RefundPurchase(ctx, nio, big[0].ID, at(5))
		must(t, err)
		// Nothing of the refused purchase was kept: its external id is free.
		record(t, cny(ids(), wang, nio, "over-1", community.MaxPurchaseAmount, 6))
		wantPoints(t, s, wang, nio, community.MaxPoints)
	})
}

func testRefunds(t *testing.T, s community.Store) {
	ctx := context.Background()
	bs := createBrands(t, s, "nio", "li-auto")
	nio, li := bs[0].ID, bs[1].ID
	ms := create(t, s, "wang_fang", "li_na", "zhang_wei")
	wang, lina, zhang := ms[0].ID, ms[1].ID, ms[2].ID
	everyone := []string{wang, lina, zhang}
	ids := ordered()
	record := func(p community.Purchase) {
		t.Helper()
		_, err := s.RecordPurchase(ctx, p, nil)
		must(t, err)
	}
	refund := func(t *testing.T, brandID, purchaseID string, n int) community.Purchase {
		t.Helper()
		got, err := s.RefundPurchase(ctx, brandID, purchaseID, at(n))
		must(t, err)
		return got
	}
	refunded := func(p community.Purchase, n int) community.Purchase {
		p.RefundedAt = at(n)
		return p
	}

	must(t, s.JoinBrand(ctx, wang, nio, at(0)))
	p1 := cny(ids(), wang, nio, "order-1", 1000_00, 1)
	p2 := cny(ids(), wang, nio, "order-2", 200_00, 2)
	record(p1)
	record(p2)
	wantPoints(t, s, wang, nio, 1200)

	p1 = refunded(p1, 10)
	if diff := cmp.Diff(p1, refund(t, nio, p1.ID, 10)); diff != "" {
		t.Errorf("RefundPurchase (-want +got):\n%s", diff)
	}
	wantPoints(t, s, wang, nio, 200)

	t.Run("again", func(t *testing.T) {
		if diff := cmp.Diff(p1, refund(t, nio, p1.ID, 11)); diff != "" {
			t.Errorf("RefundPurchase again (-want +got):\n%s", diff)
		}
		wantPoints(t, s, wang, nio, 200)
		// Recording a refunded purchase again returns it as it is, and credits nothing.
		identical := cny(p1.ID, wang, nio, "order-1", 1000_00, 1)
		retry := cny(ids(), wang, nio, "order-1", 1000_00, 1)
		retry.RecordedAt = at(12)
		for _, p := range []community.Purchase{identical, retry} {
			got, err := s.RecordPurchase(ctx, p, nil)
			checkRead(t, "RecordPurchase of a refunded purchase", p1, got, err)
			wantPoints(t, s, wang, nio, 200)
		}
		checkPurchases(t, s, nio, []string{wang}, map[string][]community.Purchase{wang: {p2, p1}})
	})

	t.Run("no such purchase of the brand", func(t *testing.T) {
		cases := []struct {
			name              string
			brand, purchaseID string
		}{
			{"another brand's purchase", li, p2.ID},
			{"unknown purchase", nio, community.NewID()},
			{"unknown brand", community.NewID(), p2.ID},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.RefundPurchase(ctx, tc.brand, tc.purchaseID, at(13))
				wantCode(t, err, community.CodeNotFound)
			})
		}
		checkPurchases(t, s, "", []string{wang}, map[string][]community.Purchase{wang: {p2, p1}})
		wantPoints(t, s, wang, nio, 200)
	})

	// A refund takes back no more than recording credited, so points never fall below 0
	// by refunds alone: there is no case of that rule left to test.
	t.Run("recorded before joining", func(t *testing.T) {
		// zhang's first purchase is from before he joined, so recording it credited
		// nothing, and refunding it takes nothing back.
		p3 := cny(ids(), zhang, nio, "order-3", 5000_00, 3)
		record(p3)
		must(t, s.JoinBrand(ctx, zhang, nio, at(5)))
		// Recording it again once he is a member stores nothing and credits nothing.
		record(p3)
		wantPoints(t, s, zhang, nio, 0)
		p4 := cny(ids(), zhang, nio, "order-4", 50_00, 5)
		record(p4)
		wantPoints(t, s, zhang, nio, 50)
		if diff := cmp.Diff(refunded(p3, 14), refund(t, nio, p3.ID, 14)); diff != "" {
			t.Errorf("RefundPurchase (-want +got):\n%s", diff)
		}
		wantPoints(t, s, zhang, nio, 50)
		if diff := cmp.Diff(refunded(p4, 15), refund(t, nio, p4.ID, 15)); diff != "" {
			t.Errorf("RefundPurchase (-want +got):\n%s", diff)
		}
		wantPoints(t, s, zhang, nio, 0)
	})

	t.Run("bought before joining, recorded after", func(t *testing.T) {
		// What counts is the membership when the purchase was recorded, not when it was
		// made: this one credited its points, and its refund takes them back.
		p6 := cny(ids(), wang, li, "order-6", 300_00, 20)
		p6.RecordedAt = at(22)
		must(t, s.JoinBrand(ctx, wang, li, at(21)))
		record(p6)
		wantPoints(t, s, wang, li, 300)
		if diff := cmp.Diff(refunded(p6, 23), refund(t, li, p6.ID, 23)); diff != "" {
			t.Errorf("RefundPurchase (-want +got):\n%s", diff)
		}
		wantPoints(t, s, wang, li, 0)
		wantPoints(t, s, wang, nio, 200)
	})

	t.Run("not a member", func(t *testing.T) {
		p5 := cny(ids(), lina, li, "order-5", 80_00, 6)
		record(p5)
		if diff := cmp.Diff(refunded(p5, 15), refund(t, li, p5.ID, 15)); diff != "" {
			t.Errorf("RefundPurchase (-want +got):\n%s", diff)
		}
		if _, ok := points(t, s, lina, li); ok {
			t.Error("refunding the purchase of a non-member made it a member")
		}
	})

	got, err := s.PurchasesOf(ctx, "", everyone)
	must(t, err)
	refundedAt := map[string]bool{}
	for _, ps := range got {
		for _, p := range ps {
			refundedAt[p.ExternalID] = p.Refunded()
		}
	}
	wantRefunded := map[string]bool{"order-1": true, "order-2": false, "order-3": true, "order-4": true, "order-5": true, "order-6": true}
	if diff := cmp.Diff(wantRefunded, refundedAt); diff != "" {
		t.Errorf("refunded purchases are listed with their refund (-want +got):\n%s", diff)
	}
}

// testConcurrentBrandWrites checks that brand writes that read before they write see each
// other's effects when they run at the same time.
func testConcurrentBrandWrites(t *testing.T, s community.Store) {
	ctx := context.Background()
	const n = 8
	bs := createBrands(t, s, "nio", "li-auto")
	nio, li := bs[0].ID, bs[1].ID
	m := create(t, s, "wang_fang")[0].ID
	ids := ordered()
	// all runs f n times at once and returns what each returned, in no particular order.
	all := func(f func(i int) error) []error {
		errs := make(chan error, n)
		for i := range n {
			go func() { errs <- f(i) }()
		}
		out := make([]error, n)
		for i := range out {
			out[i] = <-errs
		}
		return out
	}
	codes := func(errs []error) map[community.Code]int {
		out := map[community.Code]int{}
		for _, err := range errs {
			out[community.ErrorCode(err)]++
		}
		return out
	}

	t.Run("join once", func(t *testing.T) {
		errs := all(func(i int) error { return s.JoinBrand(ctx, m, nio, at(i)) })
		if diff := cmp.Diff(map[community.Code]int{"": n}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent joins (-want +got):\n%s (%v)", diff, errs)
		}
		got, err := s.MembershipsOf(ctx, []string{m})
		must(t, err)
		if len(got[m]) != 1 || got[m][0].BrandID != nio || got[m][0].Since.Before(at(0)) || got[m][0].Since.After(at(n-1)) {
			t.Errorf("%d concurrent joins left memberships %+v, want one at nio", n, got[m])
		}
		counts, err := s.BrandMemberCounts(ctx, []string{nio})
		must(t, err)
		if counts[nio] != 1 {
			t.Errorf("nio has %d members, want 1", counts[nio])
		}
	})

	// joined returns a new member of nio's programme, for one subtest.
	joined := func(t *testing.T, handle string) string {
		t.Helper()
		id := create(t, s, handle)[0].ID
		must(t, s.JoinBrand(ctx, id, nio, at(0)))
		return id
	}

	t.Run("record one purchase", func(t *testing.T) {
		m := joined(t, "buyer_1")
		p := cny(ids(), m, nio, "once-1", 888_00, 10)
		got := make(chan community.Purchase, n)
		errs := all(func(int) error {
			rec, err := s.RecordPurchase(ctx, p, nil)
			got <- rec
			return err
		})
		if diff := cmp.Diff(map[community.Code]int{"": n}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent records (-want +got):\n%s (%v)", diff, errs)
		}
		for range n {
			if diff := cmp.Diff(p, <-got); diff != "" {
				t.Errorf("RecordPurchase (-want +got):\n%s", diff)
			}
		}
		checkPurchases(t, s, nio, []string{m}, map[string][]community.Purchase{m: {p}})
		wantPoints(t, s, m, nio, 888)
	})

	t.Run("record one purchase retried with new ids", func(t *testing.T) {
		m := joined(t, "buyer_2")
		purchaseIDs := make([]string, n)
		for i := range purchaseIDs {
			purchaseIDs[i] = ids()
		}
		got := make(chan community.Purchase, n)
		errs := all(func(i int) error {
			p := cny(purchaseIDs[i], m, nio, "retried-1", 111_00, 10)
			p.RecordedAt = at(20 + i)
			rec, err := s.RecordPurchase(ctx, p, nil)
			got <- rec
			return err
		})
		if diff := cmp.Diff(map[community.Code]int{"": n}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent records (-want +got):\n%s (%v)", diff, errs)
		}
		stored := <-got
		if !slices.Contains(purchaseIDs, stored.ID) {
			t.Fatalf("RecordPurchase returned %+v, none of the purchases given", stored)
		}
		for range n - 1 {
			if diff := cmp.Diff(stored, <-got); diff != "" {
				t.Errorf("concurrent records returned different purchases (-one +another):\n%s", diff)
			}
		}
		checkPurchases(t, s, nio, []string{m}, map[string][]community.Purchase{m: {stored}})
		wantPoints(t, s, m, nio, 111)
	})

	t.Run("credit every purchase", func(t *testing.T) {
		m := joined(t, "buyer_3")
		errs := all(func(i int) error {
			_, err := s.RecordPurchase(ctx, cny(community.NewID(), m, nio, fmt.Sprintf("credited-%d", i), int64(i+1)*100_00, 11), nil)
			return err
		})
		if diff := cmp.Diff(map[community.Code]int{"": n}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent records (-want +got):\n%s (%v)", diff, errs)
		}
		wantPoints(t, s, m, nio, 100*n*(n+1)/2)
	})

	t.Run("refund once", func(t *testing.T) {
		m := joined(t, "buyer_4")
		p := cny(ids(), m, nio, "refunded-1", 1000_00, 10)
		for _, q := range []community.Purchase{p, cny(ids(), m, nio, "refunded-2", 200_00, 11)} {
			_, err := s.RecordPurchase(ctx, q, nil)
			must(t, err)
		}
		got := make(chan community.Purchase, n)
		errs := all(func(i int) error {
			r, err := s.RefundPurchase(ctx, nio, p.ID, at(40+i))
			got <- r
			return err
		})
		if diff := cmp.Diff(map[community.Code]int{"": n}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent refunds (-want +got):\n%s (%v)", diff, errs)
		}
		first := <-got
		if first.RefundedAt.Before(at(40)) || first.RefundedAt.After(at(40+n-1)) {
			t.Fatalf("RefundPurchase returned %+v, not refunded at one of the times given", first)
		}
		p.RefundedAt = first.RefundedAt
		if diff := cmp.Diff(p, first); diff != "" {
			t.Errorf("RefundPurchase (-want +got):\n%s", diff)
		}
		for range n - 1 {
			if diff := cmp.Diff(first, <-got); diff != "" {
				t.Errorf("concurrent refunds returned different purchases (-one +another):\n%s", diff)
			}
		}
		wantPoints(t, s, m, nio, 200)
	})

	t.Run("grant once", func(t *testing.T) {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = ids()
		}
		appended := make(chan []community.ConsentChange, n)
		errs := all(func(i int) error {
			changes, err := s.ChangeConsent(ctx, m, nio, []community.ConsentScope{community.ScopeProfile}, true, at(i), []string{keys[i]})
			appended <- changes
			return err
		})
		if diff := cmp.Diff(map[community.Code]int{"": n}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent grants (-want +got):\n%s (%v)", diff, errs)
		}
		var changes []community.ConsentChange
		for range n {
			changes = append(changes, <-appended...)
		}
		if len(changes) != 1 {
			t.Fatalf("%d concurrent grants of one scope appended %+v, want one change", n, changes)
		}
		history, more, err := s.ConsentHistory(ctx, m, 10, "")
		must(t, err)
		if diff := cmp.Diff(changes, history); diff != "" || more {
			t.Errorf("ConsentHistory after concurrent grants: more = %v (-want +got):\n%s", more, diff)
		}
	})

	t.Run("grant every scope", func(t *testing.T) {
		o := create(t, s, "li_na")[0].ID
		keys := make([]string, n)
		for i := range keys {
			keys[i] = ids()
		}
		appended := make(chan []community.ConsentChange, n)
		errs := all(func(i int) error {
			scope := community.ConsentScopes[i%len(community.ConsentScopes)]
			changes, err := s.ChangeConsent(ctx, o, li, []community.ConsentScope{scope}, true, at(10), []string{keys[i]})
			appended <- changes
			return err
		})
		if diff := cmp.Diff(map[community.Code]int{"": n}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent grants (-want +got):\n%s (%v)", diff, errs)
		}
		var changes []community.ConsentChange
		for range n {
			changes = append(changes, <-appended...)
		}
		if len(changes) != len(community.ConsentScopes) {
			t.Errorf("concurrent grants of %d scopes appended %d changes: %+v", len(community.ConsentScopes), len(changes), changes)
		}
		checkConsents(t, s, []string{o}, map[string][]community.Consent{o: {{BrandID: li, Scopes: community.ConsentScopes, UpdatedAt: at(10)}}})
	})

	t.Run("record one of different purchases with one external id", func(t *testing.T) {
		o := create(t, s, "zhang_wei")[0].ID
		must(t, s.JoinBrand(ctx, o, li, at(0)))
		errs := all(func(i int) error {
			_, err := s.RecordPurchase(ctx, cny(community.NewID(), o, li, "order-9", int64(i+1)*100_00, 10), nil)
			return err
		})
		if diff := cmp.Diff(map[community.Code]int{"": 1, community.CodeConflict: n - 1}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent records (-want +got):\n%s (%v)", diff, errs)
		}
		got, err := s.PurchasesOf(ctx, li, []string{o})
		must(t, err)
		if len(got[o]) != 1 {
			t.Fatalf("%d concurrent records of one external id stored %+v, want one purchase", n, got[o])
		}
		wantPoints(t, s, o, li, got[o][0].Points())
	})

	var partnership community.Partnership
	t.Run("invite once", func(t *testing.T) {
		invited := make(chan community.Partnership, n)
		errs := all(func(i int) error {
			p := community.Partnership{InviterID: nio, InviteeID: li, Status: community.PartnershipPending, InvitedAt: at(i)}
			if i%2 == 1 {
				p.InviterID, p.InviteeID = li, nio
			}
			err := s.InvitePartner(ctx, p)
			if err == nil {
				invited <- p
			}
			return err
		})
		if diff := cmp.Diff(map[community.Code]int{"": 1, community.CodeConflict: n - 1}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent invitations (-want +got):\n%s (%v)", diff, errs)
		}
		partnership = <-invited
		checkPartnerships(t, s, []string{nio, li}, map[string][]community.Partnership{nio: {partnership}, li: {partnership}})
	})

	t.Run("accept once", func(t *testing.T) {
		if partnership.InviterID == "" {
			t.Fatal("no invitation to accept")
		}
		errs := all(func(i int) error {
			return s.AcceptPartnership(ctx, partnership.InviterID, partnership.InviteeID, at(50+i))
		})
		if diff := cmp.Diff(map[community.Code]int{"": 1, community.CodeNotFound: n - 1}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent accepts (-want +got):\n%s (%v)", diff, errs)
		}
		got, err := s.PartnershipsOf(ctx, []string{nio})
		must(t, err)
		if len(got[nio]) != 1 || got[nio][0].Status != community.PartnershipActive {
			t.Errorf("after concurrent accepts: %+v, want one active partnership", got[nio])
		}
	})
}
