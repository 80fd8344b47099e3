package resolvers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"quanzi/community"
	"quanzi/community/jwtauth"
	"quanzi/resolvers"
)

// The ranking benchmarks run on a generated referral forest, on the embedded store and,
// when NEO4J_URI is set, on Neo4j. The forest is small (2,000 members) unless
// QUANZI_BENCH_REFERRALS=1, which gates the big referral benchmarks: then it has
// QUANZI_BENCH_REFERRAL_MEMBERS members, 20,000 by default. A Neo4j that already holds the
// forest of that size is reused.
//
//	QUANZI_BENCH_REFERRALS=1 go test -run '^$' -bench 'TopReferrers|ReferralPath' -benchtime 100x ./resolvers/

// forestSpec shapes a referral forest.
type forestSpec struct {
	Members int
	// MaxDepth bounds the chains: no member is deeper below its root.
	MaxDepth int
	Seed     uint64
}

func forestSpecFromEnv() forestSpec {
	spec := forestSpec{Members: 2_000, MaxDepth: 30, Seed: 12}
	if os.Getenv("QUANZI_BENCH_REFERRALS") == "1" {
		spec.Members = 20_000
		if n, err := strconv.Atoi(os.Getenv("QUANZI_BENCH_REFERRAL_MEMBERS")); err == nil && n > 1 {
			spec.Members = n
		}
	}
	return spec
}

// forest is a generated referral forest: two brands, brand A with three campaigns and
// brand B with one, and members of whom the first are roots and each other was referred by
// an earlier one, through a campaign its referrer shares codes of. Half the members share
// PROFILE and ACTIVITY with brand A; three in ten bought from it, one in ten of them
// refunded.
type forest struct {
	spec      forestSpec
	brandA    string
	brandB    string
	campaigns []string // A's three, then B's
	ids       []string
	parent    []int32 // -1 for a root
	depth     []int32
	// deepest is the member furthest below its root, and root that root.
	deepest, root int
}

