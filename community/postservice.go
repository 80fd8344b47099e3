package community

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Who may see and do what with posts. A post is seen by whoever may see inside its club
// (see canSeeInside). Members of a club post in it. An author edits its own posts and
// comments; an author, the club's moderators and managers, the host brand's staff and
// platform staff delete them. Whoever sees a post comments on it, reacts to it and shares it.

// clubsOf loads the clubs of posts, by id.
func (s *core) clubsOf(ctx context.Context, posts map[string]Post) (map[string]Club, error) {
	var ids []string
	seen := map[string]bool{}
	for _, p := range posts {
		if !seen[p.ClubID] {
			seen[p.ClubID] = true
			ids = append(ids, p.ClubID)
		}
	}
	return s.store.ClubsByID(ctx, ids)
}

// insideRule answers canSeeInside for many clubs with one store round trip.
func (s *core) insideRule(ctx context.Context, clubs map[string]Club) (map[string]error, error) {
	a := ActorFrom(ctx)
	out := make(map[string]error, len(clubs))
	if a.anonymous() {
		for id := range clubs {
			out[id] = Errorf(CodeUnauthenticated, "sign in to see inside clubs")
		}
		return out, nil
	}
	roles := map[ClubMemberKey]ClubMembership{}
	if a.IsMember() {
		keys := make([]ClubMemberKey, 0, len(clubs))
		for id := range clubs {
			keys = append(keys, ClubMemberKey{id, a.MemberID})
		}
		var err error
		if roles, err = s.store.ClubMemberships(ctx, keys); err != nil {
			return nil, err
		}
	}
	for id, c := range clubs {
		t := Target{Club: c}
		if a.IsMember() {
			t.Role = roles[ClubMemberKey{id, a.MemberID}].Role
		}
		out[id] = Decide(a, ActSeeInside, t)
	}
	return out, nil
}

// tombstone returns what a post that is not listed (see Post.Listed) shows: who, where
// and when, nothing of its content. Its comments are content too (Comments lists none), so
// its comment count is 0, as the list it counts shows.
func tombstone(p Post) Post {
	if p.Listed() {
		return p
	}
	p.Title, p.Body, p.Tags = "", "", nil
	p.CommentCount = 0
	return p
}

// PostsByID returns the posts with the given ids, nil where there is none, and FORBIDDEN
// (or UNAUTHENTICATED) for posts of clubs the caller may not see inside. Deleted posts
// are tombstones. A dataloader batch function.
func (s *PostService) PostsByID(ctx context.Context, ids []string) ([]*Post, []error) {
	return s.postsByID(ctx, ids)
}

func (s *core) postsByID(ctx context.Context, ids []string) ([]*Post, []error) {
	out := make([]*Post, len(ids))
	errs := make([]error, len(ids))
	found, err := s.store.PostsByID(ctx, onlyValidIDs(ids))
	if err != nil {
		return out, repeatError(err, len(ids))
	}
	clubs, err := s.clubsOf(ctx, found)
	if err != nil {
		return out, repeatError(err, len(ids))
	}
	rule, err := s.insideRule(ctx, clubs)
	if err != nil {
		return out, repeatError(err, len(ids))
	}
	for i, id := range ids {
		p, ok := found[id]
		if !ok {
			continue
		}
		if errs[i] = rule[p.ClubID]; errs[i] == nil {
			t := tombstone(p)
			out[i] = &t
		}
	}
	return out, errs
}

// post loads one post the caller may see (a tombstone when deleted), with the caller's
// standing in its club for the rules of what it may do to it; NOT_FOUND when it is not
// there. Three store round trips for a member (the post, its club, the member's place in
// the club), two for anyone else.
func (s *core) post(ctx context.Context, id string) (Post, Target, error) {
	if !validID(id) {
		return Post{}, Target{}, Errorf(CodeNotFound, "no post %q", id)
	}
	found, err := s.store.PostsByID(ctx, []string{id})
	if err != nil {
		return Post{}, Target{}, err
	}
	p, ok := found[id]
	if !ok {
		return Post{}, Target{}, Errorf(CodeNotFound, "no post %q", id)
	}
	t, err := s.inside(ctx, p.ClubID)
	if err != nil {
		return Post{}, Target{}, err
	}
	return tombstone(p), t, nil
}

