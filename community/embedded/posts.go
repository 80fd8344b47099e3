package embedded

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

// Bucket names of the post part of the bbolt file. Posts, comments and shares are JSON
// documents; a reaction is a key alone. Counters are not stored: load counts them from the
// comments, reactions and shares, so no write has to rewrite a post to count on it.
var (
	// bucketPosts maps a post id to its postDoc.
	bucketPosts = []byte("posts")
	// bucketComments maps a comment id to its commentDoc.
	bucketComments = []byte("comments")
	// bucketReactions maps target id, NUL, member id, NUL, kind to the time of the
	// reaction (Unix nanoseconds, big-endian). The target is a post or a comment.
	bucketReactions = []byte("reactions")
	// bucketShares maps a share id to its community.Share.
	bucketShares = []byte("shares")
)

// postBuckets are the buckets migrate creates for the post part.
var postBuckets = [][]byte{bucketPosts, bucketComments, bucketReactions, bucketShares}

// The counters of posts and comments: one per row of community.ReactionKinds and of
// community.ShareChannels, in their order, so that a kind or a channel added there is
// counted here with no change. The file keeps no counters (see above): a store opened
// with more kinds or channels than it was written with counts them from zero.
var (
	kindCount    = len(community.ReactionKinds)
	channelCount = len(community.ShareChannels)
	// kindBits is the low bits of a reaction entry that hold the kind's index, and
	// kindMask selects them.
	kindBits = uint(bits.Len(uint(kindCount - 1)))
	kindMask = uint32(1)<<kindBits - 1
	// maxTargets bounds the sequence numbers of posts and comments, which a reaction entry
	// holds above its kind bits.
	maxTargets = uint64(1) << (32 - kindBits)
)

// postGraph is the in-memory part of the store about posts, comments, reactions and
// shares. It holds what orders and counts them; their text (titles, bodies, tags) stays in
// the file and is read through bbolt's memory map when a caller asks for it. It is guarded
// by Store.mu, like the rest of the graph.
type postGraph struct {
	posts    map[string]*postNode
	comments map[string]*commentNode
	// nextTarget is the sequence number of the next post or comment: they share one space
	// because a reaction's target is either.
	nextTarget uint32
	// clubPosts and authorPosts are the published posts of each club and of each author,
	// oldest first (created ascending, then id descending): the reverse of NEW order, so
	// that a new post is usually an append.
	clubPosts   map[*club][]*postNode
	authorPosts map[*member][]*postNode
	// children are the comments under each post (its top-level comments) and under each
	// comment (its replies), by the parent's sequence number, oldest first (created
	// ascending, then id ascending), deleted ones included.
	children map[uint32][]*commentNode
	// reactions are each member's reactions, sorted: target sequence number << kindBits |
	// the kind's index. Four bytes a reaction.
	reactions map[*member][]uint32
	// sharesBy are each member's IN_APP shares, oldest first (at ascending, then post id
	// descending): the feed's reposts. sharesOf are the same shares by post.
	sharesBy map[*member][]sharedPost
	sharesOf map[*postNode][]postSharer
}

func newPostGraph() postGraph {
	return postGraph{
		posts:       map[string]*postNode{},
		comments:    map[string]*commentNode{},
		clubPosts:   map[*club][]*postNode{},
		authorPosts: map[*member][]*postNode{},
		children:    map[uint32][]*commentNode{},
		reactions:   map[*member][]uint32{},
		sharesBy:    map[*member][]sharedPost{},
		sharesOf:    map[*postNode][]postSharer{},
	}
}

// postNode is a post of the in-memory graph: where it stands and what it counts.
type postNode struct {
	id        string
	club      *club
	author    *member
	createdAt int64 // Unix nanoseconds
	seq       uint32
	comments  int32
	// counters are the post's reactions by kind, then its shares by channel (see
	// reactions and shares).
	counters []int32
	// listed is the postDoc's Listed: only listed posts are in clubPosts, authorPosts and
	// feeds, and take edits, comments, reactions and shares.
	listed bool
	// version is the post's Version (see bucketPostVersions).
	version int64
}

// reactions are the post's counts of reactions, by kind.
func (n *postNode) reactions() []int32 { return n.counters[:kindCount] }

// shares are the post's counts of shares, by channel.
func (n *postNode) shares() []int32 { return n.counters[kindCount:] }

// commentNode is a comment of the in-memory graph. Its parent is found through its
// document when needed: only deleting a reply needs it.
type commentNode struct {
	id        string
	post      *postNode
	createdAt int64 // Unix nanoseconds
	seq       uint32
	replies   int32
	reactions []int32
	deleted   bool
}

// sharedPost is an IN_APP share in its sharer's list.
type sharedPost struct {
	post *postNode
	at   int64
}

// postSharer is an IN_APP share in its post's list.
type postSharer struct {
	sharer *member
	at     int64
}

// postDoc is a post as stored in bbolt: community.Post without its counters, with whether
// it is listed.
type postDoc struct {
	ID        string
	ClubID    string
	AuthorID  string
	Title     string
	Body      string
	Tags      []string
	CreatedAt time.Time
	EditedAt  time.Time `json:",omitzero"`
	DeletedAt time.Time `json:",omitzero"`
	Status    community.PostStatus
	// Listed is community.Post.Listed of Status, written with it. Files written before it
	// was kept lack it: see listed.
	Listed *bool `json:",omitempty"`
}

// listed reports whether a post stored with the status and the flag is listed: the flag,
// or for a post stored without one, community.Post.Listed of its status (then PUBLISHED
// or DELETED; an empty one was stored for PUBLISHED).
func listed(status community.PostStatus, flag *bool) bool {
	if flag != nil {
		return *flag
	}
	return cmp.Or(status, community.PostPublished).Listed()
}