// shape draws the forest's members and who referred whom. A member refers the next one
// often (so chains grow deep), is picked in proportion to how many it referred already
// (so some referrers have large downlines), or at random; a referral that would go below
// MaxDepth goes to a root instead.
func (f *forest) shape() {
	n, spec := f.spec.Members, f.spec
	rng := rand.New(rand.NewPCG(spec.Seed, 1))
	f.ids, f.parent, f.depth = make([]string, n), make([]int32, n), make([]int32, n)
	for i := range f.ids {
		f.ids[i] = fmt.Sprintf("%08x-%04x-7%03x-8%03x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff,
			rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
	}
	roots := max(1, n/200)
	for i := range n {
		if i < roots {
			f.parent[i] = -1
			continue
		}
		var p int
		switch r := rng.Float64(); {
		case r < 0.15:
			p = i - 1
		case r < 0.55 && i > roots:
			p = int(f.parent[roots+rng.IntN(i-roots)])
		default:
			p = rng.IntN(i)
		}
		if int(f.depth[p]) >= spec.MaxDepth {
			p = rng.IntN(roots)
		}
		f.parent[i], f.depth[i] = int32(p), f.depth[p]+1
		if f.depth[i] > f.depth[f.deepest] {
			f.deepest = i
		}
	}
	for f.root = f.deepest; f.parent[f.root] >= 0; f.root = int(f.parent[f.root]) {
	}
	ids := func(prefix string, k int) []string {
		out := make([]string, k)
		for i := range out {
			out[i] = fmt.Sprintf("%08x-0000-7000-8000-%012x", spec.Seed, uint64(n)<<8|uint64(len(prefix))<<4|uint64(i))
		}
		return out
	}
	brands := ids("brand", 2)
	f.brandA, f.brandB, f.campaigns = brands[0], brands[1], ids("campaign", 4)
}

// campaignOf is the campaign whose codes member i shares.
func (f *forest) campaignOf(i int) int { return (i * 7) % len(f.campaigns) }

// code is member i's invitation code: InviteCodeLength characters of InviteAlphabet.
func (f *forest) code(i int) string {
	b := make([]byte, community.InviteCodeLength)
	v := uint64(f.spec.Members%4096)<<32 | uint64(i)
	for j := range b {
		b[j] = community.InviteAlphabet[v%uint64(len(community.InviteAlphabet))]
		v /= uint64(len(community.InviteAlphabet))
	}
	return string(b)
}

// handle is member i's handle; forests of other seeds and sizes have others.
func (f *forest) handle(i int) string {
	return fmt.Sprintf("forest%d_%d_%07d", f.spec.Seed, f.spec.Members, i)
}

// forestBase is the time the forest's members joined and its campaigns started.
var forestBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// referredAt is when member i was referred: the referrals spread over 90 days in member
// order.
func (f *forest) referredAt(i int) time.Time {
	return forestBase.Add(time.Hour + time.Duration(i)*((90*24*time.Hour)/time.Duration(f.spec.Members)))
}

// generate writes the forest through the store's ports, several writes at once; a store
// that holds the forest's last member already is left as it is.
func (f *forest) generate(ctx context.Context, s community.Store, progress func(string, int)) error {
	n := len(f.ids)
	if _, err := s.MemberByHandle(ctx, f.handle(n-1)); err == nil {
		return nil
	}
	for i, id := range []string{f.brandA, f.brandB} {
		b := community.Brand{ID: id, Slug: fmt.Sprintf("forest-%d-%d-%c", f.spec.Seed, n, 'a'+i), Name: "品牌", Tiers: community.DefaultTiers, CreatedAt: forestBase}
		if err := s.CreateBrand(ctx, b); err != nil {
			return err
		}
	}
	for i, id := range f.campaigns {
		brand := f.brandA
		if i == len(f.campaigns)-1 {
			brand = f.brandB
		}
		c := community.ReferralCampaign{ID: id, BrandID: brand, Name: fmt.Sprintf("裂变 %d", i), StartsAt: forestBase,
			EndsAt: forestBase.Add(120 * 24 * time.Hour), RedeemWindowDays: 365, CreatedAt: forestBase,
			Rules: []community.ReferralRule{{Level: 1, Kind: community.RewardPoints, Value: 100_00}}}
		if err := s.CreateReferralCampaign(ctx, c); err != nil {
			return err
		}
	}
	const batch = 5_000
	for lo := 0; lo < n; lo += batch {
		var ms []community.ImportedMember
		for i := lo; i < min(n, lo+batch); i++ {
			ms = append(ms, community.ImportedMember{
				Member:     community.Member{ID: f.ids[i], Handle: f.handle(i), DisplayName: fmt.Sprintf("会员 %d", i), JoinedAt: forestBase},
				Identities: []community.Identity{{Provider: community.ProviderWeChat, ExternalID: f.handle(i), LinkedAt: forestBase}},
			})
		}
		if err := s.ImportMembers(ctx, ms); err != nil {
			return err
		}
	}
	progress("members", n)
	// The referrals are imported in batches, parents before their referees (a referrer is
	// always an earlier member), as if each were redeemed in turn: a forest of a million
	// redemptions one by one takes hours on Neo4j.
	var referees []int
	for i, p := range f.parent {
		if p >= 0 {
			referees = append(referees, i)
		}
	}
	for lo := 0; lo < len(referees); lo += batch {
		var refs []community.Referral
		for _, i := range referees[lo:min(len(referees), lo+batch)] {
			p := int(f.parent[i])
			refs = append(refs, community.Referral{MemberID: f.ids[i], ReferrerID: f.ids[p], Code: f.code(p),
				CampaignID: f.campaigns[f.campaignOf(p)], Channel: community.ShareWeChat, At: f.referredAt(i)})
		}
		if err := s.ImportReferrals(ctx, refs); err != nil {
			return err
		}
	}
	progress("referrals", len(referees))
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	err := inParallel(all, func(i int) error {
		if i%2 == 0 {
			scopes := []community.ConsentScope{community.ScopeProfile, community.ScopeActivity}
			if _, err := s.ChangeConsent(ctx, f.ids[i], f.brandA, scopes, true, forestBase, []string{community.NewID(), community.NewID()}); err != nil {
				return err
			}
		}
		if i%10 < 3 {
			p := community.Purchase{ID: community.NewID(), MemberID: f.ids[i], BrandID: f.brandA, Amount: 299_00, Currency: "CNY",
				ExternalID: fmt.Sprintf("forest-%d", i), At: forestBase.Add(100 * 24 * time.Hour), RecordedAt: forestBase.Add(100 * 24 * time.Hour)}
			stored, err := s.RecordPurchase(ctx, p, nil)
			if err != nil {
				return err
			}
			if i%30 == 0 {
				if _, err := s.RefundPurchase(ctx, f.brandA, stored.ID, forestBase.Add(101*24*time.Hour)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	progress("consents and purchases", n)
	return err
}

// inParallel calls do for each item on eight goroutines, and returns the first error.
func inParallel(items []int, do func(int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= len(items) {
					return
				}
				if err := do(items[k]); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// forestEnv is a forest in a store, served by the handler.
type forestEnv struct {
	forest
	store   community.Store
	handler http.Handler
	trips   *community.RoundTrips
}

var (
	forestEnvs  = map[string]*forestEnv{}
	forestEnvMu sync.Mutex
)

func setupForest(b *testing.B, storeName string) *forestEnv {
	b.Helper()
	forestEnvMu.Lock()
	defer forestEnvMu.Unlock()
	if env := forestEnvs[storeName]; env != nil {
		return env
	}
	ctx := context.Background()
	store := openBenchStore(b, storeName, "quanzi-forest-")
	env := &forestEnv{forest: forest{spec: forestSpecFromEnv()}}
	env.shape()
	start := time.Now()
	err := env.generate(ctx, store, func(what string, n int) {
		fmt.Fprintf(os.Stderr, "%s: %d %s of the forest written (%s)\n", storeName, n, what, time.Since(start).Round(time.Second))
	})
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "%s: forest of %d members ready in %s; deepest chain %d\n", storeName, env.spec.Members,
		time.Since(start).Round(time.Second), env.depth[env.deepest])
	svc := community.New(store, community.Config{})
	env.store, env.trips = store, roundTrips(store)
	env.handler = resolvers.NewHandler(resolvers.Deps{Services: svc, Verifier: jwtauth.New([]byte(testSecret), nil), Log: quietLog()}, development())
	forestEnvs[storeName] = env
	return env
}

const (
	topReferrersBenchOp = `query($b: ID!, $by: ReferrerRanking) { topReferrers(brandId: $b, by: $by, first: 20) {
		rank count member { id handle displayName } } }`
	pathBenchOp = `query($from: ID!, $to: ID!) { referralPath(fromId: $from, toId: $to) { length links { depth member { id handle } } } }`
)

// BenchmarkTopReferrers measures topReferrers(first: 20) with its members' profiles
// through the whole handler in process, by each ranking, for ADMIN (who sees every
// member) and for brand staff (who see the consenting half): ns/op, allocs/op and store
// round trips (trips/op).
func BenchmarkTopReferrers(b *testing.B) {
	for _, storeName := range []string{"embedded", "neo4j"} {
		b.Run(storeName, func(b *testing.B) {
			env := setupForest(b, storeName)
			callers := []struct{ name, token string }{
				{"admin", mintBench(b, jwtauth.Claims{Roles: []string{"ADMIN"}})},
				{"staff", mintBench(b, jwtauth.Claims{Roles: []string{"BRAND_STAFF"}, Brand: env.brandA})},
			}
			for _, by := range community.ReferrerRankings {
				for _, c := range callers {
					b.Run(string(by)+"/"+c.name, func(b *testing.B) {
						benchRequest(b, env, c.token, topReferrersBenchOp, map[string]any{"b": env.brandA, "by": by})
					})
				}
			}
		})
	}
}

// BenchmarkTopReferrersStore measures the store's part of topReferrers(first: 20) alone:
// one TopReferrers call for ADMIN, by each ranking, without GraphQL or the members'
// profiles.
func BenchmarkTopReferrersStore(b *testing.B) {
	for _, storeName := range []string{"embedded", "neo4j"} {
		b.Run(storeName, func(b *testing.B) {
			env := setupForest(b, storeName)
			for _, by := range community.ReferrerRankings {
				b.Run(string(by), func(b *testing.B) {
					q := community.ReferrerQuery{BrandID: env.brandA, By: by, First: 20}
					b.ReportAllocs()
					for b.Loop() {
						if _, err := env.store.TopReferrers(context.Background(), q); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkReferralPath measures referralPath from the forest's deepest member up to its
// root, with the members' handles, as ADMIN.
func BenchmarkReferralPath(b *testing.B) {
	for _, storeName := range []string{"embedded", "neo4j"} {
		b.Run(storeName, func(b *testing.B) {
			env := setupForest(b, storeName)
			admin := mintBench(b, jwtauth.Claims{Roles: []string{"ADMIN"}})
			benchRequest(b, env, admin, pathBenchOp, map[string]any{"from": env.ids[env.deepest], "to": env.ids[env.root]})
		})
	}
}

// benchRequest measures one request through the handler, reporting allocations and store
// round trips per request.
func benchRequest(b *testing.B, env *forestEnv, token, query string, vars map[string]any) {
	b.ReportAllocs()
	before := env.trips.Total()
	for b.Loop() {
		rec := httptest.NewRecorder()
		env.handler.ServeHTTP(rec, request("/query", token, query, vars))
		checkResponse(b, rec.Code, rec.Body.Bytes())
	}
	b.ReportMetric(float64(env.trips.Total()-before)/float64(b.N), "trips/op")
}

func mintBench(b *testing.B, c jwtauth.Claims) string {
	b.Helper()
	tok, err := jwtauth.Mint([]byte(testSecret), c, 24*time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return tok
}