// inside reads club clubID and the caller's standing in it, and checks that the caller
// may see inside it: two store round trips for a member, one for anyone else.
func (s *core) inside(ctx context.Context, clubID string) (Target, error) {
	c, err := oneByID(ctx, clubID, "club", s.store.ClubsByID)
	if err != nil {
		return Target{}, err
	}
	t, err := s.standing(ctx, c)
	if err != nil {
		return Target{}, err
	}
	return t, Decide(ActorFrom(ctx), ActSeeInside, t)
}

// CreatePost publishes a post in a club the calling member belongs to. FORBIDDEN for a
// club the member is not in; BAD_USER_INPUT for a title over 120 characters, a body over
// 20,000, more than 10 tags. key is the client's idempotency key, or nil (see
// IdempotencyStore): a retry under it returns the post the first attempt made.
func (s *PostService) CreatePost(ctx context.Context, clubID string, in PostInput, key *string) (Post, error) {
	a, err := s.gate(ctx, "createPost", NeedMember)
	if err != nil {
		return Post{}, err
	}
	c, err := s.club(ctx, clubID)
	if err != nil {
		return Post{}, err
	}
	if err := s.mayInClub(ctx, ActPost, c); err != nil {
		return Post{}, err
	}
	in.normalize()
	if err := in.validate(); err != nil {
		return Post{}, err
	}
	cl, err := s.claim(ctx, "createPost", a.MemberID, key, c.ID, in.Title, in.Body, strings.Join(in.Tags, "\n"))
	if err != nil {
		return Post{}, err
	}
	p := Post{ID: cl.id, ClubID: c.ID, AuthorID: a.MemberID, Title: in.Title, Body: in.Body, Tags: in.Tags,
		CreatedAt: s.now().UTC(), Status: PostPublished}
	stored, err := s.store.CreatePost(ctx, p)
	p, err = createdOnce(ctx, cl, stored, err, s.store.PostsByID)
	return tombstone(p), err
}

// EditPost changes a post's content. Its author only; NOT_FOUND for a deleted post.
func (s *PostService) EditPost(ctx context.Context, postID string, in PostInput) (Post, error) {
	a, err := s.gate(ctx, "editPost", NeedMember)
	if err != nil {
		return Post{}, err
	}
	p, _, err := s.post(ctx, postID)
	if err != nil {
		return Post{}, err
	}
	if p.AuthorID != a.MemberID {
		return Post{}, Errorf(CodeForbidden, "only its author edits a post")
	}
	in.normalize()
	if err := in.validate(); err != nil {
		return Post{}, err
	}
	return s.store.EditPost(ctx, postID, in, s.now().UTC())
}

// DeletePost turns a post into a tombstone. Its author, the club's moderators and
// managers, the host brand's staff and platform staff; deleting twice changes nothing.
func (s *PostService) DeletePost(ctx context.Context, postID string) (Post, error) {
	a, err := s.gate(ctx, "deletePost", NeedSignedIn)
	if err != nil {
		return Post{}, err
	}
	p, t, err := s.post(ctx, postID)
	if err != nil {
		return Post{}, err
	}
	if p.AuthorID != a.MemberID || a.MemberID == "" {
		if err := Decide(a, ActModerate, t); err != nil {
			return Post{}, err
		}
	}
	deleted, err := s.store.DeletePost(ctx, postID, s.now().UTC())
	return tombstone(deleted), err
}

// PostList is a page of a club's posts.
type PostList struct {
	Posts []ListedPost
	More  bool
}