// setStatus gives the document a status, and the flag that goes with it.
func (d *postDoc) setStatus(status community.PostStatus) {
	d.Status = cmp.Or(status, community.PostPublished)
	flag := d.Status.Listed()
	d.Listed = &flag
}

// commentDoc is a comment as stored in bbolt: community.Comment without its counters.
type commentDoc struct {
	ID        string
	PostID    string
	AuthorID  string
	ParentID  string `json:",omitempty"`
	Body      string
	CreatedAt time.Time
	EditedAt  time.Time `json:",omitzero"`
	DeletedAt time.Time `json:",omitzero"`
}

// The earliest and latest times Unix nanoseconds hold.
var (
	minNanos = time.Unix(0, math.MinInt64)
	maxNanos = time.Unix(0, math.MaxInt64)
)

// nanos returns t in Unix nanoseconds, clamped to what an int64 holds: the zero time
// comes before every post.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func postNotFound(id string) error {
	return community.Errorf(community.CodeNotFound, "no post %q", id)
}

func commentNotFound(id string) error {
	return community.Errorf(community.CodeNotFound, "no comment %q", id)
}

func kindIndex(k community.ReactionKind) int { return slices.Index(community.ReactionKinds, k) }

func channelIndex(c community.ShareChannel) int { return slices.Index(community.ShareChannels, c) }

var channelInApp = channelIndex(community.ShareInApp)

// compareNodes orders posts oldest first, then by id descending: the reverse of NEW order.
func compareNodes(a, b *postNode) int {
	if a.createdAt != b.createdAt {
		return cmp.Compare(a.createdAt, b.createdAt)
	}
	return -strings.Compare(a.id, b.id)
}

// compareComments orders comments oldest first, then by id.
func compareComments(a, b *commentNode) int {
	if a.createdAt != b.createdAt {
		return cmp.Compare(a.createdAt, b.createdAt)
	}
	return strings.Compare(a.id, b.id)
}

// compareShared orders a member's shares oldest first, then by post id descending: the
// reverse of feed order.
func compareShared(a, b sharedPost) int {
	if a.at != b.at {
		return cmp.Compare(a.at, b.at)
	}
	return -strings.Compare(a.post.id, b.post.id)
}

func reactionKey(targetID, memberID string, kind community.ReactionKind) []byte {
	return []byte(targetID + "\x00" + memberID + "\x00" + string(kind))
}

