package resolvers

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"quanzi/community"
	"quanzi/graph/model"
)

// batchWait is how long a loader waits for more keys before it calls the store: long
// enough for gqlgen to resolve the sibling fields of a list, short against a round trip.
const batchWait = 100 * time.Microsecond

// Loader is a dataloader with the batch function it loads through, so that a list that
// primes it for its items (see primeKeys) fetches exactly as the loader would, and with
// how it takes what a mutation returned (see newLoader). What the request has read through
// it, primed or batched, it holds for Get to answer at once: a list of a hundred items
// reads its hundred values from a map, not through a hundred dataloader thunks.
type Loader[K comparable, V any] struct {
	batch *dataloader.Loader[K, V]
	fetch func(context.Context, []K) ([]V, []error)
	id    func(V) K

	heldMu sync.RWMutex
	held   map[K]result[V]

	mu sync.Mutex
	// primed are the keys a list has fetched or is fetching for its items (see primeKeys),
	// until the loader is reset.
	primed map[K]struct{}
	// fetched, for a loader whose fetches are shared (see shared), holds each key's fetch,
	// done or under way, until the loader is reset.
	fetched map[K]*fetchOf[V]
}

// result is a key's value, or why it has none.
type result[V any] struct {
	value V
	err   error
}

// Get returns the value of key: the one the request holds already, or one read in the
// loader's next batch, with the keys that other fields ask for meanwhile.
func (l *Loader[K, V]) Get(ctx context.Context, key K) (V, error) {
	l.heldMu.RLock()
	r, ok := l.held[key]
	l.heldMu.RUnlock()
	if ok {
		return r.value, r.err
	}
	return l.batch.Load(ctx, key)()
}

// GetMany returns the values of keys, in order, as Get does: those not held are read in
// one batch.
func (l *Loader[K, V]) GetMany(ctx context.Context, keys []K) ([]V, []error) {
	values, errs := make([]V, len(keys)), make([]error, len(keys))
	var missing []K
	var at []int
	l.heldMu.RLock()
	for i, k := range keys {
		if r, ok := l.held[k]; ok {
			values[i], errs[i] = r.value, r.err
		} else {
			missing, at = append(missing, k), append(at, i)
		}
	}
	l.heldMu.RUnlock()
	if len(missing) > 0 {
		read, readErrs := l.batch.LoadMany(ctx, missing)()
		for j, i := range at {
			values[i] = read[j]
			if readErrs != nil {
				errs[i] = readErrs[j]
			}
		}
	}
	return values, errs
}

// hold keeps what a fetch read for keys, for Get; a nil errs means no key failed. With
// valuesOnly, the keys that failed are not held: the loader's own batch reads them again
// and reports their errors.
func (l *Loader[K, V]) hold(keys []K, values []V, errs []error, valuesOnly bool) {
	l.heldMu.Lock()
	defer l.heldMu.Unlock()
	for i, k := range keys {
		var err error
		if errs != nil {
			err = errs[i]
		}
		if err != nil && valuesOnly {
			continue
		}
		if _, ok := l.held[k]; !ok {
			l.held[k] = result[V]{values[i], err}
		}
	}
}

// claim marks the keys as primed and returns those that were not, each once.
func (l *Loader[K, V]) claim(keys []K) []K {
	l.mu.Lock()
	defer l.mu.Unlock()
	var fresh []K
	for _, k := range keys {
		if _, ok := l.primed[k]; !ok {
			l.primed[k] = struct{}{}
			fresh = append(fresh, k)
		}
	}
	return fresh
}

// shared makes the loader's fetches shared: a key is fetched once, whether the loader's
// own batch or a list that primes the loader (see primeKeys) asks for it first, and
// whether the other asks during that fetch or after it. Two paths to one club, such as
// club(slug) and _entities, ask for its pages of members and posts one way each: a page,
// a HOT one above all, is read once.
func shared[K comparable, V any](l *Loader[K, V]) *Loader[K, V] {
	l.fetched = map[K]*fetchOf[V]{}
	return l
}

// fetchOf is one key's fetch: its value or error once done is closed.
type fetchOf[V any] struct {
	done  chan struct{}
	value V
	err   error
}