// ListedPost is a post in a page, with its cursor.
type ListedPost struct {
	Post
	cursor lazyCursor[rankKey]
}

// Cursor returns the post's cursor.
func (p ListedPost) Cursor() string { return p.cursor.String() }

// TopWindow is how far back TOP looks.
type TopWindow string

// The windows of TOP.
const (
	WindowDay   TopWindow = "DAY"
	WindowWeek  TopWindow = "WEEK"
	WindowMonth TopWindow = "MONTH"
	WindowAll   TopWindow = "ALL"
)

func (w TopWindow) since(now time.Time) (time.Time, error) {
	switch w {
	case WindowDay:
		return now.Add(-24 * time.Hour), nil
	case WindowWeek, "":
		return now.Add(-7 * 24 * time.Hour), nil
	case WindowMonth:
		return now.Add(-30 * 24 * time.Hour), nil
	case WindowAll:
		return time.Time{}, nil
	}
	return time.Time{}, fieldError("window", "unknown window %q", w)
}

// hotHorizon is how far back HOT looks.
const hotHorizon = 7 * 24 * time.Hour

// HotCandidates is how many of a club's newest posts of the last week HOT ranks at most.
// A HOT page reads the counts of that many posts, none of their text (see
// PostStore.RecentPostCounts), and then the posts of the page only.
const HotCandidates = 1000

// ClubPostsKey names a page of a club's posts, as ClubPosts takes it.
type ClubPostsKey struct {
	ClubID string
	Sort   PostSort
	Window TopWindow
	First  int
	After  string
}

// ClubPostPages returns the pages of clubs' posts the keys ask for (see ClubPosts): it
// reads the clubs, and the caller's standing in them, once for all the keys, then the
// pages of the keys that share a sort, a page size and a ranking time (first pages all do)
// together: one store read for NEW and TOP, two for HOT (the candidates' counts, then the
// pages' posts). A dataloader batch function: the loader's cache hands it each key once,
// so a request that asks for the same page twice (under two aliases, or through two paths
// to the same club) pays for it once.
func (s *PostService) ClubPostPages(ctx context.Context, keys []ClubPostsKey) ([]PostList, []error) {
	out := make([]PostList, len(keys))
	errs, err := canSeeInsideOf(ctx, s.core, keys, func(k ClubPostsKey) string { return k.ClubID })
	if err != nil {
		return out, repeatError(err, len(keys))
	}
	now := s.now().UTC()
	asks := make([]postAsk, len(keys))
	for i, k := range keys {
		if errs[i] == nil {
			asks[i], errs[i] = s.postAsk(k, now)
		}
	}
	eachGroup(len(keys), func(i int) (postGroup, bool) { return asks[i].group, errs[i] == nil }, func(g postGroup, idx []int) {
		reqs := make([]ClubPostsRequest, len(idx))
		for j, i := range idx {
			reqs[j] = asks[i].req
		}
		pages, err := s.rankedPages(ctx, g, reqs)
		for j, i := range idx {
			if err != nil {
				errs[i] = err
				continue
			}
			out[i] = s.listPosts(g, keys[i].ClubID, pages[j])
		}
	})
	return out, errs
}

// ClubPosts pages through a club's published posts: NEW, HOT (see Post.Hot, computed at
// the time of the first page, which the cursors carry, over the club's HotCandidates
// newest posts of the last week) or TOP (by engagement within the window, a week by
// default). For whoever may see inside the club. HOT and TOP rank by live counters: a
// post whose engagement changes between two pages can move.
func (s *PostService) ClubPosts(ctx context.Context, clubID string, sort PostSort, window TopWindow, first int, after string) (PostList, error) {
	lists, errs := s.ClubPostPages(ctx, []ClubPostsKey{{ClubID: clubID, Sort: sort, Window: window, First: first, After: after}})
	return lists[0], errs[0]
}