// loadPosts reads the post part of the file into memory and counts what it counts; members
// and clubs are loaded already.
func (s *Store) loadPosts(tx *bolt.Tx) error {
	// Load decodes only the fields that place a post or a comment; the text stays in the file.
	var pm struct {
		ID, ClubID, AuthorID string
		CreatedAt            time.Time
		Status               community.PostStatus
		Listed               *bool
	}
	err := tx.Bucket(bucketPosts).ForEach(func(_, v []byte) error {
		pm.ID, pm.ClubID, pm.AuthorID, pm.CreatedAt, pm.Status, pm.Listed = "", "", "", time.Time{}, "", nil
		if err := json.Unmarshal(v, &pm); err != nil {
			return fmt.Errorf("embedded: decode post: %w", err)
		}
		c, a := s.clubs[pm.ClubID], s.members[pm.AuthorID]
		if c == nil || a == nil {
			return fmt.Errorf("embedded: post %q refers to an unknown club or member", pm.ID)
		}
		n := &postNode{id: pm.ID, club: c, author: a, createdAt: nanos(pm.CreatedAt), seq: s.nextTarget, counters: newCounters(), listed: listed(pm.Status, pm.Listed)}
		s.nextTarget++
		s.posts[n.id] = n
		s.acted(a.ID, n.createdAt)
		if n.listed {
			s.clubPosts[c] = append(s.clubPosts[c], n)
			s.authorPosts[a] = append(s.authorPosts[a], n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	type reply struct {
		n      *commentNode
		parent string
	}
	var replies []reply
	var cm struct {
		ID, PostID, ParentID, AuthorID string
		CreatedAt, DeletedAt           time.Time
	}
	err = tx.Bucket(bucketComments).ForEach(func(_, v []byte) error {
		cm.ID, cm.PostID, cm.ParentID, cm.AuthorID, cm.CreatedAt, cm.DeletedAt = "", "", "", "", time.Time{}, time.Time{}
		if err := json.Unmarshal(v, &cm); err != nil {
			return fmt.Errorf("embedded: decode comment: %w", err)
		}
		p := s.posts[cm.PostID]
		if p == nil {
			return fmt.Errorf("embedded: comment %q refers to an unknown post", cm.ID)
		}
		n := &commentNode{id: cm.ID, post: p, createdAt: nanos(cm.CreatedAt), seq: s.nextTarget, reactions: make([]int32, kindCount), deleted: !cm.DeletedAt.IsZero()}
		s.nextTarget++
		s.comments[n.id] = n
		s.acted(cm.AuthorID, n.createdAt)
		if !n.deleted {
			p.comments++
		}
		if cm.ParentID == "" {
			s.children[p.seq] = append(s.children[p.seq], n)
		} else {
			replies = append(replies, reply{n, cm.ParentID})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range replies {
		parent := s.comments[r.parent]
		if parent == nil || parent.post != r.n.post {
			return fmt.Errorf("embedded: comment %q replies to %q, not a comment of its post", r.n.id, r.parent)
		}
		s.children[parent.seq] = append(s.children[parent.seq], r.n)
		if !r.n.deleted {
			parent.replies++
		}
	}
	err = tx.Bucket(bucketReactions).ForEach(func(k, v []byte) error {
		target, rest, ok1 := bytes.Cut(k, []byte{0})
		memberID, kind, ok2 := bytes.Cut(rest, []byte{0})
		m := s.members[string(memberID)]
		i := kindIndex(community.ReactionKind(kind))
		seq, counts := s.target(string(target))
		if !ok1 || !ok2 || m == nil || i < 0 || counts == nil {
			return fmt.Errorf("embedded: reaction %q refers to an unknown target, member or kind", k)
		}
		s.reactions[m] = append(s.reactions[m], reactionEntry(seq, i))
		counts[i]++
		if len(v) == 8 {
			s.acted(m.ID, int64(binary.BigEndian.Uint64(v)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketShares).ForEach(func(_, v []byte) error {
		var sh community.Share
		if err := json.Unmarshal(v, &sh); err != nil {
			return fmt.Errorf("embedded: decode share: %w", err)
		}
		p, m, ch := s.posts[sh.PostID], s.members[sh.MemberID], channelIndex(sh.Channel)
		if p == nil || m == nil || ch < 0 {
			return fmt.Errorf("embedded: share %q refers to an unknown post, member or channel", sh.ID)
		}
		p.shares()[ch]++
		if ch == channelInApp {
			// A share stored before SharePost kept shares no older than their posts is
			// read as it would be stored now.
			at := max(nanos(sh.At), p.createdAt)
			s.sharesBy[m] = append(s.sharesBy[m], sharedPost{p, at})
			s.sharesOf[p] = append(s.sharesOf[p], postSharer{m, at})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, list := range s.clubPosts {
		slices.SortFunc(list, compareNodes)
	}
	for _, list := range s.authorPosts {
		slices.SortFunc(list, compareNodes)
	}
	for _, list := range s.children {
		slices.SortFunc(list, compareComments)
	}
	for _, list := range s.reactions {
		slices.Sort(list)
	}
	for _, list := range s.sharesBy {
		slices.SortFunc(list, compareShared)
	}
	return nil
}

// target finds a post or a comment by id: its sequence number and its reaction counters
// (nil when there is none).
func (s *Store) target(id string) (uint32, []int32) {
	if p := s.posts[id]; p != nil {
		return p.seq, p.reactions()
	}
	if c := s.comments[id]; c != nil {
		return c.seq, c.reactions
	}
	return 0, nil
}

// newCounters returns a post's counters, all zero.
func newCounters() []int32 { return make([]int32, kindCount+channelCount) }

func reactionEntry(seq uint32, kind int) uint32 { return seq<<kindBits | uint32(kind) }

// takeTargets checks that there are n sequence numbers left for posts or comments and
// returns the first; the caller numbers its posts or comments from it on, and adding them
// to memory moves nextTarget past them.
func (s *Store) takeTargets(n int) (uint32, error) {
	if uint64(s.nextTarget)+uint64(n) > maxTargets {
		return 0, fmt.Errorf("embedded: more than %d posts and comments", maxTargets)
	}
	return s.nextTarget, nil
}

// idTaken reports whether a post or a comment has the id: reactions name either by id.
func (s *Store) idTaken(id string) bool { return s.posts[id] != nil || s.comments[id] != nil }

// counts returns non-zero counters as a map by key, nil when all are zero.
func counts[K comparable](keys []K, values []int32) map[K]int {
	var out map[K]int
	for i, v := range values {
		if v != 0 {
			if out == nil {
				out = map[K]int{}
			}
			out[keys[i]] = int(v)
		}
	}
	return out
}

func (d postDoc) post(n *postNode) community.Post {
	return community.Post{
		ID: d.ID, ClubID: d.ClubID, AuthorID: d.AuthorID, Title: d.Title, Body: d.Body, Tags: d.Tags,
		CreatedAt: d.CreatedAt, EditedAt: d.EditedAt, DeletedAt: d.DeletedAt, Status: d.Status,
		Reactions:       counts(community.ReactionKinds, n.reactions()),
		CommentCount:    int(n.comments),
		SharesByChannel: counts(community.ShareChannels, n.shares()),
		Version:         n.version,
	}
}

func (d commentDoc) comment(n *commentNode) community.Comment {
	return community.Comment{
		ID: d.ID, PostID: d.PostID, AuthorID: d.AuthorID, ParentID: d.ParentID, Body: d.Body,
		CreatedAt: d.CreatedAt, EditedAt: d.EditedAt, DeletedAt: d.DeletedAt,
		ReplyCount: int(n.replies),
		Reactions:  counts(community.ReactionKinds, n.reactions),
	}
}

// getJSON decodes the document under key; an absent one is an error, because memory says
// it is there.
func getJSON(tx *bolt.Tx, bucket []byte, key string, v any) error {
	data := tx.Bucket(bucket).Get([]byte(key))
	if data == nil {
		return fmt.Errorf("embedded: %s %q is missing from the file", bucket, key)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("embedded: decode %s %q: %w", bucket, key, err)
	}
	return nil
}

// docCopy is a document's bytes copied out of the file while s.mu was held, with a copy
// of its node: the counters that went with that state of the document. Reads of pages
// copy under the lock and decode after releasing it (decodeDocs), so that no writer waits
// while a page of long posts is decoded: the copy is a memmove, decoding is most of the work.
type docCopy[N any] struct {
	id   string
	node N
	data []byte
}

// copyDocs copies the documents of nodes (named by key) out of bucket in one bbolt
// transaction; the caller holds s.mu. A document memory knows and the file lacks is an error.
func copyDocs[N any](s *Store, bucket []byte, nodes []*N, key func(*N) string) ([]docCopy[N], error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	out := make([]docCopy[N], len(nodes))
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for i, n := range nodes {
			id := key(n)
			data := b.Get([]byte(id))
			if data == nil {
				return fmt.Errorf("embedded: %s %q is missing from the file", bucket, id)
			}
			out[i] = docCopy[N]{id: id, node: *n, data: bytes.Clone(data)}
			if d, ok := any(&out[i].node).(detacher); ok {
				d.detach()
			}
		}
		return nil
	})
	return out, err
}

// decodeDocs decodes copied documents into values, in their order (nil for none); the
// caller holds no lock.
func decodeDocs[N, D, V any](bucket []byte, docs []docCopy[N], value func(D, *N) V) ([]V, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	out := make([]V, len(docs))
	for i := range docs {
		var d D
		if err := json.Unmarshal(docs[i].data, &d); err != nil {
			return nil, fmt.Errorf("embedded: decode %s %q: %w", bucket, docs[i].id, err)
		}
		out[i] = value(d, &docs[i].node)
	}
	return out, nil
}

// detacher is a node copied under the lock whose counters must be copied too: they are
// slices that writes change in place, and the copy is read after the lock is let go.
type detacher interface{ detach() }

func (n *postNode) detach()    { n.counters = slices.Clone(n.counters) }
func (n *commentNode) detach() { n.reactions = slices.Clone(n.reactions) }

func postKey(n *postNode) string { return n.id }

func commentKey(n *commentNode) string { return n.id }

// copyPosts copies the documents of the posts of nodes; the caller holds s.mu.
func (s *Store) copyPosts(nodes []*postNode) ([]docCopy[postNode], error) {
	return copyDocs(s, bucketPosts, nodes, postKey)
}

// decodePosts decodes the posts copied by copyPosts, in their order.
func decodePosts(docs []docCopy[postNode]) ([]community.Post, error) {
	return decodeDocs(bucketPosts, docs, postDoc.post)
}

// readByID reads the documents of the nodes with the given ids: it copies them under the
// read lock and decodes them after (see docCopy). Ids without a node are left out.
func readByID[N, D, V any](s *Store, bucket []byte, ids []string, nodes map[string]*N, key func(*N) string, value func(D, *N) V) (map[string]V, error) {
	docs, err := func() ([]docCopy[N], error) {
		defer s.reading()()
		found := make([]*N, 0, len(ids))
		for _, id := range ids {
			if n := nodes[id]; n != nil {
				found = append(found, n)
			}
		}
		return copyDocs(s, bucket, found, key)
	}()
	if err != nil {
		return nil, err
	}
	values, err := decodeDocs(bucket, docs, value)
	if err != nil {
		return nil, err
	}
	out := make(map[string]V, len(values))
	for i, v := range values {
		out[docs[i].id] = v
	}
	return out, nil
}

// newPostDoc returns the document of a post to store: the post without its counters, with
// PUBLISHED for an empty status, and whether it is listed.
func newPostDoc(p community.Post) postDoc {
	d := postDoc{
		ID: p.ID, ClubID: p.ClubID, AuthorID: p.AuthorID, Title: p.Title, Body: p.Body, Tags: slices.Clone(p.Tags),
		CreatedAt: p.CreatedAt.UTC(), EditedAt: p.EditedAt.UTC(), DeletedAt: p.DeletedAt.UTC(),
	}
	d.setStatus(p.Status)
	return d
}

// newPostNode returns the node of a post about to be stored, numbered seq.
func newPostNode(d postDoc, c *club, a *member, seq uint32) *postNode {
	return &postNode{id: d.ID, club: c, author: a, createdAt: nanos(d.CreatedAt), seq: seq, counters: newCounters(), listed: listed(d.Status, d.Listed)}
}

// addPosts adds stored posts to the in-memory graph. Their nodes are numbered from
// nextTarget on, one each, as takeTargets handed the numbers out.
func (s *Store) addPosts(nodes ...*postNode) {
	s.nextTarget += uint32(len(nodes))
	byClub := map[*club][]*postNode{}
	byAuthor := map[*member][]*postNode{}
	for _, n := range nodes {
		s.posts[n.id] = n
		s.acted(n.author.ID, n.createdAt)
		if n.listed {
			byClub[n.club] = append(byClub[n.club], n)
			byAuthor[n.author] = append(byAuthor[n.author], n)
		}
	}
	for c, add := range byClub {
		slices.SortFunc(add, compareNodes)
		s.clubPosts[c] = mergeSorted(s.clubPosts[c], add, compareNodes)
	}
	for a, add := range byAuthor {
		slices.SortFunc(add, compareNodes)
		s.authorPosts[a] = mergeSorted(s.authorPosts[a], add, compareNodes)
	}
}

// CreatePost implements community.PostStore. Its counters are ignored: a new post has
// none. CONFLICT when a post or a comment has its id.
func (s *Store) CreatePost(_ context.Context, p community.Post) (community.Post, error) {
	d := newPostDoc(p)
	defer s.writing()()
	if s.idTaken(p.ID) {
		return community.Post{}, conflict("post %q exists already", p.ID)
	}
	c := s.clubs[p.ClubID]
	if c == nil {
		return community.Post{}, clubNotFound(p.ClubID)
	}
	a := s.members[p.AuthorID]
	if a == nil {
		return community.Post{}, notFound(p.AuthorID)
	}
	seq, err := s.takeTargets(1)
	if err != nil {
		return community.Post{}, err
	}
	n := newPostNode(d, c, a, seq)
	err = s.updateTouching(postTouch{n: 1}, func(tx *bolt.Tx) error {
		return putJSON(tx, bucketPosts, []byte(p.ID), d)
	})
	if err != nil {
		return community.Post{}, fmt.Errorf("embedded: create post: %w", err)
	}
	s.addPosts(n)
	return d.post(n), nil
}

// EditPost implements community.PostStore.
func (s *Store) EditPost(_ context.Context, postID string, in community.PostInput, at time.Time) (community.Post, error) {
	defer s.writing()()
	n := s.posts[postID]
	if n == nil || !n.listed {
		return community.Post{}, postNotFound(postID)
	}
	var d postDoc
	err := s.updateTouching(postTouch{n: 1}, func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketPosts, postID, &d); err != nil {
			return err
		}
		d.Title, d.Body, d.Tags, d.EditedAt = in.Title, in.Body, slices.Clone(in.Tags), at.UTC()
		d.setStatus(d.Status)
		return putJSON(tx, bucketPosts, []byte(postID), d)
	})
	if err != nil {
		return community.Post{}, fmt.Errorf("embedded: edit post %q: %w", postID, err)
	}
	return d.post(n), nil
}

// errUnchanged rolls back a write that finds nothing to change.
var errUnchanged = errors.New("unchanged")

// DeletePost implements community.PostStore. The post leaves its club's lists and the
// feeds, as it is no longer listed; its comments, reactions and shares stay, with its
// counters.
func (s *Store) DeletePost(_ context.Context, postID string, at time.Time) (community.Post, error) {
	defer s.writing()()
	n := s.posts[postID]
	if n == nil {
		return community.Post{}, postNotFound(postID)
	}
	var d postDoc
	err := s.updateTouching(postTouch{n: 1}, func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketPosts, postID, &d); err != nil {
			return err
		}
		if d.Status == community.PostDeleted {
			return errUnchanged // deleting again changes nothing
		}
		d.setStatus(community.PostDeleted)
		d.DeletedAt = at.UTC()
		return putJSON(tx, bucketPosts, []byte(postID), d)
	})
	switch {
	case errors.Is(err, errUnchanged):
		return d.post(n), nil
	case err != nil:
		return community.Post{}, fmt.Errorf("embedded: delete post %q: %w", postID, err)
	}
	s.relist(n, *d.Listed)
	return d.post(n), nil
}

// relist records that the post is listed or not, and adds it to its club's and author's
// lists or takes it off them accordingly.
func (s *Store) relist(n *postNode, listed bool) {
	switch {
	case listed && !n.listed:
		s.clubPosts[n.club] = insertSorted(s.clubPosts[n.club], n, compareNodes)
		s.authorPosts[n.author] = insertSorted(s.authorPosts[n.author], n, compareNodes)
	case !listed && n.listed:
		s.clubPosts[n.club] = removeSorted(s.clubPosts[n.club], n, compareNodes)
		s.authorPosts[n.author] = removeSorted(s.authorPosts[n.author], n, compareNodes)
	}
	n.listed = listed
}

// PostsByID implements community.PostStore. The posts are decoded after the read lock is
// released (see docCopy).
func (s *Store) PostsByID(_ context.Context, ids []string) (map[string]community.Post, error) {
	return readByID(s, bucketPosts, ids, s.posts, postKey, postDoc.post)
}

// ClubPosts implements community.PostStore. NEW is a binary search in the club's list;
// TOP scans the club's posts of the window in memory (their counters, no documents),
// keeping the best q.First+1: its work grows with the posts of the window, not with the
// page. Every page is found under one read lock; only the pages' documents are read, and
// decoded after the lock is released. An unknown club has no posts; a sort other than NEW
// and TOP is BAD_USER_INPUT.
func (s *Store) ClubPosts(_ context.Context, q community.PostQuery, reqs []community.ClubPostsRequest) ([]community.PostPage, error) {
	if q.Sort != community.SortNew && q.Sort != community.SortTop {
		return nil, community.Errorf(community.CodeBadUserInput, "the store sorts posts by NEW or TOP, not %q", q.Sort)
	}
	docs, more, err := s.clubPages(q, reqs)
	if err != nil {
		return nil, err
	}
	out := make([]community.PostPage, len(reqs))
	for i := range reqs {
		if out[i].Posts, err = decodePosts(docs[i]); err != nil {
			return nil, err
		}
		out[i].More = more[i]
	}
	return out, nil
}

// clubPages finds the pages of ClubPosts under the read lock, and copies their documents.
func (s *Store) clubPages(q community.PostQuery, reqs []community.ClubPostsRequest) ([][]docCopy[postNode], []bool, error) {
	defer s.reading()()
	docs, more := make([][]docCopy[postNode], len(reqs)), make([]bool, len(reqs))
	first := max(q.First, 0)
	for i, r := range reqs {
		c := s.clubs[r.ClubID]
		if c == nil {
			continue
		}
		list := s.clubPosts[c]
		var page []*postNode
		if q.Sort == community.SortTop {
			page, more[i] = topPosts(list, q, r.After)
		} else {
			end := len(list)
			if r.After != nil {
				after := &community.Position{Since: r.After.CreatedAt, ID: r.After.ID}
				end = pageEnd(list, after, func(n *postNode) (time.Time, string) { return time.Unix(0, n.createdAt), n.id })
			}
			for j := end - 1; j >= 0 && len(page) < first; j-- {
				page = append(page, list[j])
			}
			more[i] = end > len(page)
		}
		var err error
		if docs[i], err = s.copyPosts(page); err != nil {
			return nil, nil, err
		}
	}
	return docs, more, nil
}

// ranked is a post with its place in TOP order.
type ranked struct {
	n     *postNode
	score int
}

// engagement is community.Post.Engagement from the counters of a node.
func (n *postNode) engagement() int {
	reactions, shares := n.totals()
	return community.EngagementWeights.Of(reactions, int(n.comments), shares)
}

// totals are the post's reactions of every kind and shares on every channel.
func (n *postNode) totals() (reactions, shares int) {
	for _, r := range n.reactions() {
		reactions += int(r)
	}
	for _, sh := range n.shares() {
		shares += int(sh)
	}
	return reactions, shares
}

// compareRanked orders TOP: score descending, then newest first, then id ascending.
func compareRanked(a, b ranked) int {
	switch {
	case a.score != b.score:
		return b.score - a.score
	case a.n.createdAt != b.n.createdAt:
		return cmp.Compare(b.n.createdAt, a.n.createdAt)
	}
	return strings.Compare(a.n.id, b.n.id)
}

// worstFirst is a heap whose root is the last of the posts it keeps in TOP order.
type worstFirst []ranked

func (h worstFirst) Len() int           { return len(h) }
func (h worstFirst) Less(i, j int) bool { return compareRanked(h[i], h[j]) > 0 }
func (h worstFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *worstFirst) Push(x any)        { *h = append(*h, x.(ranked)) }
func (h *worstFirst) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// topPosts returns up to q.First posts of list (oldest first) created at or after
// q.Since, in TOP order after the position after (nil for the start), and whether more
// follow.
func topPosts(list []*postNode, q community.PostQuery, after *community.PostPosition) ([]*postNode, bool) {
	since := nanos(q.Since) // the zero time: all
	start := sort.Search(len(list), func(i int) bool { return list[i].createdAt >= since })
	first := max(q.First, 0)
	keep := make(worstFirst, 0, min(first+1, len(list)-start))
	for _, n := range list[start:] {
		r := ranked{n, n.engagement()}
		if after != nil && !afterTop(r, after) {
			continue
		}
		switch {
		case len(keep) <= first:
			heap.Push(&keep, r)
		case compareRanked(r, keep[0]) < 0:
			keep[0] = r
			heap.Fix(&keep, 0)
		}
	}
	slices.SortFunc(keep, compareRanked)
	more := len(keep) > first
	if more {
		keep = keep[:first]
	}
	out := make([]*postNode, len(keep))
	for i, r := range keep {
		out[i] = r.n
	}
	return out, more
}

// afterTop reports whether r comes strictly after the position p in TOP order.
func afterTop(r ranked, p *community.PostPosition) bool {
	score := float64(r.score)
	switch {
	case score != p.Score:
		return score < p.Score
	case r.n.createdAt != nanos(p.CreatedAt):
		return r.n.createdAt < nanos(p.CreatedAt)
	}
	return r.n.id > p.ID
}

// RecentPostCounts implements community.PostStore from the club's list and the counters in
// memory: it reads no document. An unknown club has no posts.
func (s *Store) RecentPostCounts(_ context.Context, clubIDs []string, since time.Time, limit int) (map[string][]community.PostCounts, error) {
	defer s.reading()()
	out := make(map[string][]community.PostCounts, len(clubIDs))
	from := nanos(since) // the zero time: all
	for _, id := range clubIDs {
		c := s.clubs[id]
		if c == nil {
			continue
		}
		list := s.clubPosts[c]
		start := sort.Search(len(list), func(i int) bool { return list[i].createdAt >= from })
		var counts []community.PostCounts
		for i := len(list) - 1; i >= start && len(counts) < limit; i-- {
			counts = append(counts, list[i].counts())
		}
		if len(counts) > 0 {
			out[id] = counts
		}
	}
	return out, nil
}

// counts returns what ranking reads of the post: its time and its counters.
func (n *postNode) counts() community.PostCounts {
	c := community.PostCounts{ID: n.id, CreatedAt: time.Unix(0, n.createdAt).UTC(), Comments: int(n.comments)}
	c.Reactions, c.Shares = n.totals()
	return c
}

// AddComment implements community.PostStore. A reply to a deleted comment is taken: its
// replies stay. CONFLICT when a post or a comment has its id.
func (s *Store) AddComment(_ context.Context, c community.Comment) error {
	d := commentDoc{
		ID: c.ID, PostID: c.PostID, AuthorID: c.AuthorID, ParentID: c.ParentID, Body: c.Body,
		CreatedAt: c.CreatedAt.UTC(), EditedAt: c.EditedAt.UTC(), DeletedAt: c.DeletedAt.UTC(),
	}
	defer s.writing()()
	if s.idTaken(c.ID) {
		return conflict("comment %q exists already", c.ID)
	}
	p := s.posts[c.PostID]
	if p == nil || !p.listed {
		return postNotFound(c.PostID)
	}
	if s.members[c.AuthorID] == nil {
		return notFound(c.AuthorID)
	}
	parentSeq := p.seq
	var parent *commentNode
	if c.ParentID != "" {
		if parent = s.comments[c.ParentID]; parent == nil || parent.post != p {
			return community.Errorf(community.CodeNotFound, "no comment %q on post %q", c.ParentID, c.PostID)
		}
		parentSeq = parent.seq
	}
	seq, err := s.takeTargets(1)
	if err != nil {
		return err
	}
	err = s.updateTouching(postTouch{p: 1}, func(tx *bolt.Tx) error {
		return putJSON(tx, bucketComments, []byte(c.ID), d)
	})
	if err != nil {
		return fmt.Errorf("embedded: add comment: %w", err)
	}
	n := &commentNode{id: c.ID, post: p, createdAt: nanos(d.CreatedAt), seq: seq, reactions: make([]int32, kindCount), deleted: !d.DeletedAt.IsZero()}
	s.acted(c.AuthorID, n.createdAt)
	s.nextTarget++
	s.comments[n.id] = n
	s.children[parentSeq] = insertSorted(s.children[parentSeq], n, compareComments)
	if !n.deleted {
		p.comments++
		if parent != nil {
			parent.replies++
		}
	}
	return nil
}

// EditComment implements community.PostStore.
func (s *Store) EditComment(_ context.Context, commentID, body string, at time.Time) (community.Comment, error) {
	defer s.writing()()
	n := s.comments[commentID]
	if n == nil || n.deleted {
		return community.Comment{}, commentNotFound(commentID)
	}
	var d commentDoc
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketComments, commentID, &d); err != nil {
			return err
		}
		d.Body, d.EditedAt = body, at.UTC()
		return putJSON(tx, bucketComments, []byte(commentID), d)
	})
	if err != nil {
		return community.Comment{}, fmt.Errorf("embedded: edit comment %q: %w", commentID, err)
	}
	return d.comment(n), nil
}

// DeleteComment implements community.PostStore. The body stays in the file: the service
// hides it.
func (s *Store) DeleteComment(_ context.Context, commentID string, at time.Time) (community.Comment, error) {
	defer s.writing()()
	n := s.comments[commentID]
	if n == nil {
		return community.Comment{}, commentNotFound(commentID)
	}
	var d commentDoc
	if n.deleted {
		err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketComments, commentID, &d) })
		return d.comment(n), err
	}
	err := s.updateTouching(postTouch{n.post: 1}, func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketComments, commentID, &d); err != nil {
			return err
		}
		d.DeletedAt = at.UTC()
		return putJSON(tx, bucketComments, []byte(commentID), d)
	})
	if err != nil {
		return community.Comment{}, fmt.Errorf("embedded: delete comment %q: %w", commentID, err)
	}
	n.deleted = true
	n.post.comments--
	if parent := s.comments[d.ParentID]; parent != nil {
		parent.replies--
	}
	return d.comment(n), nil
}

