package synthetic

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"quanzi/community"
)

// ContentSpec describes the clubs, posts and reactions of a synthetic community.
type ContentSpec struct {
	Clubs     int
	Posts     int
	Reactions int
	Seed      uint64
	// Now anchors the posts' times: they are spread over the 30 days before it.
	Now time.Time
	// Progress, when set, is called after each stored batch with the rows done so far.
	Progress func(done int)
}

// Content is what GenerateContent built.
type Content struct {
	ClubIDs []string
	// ClubSlugs are the clubs' slugs, biggest club first.
	ClubSlugs []string
	PostIDs   []string
}

var (
	titles = []string{"汽车保养经验分享", "周末自驾游路线推荐", "车友会活动报名", "新能源车冬季续航", "待处理：物业费问题",
		"Road trip to Qiandao Lake", "Winter range of my EV", "Charging station etiquette", "露营装备清单", "小区停车位讨论"}
	bodies = []string{"每5000公里换一次机油，记得检查轮胎气压。", "Leave early to avoid traffic; the coast road is beautiful in spring.",
		"本周六上午十点在4S店集合，欢迎家属参加。", "冬天开暖气续航会掉两成，建议预热电池。", "Bring a tarp and a warm sleeping bag; nights are cold."}
	tagPool = []string{"保养", "自驾", "活动", "续航", "ev", "camping", "露营", "物业", "road trip", "充电"}
)

// GenerateContent adds clubs, club memberships, posts and reactions to a community that
// Generate built: members join one to three clubs (popular clubs grow bigger), post in
// them, and react to posts whose popularity follows a Zipf-like law. The same spec over
// the same community gives the same content.
func GenerateContent(ctx context.Context, s community.Store, g Generated, spec ContentSpec) (Content, error) {
	rng := rand.New(rand.NewPCG(spec.Seed^0x51ed270b, spec.Seed))
	var c Content
	created := spec.Now.Add(-60 * 24 * time.Hour)
	for i := range spec.Clubs {
		club := community.Club{ID: seededID(rng), Slug: fmt.Sprintf("club-%04d", i), Name: fmt.Sprintf("俱乐部 %d", i),
			Kind: community.KindForum, Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen, CreatedAt: created}
		if i%10 == 9 {
			club.Visibility, club.JoinPolicy = community.VisibilityPrivate, community.JoinApproval
		}
		if err := s.CreateClub(ctx, club, nil); err != nil && community.ErrorCode(err) != community.CodeConflict {
			return c, fmt.Errorf("generate clubs: %w", err)
		}
		c.ClubIDs = append(c.ClubIDs, club.ID)
		c.ClubSlugs = append(c.ClubSlugs, club.Slug)
	}
	if spec.Clubs == 0 || len(g.IDs) == 0 {
		return c, nil
	}
	clubPick := zipf(rng, spec.Clubs, 1.0)
	members := make([][]int, spec.Clubs)
	done := 0
	var batch []community.ClubMembership
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := s.ImportClubMembers(ctx, batch); err != nil {
			return fmt.Errorf("generate club members: %w", err)
		}
		done += len(batch)
		batch = batch[:0]
		if spec.Progress != nil {
			spec.Progress(done)
		}
		return nil
	}
	for m := range g.IDs {
		seen := map[int]bool{}
		for range 1 + rng.IntN(3) {
			k := clubPick()
			if seen[k] {
				continue
			}
			seen[k] = true
			members[k] = append(members[k], m)
			batch = append(batch, community.ClubMembership{ClubID: c.ClubIDs[k], MemberID: g.IDs[m], Role: community.RoleMember, Since: created})
			if len(batch) == batchSize {
				if err := flush(); err != nil {
					return c, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return c, err
	}
	var posts []community.Post
	for len(c.PostIDs) < spec.Posts {
		k := clubPick()
		if len(members[k]) == 0 {
			continue
		}
		author := members[k][rng.IntN(len(members[k]))]
		n := len(c.PostIDs)
		p := community.Post{
			ID: seededID(rng), ClubID: c.ClubIDs[k], AuthorID: g.IDs[author],
			Title: fmt.Sprintf("%s #%d", titles[rng.IntN(len(titles))], n), Body: bodies[rng.IntN(len(bodies))],
			Tags:      []string{tagPool[rng.IntN(len(tagPool))]},
			CreatedAt: spec.Now.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))).Truncate(time.Microsecond),
			Status:    community.PostPublished,
		}
		posts = append(posts, p)
		c.PostIDs = append(c.PostIDs, p.ID)
		if len(posts) == batchSize || len(c.PostIDs) == spec.Posts {
			if err := s.ImportPosts(ctx, posts); err != nil {
				return c, fmt.Errorf("generate posts: %w", err)
			}
			done += len(posts)
			posts = posts[:0]
			if spec.Progress != nil {
				spec.Progress(done)
			}
		}
	}
	if len(c.PostIDs) == 0 {
		return c, nil
	}
	postPick := zipf(rng, len(c.PostIDs), 0.9)
	kinds := []community.ReactionKind{community.ReactionLike, community.ReactionLike, community.ReactionLike, community.ReactionInsightful, community.ReactionFunny, community.ReactionSupport}
	var reactions []community.Reaction
	for r := range spec.Reactions {
		reactions = append(reactions, community.Reaction{MemberID: g.IDs[rng.IntN(len(g.IDs))], TargetID: c.PostIDs[postPick()],
			Kind: kinds[rng.IntN(len(kinds))], At: spec.Now.Add(-time.Duration(rng.Int64N(int64(24 * time.Hour))))})
		if len(reactions) == batchSize || r == spec.Reactions-1 {
			if err := s.ImportReactions(ctx, reactions); err != nil {
				return c, fmt.Errorf("generate reactions: %w", err)
			}
			done += len(reactions)
			reactions = reactions[:0]
			if spec.Progress != nil {
				spec.Progress(done)
			}
		}
	}
	return c, nil
}

// zipf returns a function drawing indices in [0, n) with weight 1/(i+1)^s.
func zipf(rng *rand.Rand, n int, s float64) func() int {
	cdf := make([]float64, n)
	total := 0.0
	for i := range cdf {
		total += 1 / math.Pow(float64(i+1), s)
		cdf[i] = total
	}
	return func() int {
		x := rng.Float64() * total
		lo, hi := 0, n-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cdf[mid] < x {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo
	}
}