// postGroup is what the keys of one read of clubs' pages of posts share.
type postGroup struct {
	sort   PostSort
	window TopWindow
	first  int
	// now is the time the pages rank at: the first page's, which cursors carry.
	now time.Time
}

// cursors returns the list that the group's cursors are tied to: each sort, and each
// window of TOP, is a list of its own.
func (g postGroup) cursors() cursorList[rankKey] {
	return cursorList[rankKey]("posts-" + string(g.sort) + "-" + string(g.window))
}

// postAsk is a key of ClubPostPages, checked: its group and its request.
type postAsk struct {
	group postGroup
	req   ClubPostsRequest
}

// postAsk checks a key's arguments and decodes its cursor; now is the time of a first
// page.
func (s *PostService) postAsk(k ClubPostsKey, now time.Time) (postAsk, error) {
	if k.First < 0 || k.First > MaxPageSize {
		return postAsk{}, fieldError("first", "first must be between 0 and %d", MaxPageSize)
	}
	if k.Sort != SortNew && k.Sort != SortHot && k.Sort != SortTop {
		return postAsk{}, fieldError("sort", "unknown sort %q", k.Sort)
	}
	a := postAsk{group: postGroup{sort: k.Sort, window: k.Window, first: k.First, now: now}, req: ClubPostsRequest{ClubID: k.ClubID}}
	if k.After != "" {
		key, err := decodeCursor(s.core, a.group.cursors(), k.ClubID, k.After)
		if err != nil {
			return postAsk{}, err
		}
		a.req.After = &PostPosition{Score: key.Score, CreatedAt: key.At, ID: key.ID}
		a.group.now = key.Now
	}
	if k.Sort == SortTop {
		if _, err := k.Window.since(a.group.now); err != nil {
			return postAsk{}, err
		}
	}
	return a, nil
}

// rankedPage is a page of posts with the scores that placed them (0 for NEW).
type rankedPage struct {
	posts  []Post
	scores []float64
	more   bool
}

// rankedPages reads the pages of a group of requests.
func (s *core) rankedPages(ctx context.Context, g postGroup, reqs []ClubPostsRequest) ([]rankedPage, error) {
	if g.sort == SortHot {
		return s.hotPages(ctx, g.now, g.first, reqs)
	}
	q := PostQuery{Sort: g.sort, First: g.first}
	if g.sort == SortTop {
		q.Since, _ = g.window.since(g.now) // checked by postAsk
	}
	pages, err := s.store.ClubPosts(ctx, q, reqs)
	if err != nil {
		return nil, err
	}
	out := make([]rankedPage, len(pages))
	for i, p := range pages {
		out[i] = rankedPage{posts: p.Posts, scores: make([]float64, len(p.Posts)), more: p.More}
		if g.sort == SortTop {
			for j, post := range p.Posts {
				out[i].scores[j] = float64(post.Engagement())
			}
		}
	}
	return out, nil
}

// listPosts gives a page's posts their cursors.
func (s *core) listPosts(g postGroup, clubID string, p rankedPage) PostList {
	out := PostList{More: p.more, Posts: make([]ListedPost, len(p.posts))}
	for i, post := range p.posts {
		out.Posts[i] = ListedPost{Post: post, cursor: newCursor(s, g.cursors(), clubID, rankKey{Score: p.scores[i], At: post.CreatedAt, ID: post.ID, Now: g.now})}
	}
	return out
}