// load fetches the keys through the batch function. A shared loader fetches, in one call,
// the keys that no fetch has read or is reading yet, and waits for the others' fetches.
func (l *Loader[K, V]) load(ctx context.Context, keys []K) ([]V, []error) {
	if l.fetched == nil {
		return l.fetch(ctx, keys)
	}
	l.mu.Lock()
	calls := make([]*fetchOf[V], len(keys))
	var fresh []K
	var own []*fetchOf[V]
	for i, k := range keys {
		c, ok := l.fetched[k]
		if !ok {
			c = &fetchOf[V]{done: make(chan struct{})}
			l.fetched[k] = c
			fresh = append(fresh, k)
			own = append(own, c)
		}
		calls[i] = c
	}
	l.mu.Unlock()
	if len(fresh) > 0 {
		defer func() {
			// A fetch that panicked fails its keys, so that nobody waits for them forever.
			for _, c := range own {
				select {
				case <-c.done:
				default:
					c.err = community.Errorf(community.CodeInternal, "the fetch of a batch failed")
					close(c.done)
				}
			}
		}()
		values, errs := l.fetch(ctx, fresh)
		for j, c := range own {
			c.value = values[j]
			if errs != nil {
				c.err = errs[j]
			}
			close(c.done)
		}
	}
	values, errs := make([]V, len(keys)), make([]error, len(keys))
	for i, c := range calls {
		<-c.done
		values[i], errs[i] = c.value, c.err
	}
	return values, errs
}

// resetter is a Loader of any type, as Loaders resets them all.
type resetter interface {
	reset(returned []any)
}

// reset forgets what the loader holds and primes it with the values of its type among
// returned, each under its id; a loader without id takes none.
func (l *Loader[K, V]) reset(returned []any) {
	l.batch.ClearAll()
	l.mu.Lock()
	clear(l.fetched)
	clear(l.primed)
	l.mu.Unlock()
	l.heldMu.Lock()
	defer l.heldMu.Unlock()
	clear(l.held)
	if l.id == nil {
		return
	}
	for _, r := range returned {
		if v, ok := r.(V); ok {
			l.held[l.id(v)] = result[V]{value: v}
		}
	}
}

// Loaders batches the by-id lookups of one request, so a list costs a fixed number of
// store round trips whatever its length. A Loaders serves one request only: it caches.
type Loaders struct {
	Members      *Loader[string, *community.Member]
	FollowCounts *Loader[string, community.FollowCounts]
	FollowStates *Loader[string, community.FollowState]
	Identities   *Loader[string, []community.Identity]
	Lists        *Loader[community.ListKey, community.FollowList]
	Suggestions  *Loader[community.SuggestionKey, []community.Suggestion]

	Brands            *Loader[string, *community.Brand]
	BrandMemberCounts *Loader[string, int]
	Partnerships      *Loader[string, []community.Partnership]
	Memberships       *Loader[string, []community.BrandMembership]
	Consents          *Loader[string, []community.Consent]
	// RuleConsents are members' consents to the caller's brand, for field rules.
	RuleConsents *Loader[string, []community.Consent]
	Purchases    *Loader[community.PurchaseKey, []community.Purchase]
	// PointsHistory are pages of members' points history in a brand.
	PointsHistory *Loader[community.PointsKey, community.PointsList]

	// Referrals are members' referrals, as the caller may read them.
	Referrals *Loader[string, *community.Referral]
	// Chains are members' uplines, as the caller may read them.
	Chains    *Loader[community.ChainKey, []community.ChainLink]
	Campaigns *Loader[string, *community.ReferralCampaign]
	// Rewards are pages of members' rewards, as the caller may read them.
	Rewards *Loader[community.RewardKey, community.RewardList]
	// Downlines are pages of levels of members' downlines; ReferralStats their kept
	// figures.
	Downlines     *Loader[community.DownlineKey, community.DownlineList]
	ReferralStats *Loader[string, community.ReferralStats]

	Clubs             *Loader[string, *community.Club]
	BrandClubs        *Loader[string, []community.Club]
	ClubMemberCounts  *Loader[string, int]
	ViewerMemberships *Loader[string, *community.ClubMembership]
	// ClubMembers are pages of clubs' members, of one role or all.
	ClubMembers *Loader[community.ClubMembersKey, community.ClubMemberList]

	Posts           *Loader[string, *community.Post]
	Comments        *Loader[community.CommentKey, community.CommentList]
	ViewerReactions *Loader[string, []community.ReactionKind]
	// ClubPosts are pages of clubs' posts: a request that asks for the same page twice
	// (under aliases, or through two paths to one club) ranks and reads it once.
	ClubPosts *Loader[community.ClubPostsKey, community.PostList]

	// all are the loaders above, for Mutated and ClearAll.
	all []resetter
}

