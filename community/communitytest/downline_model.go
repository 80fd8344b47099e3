package communitytest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"quanzi/community"
)

// ModelMembers is how many members the model test's forest has.
const ModelMembers = 2000

// testDownlineModel builds a random referral forest of ModelMembers members through the
// service, redeeming its referrals in a random order (so that many members redeem a code
// when they have a downline already), with refused redemptions among them and purchases
// recorded and refunded, and checks every chain, every page of every level, every
// member's figures, and the paths from each member to members of its upline and back and
// to a random member, against a model kept here.
func testDownlineModel(t *testing.T, s community.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(12, 2026))
	now := at(100)
	svc := community.New(s, community.Config{Now: func() time.Time { now = now.Add(time.Second); return now }}).Referrals
	as := func(id string) context.Context { return community.WithActor(ctx, community.Actor{MemberID: id}) }
	admin := community.WithActor(ctx, community.Actor{MemberID: community.NewID(), Roles: []community.Role{community.RoleAdmin}})

	ids := make([]string, ModelMembers)
	batch := make([]community.ImportedMember, ModelMembers)
	for i := range ids {
		m := newMember(fmt.Sprintf("model_%04d", i))
		ids[i] = m.ID
		batch[i] = community.ImportedMember{Member: m, Identities: []community.Identity{wechat("openid-model-" + m.ID)}}
	}
	must(t, s.ImportMembers(ctx, batch))
	c := liveCampaign(t, s, "模型")

	// The forest: in a random order of the members, each of most members is referred by
	// one before it, often one just before it, so that chains grow deep.
	order := rng.Perm(ModelMembers)
	type edge struct{ member, referrer string }
	var edges []edge
	for k := 1; k < ModelMembers; k++ {
		if rng.IntN(10) == 0 {
			continue // a root
		}
		j := rng.IntN(k)
		if rng.IntN(2) == 0 {
			j = k - 1 - rng.IntN(min(k, 3))
		}
		edges = append(edges, edge{ids[order[k]], ids[order[j]]})
	}
	rng.Shuffle(len(edges), func(a, b int) { edges[a], edges[b] = edges[b], edges[a] })

	referrer := map[string]string{}
	codes := map[string]string{}
	code := func(id string) string {
		if codes[id] == "" {
			inv, err := svc.CreateInvite(as(id), community.CreateInviteInput{CampaignID: c.ID, Channel: community.ShareWeChat})
			must(t, err)
			codes[id] = inv.Code
		}
		return codes[id]
	}
	// upline reports whether up is in id's upline, as the model has it.
	inUpline := func(up, id string) bool {
		for x := referrer[id]; x != ""; x = referrer[x] {
			if x == up {
				return true
			}
		}
		return false
	}
	redeemedAfterDownline := 0
	for n, e := range edges {
		for _, r := range referrer {
			if r == e.member {
				redeemedAfterDownline++
				break
			}
		}
		if _, err := svc.RedeemInvite(as(e.member), code(e.referrer)); err != nil {
			t.Fatalf("redemption %d: %v", n, err)
		}
		referrer[e.member] = e.referrer
		// Now and then a redemption the rule refuses: a referred member again, and a root
		// redeeming a code of its own downline.
		if n%97 == 0 {
			_, err := svc.RedeemInvite(as(e.member), code(ids[order[0]]))
			wantCode(t, err, community.CodeConflict)
			top := e.referrer
			for referrer[top] != "" {
				top = referrer[top]
			}
			_, err = svc.RedeemInvite(as(top), code(e.member))
			wantCode(t, err, community.CodeConflict)
			if !inUpline(top, e.member) {
				t.Fatalf("the model's root %s is not in the upline of %s", top, e.member)
			}
		}
	}
	if redeemedAfterDownline < ModelMembers/10 {
		t.Fatalf("only %d members redeemed with a downline of their own", redeemedAfterDownline)
	}

	// Purchases: about one member in eight buys; some buy twice; some refund.
	b := createBrands(t, s, "model-brand")[0]
	bought := map[string]bool{}
	for i, id := range ids {
		if rng.IntN(8) != 0 {
			continue
		}
		n := 1 + rng.IntN(2)
		var ps []community.Purchase
		for k := range n {
			p, err := s.RecordPurchase(ctx, cny(community.NewID(), id, b.ID, fmt.Sprintf("model-%d-%d", i, k), 10_00, 200+k), nil)
			must(t, err)
			ps = append(ps, p)
		}
		live := n
		for _, p := range ps {
			if rng.IntN(3) == 0 {
				_, err := s.RefundPurchase(ctx, b.ID, p.ID, at(300))
				must(t, err)
				live--
			}
		}
		bought[id] = live > 0
	}

	t.Run("figures", func(t *testing.T) {
		got, errs := svc.ReferralStats(admin, ids)
		for i, id := range ids {
			if errs != nil && errs[i] != nil {
				t.Fatalf("figures of %s: %v", id, errs[i])
			}
			if diff := cmp.Diff(ExpectedStats(referrer, bought, id), got[i]); diff != "" {
				t.Errorf("figures of %s (-want +got):\n%s", id, diff)
			}
		}
	})

	t.Run("chains", func(t *testing.T) {
		keys := make([]community.ChainKey, len(ids))
		for i, id := range ids {
			keys[i] = community.ChainKey{MemberID: id, MaxDepth: community.MaxChainDepth}
		}
		got, errs := svc.ReferralChains(admin, keys)
		for i, id := range ids {
			if errs != nil && errs[i] != nil {
				t.Fatalf("chain of %s: %v", id, errs[i])
			}
			var want []community.ChainLink
			for up, d := referrer[id], 1; up != "" && d <= community.MaxChainDepth; up, d = referrer[up], d+1 {
				want = append(want, community.ChainLink{MemberID: up, Depth: d})
			}
			if diff := cmp.Diff(want, got[i], cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("chain of %s (-want +got):\n%s", id, diff)
			}
		}
	})

	t.Run("paths", func(t *testing.T) {
		// The model's path from one member to another: up from's upline to to, or down
		// to's upline read backwards; nil when neither is in the other's upline.
		up := func(lower, upper string) []string {
			path := []string{lower}
			for x := referrer[lower]; x != ""; x = referrer[x] {
				path = append(path, x)
				if x == upper {
					return path
				}
			}
			return nil
		}
		want := func(from, to string) *community.ReferralPath {
			dir, path := community.PathUp, up(from, to)
			if path == nil {
				dir, path = community.PathDown, up(to, from)
				slices.Reverse(path)
			}
			if path == nil {
				return nil
			}
			p := &community.ReferralPath{Direction: dir}
			for i, id := range path {
				p.Links = append(p.Links, community.ChainLink{MemberID: id, Depth: i})
			}
			return p
		}
		// Of each member: the path to a random member of its upline; of every other one, the
		// path to its root and back, and to a random member, which is most often no path.
		checked := map[[2]string]bool{}
		check := func(from, to string) {
			if from == to || checked[[2]string{from, to}] {
				return
			}
			checked[[2]string{from, to}] = true
			got, err := svc.ReferralPath(admin, from, to)
			if err != nil {
				t.Fatalf("path from %s to %s: %v", from, to, err)
			}
			if diff := cmp.Diff(want(from, to), got); diff != "" {
				t.Errorf("path from %s to %s (-want +got):\n%s", from, to, diff)
			}
		}
		found := 0
		for i, id := range ids {
			var upline []string
			for x := referrer[id]; x != ""; x = referrer[x] {
				upline = append(upline, x)
			}
			if len(upline) > 0 {
				check(id, upline[rng.IntN(len(upline))])
				found++
			}
			if i%2 == 1 {
				continue
			}
			if len(upline) > 0 {
				check(id, upline[len(upline)-1])
				check(upline[len(upline)-1], id)
			}
			check(id, ids[rng.IntN(len(ids))])
		}
		if found < ModelMembers/2 {
			t.Fatalf("only %d members have an upline to walk", found)
		}
	})

	t.Run("levels", func(t *testing.T) {
		// The model's levels: each member's referral time is read back (the service's clock
		// made them), and each level is ordered newest first, then by id.
		refs, err := s.ReferralsOf(ctx, ids)
		must(t, err)
		levels := map[string][community.DownlineLevels][]community.DownlineEdge{}
		for x := range referrer {
			up := x
			for d := 1; d <= community.DownlineLevels; d++ {
				up = referrer[up]
				if up == "" {
					break
				}
				l := levels[up]
				l[d-1] = append(l[d-1], community.DownlineEdge{MemberID: x, At: refs[x].At})
				levels[up] = l
			}
		}
		for _, l := range levels {
			for _, edges := range l {
				slices.SortFunc(edges, func(a, b community.DownlineEdge) int {
					if c := b.At.Compare(a.At); c != 0 {
						return c
					}
					return strings.Compare(a.MemberID, b.MemberID)
				})
			}
		}
		const size = 7
		for level := 1; level <= community.DownlineLevels; level++ {
			// Every member's level, a page at a time, all members' pages in one batch.
			got := map[string][]community.DownlineEdge{}
			keys := make([]community.DownlineKey, len(ids))
			for i, id := range ids {
				keys[i] = community.DownlineKey{MemberID: id, Level: level, First: size}
			}
			for pages := 0; len(keys) > 0; pages++ {
				if pages > ModelMembers/size+1 {
					t.Fatalf("level %d never ends", level)
				}
				lists, errs := svc.Downlines(admin, keys)
				var next []community.DownlineKey
				for i, k := range keys {
					if errs != nil && errs[i] != nil {
						t.Fatalf("level %d of %s: %v", level, k.MemberID, errs[i])
					}
					l := lists[i]
					if want := len(levels[k.MemberID][level-1]); l.TotalCount != want {
						t.Errorf("level %d of %s counts %d, want %d", level, k.MemberID, l.TotalCount, want)
					}
					edges := l.ListedEdges()
					for _, e := range edges {
						got[k.MemberID] = append(got[k.MemberID], e.DownlineEdge)
					}
					if l.HasNextPage {
						next = append(next, community.DownlineKey{MemberID: k.MemberID, Level: level, First: size, After: edges[len(edges)-1].Cursor()})
					}
				}
				keys = next
			}
			for _, id := range ids {
				if diff := cmp.Diff(levels[id][level-1], got[id], cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("level %d of %s (-want +got):\n%s", level, id, diff)
				}
			}
		}
	})
}