// hotPages returns, for each request, up to first of its club's published posts in HOT
// order at now, strictly after its position, with the scores that placed them, and
// whether more follow. It ranks the counts of each club's HotCandidates newest posts of
// the horizon (one read for all the clubs, without the posts' text), then reads the
// posts of the pages only (a second read, for all the pages).
//
// A post deleted between the two reads is a tombstone (or gone) in the second: it drops
// out, and its page is filled from the candidates ranked after it, with one more read for
// all the pages that are short. The page is then the one a ranking after the delete would
// have made, and paging holds: each listed post's cursor is where the ranking put it, the
// next page starts after the last one listed, and the deleted post is no candidate there
// any more.
func (s *core) hotPages(ctx context.Context, now time.Time, first int, reqs []ClubPostsRequest) ([]rankedPage, error) {
	clubs := make([]string, len(reqs))
	for i, r := range reqs {
		clubs[i] = r.ClubID
	}
	counts, err := s.store.RecentPostCounts(ctx, slices.Compact(slices.Sorted(slices.Values(clubs))), now.Add(-hotHorizon), HotCandidates)
	if err != nil {
		return nil, err
	}
	ranked := make([][]PostPosition, len(reqs))
	for i, r := range reqs {
		ranked[i] = rankCounts(counts[r.ClubID], now, r.After)
	}
	out := make([]rankedPage, len(reqs))
	for {
		var ids []string
		takes := make([][]PostPosition, len(reqs))
		for i := range reqs {
			if need := first - len(out[i].posts); need > 0 && len(ranked[i]) > 0 {
				takes[i] = ranked[i][:min(need, len(ranked[i]))]
				ranked[i] = ranked[i][len(takes[i]):]
				for _, at := range takes[i] {
					ids = append(ids, at.ID)
				}
			}
		}
		if len(ids) == 0 {
			break
		}
		found, err := s.store.PostsByID(ctx, ids)
		if err != nil {
			return nil, err
		}
		for i, take := range takes {
			for _, at := range take {
				if p, ok := found[at.ID]; ok && p.Listed() {
					out[i].posts = append(out[i].posts, p)
					out[i].scores = append(out[i].scores, at.Score)
				}
			}
		}
	}
	for i := range out {
		out[i].more = len(ranked[i]) > 0
	}
	return out, nil
}

// rankCounts returns the positions of the posts counted, by their HOT score at now, in
// list order (score descending, then newest first, then id), strictly after pos.
func rankCounts(counts []PostCounts, now time.Time, pos *PostPosition) []PostPosition {
	positions := make([]PostPosition, 0, len(counts))
	for _, c := range counts {
		at := PostPosition{Score: c.Hot(now), CreatedAt: c.CreatedAt, ID: c.ID}
		if pos == nil || comparePositions(*pos, at) < 0 {
			positions = append(positions, at)
		}
	}
	slices.SortFunc(positions, comparePositions)
	return positions
}

// comparePositions orders positions in list order: score descending, then newest first,
// then id ascending.
func comparePositions(a, b PostPosition) int {
	switch {
	case a.Score != b.Score:
		if a.Score > b.Score {
			return -1
		}
		return 1
	case !a.CreatedAt.Equal(b.CreatedAt):
		if a.CreatedAt.After(b.CreatedAt) {
			return -1
		}
		return 1
	}
	return strings.Compare(a.ID, b.ID)
}

// AddComment comments on a post, or replies to a comment of it, for whoever sees the post
// and is a member. NOT_FOUND for a deleted post or a parent not of that post. key is the
// client's idempotency key, or nil (see IdempotencyStore).
func (s *PostService) AddComment(ctx context.Context, postID, replyTo, body string, key *string) (Comment, error) {
	a, err := s.gate(ctx, "addComment", NeedMember)
	if err != nil {
		return Comment{}, err
	}
	p, _, err := s.post(ctx, postID)
	if err != nil {
		return Comment{}, err
	}
	if !p.Listed() {
		return Comment{}, Errorf(CodeNotFound, "the post was deleted")
	}
	body, err = commentBody(body)
	if err != nil {
		return Comment{}, err
	}
	if replyTo != "" && !validID(replyTo) {
		return Comment{}, Errorf(CodeNotFound, "no comment %q", replyTo)
	}
	cl, err := s.claim(ctx, "addComment", a.MemberID, key, postID, replyTo, body)
	if err != nil {
		return Comment{}, err
	}
	c := Comment{ID: cl.id, PostID: postID, AuthorID: a.MemberID, ParentID: replyTo, Body: body, CreatedAt: s.now().UTC()}
	c, err = createdOnce(ctx, cl, c, s.store.AddComment(ctx, c), s.store.CommentsByID)
	return hideDeleted(c), err
}

