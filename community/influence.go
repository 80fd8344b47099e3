package community

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Influence: who moves the community. One leased job reads a compact snapshot of the graph
// (dense member indexes, follows in a CSR layout, interactions, referrals, memberships),
// computes the graph scores through an InfluenceEngine (in process by default; a Graph
// Data Science implementation can replace it), derives the member scores, KOC scores and
// circles from them, and writes everything back as one run. Readers see the current run
// only: a run becomes current in one transaction once all of it is written, so they see
// either the old scores or the new ones, never a mix of two runs.

// GraphSnapshot is the graph the influence job computes over, as compact arrays. A
// member's dense index is its position in Members; every edge and group names members by
// that index. Built by a SnapshotBuilder.
type GraphSnapshot struct {
	// Members are the member ids, in ascending order.
	Members []string
	// FollowOffsets and FollowTargets are the follows in CSR layout: the members that
	// member i follows are FollowTargets[FollowOffsets[i]:FollowOffsets[i+1]], ascending,
	// each once. len(FollowOffsets) == len(Members)+1.
	FollowOffsets []int64
	FollowTargets []int32
	// Interactions are what members did to other members' posts and comments within the
	// snapshot's window, one per act; a member's acts on its own content are left out.
	Interactions []Interaction
	// Referrer is each member's referrer, or -1.
	Referrer []int32
	// Bought reports, for each member, whether it has a purchase that is not refunded.
	Bought []bool
	// Brands are, for each brand, its programme members who consent to share ACTIVITY
	// with it: the members it ranks. Clubs are, for each club, its members. Tags are, for
	// each tag, the authors of posts tagged with it, once per post. Groups are ordered by
	// id and their members ascending.
	Brands []Group
	Clubs  []Group
	Tags   []Group
}

// Group is a brand's, club's or tag's members in a GraphSnapshot.
type Group struct {
	ID      string
	Members []int32
}

// Follows returns the number of follows in the snapshot.
func (g *GraphSnapshot) Follows() int64 {
	if len(g.FollowOffsets) == 0 {
		return 0
	}
	return g.FollowOffsets[len(g.FollowOffsets)-1]
}

// Following returns the dense indexes of the members member i follows.
func (g *GraphSnapshot) Following(i int32) []int32 {
	return g.FollowTargets[g.FollowOffsets[i]:g.FollowOffsets[i+1]]
}

// Index returns the dense index of a member id, or -1 when the snapshot does not hold it.
func (g *GraphSnapshot) Index(memberID string) int32 {
	i, ok := slices.BinarySearch(g.Members, memberID)
	if !ok {
		return -1
	}
	return int32(i)
}

// InteractionKind is what kind of act an Interaction is.
type InteractionKind uint8

// The kinds of interaction.
const (
	// InteractComment is a comment on a post of the receiving member.
	InteractComment InteractionKind = iota + 1
	// InteractReply is a reply to a comment of the receiving member.
	InteractReply
	// InteractReaction is a reaction to a post or comment of the receiving member; its
	// Detail is the reaction kind's index in ReactionKinds.
	InteractReaction
	// InteractShare is a share of a post of the receiving member; its Detail is the
	// channel's index in ShareChannels.
	InteractShare
)

// Interaction is one act of a member (From) on content of another (To).
type Interaction struct {
	From, To int32
	Kind     InteractionKind
	Detail   uint8
}

// SnapshotOptions say what an InfluenceSnapshot reads.
type SnapshotOptions struct {
	// Since is the start of the interaction window: acts before it are not read.
	Since time.Time
	// PageSize is how many rows a store reads per round trip (DefaultSnapshotPage when 0).
	PageSize int
	// Progress, when set, is told the rows read so far after each page.
	Progress func(rows int64)
}

// DefaultSnapshotPage is how many rows a snapshot reads per round trip by default.
const DefaultSnapshotPage = 10000

// SnapshotBuilder builds a GraphSnapshot from rows named by member id, in any order, so
// that every store lays the arrays out the same way. Rows naming a member that was not
// added are dropped (the member was removed while the snapshot was read).
type SnapshotBuilder struct {
	members  []string
	follows  [][2]string
	acts     []rawAct
	referrer map[string]string
	bought   map[string]bool
	groups   [3]map[string][]string
}

type rawAct struct {
	from, to string
	kind     InteractionKind
	detail   uint8
}

