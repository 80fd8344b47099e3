package resolvers

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"

	"quanzi/community"
	"quanzi/graph/model"
	"quanzi/search"
)

// batchWait is how long a loader waits for more keys before it calls the store: long
// enough for gqlgen to resolve the sibling fields of a list, short against a round trip.
const batchWait = 100 * time.Microsecond

// Loaders batches the by-id lookups of one request, so a list costs a fixed number of
// store round trips whatever its length. A Loaders serves one request only: it caches.
type Loaders struct {
	Members      *dataloader.Loader[string, *community.Member]
	FollowCounts *dataloader.Loader[string, community.FollowCounts]
	FollowStates *dataloader.Loader[string, community.FollowState]
	Identities   *dataloader.Loader[string, []community.Identity]
	Lists        *dataloader.Loader[community.ListKey, community.FollowList]
	Suggestions  *dataloader.Loader[community.SuggestionKey, []community.Suggestion]

	Brands            *dataloader.Loader[string, *community.Brand]
	BrandMemberCounts *dataloader.Loader[string, int]
	Partnerships      *dataloader.Loader[string, []community.Partnership]
	Memberships       *dataloader.Loader[string, []community.BrandMembership]
	Consents          *dataloader.Loader[string, []community.Consent]
	// RuleConsents are members' consents to the caller's brand, for field rules.
	RuleConsents *dataloader.Loader[string, []community.Consent]
	Purchases    *dataloader.Loader[community.PurchaseKey, []community.Purchase]

	Clubs             *dataloader.Loader[string, *community.Club]
	BrandClubs        *dataloader.Loader[string, []community.Club]
	ClubMemberCounts  *dataloader.Loader[string, int]
	ViewerMemberships *dataloader.Loader[string, *community.ClubMembership]

	Posts           *dataloader.Loader[string, *community.Post]
	Comments        *dataloader.Loader[community.CommentKey, community.CommentList]
	ViewerReactions *dataloader.Loader[string, []community.ReactionKind]
	// ClubPosts are pages of clubs' posts: a request that asks for the same page twice
	// (under aliases, or through two paths to one club) ranks and reads it once.
	ClubPosts *dataloader.Loader[community.ClubPostsKey, community.PostList]

	mu     sync.Mutex
	primed map[primedKey]bool
}

// NewLoaders returns the loaders of one request over the service's batch functions.
func NewLoaders(svc community.Services) *Loaders {
	return &Loaders{
		Members:      newLoader(svc.Members.MembersByID),
		FollowCounts: newLoader(svc.Members.FollowCounts),
		FollowStates: newLoader(svc.Members.FollowStates),
		Identities:   newLoader(svc.Members.Identities),
		Lists:        newLoader(svc.Members.FollowLists),
		Suggestions:  newLoader(svc.Members.SuggestedFollows),

		Brands:            newLoader(svc.Brands.BrandsByID),
		BrandMemberCounts: newLoader(svc.Brands.BrandMemberCounts),
		Partnerships:      newLoader(svc.Brands.Partnerships),
		Memberships:       newLoader(svc.Brands.Memberships),
		Consents:          newLoader(svc.Brands.Consents),
		RuleConsents:      newLoader(svc.Brands.ConsentsForRule),
		Purchases:         newLoader(svc.Brands.Purchases),
		Clubs:             newLoader(svc.Clubs.ClubsByID),
		BrandClubs:        newLoader(svc.Clubs.ClubsOfBrands),
		ClubMemberCounts:  newLoader(svc.Clubs.ClubMemberCounts),
		ViewerMemberships: newLoader(svc.Clubs.ViewerMemberships),
		Posts:             newLoader(svc.Posts.PostsByID),
		Comments:          newLoader(svc.Posts.Comments),
		ClubPosts:         newLoader(svc.Posts.ClubPostPages),
		ViewerReactions:   newLoader(svc.Posts.ViewerReactions),
		primed:            map[primedKey]bool{},
	}
}