// CommentsByID implements community.PostStore. The comments are decoded after the read
// lock is released (see docCopy).
func (s *Store) CommentsByID(_ context.Context, ids []string) (map[string]community.Comment, error) {
	return readByID(s, bucketComments, ids, s.comments, commentKey, commentDoc.comment)
}

// Targets implements community.PostStore. A comment's author is in its document, which is
// copied under the read lock and decoded after it.
func (s *Store) Targets(_ context.Context, ids []string) (map[string]community.TargetRef, error) {
	out := make(map[string]community.TargetRef, len(ids))
	docs, err := func() ([]docCopy[commentNode], error) {
		defer s.reading()()
		var comments []*commentNode
		for _, id := range ids {
			if p := s.posts[id]; p != nil {
				out[id] = community.TargetRef{PostID: p.id, ClubID: p.club.ID, AuthorID: p.author.ID}
			} else if c := s.comments[id]; c != nil {
				comments = append(comments, c)
				out[id] = community.TargetRef{Comment: true, PostID: c.post.id, ClubID: c.post.club.ID}
			}
		}
		return copyDocs(s, bucketComments, comments, commentKey)
	}()
	if err != nil {
		return nil, err
	}
	authors, err := decodeDocs(bucketComments, docs, func(d commentDoc, _ *commentNode) string { return d.AuthorID })
	if err != nil {
		return nil, err
	}
	for i, a := range authors {
		ref := out[docs[i].id]
		ref.AuthorID = a
		out[docs[i].id] = ref
	}
	return out, nil
}

