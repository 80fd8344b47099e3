package community

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
)

// PostStatus is the state of a post, which decides whether it is listed (see Listed).
type PostStatus string

// The states of a post.
const (
	PostPublished PostStatus = "PUBLISHED"
	// PostDeleted posts read as tombstones: no title, body or tags, out of every feed.
	PostDeleted PostStatus = "DELETED"
)

// postStates is the rule of each state, one row a state; a status not in it (the zero
// PostStatus among them) is not listed.
//
// A state added later is a row here (and a value of the PostStatus enum in the schema),
// and nothing in the stores: they keep, with every post they write, the flag that Listed
// gives them, and query the flag. HIDDEN (by a moderator), HELD (for review) or REMOVED
// (for a breach of the rules) would each be a row with listed false. If one of them were
// to be shown to some callers (a HELD post to its author, say), that rule goes in the
// service's tombstone, which decides what a caller who loads a post by id sees of it; a
// store that writes the post in such a state sets its status and its flag, as DeletePost
// does for DELETED.
var postStates = map[PostStatus]struct {
	// listed: see Listed.
	listed bool
}{
	PostPublished: {listed: true},
	PostDeleted:   {listed: false},
}

// Listed reports whether a post in the state is listed (see Post.Listed).
func (s PostStatus) Listed() bool { return postStates[s].listed }

// Listed reports whether the post is listed: shown with its content, to whoever may see
// inside its club, on its own and in its club's pages (NEW, HOT, TOP), in feeds and in
// search, and open to edits, comments, reactions and shares. A post that is not listed is
// in no list and takes none of these; whoever may see inside its club and loads it by id
// sees its tombstone (who, where and when; no content, no comments). Stores keep this
// flag with every post they write and select by it, so that this is the one place that
// says which states are listed.
func (p Post) Listed() bool { return p.Status.Listed() }

// ReactionKind is how a member reacts to a post or comment.
type ReactionKind string

// The kinds of reaction.
const (
	ReactionLike       ReactionKind = "LIKE"
	ReactionInsightful ReactionKind = "INSIGHTFUL"
	ReactionFunny      ReactionKind = "FUNNY"
	ReactionSupport    ReactionKind = "SUPPORT"
)

// ReactionKinds is the table of kinds, in schema order: the stores keep a counter for each
// kind in it, named after the kind. A new kind is a row here (and a value of the
// ReactionKind enum in the schema); the stores need nothing more.
var ReactionKinds = []ReactionKind{ReactionLike, ReactionInsightful, ReactionFunny, ReactionSupport}

// ShareChannel is where a post was shared.
type ShareChannel string

// The share channels.
const (
	ShareWeChat  ShareChannel = "WECHAT"
	ShareMoments ShareChannel = "MOMENTS"
	ShareWeibo   ShareChannel = "WEIBO"
	ShareLink    ShareChannel = "LINK"
	// ShareInApp is a repost: it appears in the sharer's followers' feeds.
	ShareInApp ShareChannel = "IN_APP"
)

// ShareChannels is the table of channels, in schema order: the stores keep a counter for
// each channel in it, named after the channel. A new channel is a row here (and a value of
// the ShareChannel enum in the schema); the stores need nothing more.
var ShareChannels = []ShareChannel{ShareWeChat, ShareMoments, ShareWeibo, ShareLink, ShareInApp}

// Weights are what one reaction (of any kind), one comment (or reply) and one share (on
// any channel) add to a post's engagement.
type Weights struct {
	Reaction, Comment, Share int
}

// EngagementWeights is the one table of weights: Post.Engagement, PostCounts.Engagement,
// and the stores' orders by engagement read it.
var EngagementWeights = Weights{Reaction: 1, Comment: 2, Share: 3}

// Of is the engagement of so many reactions, comments and shares.
func (w Weights) Of(reactions, comments, shares int) int {
	return w.Reaction*reactions + w.Comment*comments + w.Share*shares
}

// Post is a member's post in a club. Its counters are kept in the same transaction as
// the writes that change them, so sorting by them is cheap.
type Post struct {
	ID        string
	ClubID    string
	AuthorID  string
	Title     string
	Body      string
	Tags      []string
	CreatedAt time.Time
	EditedAt  time.Time // zero until edited
	DeletedAt time.Time // zero unless deleted
	Status    PostStatus
	// Reactions counts the post's reactions by kind (absent kinds: none).
	Reactions       map[ReactionKind]int
	CommentCount    int
	SharesByChannel map[ShareChannel]int
	// Version counts the writes that changed the post or its counters (1 when created),
	// so that a copy of it elsewhere (the search index) keeps the newest state it was sent.
	Version int64
}