// ClearAll forgets everything loaded: a mutation calls it after it has written, so that
// what the request reads next is read anew.
func (l *Loaders) ClearAll() {
	l.Members.ClearAll()
	l.FollowCounts.ClearAll()
	l.FollowStates.ClearAll()
	l.Identities.ClearAll()
	l.Lists.ClearAll()
	l.Suggestions.ClearAll()
	l.Brands.ClearAll()
	l.BrandMemberCounts.ClearAll()
	l.Partnerships.ClearAll()
	l.Memberships.ClearAll()
	l.Consents.ClearAll()
	l.RuleConsents.ClearAll()
	l.Purchases.ClearAll()
	l.Clubs.ClearAll()
	l.BrandClubs.ClearAll()
	l.ClubMemberCounts.ClearAll()
	l.ViewerMemberships.ClearAll()
	l.Posts.ClearAll()
	l.Comments.ClearAll()
	l.ClubPosts.ClearAll()
	l.ViewerReactions.ClearAll()
	l.mu.Lock()
	clear(l.primed)
	l.mu.Unlock()
}

func newLoader[K comparable, V any](fetch func(context.Context, []K) ([]V, []error)) *dataloader.Loader[K, V] {
	batch := func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		values, errs := fetch(ctx, keys)
		out := make([]*dataloader.Result[V], len(keys))
		for i := range keys {
			out[i] = &dataloader.Result[V]{Data: values[i]}
			if errs != nil {
				out[i].Error = errs[i]
			}
		}
		return out
	}
	return dataloader.NewBatchedLoader(batch, dataloader.WithWait[K, V](batchWait), dataloader.WithBatchCapacity[K, V](1000))
}

type loadersKey struct{}

// WithLoaders is HTTP middleware that gives each request its own Loaders.
func WithLoaders(svc community.Services, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(community.WithRequestMemo(r.Context()), loadersKey{}, NewLoaders(svc))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// loadersFor returns the request's loaders; a request without them (a subscription or a
// test that skipped the middleware) gets fresh ones, which still batch within the call.
func (r *Resolver) loadersFor(ctx context.Context) *Loaders {
	if l, ok := ctx.Value(loadersKey{}).(*Loaders); ok {
		return l
	}
	return NewLoaders(r.Services)
}

// member loads a member by id through the request's loader.
func (r *Resolver) member(ctx context.Context, id string) (*community.Member, error) {
	return r.loadersFor(ctx).Members.Load(ctx, id)()
}

// existingMember loads a member that another record refers to; one that is not there, or
// that the caller may not know of (community.CanSeeMember), is NOT_FOUND, and the error
// does not repeat the id it hides.
func (r *Resolver) existingMember(ctx context.Context, id string) (*community.Member, error) {
	m, err := r.loadersFor(ctx).Members.Load(ctx, id)()
	if err == nil && m == nil {
		err = community.Errorf(community.CodeNotFound, "no such member")
	}
	return m, err
}

// existing loads through a loader an entity that another record refers to; one that is
// not there is NOT_FOUND (what names its kind).
func existing[T any](ctx context.Context, l *dataloader.Loader[string, *T], id, what string) (*T, error) {
	v, err := l.Load(ctx, id)()
	if err == nil && v == nil {
		err = community.Errorf(community.CodeNotFound, "no %s %q", what, id)
	}
	return v, err
}

// prefetchMembers primes the request's loaders for the members of a list, and for the
// lists nested in them, level by level, so that a page costs a fixed number of store round
// trips per level of the query, whatever its length and however the resolvers of its items
// are scheduled (a timed batch can split when the scheduler is slow). The members are the
// objects at path (field names) below the current field; only what their selected fields
// need is fetched, and nothing is fetched twice in a request.
func (r *Resolver) prefetchMembers(ctx context.Context, ids []string, path ...string) {
	if len(ids) == 0 || !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return
	}
	op := graphql.GetOperationContext(ctx)
	r.primeMembers(ctx, op, selection(op, graphql.CollectFieldsCtx(ctx, nil), path...), ids)
}

