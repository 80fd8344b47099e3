package synthetic

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"quanzi/community"
)

// ReferralSpec is the referral forest of a synthetic community.
type ReferralSpec struct {
	// Trees are the sizes of the first trees of the forest, each rooted at the next member
	// of the generated ones in order: the first tree's first MaxDepth+1 members are a chain,
	// so that it reaches MaxDepth.
	Trees []int
	// MaxDepth bounds every chain: a member is at most MaxDepth below its root.
	MaxDepth int
	// MaxSmallTree bounds the size of the trees the rest of the members form (each of 1 to
	// MaxSmallTree members, 1 being a member nobody referred and who referred nobody).
	MaxSmallTree int
	// Code, CampaignID and Channel are what every referral carries.
	Code       string
	CampaignID string
	Channel    community.ShareChannel
	Seed       uint64
	// Progress, when set, is called after each batch with the referrals generated so far.
	Progress func(done int)
}

// Forest is what GenerateReferrals made.
type Forest struct {
	// Roots are the roots of the trees of spec.Trees, in order.
	Roots []string
	// Deepest is a member MaxDepth below the first root.
	Deepest string
	// Referred is how many members were referred.
	Referred int
	// Parent is each member's referrer, by index of Generated.IDs; -1 for a root.
	Parent []int32
}

// GenerateReferrals refers the members of g to each other, in batches of ImportReferrals:
// the trees of spec.Trees first, then small trees of the members left. Within a tree each
// member is referred by a random member before it (a random recursive tree, whose depth
// grows as the logarithm of its size), one at MaxDepth by that member's referrer instead.
// Referrers come before their referees in every batch, and referral times increase, a
// second apart, with the members' order.
func GenerateReferrals(ctx context.Context, s community.Store, g Generated, spec ReferralSpec) (Forest, error) {
	rng := rand.New(rand.NewPCG(spec.Seed^0x7ef3, spec.Seed))
	n := len(g.IDs)
	f := Forest{Parent: make([]int32, n)}
	depth := make([]int32, n)
	maxDepth := int32(max(spec.MaxDepth, 1))
	// tree makes members [start, start+size) a tree rooted at start.
	tree := func(start, size int, chain bool) {
		f.Parent[start], depth[start] = -1, 0
		for i := start + 1; i < start+size; i++ {
			p := int32(start + rng.IntN(i-start))
			if chain && i-start <= int(maxDepth) {
				p = int32(i - 1)
			}
			for depth[p] >= maxDepth {
				p = f.Parent[p]
			}
			f.Parent[i], depth[i] = p, depth[p]+1
		}
	}
	next := 0
	for k, size := range spec.Trees {
		size = min(size, n-next)
		if size <= 0 {
			break
		}
		tree(next, size, k == 0)
		f.Roots = append(f.Roots, g.IDs[next])
		if k == 0 && size > int(maxDepth) {
			f.Deepest = g.IDs[next+int(maxDepth)]
		}
		next += size
	}
	for next < n {
		size := min(1+rng.IntN(max(spec.MaxSmallTree, 1)), n-next)
		tree(next, size, false)
		next += size
	}
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]community.Referral, 0, batchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := s.ImportReferrals(ctx, batch); err != nil {
			return fmt.Errorf("generate referrals: %w", err)
		}
		f.Referred += len(batch)
		batch = batch[:0]
		if spec.Progress != nil {
			spec.Progress(f.Referred)
		}
		return nil
	}
	for i, p := range f.Parent {
		if p < 0 {
			continue
		}
		batch = append(batch, community.Referral{
			MemberID: g.IDs[i], ReferrerID: g.IDs[p], Code: spec.Code, CampaignID: spec.CampaignID, Channel: spec.Channel,
			At: base.Add(time.Duration(i) * time.Second),
		})
		if len(batch) == batchSize {
			if err := flush(); err != nil {
				return f, err
			}
		}
	}
	return f, flush()
}