// NewLoaders returns the loaders of one request over the service's batch functions. A
// loader of entities by id says how to find an entity's id, so that a mutation that returns
// one primes it: the entity is read as it was written, without another round trip.
func NewLoaders(svc community.Services) *Loaders {
	l := &Loaders{}
	l.Members = newLoader(l, svc.Members.MembersByID, func(m *community.Member) string { return m.ID })
	l.FollowCounts = newLoader(l, svc.Members.FollowCounts, nil)
	l.FollowStates = newLoader(l, svc.Members.FollowStates, nil)
	l.Identities = newLoader(l, svc.Members.Identities, nil)
	l.Lists = newLoader(l, svc.Members.FollowLists, nil)
	l.Suggestions = newLoader(l, svc.Members.SuggestedFollows, nil)

	l.Brands = newLoader(l, svc.Brands.BrandsByID, func(b *community.Brand) string { return b.ID })
	l.BrandMemberCounts = newLoader(l, svc.Brands.BrandMemberCounts, nil)
	l.Partnerships = newLoader(l, svc.Brands.Partnerships, nil)
	l.Memberships = newLoader(l, svc.Brands.Memberships, nil)
	l.Consents = newLoader(l, svc.Brands.Consents, nil)
	l.RuleConsents = newLoader(l, svc.Brands.ConsentsForRule, nil)
	l.Purchases = newLoader(l, svc.Brands.Purchases, nil)
	l.PointsHistory = newLoader(l, svc.Brands.PointsHistory, nil)

	l.Referrals = newLoader(l, svc.Referrals.ReferralsOf, nil)
	l.Chains = newLoader(l, svc.Referrals.ReferralChains, nil)
	l.Campaigns = newLoader(l, svc.Referrals.CampaignsByID, func(c *community.ReferralCampaign) string { return c.ID })
	l.Rewards = newLoader(l, svc.Referrals.Rewards, nil)
	l.Downlines = newLoader(l, svc.Referrals.Downlines, nil)
	l.ReferralStats = newLoader(l, svc.Referrals.ReferralStats, nil)

	l.Clubs = newLoader(l, svc.Clubs.ClubsByID, func(c *community.Club) string { return c.ID })
	l.BrandClubs = newLoader(l, svc.Clubs.ClubsOfBrands, nil)
	l.ClubMemberCounts = newLoader(l, svc.Clubs.ClubMemberCounts, nil)
	// Not primed from a returned membership: this loader holds the caller's own, and a
	// mutation may return another member's.
	l.ViewerMemberships = newLoader(l, svc.Clubs.ViewerMemberships, nil)
	l.ClubMembers = shared(newLoader(l, svc.Clubs.ClubMemberPages, nil))

	l.Posts = newLoader(l, svc.Posts.PostsByID, func(p *community.Post) string { return p.ID })
	l.Comments = newLoader(l, svc.Posts.Comments, nil)
	l.ViewerReactions = newLoader(l, svc.Posts.ViewerReactions, nil)
	l.ClubPosts = shared(newLoader(l, svc.Posts.ClubPostPages, nil))
	return l
}

// newLoader returns a loader of l over fetch. id, when given, finds the key of a value:
// after a mutation, each value of the loader's type that the mutation returned is primed
// under its key. Loaders of anything but whole entities by id take none.
func newLoader[K comparable, V any](l *Loaders, fetch func(context.Context, []K) ([]V, []error), id func(V) K) *Loader[K, V] {
	loader := &Loader[K, V]{fetch: fetch, id: id, held: map[K]result[V]{}, primed: map[K]struct{}{}}
	batch := func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		values, errs := loader.load(ctx, keys)
		loader.hold(keys, values, errs, false)
		out := make([]*dataloader.Result[V], len(keys))
		for i := range keys {
			out[i] = &dataloader.Result[V]{Data: values[i]}
			if errs != nil {
				out[i].Error = errs[i]
			}
		}
		return out
	}
	loader.batch = dataloader.NewBatchedLoader(batch, dataloader.WithWait[K, V](batchWait), dataloader.WithBatchCapacity[K, V](1000))
	l.all = append(l.all, loader)
	return loader
}

// ClearAll forgets everything loaded, so that what the request reads next is read anew.
func (l *Loaders) ClearAll() {
	l.reset(nil)
}