// comment loads a comment whose post the caller sees.
func (s *core) comment(ctx context.Context, id string) (TargetRef, Target, error) {
	ref, t, err := s.target(ctx, id)
	if err == nil && !ref.Comment {
		err = Errorf(CodeNotFound, "no comment %q", id)
	}
	return ref, t, err
}

// target finds what id names — a post or a comment — and the caller's standing in its
// club, for the rules of what the caller may do to it: NOT_FOUND when it names neither,
// and what Decide answers when the caller may not see inside the club. Three store round
// trips for a member (what the id names, the club, the member's place in it), two for
// anyone else.
func (s *core) target(ctx context.Context, id string) (TargetRef, Target, error) {
	if !validID(id) {
		return TargetRef{}, Target{}, Errorf(CodeNotFound, "no post or comment %q", id)
	}
	refs, err := s.store.Targets(ctx, []string{id})
	if err != nil {
		return TargetRef{}, Target{}, err
	}
	ref, ok := refs[id]
	if !ok {
		return TargetRef{}, Target{}, Errorf(CodeNotFound, "no post or comment %q", id)
	}
	t, err := s.inside(ctx, ref.ClubID)
	if err != nil {
		return TargetRef{}, Target{}, err
	}
	return ref, t, nil
}

// commentBody normalizes a comment's body and checks it: BAD_USER_INPUT unless it is 1 to
// MaxCommentBody characters of long text.
func commentBody(body string) (string, error) {
	body = commentBodyText.normalize(body)
	if err := commentBodyText.check(body); err != nil {
		return "", err
	}
	return body, nil
}

// EditComment changes a comment's body. Its author only.
func (s *PostService) EditComment(ctx context.Context, commentID, body string) (Comment, error) {
	a, err := s.gate(ctx, "editComment", NeedMember)
	if err != nil {
		return Comment{}, err
	}
	c, _, err := s.comment(ctx, commentID)
	if err != nil {
		return Comment{}, err
	}
	if c.AuthorID != a.MemberID {
		return Comment{}, Errorf(CodeForbidden, "only its author edits a comment")
	}
	if body, err = commentBody(body); err != nil {
		return Comment{}, err
	}
	return s.store.EditComment(ctx, commentID, body, s.now().UTC())
}

// DeleteComment hides a comment's body (its replies stay). Its author, the club's
// moderators and managers, the host brand's staff and platform staff.
func (s *PostService) DeleteComment(ctx context.Context, commentID string) (Comment, error) {
	a, err := s.gate(ctx, "deleteComment", NeedSignedIn)
	if err != nil {
		return Comment{}, err
	}
	c, t, err := s.comment(ctx, commentID)
	if err != nil {
		return Comment{}, err
	}
	if c.AuthorID != a.MemberID || a.MemberID == "" {
		if err := Decide(a, ActModerate, t); err != nil {
			return Comment{}, err
		}
	}
	deleted, err := s.store.DeleteComment(ctx, commentID, s.now().UTC())
	return hideDeleted(deleted), err
}

// hideDeleted returns what a deleted comment shows: who and when, not what it said.
func hideDeleted(c Comment) Comment {
	if !c.DeletedAt.IsZero() {
		c.Body = ""
	}
	return c
}

// CommentKey names a page of comments: a post's top-level comments or a comment's replies.
type CommentKey struct {
	// Parent is a post id or a comment id.
	Parent string
	First  int
	// After is a cursor from the same list, or "".
	After string
}

// CommentList is a page of comments, oldest first.
type CommentList struct {
	Comments []ListedComment
	More     bool
}