// Comments implements community.PostStore. Parents without comments after the position,
// and unknown parents, are absent from the first map; the second holds true for the
// parents that have more. The pages are found and copied under the read lock, and decoded
// after it is released (see docCopy).
func (s *Store) Comments(_ context.Context, parents []string, first int, after *community.Position) (map[string][]community.Comment, map[string]bool, error) {
	// sizes are the parents with a page, and how many comments of docs are theirs, in order.
	type size struct {
		parent string
		n      int
	}
	var sizes []size
	more := map[string]bool{}
	first = max(first, 0)
	docs, err := func() ([]docCopy[commentNode], error) {
		defer s.reading()()
		var nodes []*commentNode
		for _, parent := range parents {
			seq, counts := s.target(parent)
			if counts == nil {
				continue
			}
			list := s.children[seq]
			start := 0
			if after != nil {
				since := nanos(after.Since)
				start = sort.Search(len(list), func(i int) bool {
					c := list[i]
					return c.createdAt > since || c.createdAt == since && c.id > after.ID
				})
			}
			end := min(start+first, len(list))
			if end < len(list) {
				more[parent] = true
			}
			if start < end {
				sizes = append(sizes, size{parent, end - start})
				nodes = append(nodes, list[start:end]...)
			}
		}
		return copyDocs(s, bucketComments, nodes, commentKey)
	}()
	if err != nil {
		return nil, nil, err
	}
	comments, err := decodeDocs(bucketComments, docs, commentDoc.comment)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string][]community.Comment, len(sizes))
	for _, sz := range sizes {
		out[sz.parent], comments = comments[:sz.n:sz.n], comments[sz.n:]
	}
	return out, more, nil
}