// selection returns the fields selected at path (field names) below fields.
func selection(op *graphql.OperationContext, fields []graphql.CollectedField, path ...string) []graphql.CollectedField {
	for _, name := range path {
		var next []graphql.CollectedField
		for _, f := range fields {
			if f.Name == name {
				next = append(next, graphql.CollectFields(op, f.Selections, nil)...)
			}
		}
		fields = next
	}
	return fields
}

// primeMembers fetches what fields, selected on each of the members ids, need.
func (r *Resolver) primeMembers(ctx context.Context, op *graphql.OperationContext, fields []graphql.CollectedField, ids []string) {
	l := r.loadersFor(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { primeKeys(ctx, l, "members", l.Members, r.Members.MembersByID, ids) })
	if community.ActorFrom(ctx).ActsForBrand() {
		wg.Go(func() { primeKeys(ctx, l, "rule-consents", l.RuleConsents, r.Brands.ConsentsForRule, ids) })
	}
	for _, f := range fields {
		switch f.Name {
		case "followerCount", "followingCount":
			wg.Go(func() { primeKeys(ctx, l, "counts", l.FollowCounts, r.Members.FollowCounts, ids) })
		case "followsViewer", "followedByViewer":
			wg.Go(func() { primeKeys(ctx, l, "states", l.FollowStates, r.Members.FollowStates, ids) })
		case "identities":
			wg.Go(func() { primeKeys(ctx, l, "identities", l.Identities, r.Members.Identities, ids) })
		case "brandMemberships":
			wg.Go(func() { primeKeys(ctx, l, "memberships", l.Memberships, r.Brands.Memberships, ids) })
		case "consents":
			wg.Go(func() { primeKeys(ctx, l, "consents", l.Consents, r.Brands.Consents, ids) })
		case "purchases":
			brand := stringArg(f.ArgumentMap(op.Variables)["brandId"])
			keys := make([]community.PurchaseKey, len(ids))
			for i, id := range ids {
				keys[i] = community.PurchaseKey{MemberID: id, BrandID: brand}
			}
			wg.Go(func() { primeKeys(ctx, l, "purchases", l.Purchases, r.Brands.Purchases, keys) })
		case "followers", "following", "mutualFollows":
			args := f.ArgumentMap(op.Variables)
			keys := make([]community.ListKey, len(ids))
			for i, id := range ids {
				keys[i] = community.ListKey{Kind: listKinds[f.Name], MemberID: id, First: intArg(args["first"], community.DefaultPageSize), After: stringArg(args["after"])}
			}
			wg.Go(func() {
				var nested []string
				for _, page := range primeKeys(ctx, l, "lists", l.Lists, r.Members.FollowLists, keys) {
					for _, e := range page.Edges {
						nested = append(nested, e.MemberID)
					}
				}
				if len(nested) > 0 {
					r.primeMembers(ctx, op, selection(op, []graphql.CollectedField{f}, f.Name, "edges", "node"), nested)
				}
			})
		case "suggestedFollows":
			first := intArg(f.ArgumentMap(op.Variables)["first"], community.DefaultSuggestions)
			keys := make([]community.SuggestionKey, len(ids))
			for i, id := range ids {
				keys[i] = community.SuggestionKey{MemberID: id, First: first}
			}
			wg.Go(func() {
				var nested []string
				for _, list := range primeKeys(ctx, l, "suggestions", l.Suggestions, r.Members.SuggestedFollows, keys) {
					for _, s := range list {
						nested = append(nested, s.MemberID)
					}
				}
				if len(nested) > 0 {
					r.primeMembers(ctx, op, selection(op, []graphql.CollectedField{f}, f.Name, "member"), nested)
				}
			})
		}
	}
	wg.Wait()
}