// ListedComment is a comment in a page, with its cursor.
type ListedComment struct {
	Comment
	cursor lazyCursor[timeKey]
}

// Cursor returns the comment's cursor.
func (c ListedComment) Cursor() string { return c.cursor.String() }

// listComments is the kind of list that comment cursors are tied to.
const listComments cursorList[timeKey] = "comments"

// Comments returns the pages the keys ask for. Resolvers reach comments through their
// post, whose visibility was checked; deleted comments show no body, and a deleted post's
// comments and their replies are not listed at all (see tombstone). One store round trip
// per distinct (page size, position), and one more that reads the status of the posts the
// comments found are on. A dataloader batch function.
func (s *PostService) Comments(ctx context.Context, keys []CommentKey) ([]CommentList, []error) {
	out := make([]CommentList, len(keys))
	errs := make([]error, len(keys))
	type group struct {
		first int
		after Position
	}
	groupOf := make([]group, len(keys))
	for i, k := range keys {
		if k.First < 0 || k.First > MaxPageSize {
			errs[i] = fieldError("first", "first must be between 0 and %d", MaxPageSize)
			continue
		}
		groupOf[i].first = k.First
		if k.After != "" {
			key, err := decodeCursor(s.core, listComments, k.Parent, k.After)
			if err != nil {
				errs[i] = err
				continue
			}
			groupOf[i].after = *key.position()
		}
	}
	type read struct {
		idx   []int
		found map[string][]Comment
		more  map[string]bool
		err   error
	}
	var reads []read
	var postIDs []string
	eachGroup(len(keys), func(i int) (group, bool) { return groupOf[i], errs[i] == nil }, func(g group, idx []int) {
		parents := make([]string, len(idx))
		for j, i := range idx {
			parents[j] = keys[i].Parent
		}
		var after *Position
		if g.after.ID != "" {
			after = &g.after
		}
		r := read{idx: idx}
		r.found, r.more, r.err = s.store.Comments(ctx, parents, g.first, after)
		for _, list := range r.found {
			for _, c := range list {
				postIDs = append(postIDs, c.PostID)
			}
		}
		reads = append(reads, r)
	})
	deleted, err := s.deletedPosts(ctx, postIDs)
	if err != nil {
		return out, repeatError(err, len(keys))
	}
	for _, r := range reads {
		found, more, err := r.found, r.more, r.err
		for _, i := range r.idx {
			if err != nil {
				errs[i] = err
				continue
			}
			parent := keys[i].Parent
			if comments := found[parent]; len(comments) > 0 && deleted[comments[0].PostID] {
				out[i] = CommentList{Comments: []ListedComment{}}
				continue
			}
			list := make([]ListedComment, len(found[parent]))
			for j, c := range found[parent] {
				list[j] = ListedComment{Comment: hideDeleted(c), cursor: newCursor(s.core, listComments, parent, timeKey{c.CreatedAt, c.ID})}
			}
			out[i] = CommentList{Comments: list, More: more[parent]}
		}
	}
	return out, errs
}

// deletedPosts reports which of the posts with the given ids are deleted, in one store
// round trip (none for no ids).
func (s *core) deletedPosts(ctx context.Context, ids []string) (map[string]bool, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	found, err := s.store.PostsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for id, p := range found {
		out[id] = !p.Listed()
	}
	return out, nil
}

// React reacts to a post or a comment the caller sees; reacting twice changes nothing.
func (s *PostService) React(ctx context.Context, targetID string, kind ReactionKind, on bool) error {
	a, err := s.gate(ctx, reactAction(on), NeedMember)
	if err != nil {
		return err
	}
	if !slices.Contains(ReactionKinds, kind) {
		return fieldError("kind", "unknown reaction %q", kind)
	}
	if _, _, err := s.target(ctx, targetID); err != nil {
		return err
	}
	if !on {
		return s.store.Unreact(ctx, a.MemberID, targetID, kind)
	}
	return s.store.React(ctx, a.MemberID, targetID, kind, s.now().UTC())
}

