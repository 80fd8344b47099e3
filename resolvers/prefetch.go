package resolvers

import (
	"context"
	"slices"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"quanzi/community"
	"quanzi/graph/model"
	"quanzi/search"
)

// A list primes the request's loaders for its items before gqlgen resolves them, from
// the fields its query selects on them: the switches below name, for each field, the
// loader that field reads.

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
	wg.Go(func() { primeKeys(ctx, l, l.Members, ids) })
	if community.ActorFrom(ctx).ActsForBrand() {
		wg.Go(func() { primeKeys(ctx, l, l.RuleConsents, ids) })
	}
	for _, f := range fields {
		switch f.Name {
		case "followerCount", "followingCount":
			wg.Go(func() { primeKeys(ctx, l, l.FollowCounts, ids) })
		case "followsViewer", "followedByViewer":
			wg.Go(func() { primeKeys(ctx, l, l.FollowStates, ids) })
		case "identities":
			wg.Go(func() { primeKeys(ctx, l, l.Identities, ids) })
		case "brandMemberships":
			wg.Go(func() { primeKeys(ctx, l, l.Memberships, ids) })
		case "consents":
			wg.Go(func() { primeKeys(ctx, l, l.Consents, ids) })
		case "purchases":
			brand := stringArg(f.ArgumentMap(op.Variables)["brandId"])
			keys := make([]community.PurchaseKey, len(ids))
			for i, id := range ids {
				keys[i] = community.PurchaseKey{MemberID: id, BrandID: brand}
			}
			wg.Go(func() { primeKeys(ctx, l, l.Purchases, keys) })
		case "followers", "following", "mutualFollows":
			args := f.ArgumentMap(op.Variables)
			keys := make([]community.ListKey, len(ids))
			for i, id := range ids {
				keys[i] = community.ListKey{Kind: listKinds[f.Name], MemberID: id, First: intArg(args["first"], community.DefaultPageSize), After: stringArg(args["after"])}
			}
			wg.Go(func() {
				var nested []string
				for _, page := range primeKeys(ctx, l, l.Lists, keys) {
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
				for _, list := range primeKeys(ctx, l, l.Suggestions, keys) {
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

// primeKeys fetches, in one batch and through the loader's own batch function, the keys of
// a loader that this request has not primed yet, puts their values in the loader's cache
// and returns them; a shared loader's keys that its own batch has read or is reading are
// not fetched again (see shared). Keys whose fetch failed are left for the loader, which
// will report the error.
func primeKeys[K comparable, V any](ctx context.Context, l *Loaders, loader *Loader[K, V], keys []K) []V {
	l.mu.Lock()
	fresh := make([]K, 0, len(keys))
	for _, k := range keys {
		pk := primedKey{loader, k}
		if !l.primed[pk] {
			l.primed[pk] = true
			fresh = append(fresh, k)
		}
	}
	l.mu.Unlock()
	if len(fresh) == 0 {
		return nil
	}
	values, errs := loader.load(ctx, fresh)
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
	loader any // the *Loader
	key    any
}

// listKinds maps the list fields of Member to their kinds.
var listKinds = map[string]community.ListKind{
	"followers":     community.ListFollowers,
	"following":     community.ListFollowing,
	"mutualFollows": community.ListMutual,
}

// clubRoles maps the member list fields of Club to their roles ("" for all).
var clubRoles = map[string]community.ClubRole{
	"members":    "",
	"moderators": community.RoleModerator,
	"managers":   community.RoleManager,
}

// clubMembersKey is the key of a page of a club's members of a role, from its field's
// arguments.
func clubMembersKey(clubID string, role community.ClubRole, first, after any) community.ClubMembersKey {
	return community.ClubMembersKey{ClubID: clubID, Role: role, First: intArg(first, community.DefaultPageSize), After: stringArg(after)}
}

// clubMembers loads a page of a club's members of a role ("" for all) through the
// request's loader, with what the members' selected fields need primed.
func (r *Resolver) clubMembers(ctx context.Context, clubID string, role community.ClubRole, first *int, after *string) (*model.ClubMemberConnection, error) {
	l, err := r.loadersFor(ctx).ClubMembers.Load(ctx, clubMembersKey(clubID, role, first, after))()
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(l.Members))
	for i, m := range l.Members {
		ids[i] = m.MemberID
	}
	r.prefetchMembers(ctx, ids, "edges", "node", "member")
	return &model.ClubMemberConnection{Edges: l.Members, PageInfo: selectedPageInfo(ctx, l.More, l.Members, community.ListedClubMember.Cursor, l.EndCursor)}, nil
}

// clubPostsKey is the key of a page of a club's posts, from its field's arguments, with
// the schema's defaults.
func clubPostsKey(clubID string, first, after any, sort *community.PostSort, window *community.TopWindow) community.ClubPostsKey {
	k := community.ClubPostsKey{ClubID: clubID, Sort: community.SortNew, Window: community.WindowWeek, First: intArg(first, community.DefaultPageSize), After: stringArg(after)}
	if sort != nil {
		k.Sort = *sort
	}
	if window != nil {
		k.Window = *window
	}
	return k
}

// prefetchClubs primes the request's loaders for a list of clubs, given by id, before
// gqlgen resolves them: the pages of their members, moderators and managers (and what the
// members' selected fields need) and of their posts (and what the posts' selected fields
// need), each in one batch for the whole list, so that a list of clubs costs a fixed
// number of store round trips whatever its length (see prefetchMembers).
func (r *Resolver) prefetchClubs(ctx context.Context, ids []string) {
	if len(ids) == 0 || !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return
	}
	op := graphql.GetOperationContext(ctx)
	l := r.loadersFor(ctx)
	var wg sync.WaitGroup
	for _, f := range graphql.CollectFieldsCtx(ctx, []string{"Club"}) {
		switch f.Name {
		case "members", "moderators", "managers":
			args := f.ArgumentMap(op.Variables)
			keys := make([]community.ClubMembersKey, len(ids))
			for i, id := range ids {
				keys[i] = clubMembersKey(id, clubRoles[f.Name], args["first"], args["after"])
			}
			wg.Go(func() {
				var members []string
				for _, page := range primeKeys(ctx, l, l.ClubMembers, keys) {
					for _, m := range page.Members {
						members = append(members, m.MemberID)
					}
				}
				if len(members) > 0 {
					r.primeMembers(ctx, op, selection(op, []graphql.CollectedField{f}, f.Name, "edges", "node", "member"), members)
				}
			})
		case "posts":
			args := f.ArgumentMap(op.Variables)
			var sort *community.PostSort
			if s := stringArg(args["sort"]); s != "" {
				v := community.PostSort(s)
				sort = &v
			}
			var window *community.TopWindow
			if w := stringArg(args["window"]); w != "" {
				v := community.TopWindow(w)
				window = &v
			}
			keys := make([]community.ClubPostsKey, len(ids))
			for i, id := range ids {
				keys[i] = clubPostsKey(id, args["first"], args["after"], sort, window)
			}
			wg.Go(func() {
				var posts []community.Post
				for _, page := range primeKeys(ctx, l, l.ClubPosts, keys) {
					for _, p := range page.Posts {
						posts = append(posts, p.Post)
					}
				}
				r.preparePosts(ctx, posts, f.Name, "edges", "node")
			})
		}
	}
	wg.Wait()
}

// prefetchPosts primes the loaders of a list of posts, given by id, at path below the
// current field (see preparePosts).
func (r *Resolver) prefetchPosts(ctx context.Context, ids []string, path ...string) {
	if len(ids) == 0 || !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return
	}
	l := r.loadersFor(ctx)
	var posts []community.Post
	for _, p := range primeKeys(ctx, l, l.Posts, ids) {
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
			wg.Go(func() { primeKeys(ctx, l, l.Clubs, clubs) })
		case "viewerReactions":
			wg.Go(func() { primeKeys(ctx, l, l.ViewerReactions, ids) })
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
					primeKeys(ctx, l, l.Comments, keys)
					return
				}
				var authors []string
				for _, list := range primeKeys(ctx, l, l.Comments, keys) {
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
		wg.Go(func() { primeKeys(ctx, l, l.Clubs, ids) })
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