// primeKeys fetches, in one batch, the keys of a loader that this request has not primed
// yet, puts their values in the loader's cache and returns them. Keys whose fetch failed
// are left for the loader, which will report the error.
func primeKeys[K comparable, V any](ctx context.Context, l *Loaders, name string, loader *dataloader.Loader[K, V], fetch func(context.Context, []K) ([]V, []error), keys []K) []V {
	l.mu.Lock()
	fresh := make([]K, 0, len(keys))
	for _, k := range keys {
		pk := primedKey{name, k}
		if !l.primed[pk] {
			l.primed[pk] = true
			fresh = append(fresh, k)
		}
	}
	l.mu.Unlock()
	if len(fresh) == 0 {
		return nil
	}
	values, errs := fetch(ctx, fresh)
	out := make([]V, 0, len(fresh))
	for i, k := range fresh {
		if errs == nil || errs[i] == nil {
			loader.Prime(ctx, k, values[i])
			out = append(out, values[i])
		}
	}
	return out
}

// primedKey names a key primed in one of the request's loaders.
type primedKey struct {
	loader string
	key    any
}

// listKinds maps the list fields of Member to their kinds.
var listKinds = map[string]community.ListKind{
	"followers":     community.ListFollowers,
	"following":     community.ListFollowing,
	"mutualFollows": community.ListMutual,
}

// intArg reads an Int argument, or def when it is null or absent.
func intArg(v any, def int) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case *int:
		if n != nil {
			return *n
		}
	}
	return def
}

// stringArg reads a String argument, or "" when it is null or absent.
func stringArg(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case *string:
		if s != nil {
			return *s
		}
	}
	return ""
}

// page loads one page of a member's list through the request's loader.
func (r *Resolver) page(ctx context.Context, kind community.ListKind, memberID string, first *int, after *string) (*community.FollowList, error) {
	key := community.ListKey{Kind: kind, MemberID: memberID, First: intArg(first, community.DefaultPageSize), After: stringArg(after)}
	l, err := r.loadersFor(ctx).Lists.Load(ctx, key)()
	return &l, err
}

// wrote is called by a mutation after its write: it forgets what the request has loaded.
func (r *Resolver) wrote(ctx context.Context) {
	r.loadersFor(ctx).ClearAll()
	if r.Wrote != nil {
		r.Wrote()
	}
}

// existingBrand loads a brand that another record refers to (see existing).
func (r *Resolver) existingBrand(ctx context.Context, id string) (*community.Brand, error) {
	return existing(ctx, r.loadersFor(ctx).Brands, id, "brand")
}

// ConsentRule is the @consent directive: a field of a member's profile, contact details or
// activity resolves only when community.CanRead lets the caller read that scope of that
// member; otherwise the field is null with the rule's error.
func (r *Resolver) ConsentRule(ctx context.Context, obj any, next graphql.Resolver, scope community.ConsentScope) (any, error) {
	m, ok := obj.(*community.Member)
	if !ok {
		return nil, community.Errorf(community.CodeInternal, "@consent on a field of %T", obj)
	}
	a := community.ActorFrom(ctx)
	var consents []community.Consent
	if community.NeedsConsent(a, m.ID) {
		var err error
		if consents, err = r.loadersFor(ctx).RuleConsents.Load(ctx, m.ID)(); err != nil {
			return nil, err
		}
	}
	if err := community.CanRead(a, m.ID, scope, consents); err != nil {
		return nil, err
	}
	return next(ctx)
}

// partnershipPayload is the payload of the partnership mutations: both brands, read anew.
func (r *Resolver) partnershipPayload(ctx context.Context, in model.PartnerInput) (*model.PartnershipPayload, error) {
	r.wrote(ctx)
	brand, err := r.existingBrand(ctx, in.BrandID)
	if err != nil {
		return nil, err
	}
	partner, err := r.existingBrand(ctx, in.PartnerBrandID)
	if err != nil {
		return nil, err
	}
	return &model.PartnershipPayload{Brand: brand, Partner: partner}, nil
}

