package community

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Who may see and do what with posts. A post is seen by whoever may see inside its club
// (see canSeeInside). Members of a club post in it. An author edits its own posts and
// comments; an author, the club's moderators and managers, the host brand's staff and
// platform staff delete them. Whoever sees a post comments on it, reacts to it and shares it.

// clubsOf loads the clubs of posts, by id.
func (s *Service) clubsOf(ctx context.Context, posts map[string]Post) (map[string]Club, error) {
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
func (s *Service) insideRule(ctx context.Context, clubs map[string]Club) (map[string]error, error) {
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
		_, in := roles[ClubMemberKey{id, a.MemberID}]
		switch {
		case a.isPlatformStaff() || (c.BrandID != "" && a.IsStaffOf(c.BrandID)) || in:
		case c.Visibility == VisibilityPublic && (a.IsMember() || a.Identity != nil):
		default:
			out[id] = Errorf(CodeForbidden, "only its members see inside this club")
		}
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
func (s *Service) PostsByID(ctx context.Context, ids []string) ([]*Post, []error) {
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

// post loads one post the caller may see; NOT_FOUND when it is not there.
func (s *Service) post(ctx context.Context, id string) (Post, error) {
	posts, errs := s.PostsByID(ctx, []string{id})
	if errs[0] != nil {
		return Post{}, errs[0]
	}
	if posts[0] == nil {
		return Post{}, Errorf(CodeNotFound, "no post %q", id)
	}
	return *posts[0], nil
}

// CreatePost publishes a post in a club the calling member belongs to. FORBIDDEN for a
// club the member is not in; BAD_USER_INPUT for a title over 120 characters, a body over
// 20,000, more than 10 tags.
func (s *Service) CreatePost(ctx context.Context, clubID string, in PostInput) (Post, error) {
	a, err := requireMember(ctx)
	if err != nil {
		return Post{}, err
	}
	c, err := s.club(ctx, clubID)
	if err != nil {
		return Post{}, err
	}
	ca, err := s.authority(ctx, c)
	if err != nil {
		return Post{}, err
	}
	if ca.role == "" {
		return Post{}, Errorf(CodeForbidden, "only the club's members post in it")
	}
	in.normalize()
	if err := in.validate(); err != nil {
		return Post{}, err
	}
	p := Post{ID: s.newID(), ClubID: c.ID, AuthorID: a.MemberID, Title: in.Title, Body: in.Body, Tags: in.Tags,
		CreatedAt: s.now().UTC(), Status: PostPublished}
	if err := s.store.CreatePost(ctx, p); err != nil {
		return Post{}, err
	}
	return p, nil
}

// EditPost changes a post's content. Its author only; NOT_FOUND for a deleted post.
func (s *Service) EditPost(ctx context.Context, postID string, in PostInput) (Post, error) {
	a, err := requireMember(ctx)
	if err != nil {
		return Post{}, err
	}
	p, err := s.post(ctx, postID)
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

// canModerate reports whether the caller may delete what others wrote in a club.
func (s *Service) canModerate(ctx context.Context, clubID string) (bool, error) {
	c, err := s.club(ctx, clubID)
	if err != nil {
		return false, err
	}
	ca, err := s.authority(ctx, c)
	if err != nil {
		return false, err
	}
	return ca.platform || ca.brandStaff || ca.role == RoleModerator || ca.role == RoleManager, nil
}

// DeletePost turns a post into a tombstone. Its author, the club's moderators and
// managers, the host brand's staff and platform staff; deleting twice changes nothing.
func (s *Service) DeletePost(ctx context.Context, postID string) (Post, error) {
	p, err := s.post(ctx, postID)
	if err != nil {
		return Post{}, err
	}
	if p.AuthorID != ActorFrom(ctx).MemberID {
		ok, err := s.canModerate(ctx, p.ClubID)
		if err != nil {
			return Post{}, err
		}
		if !ok {
			return Post{}, deny(ctx, "its author and the club's moderators")
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
	Cursor string
}

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

// ClubPostPages returns the pages of clubs' posts the keys ask for (see ClubPosts). A
// dataloader batch function: the loader's cache hands it each key once, so a request that
// asks for the same page twice (under two aliases, or through two paths to the same club)
// pays for it once.
func (s *Service) ClubPostPages(ctx context.Context, keys []ClubPostsKey) ([]PostList, []error) {
	out := make([]PostList, len(keys))
	errs := make([]error, len(keys))
	for i, k := range keys {
		out[i], errs[i] = s.ClubPosts(ctx, k.ClubID, k.Sort, k.Window, k.First, k.After)
	}
	return out, errs
}

// ClubPosts pages through a club's published posts: NEW, HOT (see Post.Hot, computed at
// the time of the first page, which the cursors carry, over the club's HotCandidates
// newest posts of the last week) or TOP (by engagement within the window, a week by
// default). For whoever may see inside the club. HOT and TOP rank by live counters: a
// post whose engagement changes between two pages can move.
func (s *Service) ClubPosts(ctx context.Context, clubID string, sort PostSort, window TopWindow, first int, after string) (PostList, error) {
	c, err := s.club(ctx, clubID)
	if err != nil {
		return PostList{}, err
	}
	rule, err := s.insideRule(ctx, map[string]Club{c.ID: c})
	if err != nil {
		return PostList{}, err
	}
	if err := rule[c.ID]; err != nil {
		return PostList{}, err
	}
	if first < 0 || first > MaxPageSize {
		return PostList{}, fieldError("first", "first must be between 0 and %d", MaxPageSize)
	}
	if sort != SortNew && sort != SortHot && sort != SortTop {
		return PostList{}, fieldError("sort", "unknown sort %q", sort)
	}
	now := s.now().UTC()
	var pos *PostPosition
	kind := ListKind("posts:" + string(sort) + ":" + string(window))
	if after != "" {
		p, err := s.decodeCursor(kind, clubID, after)
		if err != nil {
			return PostList{}, err
		}
		// The cursor's id field carries "score~now~post id".
		parts := strings.SplitN(p.MemberID, "~", 3)
		if len(parts) != 3 {
			return PostList{}, fieldError("after", "cursor was not issued for this list")
		}
		score, err1 := strconv.ParseFloat(parts[0], 64)
		nanos, err2 := strconv.ParseInt(parts[1], 36, 64)
		if err1 != nil || err2 != nil {
			return PostList{}, fieldError("after", "cursor was not issued for this list")
		}
		pos = &PostPosition{Score: score, CreatedAt: p.Since, ID: parts[2]}
		now = time.Unix(0, nanos).UTC()
	}
	var posts []Post
	var scores []float64 // of posts, where the order placed them
	var more bool
	if sort == SortHot {
		if posts, scores, more, err = s.hotPage(ctx, clubID, now, first, pos); err != nil {
			return PostList{}, err
		}
	} else {
		q := PostQuery{Sort: sort, First: first, After: pos}
		if sort == SortTop {
			if q.Since, err = window.since(now); err != nil {
				return PostList{}, err
			}
		}
		if posts, more, err = s.store.ClubPosts(ctx, clubID, q); err != nil {
			return PostList{}, err
		}
		scores = make([]float64, len(posts))
		if sort == SortTop {
			for i, p := range posts {
				scores[i] = float64(p.Engagement())
			}
		}
	}
	out := PostList{More: more, Posts: make([]ListedPost, len(posts))}
	for i, p := range posts {
		key := strconv.FormatFloat(scores[i], 'g', -1, 64) + "~" + strconv.FormatInt(now.UnixNano(), 36) + "~" + p.ID
		out.Posts[i] = ListedPost{Post: p, Cursor: s.cursor(kind, clubID, Position{Since: p.CreatedAt, MemberID: key})}
	}
	return out, nil
}

// hotPage returns up to first of a club's published posts in HOT order at now, strictly
// after pos, with the scores that placed them, and whether more follow. It ranks the
// counts of the club's HotCandidates newest posts of the horizon (one read, without their
// text), then reads the posts of the page only (a second read).
//
// A post deleted between the two reads is a tombstone (or gone) in the second: it drops
// out, and the page is filled from the candidates ranked after it with one more read. The
// page is then the one a ranking after the delete would have made, and paging holds: each
// listed post's cursor is where the ranking put it, the next page starts after the last
// one listed, and the deleted post is no candidate there any more.
func (s *Service) hotPage(ctx context.Context, clubID string, now time.Time, first int, pos *PostPosition) ([]Post, []float64, bool, error) {
	counts, err := s.store.RecentPostCounts(ctx, clubID, now.Add(-hotHorizon), HotCandidates)
	if err != nil {
		return nil, nil, false, err
	}
	ranked := rankCounts(counts, now, pos)
	var posts []Post
	var scores []float64
	for len(posts) < first && len(ranked) > 0 {
		take := ranked[:min(first-len(posts), len(ranked))]
		ranked = ranked[len(take):]
		ids := make([]string, len(take))
		for i, at := range take {
			ids[i] = at.ID
		}
		found, err := s.store.PostsByID(ctx, ids)
		if err != nil {
			return nil, nil, false, err
		}
		for _, at := range take {
			if p, ok := found[at.ID]; ok && p.Listed() {
				posts = append(posts, p)
				scores = append(scores, at.Score)
			}
		}
	}
	return posts, scores, len(ranked) > 0, nil
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
// and is a member. NOT_FOUND for a deleted post or a parent not of that post.
func (s *Service) AddComment(ctx context.Context, postID, replyTo, body string) (Comment, error) {
	a, err := requireMember(ctx)
	if err != nil {
		return Comment{}, err
	}
	p, err := s.post(ctx, postID)
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
	c := Comment{ID: s.newID(), PostID: postID, AuthorID: a.MemberID, ParentID: replyTo, Body: body, CreatedAt: s.now().UTC()}
	if err := s.store.AddComment(ctx, c); err != nil {
		return Comment{}, err
	}
	return c, nil
}

// comment loads a comment whose post the caller sees.
func (s *Service) comment(ctx context.Context, id string) (Comment, Post, error) {
	if !validID(id) {
		return Comment{}, Post{}, Errorf(CodeNotFound, "no comment %q", id)
	}
	found, err := s.store.CommentsByID(ctx, []string{id})
	if err != nil {
		return Comment{}, Post{}, err
	}
	c, ok := found[id]
	if !ok {
		return Comment{}, Post{}, Errorf(CodeNotFound, "no comment %q", id)
	}
	p, err := s.post(ctx, c.PostID)
	return c, p, err
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
func (s *Service) EditComment(ctx context.Context, commentID, body string) (Comment, error) {
	a, err := requireMember(ctx)
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
func (s *Service) DeleteComment(ctx context.Context, commentID string) (Comment, error) {
	c, p, err := s.comment(ctx, commentID)
	if err != nil {
		return Comment{}, err
	}
	if c.AuthorID != ActorFrom(ctx).MemberID || ActorFrom(ctx).MemberID == "" {
		ok, err := s.canModerate(ctx, p.ClubID)
		if err != nil {
			return Comment{}, err
		}
		if !ok {
			return Comment{}, deny(ctx, "its author and the club's moderators")
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
	Cursor string
}

// listComments is the kind of list that comment cursors are tied to.
const listComments ListKind = "comments"

// Comments returns the pages the keys ask for. Resolvers reach comments through their
// post, whose visibility was checked; deleted comments show no body, and a deleted post's
// comments and their replies are not listed at all (see tombstone). One store round trip
// per distinct (page size, position), and one more that reads the status of the posts the
// comments found are on. A dataloader batch function.
func (s *Service) Comments(ctx context.Context, keys []CommentKey) ([]CommentList, []error) {
	out := make([]CommentList, len(keys))
	errs := make([]error, len(keys))
	type group struct {
		first int
		after Position
	}
	groups := map[group][]int{}
	var order []group
	for i, k := range keys {
		if k.First < 0 || k.First > MaxPageSize {
			errs[i] = fieldError("first", "first must be between 0 and %d", MaxPageSize)
			continue
		}
		g := group{first: k.First}
		if k.After != "" {
			p, err := s.decodeCursor(listComments, k.Parent, k.After)
			if err != nil {
				errs[i] = err
				continue
			}
			g.after = p
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], i)
	}
	pages := make([]map[string][]Comment, len(order))
	mores := make([]map[string]bool, len(order))
	failed := make([]error, len(order))
	var postIDs []string
	for n, g := range order {
		idx := groups[g]
		parents := make([]string, len(idx))
		for j, i := range idx {
			parents[j] = keys[i].Parent
		}
		var after *Position
		if g.after.MemberID != "" {
			after = &g.after
		}
		pages[n], mores[n], failed[n] = s.store.Comments(ctx, parents, g.first, after)
		for _, list := range pages[n] {
			for _, c := range list {
				postIDs = append(postIDs, c.PostID)
			}
		}
	}
	deleted, err := s.deletedPosts(ctx, postIDs)
	if err != nil {
		return out, repeatError(err, len(keys))
	}
	for n, g := range order {
		found, more, err := pages[n], mores[n], failed[n]
		for _, i := range groups[g] {
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
				list[j] = ListedComment{Comment: hideDeleted(c), Cursor: s.cursor(listComments, parent, Position{Since: c.CreatedAt, MemberID: c.ID})}
			}
			out[i] = CommentList{Comments: list, More: more[parent]}
		}
	}
	return out, errs
}

// deletedPosts reports which of the posts with the given ids are deleted, in one store
// round trip (none for no ids).
func (s *Service) deletedPosts(ctx context.Context, ids []string) (map[string]bool, error) {
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
func (s *Service) React(ctx context.Context, targetID string, kind ReactionKind, on bool) error {
	a, err := requireMember(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(ReactionKinds, kind) {
		return fieldError("kind", "unknown reaction %q", kind)
	}
	if _, err := s.post(ctx, targetID); ErrorCode(err) == CodeNotFound {
		if _, _, err := s.comment(ctx, targetID); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if !on {
		return s.store.Unreact(ctx, a.MemberID, targetID, kind)
	}
	return s.store.React(ctx, a.MemberID, targetID, kind, s.now().UTC())
}

// ViewerReactions returns the kinds the calling member reacted with to each target; none
// for a caller who is not a member. A dataloader batch function.
func (s *Service) ViewerReactions(ctx context.Context, targetIDs []string) ([][]ReactionKind, []error) {
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
// repost that appears in the member's followers' feeds.
func (s *Service) SharePost(ctx context.Context, postID string, channel ShareChannel) (Post, error) {
	a, err := requireMember(ctx)
	if err != nil {
		return Post{}, err
	}
	if !slices.Contains(ShareChannels, channel) {
		return Post{}, fieldError("channel", "unknown channel %q", channel)
	}
	p, err := s.post(ctx, postID)
	if err != nil {
		return Post{}, err
	}
	if !p.Listed() {
		return Post{}, Errorf(CodeNotFound, "the post was deleted")
	}
	if err := s.store.SharePost(ctx, Share{ID: s.newID(), PostID: postID, MemberID: a.MemberID, Channel: channel, At: s.now().UTC()}); err != nil {
		return Post{}, err
	}
	// The caller was shown the post above: read it back for its counters only.
	return oneByID(ctx, postID, "post", s.store.PostsByID)
}

// listFeed is the kind of list feed cursors are tied to.
const listFeed ListKind = "feed"

// ListedFeedItem is a feed item with its cursor.
type ListedFeedItem struct {
	FeedItem
	Cursor string
}

// Feed pages through the calling member's feed (see PostStore.Feed): a walk through its
// pages sees the feed as it stood at the first page, so nothing is skipped or repeated
// while posts arrive. Posts of clubs the member may no longer see are left out.
func (s *Service) Feed(ctx context.Context, first int, after string) ([]ListedFeedItem, bool, error) {
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
		p, err := s.decodeCursor(listFeed, a.MemberID, after)
		if err != nil {
			return nil, false, err
		}
		postID, asOfText, ok := strings.Cut(p.MemberID, "~")
		nanos, perr := strconv.ParseInt(asOfText, 36, 64)
		if !ok || perr != nil {
			return nil, false, fieldError("after", "cursor was not issued for this list")
		}
		pos = &FeedPosition{At: p.Since, PostID: postID}
		asOf = time.Unix(0, nanos).UTC()
	}
	items, more, err := s.store.Feed(ctx, a.MemberID, first, pos, asOf)
	if err != nil {
		return nil, false, err
	}
	out := make([]ListedFeedItem, len(items))
	for i, it := range items {
		out[i] = ListedFeedItem{FeedItem: it, Cursor: s.cursor(listFeed, a.MemberID, Position{Since: it.At, MemberID: it.PostID + "~" + strconv.FormatInt(asOf.UnixNano(), 36)})}
	}
	return out, more, nil
}
