package synthetic

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
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

// The text of generated posts: titles put a subject and a topic together, bodies two to
// four sentences, a fifth of them mixing Chinese and English, so that an index of many
// posts has the spread of words a real community's has.
var (
	zhSubjects = []string{"比亚迪海豹", "比亚迪汉", "蔚来ET5", "理想L7", "小鹏P7", "极氪001", "问界M7", "特斯拉Model 3",
		"翠湖花园", "阳光小区", "家用咖啡机", "宝宝奶粉", "新手机", "露营车", "电动自行车"}
	zhTopics = []string{"保养经验分享", "冬季续航实测", "充电桩安装", "自驾游路线推荐", "车友会活动报名", "轮胎更换记录",
		"保险续保问题", "车机升级体验", "提车作业", "露营装备清单", "停车位讨论", "物业费问题待处理", "装修进度",
		"电梯报修", "选购建议", "使用心得", "二手转让", "维修避坑"}
	enSubjects = []string{"BYD Seal", "NIO ET5", "Tesla Model Y", "Xpeng P7", "Zeekr 001", "Li Auto L7", "my coffee machine",
		"our residents' garden", "the new phone", "the camper van"}
	enTopics = []string{"winter range test", "charging tips", "road trip to Qiandao Lake", "tyre replacement",
		"insurance renewal", "software update review", "first month of ownership", "camping gear list",
		"parking permit question", "maintenance schedule", "battery health report", "buying advice"}
	zhSentences = []string{"每5000公里换一次机油，记得检查轮胎气压。", "冬天开暖气续航会掉两成，建议出发前预热电池。",
		"本周六上午十点在4S店集合，欢迎家属参加。", "小区充电桩终于装好了，物业审批花了一个月。",
		"高速服务区的快充桩排队严重，建议错峰出行。", "车机升级以后导航更流畅了，语音识别也准了。",
		"保险续保时记得比较几家的报价，差价不小。", "露营的时候带上防潮垫和暖和的睡袋。",
		"电梯报修三天了还是待处理，大家一起催一下物业。", "装修进度到了水电阶段，材料都是自己选的。",
		"这台咖啡机萃取稳定，奶泡也很细腻。", "宝宝换奶粉要慢慢过渡，一周左右比较稳妥。",
		"二手转让九成新，价格可以商量。", "维修的时候一定要问清楚用的是不是原厂件。",
		"周末车友会组织去莫干山自驾，路况很好。", "轮胎换了静音胎，高速上安静了很多。",
		"停车位是租的还是买的，大家怎么选？", "新手机拍夜景效果不错，就是发热有点明显。"}
	enSentences = []string{"Leave early to avoid traffic; the coast road is beautiful in spring.",
		"Bring a tarp and a warm sleeping bag; nights are cold.", "I charged overnight at home and lost about ten percent in the cold.",
		"The dealer replaced the tyres under warranty without any fuss.", "Insurance renewal was cheaper after comparing three quotes.",
		"The software update improved the navigation and the voice assistant.", "Fast chargers on the highway were busy during the holiday.",
		"Battery health still reads ninety-five percent after two years.", "The residents' committee meets on Thursday about parking permits.",
		"This coffee machine makes a steady espresso and fine milk foam.", "We planned the road trip around charging stops every two hundred kilometres.",
		"Check the tyre pressure monthly; it drops in winter.", "The camper van fits two adults and a lot of gear.",
		"Maintenance every ten thousand kilometres keeps the warranty valid.", "The new phone takes great night photos but runs warm.",
		"Selling my old charger, barely used, pick up only."}
	tagPool = []string{"保养", "自驾", "活动", "续航", "ev", "camping", "露营", "物业", "road trip", "充电", "装修", "数码", "母婴", "insurance"}
)

// postText draws a title, a body and tags.
func postText(rng *rand.Rand) (title, body string, tags []string) {
	english := rng.IntN(3) == 0
	if english {
		title = enSubjects[rng.IntN(len(enSubjects))] + ": " + enTopics[rng.IntN(len(enTopics))]
	} else {
		title = zhSubjects[rng.IntN(len(zhSubjects))] + zhTopics[rng.IntN(len(zhTopics))]
	}
	mixed := rng.IntN(5) == 0
	var b strings.Builder
	for i := range 2 + rng.IntN(3) {
		pool := zhSentences
		if english != (mixed && i%2 == 1) {
			pool = enSentences
			if i > 0 {
				b.WriteByte(' ')
			}
		}
		b.WriteString(pool[rng.IntN(len(pool))])
	}
	tags = []string{tagPool[rng.IntN(len(tagPool))]}
	if rng.IntN(3) == 0 {
		if t := tagPool[rng.IntN(len(tagPool))]; t != tags[0] {
			tags = append(tags, t)
		}
	}
	return title, b.String(), tags
}

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
		title, body, tags := postText(rng)
		p := community.Post{
			ID: seededID(rng), ClubID: c.ClubIDs[k], AuthorID: g.IDs[author],
			Title: title, Body: body, Tags: tags,
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
