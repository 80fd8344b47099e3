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
	var fetches fetches
	prime(ctx, &fetches, l.Members, ids, nil)
	if community.ActorFrom(ctx).ActsForBrand() {
		prime(ctx, &fetches, l.RuleConsents, ids, nil)
	}
	for _, f := range fields {
		switch f.Name {
		case "followerCount", "followingCount":
			prime(ctx, &fetches, l.FollowCounts, ids, nil)
		case "followsViewer", "followedByViewer":
			prime(ctx, &fetches, l.FollowStates, ids, nil)
		case "identities":
			prime(ctx, &fetches, l.Identities, ids, nil)
		case "brandMemberships":
			prime(ctx, &fetches, l.Memberships, ids, nil)
		case "consents":
			prime(ctx, &fetches, l.Consents, ids, nil)
		case "purchases":
			brand := stringArg(f.ArgumentMap(op.Variables)["brandId"])
			keys := make([]community.PurchaseKey, len(ids))
			for i, id := range ids {
				keys[i] = community.PurchaseKey{MemberID: id, BrandID: brand}
			}
			prime(ctx, &fetches, l.Purchases, keys, nil)
		case "followers", "following", "mutualFollows":
			args := f.ArgumentMap(op.Variables)
			keys := make([]community.ListKey, len(ids))
			for i, id := range ids {
				keys[i] = community.ListKey{Kind: listKinds[f.Name], MemberID: id, First: intArg(args["first"], community.DefaultPageSize), After: stringArg(args["after"])}
			}
			below := selection(op, []graphql.CollectedField{f}, f.Name, "edges", "node")
			prime(community.WithReadAhead(ctx, readAheadFor(below)), &fetches, l.Lists, keys, func(pages []community.FollowList) {
				var nested []string
				for _, page := range pages {
					for _, e := range page.Edges {
						nested = append(nested, e.MemberID)
					}
				}
				if len(nested) > 0 {
					r.primeMembers(ctx, op, below, nested)
				}
			})
		case "referralStats":
			prime(ctx, &fetches, l.ReferralStats, ids, nil)
		case "referrals":
			args := f.ArgumentMap(op.Variables)
			keys := make([]community.DownlineKey, len(ids))
			for i, id := range ids {
				keys[i] = downlineKey(id, args["level"], args["first"], args["after"])
			}
			below := selection(op, []graphql.CollectedField{f}, f.Name, "edges", "node")
			prime(ctx, &fetches, l.Downlines, keys, func(pages []community.DownlineList) {
				var nested []string
				for _, page := range pages {
					for _, e := range page.ListedEdges() {
						nested = append(nested, e.MemberID)
					}
				}
				if len(nested) > 0 && len(below) > 0 {
					r.primeMembers(ctx, op, below, nested)
				}
			})
		case "suggestedFollows":
			first := intArg(f.ArgumentMap(op.Variables)["first"], community.DefaultSuggestions)
			keys := make([]community.SuggestionKey, len(ids))
			for i, id := range ids {
				keys[i] = community.SuggestionKey{MemberID: id, First: first}
			}
			prime(ctx, &fetches, l.Suggestions, keys, func(lists [][]community.Suggestion) {
				var nested []string
				for _, list := range lists {
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
	fetches.run()
}

// fetches are the fetches that priming a list needs, run together (see run).
type fetches []func()

// run runs the fetches, at once when there are several, and returns when all are done. A
// list whose items were primed before, by the list above it, needs none and starts no
// goroutine.
func (fs fetches) run() {
	switch len(fs) {
	case 0:
	case 1:
		fs[0]()
	default:
		var wg sync.WaitGroup
		for _, f := range fs[1:] {
			wg.Go(f)
		}
		fs[0]()
		wg.Wait()
	}
}

// prime adds to fs the fetch of the keys of a loader that this request has not primed
// yet, if any, and then calls then, when given, with the values it read (see primeKeys).
func prime[K comparable, V any](ctx context.Context, fs *fetches, loader *Loader[K, V], keys []K, then func([]V)) {
	fresh := loader.claim(keys)
	if len(fresh) == 0 {
		return
	}
	*fs = append(*fs, func() {
		values := fetchPrimed(ctx, loader, fresh)
		if then != nil {
			then(values)
		}
	})
}

// readAheadFor is what a read of members, or of a page of them, may read ahead for the
// fields selected on them (see community.ReadAhead): the members themselves when any
// field is selected, and their follow counts when one is.
func readAheadFor(fields []graphql.CollectedField) community.ReadAhead {
	ra := community.ReadAhead{Members: len(fields) > 0}
	for _, f := range fields {
		switch f.Name {
		case "followerCount", "followingCount":
			ra.FollowCounts = true
		}
	}
	return ra
}

// aheadOf is ctx with what the read of a page that the current field returns may read
// ahead for the fields selected on its members, at path (field names) below the field
// (see readAheadFor). The hint is for that read only.
func aheadOf(ctx context.Context, path ...string) context.Context {
	if !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return ctx
	}
	return community.WithReadAhead(ctx, readAheadFor(selection(graphql.GetOperationContext(ctx), graphql.CollectFieldsCtx(ctx, nil), path...)))
}

// readingAhead is ctx with what the read of the member that the current field returns may
// read ahead for the fields selected on it: its follow counts, and the first page of its
// followers and of its followings, with what is selected on the members they list. A
// page is read ahead only where the services would read it: not after a cursor, and not
// larger than a page may be.
func readingAhead(ctx context.Context) context.Context {
	if !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return ctx
	}
	op := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFieldsCtx(ctx, nil)
	ra := community.ReadAhead{FollowCounts: readAheadFor(fields).FollowCounts}
	for _, f := range fields {
		var page *community.PageAhead
		switch f.Name {
		case "followers":
			page = &ra.Followers
		case "following":
			page = &ra.Following
		default:
			continue
		}
		args := f.ArgumentMap(op.Variables)
		first := intArg(args["first"], community.DefaultPageSize)
		if page.First > 0 || stringArg(args["after"]) != "" || first <= 0 || first > community.MaxPageSize {
			continue
		}
		below := readAheadFor(selection(op, []graphql.CollectedField{f}, f.Name, "edges", "node"))
		*page = community.PageAhead{First: first, Members: below.Members, FollowCounts: below.FollowCounts}
	}
	return community.WithReadAhead(ctx, ra)
}

// primeKeys fetches, in one batch and through the loader's own batch function, the keys of
// a loader that this request has not primed yet, holds their values for Get and returns
// them; a shared loader's keys that its own batch has read or is reading are not fetched
// again (see shared). Keys whose fetch failed are left for the loader, which will report
// the error.
func primeKeys[K comparable, V any](ctx context.Context, loader *Loader[K, V], keys []K) []V {
	fresh := loader.claim(keys)
	if len(fresh) == 0 {
		return nil
	}
	return fetchPrimed(ctx, loader, fresh)
}

// fetchPrimed fetches keys that claim returned (see primeKeys).
func fetchPrimed[K comparable, V any](ctx context.Context, loader *Loader[K, V], keys []K) []V {
	values, errs := loader.load(ctx, keys)
	loader.hold(keys, values, errs, true)
	if errs == nil {
		return values
	}
	out := make([]V, 0, len(keys))
	for i := range keys {
		if errs[i] == nil {
			out = append(out, values[i])
		}
	}
	return out
}

// downlineKey is the key of a page of a level of a member's downline, from its field's
// arguments.
func downlineKey(memberID string, level, first, after any) community.DownlineKey {
	return community.DownlineKey{
		MemberID: memberID, Level: intArg(level, community.DefaultDownlineLevel),
		First: intArg(first, community.DefaultPageSize), After: stringArg(after),
	}
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
	l, err := r.loadersFor(ctx).ClubMembers.Get(aheadOf(ctx, "edges", "node", "member"), clubMembersKey(clubID, role, first, after))
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
	var fetches fetches
	for _, f := range graphql.CollectFieldsCtx(ctx, []string{"Club"}) {
		switch f.Name {
		case "members", "moderators", "managers":
			args := f.ArgumentMap(op.Variables)
			keys := make([]community.ClubMembersKey, len(ids))
			for i, id := range ids {
				keys[i] = clubMembersKey(id, clubRoles[f.Name], args["first"], args["after"])
			}
			below := selection(op, []graphql.CollectedField{f}, f.Name, "edges", "node", "member")
			prime(community.WithReadAhead(ctx, readAheadFor(below)), &fetches, l.ClubMembers, keys, func(pages []community.ClubMemberList) {
				var members []string
				for _, page := range pages {
					for _, m := range page.Members {
						members = append(members, m.MemberID)
					}
				}
				if len(members) > 0 {
					r.primeMembers(ctx, op, below, members)
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
			prime(ctx, &fetches, l.ClubPosts, keys, func(pages []community.PostList) {
				var posts []community.Post
				for _, page := range pages {
					for _, p := range page.Posts {
						posts = append(posts, p.Post)
					}
				}
				r.preparePosts(ctx, posts, f.Name, "edges", "node")
			})
		}
	}
	fetches.run()
}

// prefetchPosts primes the loaders of a list of posts, given by id, at path below the
// current field (see preparePosts).
func (r *Resolver) prefetchPosts(ctx context.Context, ids []string, path ...string) {
	if len(ids) == 0 || !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return
	}
	var posts []community.Post
	for _, p := range primeKeys(ctx, r.loadersFor(ctx).Posts, ids) {
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
	var fetches fetches
	for _, f := range fields {
		switch f.Name {
		case "author":
			fetches = append(fetches, func() { r.primeMembers(ctx, op, selection(op, []graphql.CollectedField{f}, f.Name), authors) })
		case "club":
			prime(ctx, &fetches, l.Clubs, clubs, nil)
		case "viewerReactions":
			prime(ctx, &fetches, l.ViewerReactions, ids, nil)
		case "comments":
			args := f.ArgumentMap(op.Variables)
			keys := make([]community.CommentKey, len(ids))
			for i, id := range ids {
				keys[i] = community.CommentKey{Parent: id, First: intArg(args["first"], community.DefaultPageSize), After: stringArg(args["after"])}
			}
			// Then the comments' authors, as a list of members primes its members.
			var then func([]community.CommentList)
			nodes := selection(op, []graphql.CollectedField{f}, f.Name, "edges", "node")
			if slices.ContainsFunc(nodes, func(n graphql.CollectedField) bool { return n.Name == "author" }) {
				then = func(lists []community.CommentList) {
					var authors []string
					for _, list := range lists {
						for _, c := range list.Comments {
							authors = append(authors, c.AuthorID)
						}
					}
					r.primeMembers(ctx, op, selection(op, []graphql.CollectedField{f}, f.Name, "edges", "node", "author"), authors)
				}
			}
			prime(ctx, &fetches, l.Comments, keys, then)
		}
	}
	fetches.run()
}

// prepareSearchPage primes the loaders for a page of search hits: the posts it carries,
// what their selected fields need, and the clubs of the club facet.
func (r *Resolver) prepareSearchPage(ctx context.Context, page search.PostPage) {
	if !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return
	}
	l := r.loadersFor(ctx)
	posts := make([]community.Post, len(page.Hits))
	ids := make([]string, len(page.Hits))
	held := make([]*community.Post, len(page.Hits))
	for i, h := range page.Hits {
		posts[i], ids[i], held[i] = h.Post, h.Post.ID, &posts[i]
	}
	l.Posts.hold(ids, held, nil, true)
	fetches := fetches{func() { r.preparePosts(ctx, posts, "edges", "node") }}
	if len(page.Clubs) > 0 && len(selection(graphql.GetOperationContext(ctx), graphql.CollectFieldsCtx(ctx, nil), "facets", "clubs", "club")) > 0 {
		ids := make([]string, len(page.Clubs))
		for i, f := range page.Clubs {
			ids[i] = f.Value
		}
		prime(ctx, &fetches, l.Clubs, ids, nil)
	}
	fetches.run()
}

// selectedAt reports whether the current field's selection holds fields at path (field
// names), so that a resolver primes what its items select only when they select it.
func selectedAt(ctx context.Context, path ...string) bool {
	if !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return false
	}
	op := graphql.GetOperationContext(ctx)
	return len(selection(op, graphql.CollectFieldsCtx(ctx, nil), path...)) > 0
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