// The kinds of group of a snapshot.
const (
	groupBrand = iota
	groupClub
	groupTag
)

// NewSnapshotBuilder returns an empty builder.
func NewSnapshotBuilder() *SnapshotBuilder {
	b := &SnapshotBuilder{referrer: map[string]string{}, bought: map[string]bool{}}
	for i := range b.groups {
		b.groups[i] = map[string][]string{}
	}
	return b
}

// AddMember adds a member; whether it bought is told with Bought.
func (b *SnapshotBuilder) AddMember(id string) { b.members = append(b.members, id) }

// Follow adds a follow of followee by follower.
func (b *SnapshotBuilder) Follow(follower, followee string) {
	b.follows = append(b.follows, [2]string{follower, followee})
}

// Interact adds an act of from on content of to; acts on one's own content are dropped.
func (b *SnapshotBuilder) Interact(from, to string, kind InteractionKind, detail uint8) {
	if from != to {
		b.acts = append(b.acts, rawAct{from, to, kind, detail})
	}
}

// Referred adds that member was referred by referrer.
func (b *SnapshotBuilder) Referred(member, referrer string) { b.referrer[member] = referrer }

// Bought adds that member has a purchase that is not refunded.
func (b *SnapshotBuilder) Bought(member string) { b.bought[member] = true }

// BrandMember adds a programme member of a brand who consents to share ACTIVITY with it.
func (b *SnapshotBuilder) BrandMember(brandID, member string) {
	b.groups[groupBrand][brandID] = append(b.groups[groupBrand][brandID], member)
}

// ClubMember adds a member of a club.
func (b *SnapshotBuilder) ClubMember(clubID, member string) {
	b.groups[groupClub][clubID] = append(b.groups[groupClub][clubID], member)
}

// TaggedPost adds a post of author tagged with tag.
func (b *SnapshotBuilder) TaggedPost(tag, author string) {
	b.groups[groupTag][tag] = append(b.groups[groupTag][tag], author)
}