// existingClub loads a club that another record refers to (see existing).
func (r *Resolver) existingClub(ctx context.Context, id string) (*community.Club, error) {
	return existing(ctx, r.loadersFor(ctx).Clubs, id, "club")
}

// clubMembers loads a page of a club's members of a role ("" for all), with what the
// members' selected fields need primed.
func (r *Resolver) clubMembers(ctx context.Context, clubID string, role community.ClubRole, first *int, after *string) (*model.ClubMemberConnection, error) {
	ms, more, err := r.Clubs.ClubMembers(ctx, clubID, role, intArg(first, community.DefaultPageSize), stringArg(after))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.MemberID
	}
	r.prefetchMembers(ctx, ids, "edges", "node", "member")
	return &model.ClubMemberConnection{Edges: ms, PageInfo: pageInfo(more, ms, func(m community.ListedClubMember) string { return m.Cursor })}, nil
}

// decide approves or rejects a join request.
func (r *Resolver) decide(ctx context.Context, in model.JoinRequestDecisionInput, approve bool) (*model.JoinRequestDecisionPayload, error) {
	if err := r.Clubs.DecideJoinRequest(ctx, in.ClubID, in.MemberID, approve); err != nil {
		return nil, err
	}
	r.wrote(ctx)
	c, err := r.existingClub(ctx, in.ClubID)
	if err != nil {
		return nil, err
	}
	return &model.JoinRequestDecisionPayload{Club: c}, nil
}

// existingPost loads a post that another record refers to (see existing).
func (r *Resolver) existingPost(ctx context.Context, id string) (*community.Post, error) {
	return existing(ctx, r.loadersFor(ctx).Posts, id, "post")
}

// prefetchPosts primes the loaders of a list of posts, given by id, at path below the
// current field (see preparePosts).
func (r *Resolver) prefetchPosts(ctx context.Context, ids []string, path ...string) {
	if len(ids) == 0 || !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return
	}
	l := r.loadersFor(ctx)
	var posts []community.Post
	for _, p := range primeKeys(ctx, l, "posts", l.Posts, r.Posts.PostsByID, ids) {
		if p != nil {
			posts = append(posts, *p)
		}
	}
	r.preparePosts(ctx, posts, path...)
}

// preparePosts primes what the selected fields of a list of posts at path below the
// current field need: their authors (and what the authors' selected fields need), their
// clubs, the viewer's reactions and their first comments, so that a page of posts costs
// a fixed number of round trips.
func (r *Resolver) preparePosts(ctx context.Context, posts []community.Post, path ...string) {
	if len(posts) == 0 || !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return
	}
	op := graphql.GetOperationContext(ctx)
	fields := selection(op, graphql.CollectFieldsCtx(ctx, nil), path...)
	l := r.loadersFor(ctx)
	ids := make([]string, len(posts))
	authors := make([]string, len(posts))
	clubs := make([]string, len(posts))
	for i, p := range posts {
		ids[i], authors[i], clubs[i] = p.ID, p.AuthorID, p.ClubID
	}
	var wg sync.WaitGroup
	for _, f := range fields {
		switch f.Name {
		case "author":
			wg.Go(func() { r.primeMembers(ctx, op, selection(op, []graphql.CollectedField{f}, f.Name), authors) })
		case "club":
			wg.Go(func() { primeKeys(ctx, l, "clubs", l.Clubs, r.Clubs.ClubsByID, clubs) })
		case "viewerReactions":
			wg.Go(func() { primeKeys(ctx, l, "viewer-reactions", l.ViewerReactions, r.Posts.ViewerReactions, ids) })
		case "comments":
			args := f.ArgumentMap(op.Variables)
			keys := make([]community.CommentKey, len(ids))
			for i, id := range ids {
				keys[i] = community.CommentKey{Parent: id, First: intArg(args["first"], community.DefaultPageSize), After: stringArg(args["after"])}
			}
			wg.Go(func() {
				// Then the comments' authors, as a list of members primes its members.
				nodes := selection(op, []graphql.CollectedField{f}, f.Name, "edges", "node")
				if !slices.ContainsFunc(nodes, func(n graphql.CollectedField) bool { return n.Name == "author" }) {
					primeKeys(ctx, l, "comments", l.Comments, r.Posts.Comments, keys)
					return
				}
				var authors []string
				for _, list := range primeKeys(ctx, l, "comments", l.Comments, r.Posts.Comments, keys) {
					for _, c := range list.Comments {
						authors = append(authors, c.AuthorID)
					}
				}
				r.primeMembers(ctx, op, selection(op, []graphql.CollectedField{f}, f.Name, "edges", "node", "author"), authors)
			})
		}
	}
	wg.Wait()
}