// IsEntity marks Post as an entity of the federated graph (see Member.IsEntity).
func (Post) IsEntity() {}

// ReactionTotal is the number of reactions of every kind.
func (p Post) ReactionTotal() int {
	n := 0
	for _, c := range p.Reactions {
		n += c
	}
	return n
}

// ShareCount is the number of shares on every channel.
func (p Post) ShareCount() int {
	n := 0
	for _, c := range p.SharesByChannel {
		n += c
	}
	return n
}

// Engagement weighs what a post received by EngagementWeights: a reaction counts 1, a
// comment 2, a share 3.
func (p Post) Engagement() int { return p.Counts().Engagement() }

// Counts is what ranking reads of the post (see PostCounts).
func (p Post) Counts() PostCounts {
	return PostCounts{ID: p.ID, CreatedAt: p.CreatedAt, Reactions: p.ReactionTotal(), Comments: p.CommentCount, Shares: p.ShareCount()}
}

// Hot is the HOT ranking of a post at a time: its engagement, plus one, divided by its age
// in hours plus two, to the power 1.5. A new post starts high and sinks as it ages unless
// members keep engaging with it (as on Hacker News).
func (p Post) Hot(now time.Time) float64 { return hot(p.Engagement(), p.CreatedAt, now) }

// hot is the HOT ranking at now of a post created at createdAt with the engagement.
func hot(engagement int, createdAt, now time.Time) float64 {
	hours := max(now.Sub(createdAt).Hours(), 0)
	return float64(1+engagement) / math.Pow(hours+2, 1.5)
}

// Comment is a comment on a post, or a reply to a comment.
type Comment struct {
	ID       string
	PostID   string
	AuthorID string
	// ParentID is the comment this one replies to, or "" for a top-level comment.
	ParentID   string
	Body       string
	CreatedAt  time.Time
	EditedAt   time.Time
	DeletedAt  time.Time
	ReplyCount int
	Reactions  map[ReactionKind]int
}

// Share is a member's share of a post.
type Share struct {
	ID       string
	PostID   string
	MemberID string
	Channel  ShareChannel
	At       time.Time
}

// Post limits.
const (
	MaxTitle       = 120
	MaxPostBody    = 20_000
	MaxTags        = 10
	MaxTag         = 30
	MaxCommentBody = 5_000
)