// React implements community.PostStore. A deleted comment of a published post takes
// reactions: only its body is hidden. BAD_USER_INPUT for an unknown kind.
func (s *Store) React(_ context.Context, memberID, targetID string, kind community.ReactionKind, at time.Time) error {
	defer s.writing()()
	m := s.members[memberID]
	if m == nil {
		return notFound(memberID)
	}
	seq, counts := s.reactionTarget(targetID)
	if counts == nil {
		return community.Errorf(community.CodeNotFound, "no post or comment %q", targetID)
	}
	k := kindIndex(kind)
	if k < 0 {
		return community.Errorf(community.CodeBadUserInput, "unknown reaction %q", kind)
	}
	r := newReaction{m: m, entry: reactionEntry(seq, k), counts: counts, key: reactionKey(targetID, memberID, kind), at: nanos(at)}
	if s.reacted(r) {
		return nil
	}
	if err := s.writeReaction(targetID, "react", r.put); err != nil {
		return err
	}
	s.addReactions(r)
	return nil
}

// writeReaction writes a change of a reaction to targetID, and touches the post it is on
// (its version moves, for search), in one transaction. what names the change, for the
// error.
func (s *Store) writeReaction(targetID, what string, write func(reactions *bolt.Bucket) error) error {
	touched := postTouch{}
	if p := s.posts[targetID]; p != nil {
		touched[p] = 1
	}
	err := s.updateTouching(touched, func(tx *bolt.Tx) error {
		return write(tx.Bucket(bucketReactions))
	})
	if err != nil {
		return fmt.Errorf("embedded: %s: %w", what, err)
	}
	return nil
}