// comments loads a page of a post's comments or a comment's replies.
func (r *Resolver) comments(ctx context.Context, parent string, first *int, after *string) (*model.CommentConnection, error) {
	key := community.CommentKey{Parent: parent, First: intArg(first, community.DefaultPageSize), After: stringArg(after)}
	l, err := r.loadersFor(ctx).Comments.Load(ctx, key)()
	if err != nil {
		return nil, err
	}
	return &model.CommentConnection{Edges: l.Comments, PageInfo: pageInfo(l.More, l.Comments, func(c community.ListedComment) string { return c.Cursor })}, nil
}

// postPayload is the payload of the post mutations: the post as the service returned it.
func (r *Resolver) postPayload(ctx context.Context, p community.Post, err error) (*model.PostPayload, error) {
	if err != nil {
		return nil, err
	}
	r.wrote(ctx)
	return &model.PostPayload{Post: &p}, nil
}

// commentPayload is the payload of the comment mutations.
func (r *Resolver) commentPayload(ctx context.Context, c community.Comment, err error) (*model.CommentPayload, error) {
	if err != nil {
		return nil, err
	}
	r.wrote(ctx)
	return &model.CommentPayload{Comment: &c}, nil
}

// reactionCounts lists a target's reactions in ReactionKinds order, kinds with none left out.
func reactionCounts(counts map[community.ReactionKind]int) []model.ReactionCount {
	out := []model.ReactionCount{}
	for _, k := range community.ReactionKinds {
		if n := counts[k]; n > 0 {
			out = append(out, model.ReactionCount{Kind: k, Count: n})
		}
	}
	return out
}

// prepareSearchPage primes the loaders for a page of search hits: the posts it carries,
// what their selected fields need, and the clubs of the club facet.
func (r *Resolver) prepareSearchPage(ctx context.Context, page search.PostPage) {
	if !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return
	}
	l := r.loadersFor(ctx)
	posts := make([]community.Post, len(page.Hits))
	for i, h := range page.Hits {
		posts[i] = h.Post
		l.Posts.Prime(ctx, h.Post.ID, &posts[i])
	}
	var wg sync.WaitGroup
	wg.Go(func() { r.preparePosts(ctx, posts, "edges", "node") })
	if len(page.Clubs) > 0 && len(selection(graphql.GetOperationContext(ctx), graphql.CollectFieldsCtx(ctx, nil), "facets", "clubs", "club")) > 0 {
		ids := make([]string, len(page.Clubs))
		for i, f := range page.Clubs {
			ids[i] = f.Value
		}
		wg.Go(func() { primeKeys(ctx, l, "clubs", l.Clubs, r.Clubs.ClubsByID, ids) })
	}
	wg.Wait()
}

// selected reports whether the current field's selection holds a field of the given name,
// so that a resolver can skip work for what the client did not ask for.
func selected(ctx context.Context, name string) bool {
	if !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return true
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == name {
			return true
		}
	}
	return false
}
