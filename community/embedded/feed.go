package embedded

import (
	"container/heap"
	"context"
	"sort"
	"strings"
	"time"

	"quanzi/community"
)

// feedSource is one time-sorted list of activities that put posts in a member's feed: the
// posts of a followed member or of a club (creations), or a followed member's IN_APP
// shares. Lists are kept oldest first, so the activities still to merge are list[:end],
// newest at end-1.
type feedSource struct {
	posts  []*postNode
	shares []sharedPost
	end    int
}

// activity returns the time and the post of the activity at index i.
func (f *feedSource) activity(i int) (int64, *postNode) {
	if f.posts != nil {
		return f.posts[i].createdAt, f.posts[i]
	}
	return f.shares[i].at, f.shares[i].post
}

func (f *feedSource) len() int { return max(len(f.posts), len(f.shares)) }

// position sets end past the activities that come after the position (nil: none) in feed
// order and at or before asOf.
func (f *feedSource) position(asOf int64, after *community.FeedPosition) {
	var at int64
	if after != nil {
		at = nanos(after.At)
	}
	f.end = sort.Search(f.len(), func(i int) bool {
		t, p := f.activity(i)
		return t > asOf || after != nil && (t > at || t == at && p.id <= after.PostID)
	})
}

// feedMerge is a heap of sources by their newest activity still to merge, in feed order:
// time descending, then post id ascending.
type feedMerge []*feedSource

func (h feedMerge) Len() int { return len(h) }
func (h feedMerge) Less(i, j int) bool {
	ti, pi := h[i].activity(h[i].end - 1)
	tj, pj := h[j].activity(h[j].end - 1)
	if ti != tj {
		return ti > tj
	}
	return strings.Compare(pi.id, pj.id) < 0
}
func (h feedMerge) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *feedMerge) Push(x any)   { *h = append(*h, x.(*feedSource)) }
func (h *feedMerge) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Feed implements community.PostStore. It merges the activity lists of the member's
// sources newest first, each entered by binary search at the page's position, and keeps
// an activity when it is its post's newest qualifying one: the work grows with the number
// of sources and the length of the page, not with the number of posts. When a share and
// the creation of a post (or two shares) are equally new, the item is the share (by the
// sharer with the smallest id). An unknown member has an empty feed.
func (s *Store) Feed(_ context.Context, memberID string, first int, after *community.FeedPosition, asOf time.Time) ([]community.FeedItem, bool, error) {
	defer s.reading()()
	m := s.members[memberID]
	if m == nil {
		return nil, false, nil
	}
	limit := nanos(asOf)
	var merge feedMerge
	add := func(f *feedSource) {
		if f.len() == 0 {
			return
		}
		if f.position(limit, after); f.end > 0 {
			merge = append(merge, f)
		}
	}
	for _, e := range m.following {
		if f := s.other(e); f != m {
			add(&feedSource{posts: s.authorPosts[f]})
			add(&feedSource{shares: s.sharesBy[f]})
		}
	}
	for c := range s.joined[m.ID] {
		add(&feedSource{posts: s.clubPosts[c]})
	}
	heap.Init(&merge)
	first = max(first, 0)
	seen := map[*postNode]bool{}
	var out []community.FeedItem
	for len(merge) > 0 {
		f := merge[0]
		t, p := f.activity(f.end - 1)
		if f.end--; f.end == 0 {
			heap.Pop(&merge)
		} else {
			heap.Fix(&merge, 0)
		}
		if seen[p] {
			continue
		}
		// Any other activity of p is older (it comes later in the merge) or newer (its
		// item was made earlier in the merge, or is on an earlier page): p is settled.
		seen[p] = true
		if !p.listed || p.club.Visibility != community.VisibilityPublic && p.club.members[m.ID] == nil {
			continue
		}
		item, ok := s.newestActivity(m, p, limit)
		if !ok || item.at != t {
			continue
		}
		if len(out) == first {
			return out, true, nil
		}
		fi := community.FeedItem{PostID: p.id, At: time.Unix(0, item.at).UTC()}
		if item.sharer != nil {
			fi.SharedBy = item.sharer.ID
		}
		out = append(out, fi)
	}
	return out, false, nil
}

// feedActivity is an activity that puts a post in a feed: its creation (no sharer) or an
// IN_APP share.
type feedActivity struct {
	at     int64
	sharer *member
}

// newestActivity returns the newest activity at or before asOf that puts p in m's feed:
// its creation by a member m follows or in a club m belongs to, or an IN_APP share by a
// member m follows. A share wins a tie with the creation; of shares at the same time, the
// sharer with the smallest id wins.
func (s *Store) newestActivity(m *member, p *postNode, asOf int64) (feedActivity, bool) {
	var best feedActivity
	found := false
	if p.createdAt <= asOf && (p.club.members[m.ID] != nil || p.author != m && s.followsMember(m, p.author)) {
		best, found = feedActivity{at: p.createdAt}, true
	}
	for _, sh := range s.sharesOf[p] {
		if sh.at > asOf || sh.sharer == m || !s.followsMember(m, sh.sharer) {
			continue
		}
		if !found || sh.at > best.at || sh.at == best.at && (best.sharer == nil || sh.sharer.ID < best.sharer.ID) {
			best, found = feedActivity{at: sh.at, sharer: sh.sharer}, true
		}
	}
	return best, found
}

// followsMember reports whether from follows to.
func (s *Store) followsMember(from, to *member) bool {
	_, ok := s.follows[pairKey(from, to)]
	return ok
}