// Mutated is called after a mutation has written: the loaders forget everything loaded
// before, and take the entities that payload (the mutation's result) carries.
func (l *Loaders) Mutated(payload any) {
	l.reset(carried(payload))
}

func (l *Loaders) reset(returned []any) {
	for _, loader := range l.all {
		loader.reset(returned)
	}
}

type loadersKey struct{}

// WithLoaders is HTTP middleware that gives each request its own Loaders.
func WithLoaders(svc community.Services, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(community.WithRequestMemo(r.Context()), loadersKey{}, NewLoaders(svc))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requestLoaders returns the loaders of the request in ctx, if it has them.
func requestLoaders(ctx context.Context) (*Loaders, bool) {
	l, ok := ctx.Value(loadersKey{}).(*Loaders)
	return l, ok
}

// loadersFor returns the request's loaders; a request without them (a subscription or a
// test that skipped the middleware) gets fresh ones, which still batch within the call.
func (r *Resolver) loadersFor(ctx context.Context) *Loaders {
	if l, ok := requestLoaders(ctx); ok {
		return l
	}
	return NewLoaders(r.Services)
}

// member loads a member by id through the request's loader.
func (r *Resolver) member(ctx context.Context, id string) (*community.Member, error) {
	return r.loadersFor(ctx).Members.Get(ctx, id)
}

// existingMember loads a member that another record refers to; one that is not there, or
// that the caller may not know of (community.CanSeeMember), is NOT_FOUND, and the error
// does not repeat the id it hides.
func (r *Resolver) existingMember(ctx context.Context, id string) (*community.Member, error) {
	m, err := r.loadersFor(ctx).Members.Get(ctx, id)
	if err == nil && m == nil {
		err = community.Errorf(community.CodeNotFound, "no such member")
	}
	return m, err
}

// existing loads through a loader an entity that another record refers to; one that is
// not there is NOT_FOUND (what names its kind).
func existing[T any](ctx context.Context, l *Loader[string, *T], id, what string) (*T, error) {
	v, err := l.Get(ctx, id)
	if err == nil && v == nil {
		err = community.Errorf(community.CodeNotFound, "no %s %q", what, id)
	}
	return v, err
}

// existingBrand loads a brand that another record refers to (see existing).
func (r *Resolver) existingBrand(ctx context.Context, id string) (*community.Brand, error) {
	return existing(ctx, r.loadersFor(ctx).Brands, id, "brand")
}

// existingClub loads a club that another record refers to (see existing).
func (r *Resolver) existingClub(ctx context.Context, id string) (*community.Club, error) {
	return existing(ctx, r.loadersFor(ctx).Clubs, id, "club")
}

// existingPost loads a post that another record refers to (see existing).
func (r *Resolver) existingPost(ctx context.Context, id string) (*community.Post, error) {
	return existing(ctx, r.loadersFor(ctx).Posts, id, "post")
}

// page loads one page of a member's list through the request's loader and, when the query
// selects its edges, the members they lead to, with what the members' selected fields need
// primed (see prefetchMembers): the edges carry their members, so that gqlgen reads each
// as a field, with no resolver of its own.
func (r *Resolver) page(ctx context.Context, kind community.ListKind, memberID string, first *int, after *string) (*community.FollowList, error) {
	key := community.ListKey{Kind: kind, MemberID: memberID, First: intArg(first, community.DefaultPageSize), After: stringArg(after)}
	l := r.loadersFor(ctx)
	page, err := l.Lists.Get(aheadOf(ctx, "edges", "node"), key)
	if err != nil {
		return nil, err
	}
	if len(page.Edges) == 0 || !selected(ctx, "edges") {
		return &page, nil
	}
	ids := make([]string, len(page.Edges))
	for i, e := range page.Edges {
		ids[i] = e.MemberID
	}
	r.prefetchMembers(ctx, ids, "edges", "node")
	page = page.WithMembers(l.Members.GetMany(ctx, ids))
	return &page, nil
}

// comments loads a page of a post's comments or a comment's replies.
func (r *Resolver) comments(ctx context.Context, parent string, first *int, after *string) (*model.CommentConnection, error) {
	key := community.CommentKey{Parent: parent, First: intArg(first, community.DefaultPageSize), After: stringArg(after)}
	l, err := r.loadersFor(ctx).Comments.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return &model.CommentConnection{Edges: l.Comments, PageInfo: selectedPageInfo(ctx, l.More, l.Comments, community.ListedComment.Cursor, nil)}, nil
}