// Build lays the rows out as a snapshot.
func (b *SnapshotBuilder) Build() *GraphSnapshot {
	g := &GraphSnapshot{Members: slices.Clone(b.members)}
	slices.Sort(g.Members)
	g.Members = slices.Compact(g.Members)
	n := len(g.Members)
	index := make(map[string]int32, n)
	for i, id := range g.Members {
		index[id] = int32(i)
	}
	pairs := make([][2]int32, 0, len(b.follows))
	for _, f := range b.follows {
		from, ok1 := index[f[0]]
		to, ok2 := index[f[1]]
		if ok1 && ok2 && from != to {
			pairs = append(pairs, [2]int32{from, to})
		}
	}
	slices.SortFunc(pairs, func(x, y [2]int32) int {
		if x[0] != y[0] {
			return int(x[0] - y[0])
		}
		return int(x[1] - y[1])
	})
	pairs = slices.Compact(pairs)
	g.FollowOffsets = make([]int64, n+1)
	g.FollowTargets = make([]int32, len(pairs))
	for i, p := range pairs {
		g.FollowOffsets[p[0]+1]++
		g.FollowTargets[i] = p[1]
	}
	for i := 0; i < n; i++ {
		g.FollowOffsets[i+1] += g.FollowOffsets[i]
	}
	for _, a := range b.acts {
		from, ok1 := index[a.from]
		to, ok2 := index[a.to]
		if ok1 && ok2 {
			g.Interactions = append(g.Interactions, Interaction{From: from, To: to, Kind: a.kind, Detail: a.detail})
		}
	}
	g.Referrer = make([]int32, n)
	g.Bought = make([]bool, n)
	for i, id := range g.Members {
		g.Referrer[i] = -1
		if r, ok := index[b.referrer[id]]; ok && b.referrer[id] != "" {
			g.Referrer[i] = r
		}
		g.Bought[i] = b.bought[id]
	}
	build := func(m map[string][]string, keepRepeats bool) []Group {
		out := make([]Group, 0, len(m))
		for id, ids := range m {
			grp := Group{ID: id}
			for _, mid := range ids {
				if i, ok := index[mid]; ok {
					grp.Members = append(grp.Members, i)
				}
			}
			slices.Sort(grp.Members)
			if !keepRepeats {
				grp.Members = slices.Compact(grp.Members)
			}
			if len(grp.Members) > 0 {
				out = append(out, grp)
			}
		}
		slices.SortFunc(out, func(x, y Group) int { return cmpString(x.ID, y.ID) })
		return out
	}
	g.Brands = build(b.groups[groupBrand], false)
	g.Clubs = build(b.groups[groupClub], false)
	g.Tags = build(b.groups[groupTag], true)
	return g
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// InfluenceEngine computes the graph scores of a snapshot: the part of the influence job
// that a Graph Data Science implementation could do inside Neo4j. Called by the influence
// job only.
type InfluenceEngine interface {
	// Compute computes PageRank and ArticleRank over the follows, reach, and circles over
	// the follows and interactions. It stops early with ctx's error when ctx ends, and
	// tells progress (0 to 1) when set.
	Compute(ctx context.Context, g *GraphSnapshot, p EngineParams, progress func(float64)) (*GraphScores, error)
}

// EngineParams are the parameters of an InfluenceEngine's computation.
type EngineParams struct {
	// Damping is the damping factor of PageRank and ArticleRank (0.85).
	Damping float64
	// Tolerance ends the iterations once the total change of the scores (the L1 norm of
	// the difference between two iterations) is below it (1e-9).
	Tolerance float64
	// MaxIterations bounds the iterations (100).
	MaxIterations int
	// FollowWeight and InteractionWeights weigh the edges of the circle graph: a follow,
	// and each kind of interaction (indexed by InteractionKind; shares are not part of
	// it). DefaultEngineParams gives the documented defaults.
	FollowWeight       float64
	InteractionWeights [InteractShare + 1]float64
	// Seed makes the circle detection repeatable.
	Seed uint64
}

// DefaultEngineParams returns the documented defaults.
func DefaultEngineParams() EngineParams {
	p := EngineParams{Damping: 0.85, Tolerance: 1e-9, MaxIterations: 100, FollowWeight: 1, Seed: 1}
	p.InteractionWeights[InteractComment] = 1
	p.InteractionWeights[InteractReply] = 1
	p.InteractionWeights[InteractReaction] = 0.5
	return p
}

// GraphScores are an engine's results, indexed by dense member index.
type GraphScores struct {
	// PageRank sums to 1 over all members; ArticleRank is normalised the same way.
	PageRank    []float64
	ArticleRank []float64
	// Reach is the number of distinct other members within two follower hops: followers
	// and followers' followers.
	Reach []int64
	// ReachExact is false when Reach is an estimate (a sketch); ReachError is then the
	// relative standard error of the estimate.
	ReachExact bool
	ReachError float64
	// Circle is each member's circle, a number from 0; members of one circle share it.
	Circle []int32
	// Modularity is the modularity of the circles over the circle graph.
	Modularity float64
	// Iterations are the iterations PageRank and ArticleRank took.
	PageRankIterations, ArticleRankIterations int
}

// InfluenceMetric is what influencers ranks by.
type InfluenceMetric string

// The metrics.
const (
	MetricPageRank    InfluenceMetric = "PAGE_RANK"
	MetricArticleRank InfluenceMetric = "ARTICLE_RANK"
	MetricKOC         InfluenceMetric = "KOC"
	MetricReach       InfluenceMetric = "REACH"
	MetricEngagement  InfluenceMetric = "ENGAGEMENT"
	MetricReferral    InfluenceMetric = "REFERRAL"
)

// InfluenceMetrics lists the metrics in schema order.
var InfluenceMetrics = []InfluenceMetric{MetricPageRank, MetricArticleRank, MetricKOC, MetricReach, MetricEngagement, MetricReferral}

// Valid reports whether m is one of InfluenceMetrics.
func (m InfluenceMetric) Valid() bool { return slices.Contains(InfluenceMetrics, m) }

// InfluenceScope is where a ranking ranks: exactly one of a brand (its programme members
// who consent to share ACTIVITY with it), a club (its members) or a circle (its members).
// The zero scope is the whole community (circles only).
type InfluenceScope struct {
	BrandID, ClubID, CircleID string
}

// Key returns the scope as one string, "brand:<id>", "club:<id>", "circle:<id>" or "".
func (s InfluenceScope) Key() string {
	switch {
	case s.BrandID != "":
		return "brand:" + s.BrandID
	case s.ClubID != "":
		return "club:" + s.ClubID
	case s.CircleID != "":
		return "circle:" + s.CircleID
	}
	return ""
}

// Validate checks that at most one of the scope's ids is set.
func (s InfluenceScope) Validate() error {
	set := 0
	for _, id := range []string{s.BrandID, s.ClubID, s.CircleID} {
		if id != "" {
			set++
		}
	}
	if set > 1 {
		return fieldError("scope", "name one of brandId, clubId and circleId")
	}
	return nil
}

// ReferralImpact is what a member's referrals brought in.
type ReferralImpact struct {
	// Direct are the member's referees; Second their referees.
	Direct, Second int
	// Converted are the referees at levels 1 and 2 who bought.
	Converted int
}

// MemberInfluence is a member's scores of one run.
type MemberInfluence struct {
	MemberID    string
	PageRank    float64
	ArticleRank float64
	// Percentile is the member's PageRank percentile among all members, 0 to 100.
	Percentile float64
	Reach      int64
	Engagement float64
	Referral   ReferralImpact
	// CircleID is the member's circle.
	CircleID   string
	ComputedAt time.Time
}

// KocComponent is one component of a KOC score and its share of the value.
type KocComponent struct {
	// Name is the component's metric: PAGE_RANK, REACH, ENGAGEMENT or REFERRAL.
	Name InfluenceMetric
	// Raw is the member's score; Percentile its percentile within the brand's ranked
	// members, 0 to 100; Weight the brand's weight of it (the weights sum to 1);
	// Contribution is Percentile × Weight. The contributions sum to the value.
	Raw, Percentile, Weight, Contribution float64
}

// KocScore is a member's KOC score for one brand, 0 to 100, with its explanation.
type KocScore struct {
	BrandID    string
	MemberID   string
	Value      float64
	Components []KocComponent
	ComputedAt time.Time
}

// KocWeights are a brand's weights of the KOC components; they need not sum to 1 (they
// are divided by their sum), but none is negative and their sum is above 0.
type KocWeights struct {
	PageRank, Reach, Engagement, Referral float64
}

// DefaultKocWeights are the weights of a brand that has set none.
var DefaultKocWeights = KocWeights{PageRank: 0.3, Reach: 0.2, Engagement: 0.3, Referral: 0.2}

// Validate checks the weights.
func (w KocWeights) Validate() error {
	for _, v := range []float64{w.PageRank, w.Reach, w.Engagement, w.Referral} {
		if v < 0 || v != v || v > 1e6 {
			return fieldError("weights", "a weight is a number from 0 to 1000000")
		}
	}
	if w.PageRank+w.Reach+w.Engagement+w.Referral <= 0 {
		return fieldError("weights", "at least one weight must be above 0")
	}
	return nil
}

// RankEntry is a member's place in one ranking of a run: its value of a metric in a scope.
type RankEntry struct {
	Scope    InfluenceScope
	By       InfluenceMetric
	MemberID string
	Value    float64
}

// RankPosition is where an entry stands in a ranking ordered by Value descending, then
// MemberID ascending.
type RankPosition struct {
	Value    float64
	MemberID string
}

// InfluencerQuery asks for a page of a ranking of the current run.
type InfluencerQuery struct {
	Scope InfluenceScope
	By    InfluenceMetric
	First int
	After *RankPosition
	// ConsentBrand, when set, keeps only members who consent, now, to share ACTIVITY with
	// that brand; the filter runs before the page is cut.
	ConsentBrand string
}

// InfluencerPage is a page of a ranking.
type InfluencerPage struct {
	Entries     []RankEntry
	HasNextPage bool
}

// Circle is a circle of one run: a community the circle detection found.
type Circle struct {
	ID   string
	Size int
	// TopClubs are the clubs most of its members joined, TopTags the tags most of its
	// members' posts carry: most first, then by id, at most MaxCircleTops each.
	TopClubs   []CircleCount
	TopTags    []CircleCount
	ComputedAt time.Time
}

// MaxCircleTops is how many top clubs and tags a circle keeps.
const MaxCircleTops = 10

// CircleCount is a club or tag of a circle and how many of the circle's members (or
// their posts, for tags) it has.
type CircleCount struct {
	ID    string
	Count int
}

// CircleEntry is a circle's place in the circles of a scope: how many of the scope's
// members are in it. The zero scope lists every circle by its size.
type CircleEntry struct {
	Scope    InfluenceScope
	CircleID string
	Members  int
}

// CircleQuery asks for a page of the circles of a scope of the current run, largest
// first (by the scope's members in them), then by id.
type CircleQuery struct {
	Scope InfluenceScope
	First int
	After *CircleEntry
}

// CirclePage is a page of circles.
type CirclePage struct {
	Entries     []CircleEntry
	HasNextPage bool
}

// InfluenceRunState is the state of a run of the influence job.
type InfluenceRunState string

// The states of a run.
const (
	RunRunning InfluenceRunState = "RUNNING"
	RunDone    InfluenceRunState = "DONE"
	RunFailed  InfluenceRunState = "FAILED"
)

// InfluenceRun is the record of one run of the influence job.
type InfluenceRun struct {
	ID         string
	State      InfluenceRunState
	StartedAt  time.Time
	FinishedAt time.Time
	// Progress is how far the run is, 0 to 1.
	Progress float64
	Members  int
	Edges    int64
	Error    string
}

// InfluenceStore is the part of the Store that keeps the influence job's runs and serves
// their scores. Written by the influence job only; read by the services. A run's scores
// are written in batches under its id, then published: from then on every read answers
// from it, and never from two runs at once.
type InfluenceStore interface {
	// InfluenceSnapshot reads the graph as of now, in pages of opts.PageSize rows (one
	// round trip each, never one giant result), into a snapshot built with a
	// SnapshotBuilder. Writes to the community do not wait for it.
	InfluenceSnapshot(ctx context.Context, opts SnapshotOptions) (*GraphSnapshot, error)

	// SaveInfluenceRun creates or replaces the record of a run (its state and progress).
	SaveInfluenceRun(ctx context.Context, run InfluenceRun) error
	// InfluenceRuns returns the current run (the last one published; nil when none is)
	// and the latest run started (nil when none was).
	InfluenceRuns(ctx context.Context) (current, latest *InfluenceRun, err error)

	// WriteMemberInfluence writes a batch of a run's member scores, WriteKocScores of its
	// KOC scores, WriteRankEntries of its ranking entries, and WriteCircles of its circles
	// and circle entries. Each batch is one transaction; writing a batch again replaces
	// what it wrote (a run's member, brand and member, entry, or circle is written once).
	// None of it is read before the run is published.
	WriteMemberInfluence(ctx context.Context, runID string, batch []MemberInfluence) error
	WriteKocScores(ctx context.Context, runID string, batch []KocScore) error
	WriteRankEntries(ctx context.Context, runID string, batch []RankEntry) error
	WriteCircles(ctx context.Context, runID string, circles []Circle, entries []CircleEntry) error
	// PublishInfluenceRun makes run current and saves its record, in one transaction.
	// NOT_FOUND when the run was never saved.
	PublishInfluenceRun(ctx context.Context, run InfluenceRun) error
	// PruneInfluenceRuns removes up to limit written items (scores, entries, circles) of
	// runs other than the current one and the latest one while it is RUNNING, and
	// returns how many it removed: 0 when nothing is left to remove.
	PruneInfluenceRuns(ctx context.Context, limit int) (int, error)

	// MemberInfluence returns the current run's scores of the given members; members
	// without scores are absent.
	MemberInfluence(ctx context.Context, memberIDs []string) (map[string]MemberInfluence, error)
	// KocScores returns the current run's KOC scores for brandID of the given members.
	KocScores(ctx context.Context, brandID string, memberIDs []string) (map[string]KocScore, error)
	// Influencers returns a page of a ranking of the current run, served from an index:
	// its cost does not grow with the ranking's length, except for members that
	// q.ConsentBrand filters out.
	Influencers(ctx context.Context, q InfluencerQuery) (InfluencerPage, error)
	// CirclesByID returns the current run's circles with the given ids.
	CirclesByID(ctx context.Context, ids []string) (map[string]Circle, error)
	// Circles returns a page of the circles of a scope of the current run.
	Circles(ctx context.Context, q CircleQuery) (CirclePage, error)

	// KocWeights returns the weights the given brands set; brands that set none are absent.
	KocWeights(ctx context.Context, brandIDs []string) (map[string]KocWeights, error)
	// SetKocWeights sets a brand's weights. NOT_FOUND for an unknown brand.
	SetKocWeights(ctx context.Context, brandID string, w KocWeights) error
}

// String describes a run for logs.
func (r InfluenceRun) String() string {
	return fmt.Sprintf("influence run %s (%s, %d members, %d edges)", r.ID, r.State, r.Members, r.Edges)
}
