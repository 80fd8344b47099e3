// Package synthetic builds deterministic synthetic communities at scale, for benchmarks
// and for the seed command. It imports only the domain.
package synthetic

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"quanzi/community"
)

// Spec describes a synthetic community for benchmarks and demos.
type Spec struct {
	Members int
	Follows int
	Seed    uint64
	// Progress, when set, is called after each stored batch with what is done so far.
	Progress func(membersDone, followsDone int)
}

// Generated is what Generate built: member ids in creation order, and the most followed.
type Generated struct {
	IDs []string
	// Popular are ids in decreasing order of expected follower count.
	Popular []string
}

// batchSize is the number of rows Generate hands a store in one call.
const batchSize = 10_000

// Generate fills s with a deterministic synthetic community: members with WeChat
// identities, and follows whose targets follow a Zipf-like law (a few members are followed
// by many, most by few), as in real communities. The same spec gives the same graph.
func Generate(ctx context.Context, s community.Store, spec Spec) (Generated, error) {
	rng := rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x9e3779b97f4a7c15))
	g := Generated{IDs: make([]string, spec.Members)}
	joined := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for start := 0; start < spec.Members; start += batchSize {
		end := min(start+batchSize, spec.Members)
		batch := make([]community.ImportedMember, 0, end-start)
		for i := start; i < end; i++ {
			id := seededID(rng)
			g.IDs[i] = id
			m := community.Member{ID: id, Handle: fmt.Sprintf("member_%07d", i), DisplayName: fmt.Sprintf("会员 %d", i), JoinedAt: joined.Add(time.Duration(i) * time.Minute)}
			batch = append(batch, community.ImportedMember{Member: m, Identities: []community.Identity{{Provider: community.ProviderWeChat, ExternalID: fmt.Sprintf("synthetic-%d-%d", spec.Seed, i), LinkedAt: m.JoinedAt}}})
		}
		if err := s.ImportMembers(ctx, batch); err != nil {
			return g, fmt.Errorf("generate members: %w", err)
		}
		if spec.Progress != nil {
			spec.Progress(end, 0)
		}
	}
	if spec.Members < 2 {
		return g, nil
	}
	// Popularity: member rank r (a random permutation) is followed with weight 1/(r+1)^0.8.
	perm := rng.Perm(spec.Members)
	g.Popular = make([]string, min(100, spec.Members))
	for r := range g.Popular {
		g.Popular[r] = g.IDs[perm[r]]
	}
	rank := zipf(rng, spec.Members, 0.8)
	pick := func() int { return perm[rank()] }
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	done := 0
	for done < spec.Follows {
		n := min(batchSize, spec.Follows-done)
		batch := make([]community.Follow, 0, n)
		for i := range n {
			from := rng.IntN(spec.Members)
			to := pick()
			if to == from {
				to = (to + 1) % spec.Members
			}
			batch = append(batch, community.Follow{FollowerID: g.IDs[from], FolloweeID: g.IDs[to], Since: base.Add(time.Duration(done+i) * time.Second)})
		}
		if err := s.ImportFollows(ctx, batch); err != nil {
			return g, fmt.Errorf("generate follows: %w", err)
		}
		done += n
		if spec.Progress != nil {
			spec.Progress(spec.Members, done)
		}
	}
	return g, nil
}

// seededID returns a member id drawn from rng, with the shape of community.NewID.
func seededID(rng *rand.Rand) string {
	hi, lo := rng.Uint64(), rng.Uint64()
	hi = hi&^0xf000 | 0x7000
	lo = lo&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}