// ViewerReactions returns the kinds the calling member reacted with to each target; none
// for a caller who is not a member. A dataloader batch function.
func (s *PostService) ViewerReactions(ctx context.Context, targetIDs []string) ([][]ReactionKind, []error) {
	out := make([][]ReactionKind, len(targetIDs))
	a := ActorFrom(ctx)
	if !a.IsMember() {
		return out, nil
	}
	found, err := s.store.ViewerReactions(ctx, a.MemberID, targetIDs)
	if err != nil {
		return out, repeatError(err, len(targetIDs))
	}
	for i, id := range targetIDs {
		out[i] = found[id]
	}
	return out, nil
}

// SharePost records the calling member's share of a post it sees. An IN_APP share is a
// repost that appears in the member's followers' feeds. key is the client's idempotency
// key, or nil (see IdempotencyStore): a retry under it records no second share.
func (s *PostService) SharePost(ctx context.Context, postID string, channel ShareChannel, key *string) (Post, error) {
	a, err := s.gate(ctx, "sharePost", NeedMember)
	if err != nil {
		return Post{}, err
	}
	if !slices.Contains(ShareChannels, channel) {
		return Post{}, fieldError("channel", "unknown channel %q", channel)
	}
	p, _, err := s.post(ctx, postID)
	if err != nil {
		return Post{}, err
	}
	if !p.Listed() {
		return Post{}, Errorf(CodeNotFound, "the post was deleted")
	}
	cl, err := s.claim(ctx, "sharePost", a.MemberID, key, postID, string(channel))
	if err != nil {
		return Post{}, err
	}
	// Under a key, a taken share id (the only CONFLICT of SharePost) is the share of an
	// earlier attempt: the answer is the post, as after the first attempt.
	err = s.store.SharePost(ctx, Share{ID: cl.id, PostID: postID, MemberID: a.MemberID, Channel: channel, At: s.now().UTC()})
	if err != nil && !(cl.keyed && ErrorCode(err) == CodeConflict) {
		return Post{}, err
	}
	// The caller was shown the post above: read it back for its counters only.
	return oneByID(ctx, postID, "post", s.store.PostsByID)
}

// listFeed is the kind of list feed cursors are tied to.
const listFeed cursorList[feedKey] = "feed"

// ListedFeedItem is a feed item with its cursor.
type ListedFeedItem struct {
	FeedItem
	cursor lazyCursor[feedKey]
}

// Cursor returns the item's cursor.
func (it ListedFeedItem) Cursor() string { return it.cursor.String() }

// Feed pages through the calling member's feed (see PostStore.Feed): a walk through its
// pages sees the feed as it stood at the first page, so nothing is skipped or repeated
// while posts arrive. Posts of clubs the member may no longer see are left out.
func (s *PostService) Feed(ctx context.Context, first int, after string) ([]ListedFeedItem, bool, error) {
	a, err := requireMember(ctx)
	if err != nil {
		return nil, false, err
	}
	if first < 0 || first > MaxPageSize {
		return nil, false, fieldError("first", "first must be between 0 and %d", MaxPageSize)
	}
	asOf := s.now().UTC()
	var pos *FeedPosition
	if after != "" {
		k, err := decodeCursor(s.core, listFeed, a.MemberID, after)
		if err != nil {
			return nil, false, err
		}
		pos = &FeedPosition{At: k.At, PostID: k.PostID}
		asOf = k.AsOf
	}
	items, more, err := s.store.Feed(ctx, a.MemberID, first, pos, asOf)
	if err != nil {
		return nil, false, err
	}
	out := make([]ListedFeedItem, len(items))
	for i, it := range items {
		out[i] = ListedFeedItem{FeedItem: it, cursor: newCursor(s.core, listFeed, a.MemberID, feedKey{At: it.At, PostID: it.PostID, AsOf: asOf})}
	}
	return out, more, nil
}