// reactionTarget finds a post or a comment that takes reactions, as target does: a post
// that is listed, or a comment of one, deleted or not. Counters are nil when there is
// none.
func (s *Store) reactionTarget(id string) (uint32, []int32) {
	if p := s.posts[id]; p != nil && p.listed {
		return p.seq, p.reactions()
	}
	if c := s.comments[id]; c != nil && c.post.listed {
		return c.seq, c.reactions
	}
	return 0, nil
}

// newReaction is a reaction about to be stored, with what memory knows of it.
type newReaction struct {
	m      *member
	entry  uint32
	counts []int32
	key    []byte
	at     int64
}

// reacted reports whether r's member has reacted so to r's target already.
func (s *Store) reacted(r newReaction) bool {
	_, found := slices.BinarySearch(s.reactions[r.m], r.entry)
	return found
}

// put writes the reaction in the reactions bucket.
func (r newReaction) put(b *bolt.Bucket) error {
	return b.Put(r.key, binary.BigEndian.AppendUint64(nil, uint64(r.at)))
}

// addReactions adds stored reactions, none of them there already, to their members'
// lists and counts them on their targets. It sorts rs.
func (s *Store) addReactions(rs ...newReaction) {
	slices.SortFunc(rs, func(a, b newReaction) int {
		if a.m != b.m {
			return cmp.Compare(a.m.seq, b.m.seq)
		}
		return cmp.Compare(a.entry, b.entry)
	})
	// rs is sorted by member: each member's reactions are a run. mergeSorted copies the
	// entries, so one buffer serves every run.
	var entries []uint32
	for i, r := range rs {
		s.acted(r.m.ID, r.at)
		entries = append(entries, r.entry)
		r.counts[r.entry&kindMask]++
		if i+1 == len(rs) || rs[i+1].m != r.m {
			s.reactions[r.m] = mergeSorted(s.reactions[r.m], entries, cmp.Compare[uint32])
			entries = entries[:0]
		}
	}
}

