package neo4jstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// counter is the property of a post or a comment that counts one reaction kind or share
// channel.
type counter[K ~string] struct {
	key      K
	property string
}

// reactionCounters and shareCounters name the counter of each row of
// community.ReactionKinds and community.ShareChannels, in their order.
var (
	reactionCounters = countersOf("reaction", community.ReactionKinds)
	shareCounters    = countersOf("share", community.ShareChannels)
)

func countersOf[K ~string](prefix string, keys []K) []counter[K] {
	out := make([]counter[K], len(keys))
	for i, k := range keys {
		out[i] = counter[K]{k, counterProperty(prefix, string(k))}
	}
	return out
}

// counterProperty names the counter of a kind or channel: the prefix, then the words of
// the name in title case (LIKE: reactionLike; IN_APP: shareInApp). The name goes into
// statements (see post_cypher.go), so it must be upper-case ASCII words joined by
// underscores, as the community package's enums are: anything else is a programming
// error, and the package does not initialise.
func counterProperty(prefix, name string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for word := range strings.SplitSeq(name, "_") {
		if word == "" {
			panic(fmt.Sprintf("neo4jstore: %q cannot name a counter", name))
		}
		for i, r := range word {
			if r < 'A' || r > 'Z' {
				panic(fmt.Sprintf("neo4jstore: %q cannot name a counter", name))
			}
			if i > 0 {
				r += 'a' - 'A'
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// projection projects counters in a map projection (.reactionLike, .reactionFunny, …).
func projection[K ~string](counters []counter[K]) string {
	parts := make([]string, len(counters))
	for i, c := range counters {
		parts[i] = "." + c.property
	}
	return strings.Join(parts, ", ")
}

// sumOf adds up the counters of the node named x; a counter it lacks counts zero.
func sumOf[K ~string](x string, counters []counter[K]) string {
	parts := make([]string, len(counters))
	for i, c := range counters {
		parts[i] = "coalesce(" + x + "." + c.property + ", 0)"
	}
	return "(" + strings.Join(parts, " + ") + ")"
}

// zeros sets counters to zero in a map or node literal.
func zeros[K ~string](counters []counter[K]) string {
	parts := make([]string, len(counters))
	for i, c := range counters {
		parts[i] = c.property + ": 0"
	}
	return strings.Join(parts, ", ")
}

// propertyOf is the property that counts key; "" for an unknown kind or channel.
func propertyOf[K ~string](counters []counter[K], key K) string {
	for _, c := range counters {
		if c.key == key {
			return c.property
		}
	}
	return ""
}

// reactionCounter is the property that counts reactions of kind; "" for an unknown kind.
func reactionCounter(kind community.ReactionKind) string { return propertyOf(reactionCounters, kind) }

// shareCounter is the property that counts shares on channel; "" for an unknown channel.
func shareCounter(channel community.ShareChannel) string { return propertyOf(shareCounters, channel) }

// countsFrom reads counters of a projected post or comment: keys with none are absent, and
// none at all is a nil map.
func countsFrom[K ~string](p map[string]any, counters []counter[K]) map[K]int {
	var out map[K]int
	for _, c := range counters {
		if n := integer(p[c.property]); n != 0 {
			if out == nil {
				out = map[K]int{}
			}
			out[c.key] = n
		}
	}
	return out
}

// endOfTime is after every post: the bound of a first page of newest posts.
var endOfTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// stateParams adds to params the fixed values the post statements compare with or write,
// and the kind and consumers of the outbox events they write.
func (s *Store) stateParams(params map[string]any) map[string]any {
	params["deleted"] = string(community.PostDeleted)
	params["deletedListed"] = community.PostDeleted.Listed()
	params["inApp"] = string(community.ShareInApp)
	params["public"] = string(community.VisibilityPublic)
	return s.eventParams(params, community.EventPost)
}

func noPost(id string) error {
	return community.Errorf(community.CodeNotFound, "no post %q", id)
}

func noComment(id string) error {
	return community.Errorf(community.CodeNotFound, "no comment %q", id)
}

// orZero is t as a parameter, with the zero time as null: a property set to null is not
// stored.
func orZero(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// tagsParam is a post's tags as a parameter: null when there are none.
func tagsParam(tags []string) any {
	if len(tags) == 0 {
		return nil
	}
	return tags
}

// postRow is a post as cypherCreatePost stores it, counters included, at version 1, with
// PUBLISHED for an empty status, and whether it is listed.
func postRow(p community.Post) map[string]any {
	p.Status = cmp.Or(p.Status, community.PostPublished)
	row := map[string]any{
		"id": p.ID, "clubId": p.ClubID, "authorId": p.AuthorID, "title": p.Title, "body": p.Body,
		"tags": tagsParam(p.Tags), "createdAt": p.CreatedAt.UTC(), "editedAt": orZero(p.EditedAt),
		"deletedAt": orZero(p.DeletedAt), "status": string(p.Status), "listed": p.Listed(),
		"commentCount": int64(p.CommentCount), "version": int64(1),
	}
	for _, c := range reactionCounters {
		row[c.property] = int64(p.Reactions[c.key])
	}
	for _, c := range shareCounters {
		row[c.property] = int64(p.SharesByChannel[c.key])
	}
	return row
}

// postFrom reads a post projected with postFields. Channels without shares are absent from
// SharesByChannel, which is nil for a post never shared.
func postFrom(v any) community.Post {
	p, _ := v.(map[string]any)
	return community.Post{
		ID:              str(p["id"]),
		ClubID:          str(p["clubId"]),
		AuthorID:        str(p["authorId"]),
		Title:           str(p["title"]),
		Body:            str(p["body"]),
		Tags:            stringList(p["tags"]),
		CreatedAt:       utc(p["createdAt"]),
		EditedAt:        utc(p["editedAt"]),
		DeletedAt:       utc(p["deletedAt"]),
		Status:          community.PostStatus(str(p["status"])),
		Reactions:       countsFrom(p, reactionCounters),
		CommentCount:    integer(p["commentCount"]),
		SharesByChannel: countsFrom(p, shareCounters),
		Version:         version(p["version"]),
	}
}

// version reads a post's version; postFields reads a post stored before versions were
// kept as version 1.
func version(v any) int64 {
	n, _ := v.(int64)
	return n
}

// stringList reads a list of strings; nil for an absent or empty list.
func stringList(v any) []string {
	list, _ := v.([]any)
	if len(list) == 0 {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = str(s)
	}
	return out
}

// commentRow is a comment as cypherAddComment stores it, counters included.
func commentRow(c community.Comment) map[string]any {
	row := map[string]any{
		"id": c.ID, "postId": c.PostID, "authorId": c.AuthorID, "parentId": orNull(c.ParentID), "body": c.Body,
		"createdAt": c.CreatedAt.UTC(), "editedAt": orZero(c.EditedAt), "deletedAt": orZero(c.DeletedAt),
		"replyCount": int64(c.ReplyCount),
	}
	for _, k := range reactionCounters {
		row[k.property] = int64(c.Reactions[k.key])
	}
	return row
}

// commentFrom reads a comment projected with commentFields.
func commentFrom(v any) community.Comment {
	c, _ := v.(map[string]any)
	return community.Comment{
		ID:         str(c["id"]),
		PostID:     str(c["postId"]),
		AuthorID:   str(c["authorId"]),
		ParentID:   str(c["parentId"]),
		Body:       str(c["body"]),
		CreatedAt:  utc(c["createdAt"]),
		EditedAt:   utc(c["editedAt"]),
		DeletedAt:  utc(c["deletedAt"]),
		ReplyCount: integer(c["replyCount"]),
		Reactions:  countsFrom(c, reactionCounters),
	}
}

// CreatePost implements community.Store: the post is stored as given, counters included
// (a new post's are zero), with PUBLISHED for an empty status, at version 1. CONFLICT when
// a post or a comment has its id.
func (s *Store) CreatePost(ctx context.Context, p community.Post) (community.Post, error) {
	params := s.stateParams(map[string]any{"clubId": p.ClubID, "authorId": p.AuthorID, "post": postRow(p)})
	type result struct {
		clubKnown, authorKnown, taken bool
		post                          community.Post
	}
	res, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (result, error) {
		recs, err := collect(ctx, tx, cypherCreatePost, params)
		if err != nil || len(recs) == 0 {
			return result{}, err
		}
		r := result{clubKnown: boolean(get(recs[0], "clubKnown")), authorKnown: boolean(get(recs[0], "authorKnown")), taken: boolean(get(recs[0], "taken"))}
		if r.clubKnown && r.authorKnown && !r.taken {
			r.post = postFrom(get(recs[0], "post"))
		}
		return r, nil
	})
	if err != nil {
		return community.Post{}, fail(err, "create post %q", p.ID)
	}
	switch {
	case res.taken:
		return community.Post{}, community.Errorf(community.CodeConflict, "the post exists already")
	case !res.clubKnown:
		return community.Post{}, noClub(p.ClubID)
	case !res.authorKnown:
		return community.Post{}, notFound(p.AuthorID)
	}
	return res.post, nil
}

// EditPost implements community.Store.
func (s *Store) EditPost(ctx context.Context, postID string, in community.PostInput, at time.Time) (community.Post, error) {
	params := s.stateParams(map[string]any{"id": postID, "title": in.Title, "body": in.Body, "tags": tagsParam(in.Tags), "at": at.UTC()})
	type result struct {
		post   community.Post
		edited bool
	}
	res, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (*result, error) {
		recs, err := collect(ctx, tx, cypherEditPost, params)
		if err != nil || len(recs) == 0 {
			return nil, err
		}
		return &result{postFrom(get(recs[0], "post")), boolean(get(recs[0], "edited"))}, nil
	})
	if err != nil {
		return community.Post{}, fail(err, "edit post %q", postID)
	}
	if res == nil || !res.edited {
		return community.Post{}, noPost(postID)
	}
	return res.post, nil
}

// DeletePost implements community.Store: a deleted post keeps its content and counters;
// the service hides the content.
func (s *Store) DeletePost(ctx context.Context, postID string, at time.Time) (community.Post, error) {
	params := s.stateParams(map[string]any{"id": postID, "at": at.UTC()})
	recs, err := write(ctx, s, func(tx neo4j.ManagedTransaction) ([]*neo4j.Record, error) {
		return collect(ctx, tx, cypherDeletePost, params)
	})
	if err != nil {
		return community.Post{}, fail(err, "delete post %q", postID)
	}
	if len(recs) == 0 {
		return community.Post{}, noPost(postID)
	}
	return postFrom(get(recs[0], "post")), nil
}

// PostsByID implements community.Store.
func (s *Store) PostsByID(ctx context.Context, ids []string) (map[string]community.Post, error) {
	return batch(ctx, s, cypherPostsByID, ids, nil, "posts", func(r *neo4j.Record) (string, community.Post) {
		p := postFrom(get(r, "post"))
		return p.ID, p
	})
}

// ScanPosts implements community.Store: one read of the index on post ids, from afterID on.
func (s *Store) ScanPosts(ctx context.Context, afterID string, limit int) ([]community.Post, error) {
	params := map[string]any{"afterId": afterID, "limit": int64(max(limit, 0))}
	recs, err := query(ctx, s, cypherScanPosts, params)
	if err != nil {
		return nil, fail(err, "scan posts after %q", afterID)
	}
	out := make([]community.Post, 0, len(recs))
	for _, r := range recs {
		out = append(out, postFrom(get(r, "post")))
	}
	return out, nil
}

// ClubPosts implements community.Store: one statement reads every page.
func (s *Store) ClubPosts(ctx context.Context, q community.PostQuery, reqs []community.ClubPostsRequest) ([]community.PostPage, error) {
	out := make([]community.PostPage, len(reqs))
	if len(reqs) == 0 {
		return out, nil
	}
	first := max(q.First, 0)
	params := s.stateParams(map[string]any{"limit": int64(first + 1)})
	cypher := cypherClubPostsNew
	if q.Sort == community.SortTop {
		cypher = cypherClubPostsTop
		params["since"] = q.Since.UTC()
	}
	rows := make([]map[string]any, len(reqs))
	for i, r := range reqs {
		row := map[string]any{"i": i, "clubId": r.ClubID, "afterId": nil}
		if q.Sort == community.SortTop {
			row["afterScore"], row["afterAt"] = nil, nil
			if r.After != nil {
				row["afterScore"], row["afterAt"], row["afterId"] = r.After.Score, r.After.CreatedAt.UTC(), r.After.ID
			}
		} else {
			row["upTo"] = endOfTime
			if r.After != nil {
				row["upTo"], row["afterId"] = r.After.CreatedAt.UTC(), r.After.ID
			}
		}
		rows[i] = row
	}
	params["reqs"] = rows
	recs, err := query(ctx, s, cypher, params)
	if err != nil {
		return nil, fail(err, "read posts of %d clubs", len(reqs))
	}
	for _, r := range recs {
		list, _ := get(r, "posts").([]any)
		var p community.PostPage
		p.Posts, p.More = pageOf(list, first, postFrom)
		out[integer(get(r, "i"))] = p
	}
	return out, nil
}

// RecentPostCounts implements community.Store: the index on (clubId, createdAt) gives each
// club's posts newest first, so the read stops at limit, and it returns their counters
// only.
func (s *Store) RecentPostCounts(ctx context.Context, clubIDs []string, since time.Time, limit int) (map[string][]community.PostCounts, error) {
	params := s.stateParams(map[string]any{"since": since.UTC(), "limit": int64(max(limit, 0))})
	return batch(ctx, s, cypherRecentPostCounts, clubIDs, params, "recent post counts", func(r *neo4j.Record) (string, []community.PostCounts) {
		return listed(r, "counts", func(v any) community.PostCounts {
			c, _ := v.(map[string]any)
			return community.PostCounts{ID: str(c["id"]), CreatedAt: utc(c["createdAt"]),
				Reactions: integer(c["reactions"]), Comments: integer(c["comments"]), Shares: integer(c["shares"])}
		})
	})
}

// AddComment implements community.Store: the comment is stored as given, counters
// included (a new comment's are zero).
func (s *Store) AddComment(ctx context.Context, c community.Comment) error {
	params := s.stateParams(map[string]any{
		"postId": c.PostID, "authorId": c.AuthorID, "parentId": orNull(c.ParentID), "comment": commentRow(c),
	})
	result, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (string, error) {
		return outcome(ctx, tx, cypherAddComment, params)
	})
	if err != nil {
		return fail(err, "add comment %q to post %q", c.ID, c.PostID)
	}
	switch result {
	case "added":
		return nil
	case "noPost":
		return noPost(c.PostID)
	case "noAuthor":
		return notFound(c.AuthorID)
	case "noParent":
		return community.Errorf(community.CodeNotFound, "no comment %q on post %q", c.ParentID, c.PostID)
	case "taken":
		return community.Errorf(community.CodeConflict, "the comment exists already")
	}
	return fmt.Errorf("neo4jstore: add comment %q to post %q: outcome %q", c.ID, c.PostID, result)
}

// EditComment implements community.Store.
func (s *Store) EditComment(ctx context.Context, commentID, body string, at time.Time) (community.Comment, error) {
	params := map[string]any{"id": commentID, "body": body, "at": at.UTC()}
	type result struct {
		comment community.Comment
		edited  bool
	}
	res, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (*result, error) {
		recs, err := collect(ctx, tx, cypherEditComment, params)
		if err != nil || len(recs) == 0 {
			return nil, err
		}
		return &result{commentFrom(get(recs[0], "comment")), boolean(get(recs[0], "edited"))}, nil
	})
	if err != nil {
		return community.Comment{}, fail(err, "edit comment %q", commentID)
	}
	if res == nil || !res.edited {
		return community.Comment{}, noComment(commentID)
	}
	return res.comment, nil
}

// DeleteComment implements community.Store.
func (s *Store) DeleteComment(ctx context.Context, commentID string, at time.Time) (community.Comment, error) {
	params := s.stateParams(map[string]any{"id": commentID, "at": at.UTC()})
	recs, err := write(ctx, s, func(tx neo4j.ManagedTransaction) ([]*neo4j.Record, error) {
		return collect(ctx, tx, cypherDeleteComment, params)
	})
	if err != nil {
		return community.Comment{}, fail(err, "delete comment %q", commentID)
	}
	if len(recs) == 0 {
		return community.Comment{}, noComment(commentID)
	}
	return commentFrom(get(recs[0], "comment")), nil
}

// Targets implements community.PostStore.
func (s *Store) Targets(ctx context.Context, ids []string) (map[string]community.TargetRef, error) {
	return batch(ctx, s, cypherTargets, ids, nil, "targets", func(r *neo4j.Record) (string, community.TargetRef) {
		return str(get(r, "id")), community.TargetRef{Comment: boolean(get(r, "comment")), PostID: str(get(r, "postId")),
			ClubID: str(get(r, "clubId")), AuthorID: str(get(r, "authorId"))}
	})
}

// CommentsByID implements community.Store.
func (s *Store) CommentsByID(ctx context.Context, ids []string) (map[string]community.Comment, error) {
	return batch(ctx, s, cypherCommentsByID, ids, nil, "comments", func(r *neo4j.Record) (string, community.Comment) {
		c := commentFrom(get(r, "comment"))
		return c.ID, c
	})
}

// Comments implements community.Store: one statement for every parent. Parents without
// comments on the page (unknown ones too) are absent from the first map, and only parents
// with more comments after the page are in the second.
func (s *Store) Comments(ctx context.Context, parents []string, first int, after *community.Position) (map[string][]community.Comment, map[string]bool, error) {
	out := make(map[string][]community.Comment, len(parents))
	more := make(map[string]bool, len(parents))
	if len(parents) == 0 {
		return out, more, nil
	}
	first = max(first, 0)
	params := map[string]any{"parents": parents, "limit": int64(first + 1)}
	afterParams(params, "afterAt", after)
	recs, err := query(ctx, s, cypherComments, params)
	if err != nil {
		return nil, nil, fail(err, "read comments of %d parents", len(parents))
	}
	for _, r := range recs {
		parent := str(get(r, "parent"))
		list, _ := get(r, "comments").([]any)
		if len(list) > first {
			more[parent] = true
			list = list[:first]
		}
		if len(list) == 0 {
			continue
		}
		comments := make([]community.Comment, len(list))
		for i, v := range list {
			comments[i] = commentFrom(v)
		}
		out[parent] = comments
	}
	return out, more, nil
}

// React implements community.Store.
func (s *Store) React(ctx context.Context, memberID, targetID string, kind community.ReactionKind, at time.Time) error {
	counter := reactionCounter(kind)
	if counter == "" {
		return community.Errorf(community.CodeBadUserInput, "unknown reaction %q", kind)
	}
	params := s.stateParams(map[string]any{"memberId": memberID, "targetId": targetID, "kind": string(kind), "counter": counter, "at": at.UTC()})
	result, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (string, error) {
		return outcome(ctx, tx, cypherReact, params)
	})
	if err != nil {
		return fail(err, "react %s to %q for %q", kind, targetID, memberID)
	}
	switch result {
	case "reacted":
		return nil
	case "noTarget":
		return community.Errorf(community.CodeNotFound, "no post or comment %q", targetID)
	case "noMember":
		return notFound(memberID)
	case "deleted":
		return community.Errorf(community.CodeNotFound, "the post was deleted")
	}
	return fmt.Errorf("neo4jstore: react %s to %q for %q: outcome %q", kind, targetID, memberID, result)
}