// NormalizeTag trims a tag, folds full-width forms (Ｅ Ｖ → EV) and case.
func NormalizeTag(tag string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(tag) {
		switch {
		case r == '\u3000':
			r = ' '
		case r >= '\uff01' && r <= '\uff5e':
			r -= 0xfee0
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.TrimSpace(b.String())
}

// PostInput is a post's content as an author writes it.
type PostInput struct {
	Title string
	Body  string
	Tags  []string
}

// normalize trims the title and body and normalizes the tags, dropping empty and repeated ones.
func (in *PostInput) normalize() {
	in.Title = titleText.normalize(in.Title)
	in.Body = postBodyText.normalize(in.Body)
	var tags []string
	for _, t := range in.Tags {
		t = NormalizeTag(t)
		if t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	in.Tags = tags
}

func (in PostInput) validate() error {
	if err := titleText.check(in.Title); err != nil {
		return err
	}
	if err := postBodyText.check(in.Body); err != nil {
		return err
	}
	if len(in.Tags) > MaxTags {
		return fieldError("tags", "a post has at most %d tags", MaxTags)
	}
	for _, t := range in.Tags {
		if err := tagText.check(t); err != nil {
			return err
		}
	}
	return nil
}

// PostSort orders a club's posts.
type PostSort string

// The orders of a club's posts.
const (
	// SortNew is newest first.
	SortNew PostSort = "NEW"
	// SortHot is by Post.Hot at the time the first page was asked for.
	SortHot PostSort = "HOT"
	// SortTop is by Post.Engagement, among the posts of a window.
	SortTop PostSort = "TOP"
)

// PostQuery selects pages of clubs' listed posts, NEW or TOP, for ClubPosts.
type PostQuery struct {
	Sort  PostSort
	First int
	// Since limits SortTop to posts created at or after it (zero: no limit).
	Since time.Time
}

// ClubPostsRequest asks ClubPosts for a page of one club's posts.
type ClubPostsRequest struct {
	ClubID string
	// After is the last post of the previous page (nil for the first page).
	After *PostPosition
}

// ClubPostsReader is the part of PostStore that ClubPostsOf reads through.
type ClubPostsReader interface {
	ClubPosts(ctx context.Context, q PostQuery, reqs []ClubPostsRequest) ([]PostPage, error)
}

// ClubPostsOf reads one page of one club's posts, after a position (nil for the first
// page): PostStore.ClubPosts for a single request.
func ClubPostsOf(ctx context.Context, s ClubPostsReader, clubID string, q PostQuery, after *PostPosition) ([]Post, bool, error) {
	pages, err := s.ClubPosts(ctx, q, []ClubPostsRequest{{ClubID: clubID, After: after}})
	if err != nil {
		return nil, false, err
	}
	return pages[0].Posts, pages[0].More, nil
}

// PostPage is a page of posts, and whether more follow it.
type PostPage struct {
	Posts []Post
	More  bool
}

// PostPosition is where a post stands in a sorted list: Score descending (Engagement for
// TOP; 0 for NEW), then CreatedAt descending, then ID ascending.
type PostPosition struct {
	Score     float64
	CreatedAt time.Time
	ID        string
}

// FeedItem is a post in a member's feed, at the time of the newest activity that put it
// there: its creation by a followed member or in one of the member's clubs, or an IN_APP
// share by a followed member.
type FeedItem struct {
	PostID string
	At     time.Time
	// SharedBy is the followed member whose share put the post there at At, or "".
	SharedBy string
}

// PostStore is the part of the Store about posts, comments, reactions, shares and feeds.
// Like the rest of Store, every method is one round trip; every write updates the counters
// it changes in the same transaction: a post's Reactions, CommentCount (its comments and
// replies that are not deleted) and SharesByChannel; a comment's Reactions and ReplyCount
// (its replies that are not deleted).
//
// Stores keep with every post they write whether it is listed (Post.Listed), and select
// by that flag wherever the docs below say listed, never by the status itself: "unknown
// or unlisted" is NOT_FOUND for the writes that a post takes only while it is listed.
//
// Every write that changes a post or its counters also raises its Version and writes an
// EventPost outbox event for it in the same transaction: creating, editing and deleting
// posts (deleting again writes nothing), adding and deleting comments, reacting to posts
// and taking reactions back, shares, and the bulk imports of posts and reactions.
type PostStore interface {
	// CreatePost stores a new post, PUBLISHED when its Status is empty, and returns it as
	// stored (with its Version). NOT_FOUND for an unknown club or author; CONFLICT when its
	// id is taken.
	CreatePost(ctx context.Context, p Post) (Post, error)
	// EditPost replaces a listed post's title, body and tags and sets EditedAt, and
	// returns it. NOT_FOUND for an unknown or unlisted post.
	EditPost(ctx context.Context, postID string, in PostInput, at time.Time) (Post, error)
	// DeletePost marks a post deleted (a tombstone) and returns it; deleting again changes
	// nothing. NOT_FOUND for an unknown post.
	DeletePost(ctx context.Context, postID string, at time.Time) (Post, error)
	// PostsByID returns the posts with the given ids, deleted ones included; unknown ids
	// are absent.
	PostsByID(ctx context.Context, ids []string) (map[string]Post, error)
	// ScanPosts returns up to limit posts with ids greater than afterID, deleted ones
	// included, in id order: for rebuilding the search index.
	ScanPosts(ctx context.Context, afterID string, limit int) ([]Post, error)
	// ClubPosts pages through clubs' listed posts, in one round trip: for each request, up
	// to q.First posts after its position and whether more follow, in the requests'
	// order. SortNew is newest first (then id ascending); SortTop is by Engagement
	// descending, then newest first, then id, among posts created at or after q.Since.
	// An unknown club's page is empty.
	ClubPosts(ctx context.Context, q PostQuery, reqs []ClubPostsRequest) ([]PostPage, error)
	// RecentPostCounts returns, for each club, the counts of its listed posts created at
	// or after since, newest first (then by id ascending), at most limit a club, in one
	// round trip: the candidates that HOT ranks, without their text. Clubs without such
	// posts, unknown ones too, are absent.
	RecentPostCounts(ctx context.Context, clubIDs []string, since time.Time, limit int) (map[string][]PostCounts, error)

	// AddComment stores a comment and counts it on its post (and on its parent for a
	// reply). NOT_FOUND for an unknown or unlisted post, unknown author, or a parent that is
	// not a comment of the same post.
	AddComment(ctx context.Context, c Comment) error
	// EditComment replaces a comment's body and sets EditedAt. NOT_FOUND for an unknown or
	// deleted comment.
	EditComment(ctx context.Context, commentID, body string, at time.Time) (Comment, error)
	// DeleteComment marks a comment deleted (DeletedAt; the service hides its body; its
	// replies stay) and takes it off its post's and parent's counts; deleting again changes
	// nothing. NOT_FOUND for an unknown comment.
	DeleteComment(ctx context.Context, commentID string, at time.Time) (Comment, error)
	// CommentsByID returns the comments with the given ids; unknown ids are absent.
	CommentsByID(ctx context.Context, ids []string) (map[string]Comment, error)
	// Comments returns, for each parent (a post id for its top-level comments, or a comment
	// id for its replies), up to first of its comments oldest first (CreatedAt ascending,
	// then id ascending), strictly after the position after (nil for the start; Since is
	// the comment's CreatedAt, MemberID its id), and whether more follow. Deleted comments
	// are included.
	Comments(ctx context.Context, parents []string, first int, after *Position) (map[string][]Comment, map[string]bool, error)

	// React records a member's reaction of a kind to a post or a comment (targetID is
	// either's id); reacting again changes nothing. NOT_FOUND for an unknown target or
	// member, an unlisted post, or a comment of an unlisted post.
	React(ctx context.Context, memberID, targetID string, kind ReactionKind, at time.Time) error
	// Unreact removes the reaction, if any.
	Unreact(ctx context.Context, memberID, targetID string, kind ReactionKind) error
	// ViewerReactions returns, for each target, the kinds the member reacted with, in
	// ReactionKinds order; targets without any are absent.
	ViewerReactions(ctx context.Context, memberID string, targetIDs []string) (map[string][]ReactionKind, error)
	// SharePost records a share and counts it on the post. A share is never older than its
	// post: it is recorded at s.At, or at the post's CreatedAt when s.At is earlier, so
	// that a post stands in a feed at its creation or later (see Feed). NOT_FOUND for an
	// unknown or unlisted post or unknown member.
	SharePost(ctx context.Context, s Share) error

	// Feed pages through a member's feed as it stood at asOf, newest activity first (At
	// descending, then post id ascending), after a position (nil for the start): posts by
	// members it follows, posts in clubs it belongs to, and IN_APP shares by members it
	// follows — of posts in PUBLIC clubs or clubs it belongs to only; each listed post
	// once, at its newest such activity at or before asOf.
	// Activity after asOf is left out, so that a walk through the pages neither skips nor
	// repeats a post while posts and shares arrive.
	Feed(ctx context.Context, memberID string, first int, after *FeedPosition, asOf time.Time) ([]FeedItem, bool, error)

	// Targets says, for each id, what it names: a post, or a comment with its post, and
	// the club and author of either; ids that name neither are absent. Writes that act on
	// "a post or a comment" (reactions) and on a comment (edits, deletes) read it to find
	// the club whose rules apply, in one round trip.
	Targets(ctx context.Context, ids []string) (map[string]TargetRef, error)

	// PendingClubs returns the clubs that have an EventClub pending for ConsumerSearch, as
	// they are now: clubs whose visibility changed and whose posts the index may still
	// hold with the old one, so that searches leave out what the index does not know yet.
	// They are few (a club has one such event at most, and only a change of visibility
	// makes one), and they are read through an index, not a scan of the outbox.
	PendingClubs(ctx context.Context) ([]Club, error)
}

// TargetRef is what an id names, as PostStore.Targets reads it.
type TargetRef struct {
	// Comment is true for a comment, false for a post.
	Comment bool
	// PostID is the post's id, or the comment's post's.
	PostID string
	// ClubID is the club of the post.
	ClubID string
	// AuthorID is the post's or the comment's author.
	AuthorID string
}

// FeedPosition is where an item stands in a feed.
type FeedPosition struct {
	At     time.Time
	PostID string
}

// PostCounts is what ranking reads of a post: when it was created and what it received,
// none of its text.
type PostCounts struct {
	ID        string
	CreatedAt time.Time
	// Reactions are the post's reactions of every kind; Comments its comments and replies
	// that are not deleted; Shares its shares on every channel.
	Reactions, Comments, Shares int
}

// Engagement is Post.Engagement of the post counted.
func (c PostCounts) Engagement() int { return EngagementWeights.Of(c.Reactions, c.Comments, c.Shares) }

// Hot is Post.Hot of the post counted.
func (c PostCounts) Hot(now time.Time) float64 { return hot(c.Engagement(), c.CreatedAt, now) }