// Unreact implements community.PostStore. Unknown members, targets and kinds have no
// reaction to remove: no error.
func (s *Store) Unreact(_ context.Context, memberID, targetID string, kind community.ReactionKind) error {
	defer s.writing()()
	m := s.members[memberID]
	seq, counts := s.target(targetID)
	k := kindIndex(kind)
	if m == nil || counts == nil || k < 0 {
		return nil
	}
	list := s.reactions[m]
	i, found := slices.BinarySearch(list, reactionEntry(seq, k))
	if !found {
		return nil
	}
	err := s.writeReaction(targetID, "unreact", func(b *bolt.Bucket) error {
		return b.Delete(reactionKey(targetID, memberID, kind))
	})
	if err != nil {
		return err
	}
	if list = slices.Delete(list, i, i+1); len(list) == 0 {
		delete(s.reactions, m)
	} else {
		s.reactions[m] = list
	}
	counts[k]--
	return nil
}

// ViewerReactions implements community.PostStore.
func (s *Store) ViewerReactions(_ context.Context, memberID string, targetIDs []string) (map[string][]community.ReactionKind, error) {
	defer s.reading()()
	out := map[string][]community.ReactionKind{}
	m := s.members[memberID]
	if m == nil {
		return out, nil
	}
	list := s.reactions[m]
	for _, id := range targetIDs {
		seq, counts := s.target(id)
		if counts == nil {
			continue
		}
		i, _ := slices.BinarySearch(list, reactionEntry(seq, 0))
		var kinds []community.ReactionKind
		for ; i < len(list) && list[i]>>kindBits == seq; i++ {
			kinds = append(kinds, community.ReactionKinds[list[i]&kindMask])
		}
		if kinds != nil {
			out[id] = kinds
		}
	}
	return out, nil
}

// errShareTaken refuses a share whose id is stored already.
var errShareTaken = errors.New("share id taken")

// SharePost implements community.PostStore: a share older than its post is stored at the
// post's creation. CONFLICT when a share has its id already; BAD_USER_INPUT for an unknown
// channel.
func (s *Store) SharePost(_ context.Context, sh community.Share) error {
	sh.At = sh.At.UTC()
	defer s.writing()()
	p := s.posts[sh.PostID]
	if p == nil || !p.listed {
		return postNotFound(sh.PostID)
	}
	if created := time.Unix(0, p.createdAt); sh.At.Before(created) {
		sh.At = created
	}
	sh.At = sh.At.UTC()
	m := s.members[sh.MemberID]
	if m == nil {
		return notFound(sh.MemberID)
	}
	ch := channelIndex(sh.Channel)
	if ch < 0 {
		return community.Errorf(community.CodeBadUserInput, "unknown share channel %q", sh.Channel)
	}
	err := s.updateTouching(postTouch{p: 1}, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketShares).Get([]byte(sh.ID)) != nil {
			return errShareTaken
		}
		return putJSON(tx, bucketShares, []byte(sh.ID), sh)
	})
	if errors.Is(err, errShareTaken) {
		return conflict("share %q exists already", sh.ID)
	}
	if err != nil {
		return fmt.Errorf("embedded: share post: %w", err)
	}
	p.shares()[ch]++
	if ch == channelInApp {
		at := nanos(sh.At)
		s.sharesBy[m] = insertSorted(s.sharesBy[m], sharedPost{p, at}, compareShared)
		s.sharesOf[p] = append(s.sharesOf[p], postSharer{m, at})
	}
	return nil
}