// Unreact implements community.Store: an unknown member, target or kind has no reaction
// to remove.
func (s *Store) Unreact(ctx context.Context, memberID, targetID string, kind community.ReactionKind) error {
	counter := reactionCounter(kind)
	if counter == "" {
		return nil
	}
	params := s.stateParams(map[string]any{"memberId": memberID, "targetId": targetID, "kind": string(kind), "counter": counter})
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		return struct{}{}, exec(ctx, tx, cypherUnreact, params)
	})
	if err != nil {
		return fail(err, "remove the %s reaction of %q to %q", kind, memberID, targetID)
	}
	return nil
}

// ViewerReactions implements community.Store.
func (s *Store) ViewerReactions(ctx context.Context, memberID string, targetIDs []string) (map[string][]community.ReactionKind, error) {
	ids := slices.Compact(slices.Sorted(slices.Values(targetIDs)))
	return batch(ctx, s, cypherViewerReactions, ids, map[string]any{"memberId": memberID}, "reactions", func(r *neo4j.Record) (string, []community.ReactionKind) {
		list, _ := get(r, "kinds").([]any)
		var kinds []community.ReactionKind
		for _, c := range reactionCounters {
			if slices.Contains(list, any(string(c.key))) {
				kinds = append(kinds, c.key)
			}
		}
		if len(kinds) == 0 {
			return "", nil
		}
		return str(get(r, "id")), kinds
	})
}

// SharePost implements community.Store. CONFLICT when a share with the same id is
// recorded already.
func (s *Store) SharePost(ctx context.Context, sh community.Share) error {
	counter := shareCounter(sh.Channel)
	if counter == "" {
		return community.Errorf(community.CodeBadUserInput, "unknown channel %q", sh.Channel)
	}
	params := s.stateParams(map[string]any{
		"id": sh.ID, "postId": sh.PostID, "memberId": sh.MemberID, "channel": string(sh.Channel), "counter": counter, "at": sh.At.UTC(),
	})
	result, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (string, error) {
		return outcome(ctx, tx, cypherSharePost, params)
	})
	if err != nil {
		return fail(err, "share post %q for %q", sh.PostID, sh.MemberID)
	}
	switch result {
	case "shared":
		return nil
	case "noPost":
		return noPost(sh.PostID)
	case "noMember":
		return notFound(sh.MemberID)
	}
	return fmt.Errorf("neo4jstore: share post %q for %q: outcome %q", sh.PostID, sh.MemberID, result)
}

// Feed implements community.Store: an unknown member has an empty feed. See cypherFeed for
// how each source is bounded by the cursor and asOf before the sources are merged.
func (s *Store) Feed(ctx context.Context, memberID string, first int, after *community.FeedPosition, asOf time.Time) ([]community.FeedItem, bool, error) {
	first = max(first, 0)
	asOf = asOf.UTC()
	params := s.stateParams(map[string]any{
		"memberId": memberID, "asOf": asOf, "upTo": asOf, "afterAt": nil, "afterId": nil, "limit": int64(first + 1),
	})
	if after != nil {
		params["afterAt"], params["afterId"] = after.At.UTC(), after.PostID
		if after.At.Before(asOf) {
			params["upTo"] = after.At.UTC()
		}
	}
	recs, err := query(ctx, s, cypherFeed, params)
	if err != nil {
		return nil, false, fail(err, "read the feed of %q", memberID)
	}
	out, more := pageOf(recs, first, func(r *neo4j.Record) community.FeedItem {
		return community.FeedItem{PostID: str(get(r, "postId")), At: utc(get(r, "at")), SharedBy: str(get(r, "sharedBy"))}
	})
	return out, more, nil
}
