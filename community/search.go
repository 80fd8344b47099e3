package community

import (
	"context"
	"strings"
	"unicode/utf8"
)

// What searching may find. Posts: what the caller may see inside clubs (canSeeInside), as
// a scope the search engine filters on, so that totals and facets count only what the
// caller may see. Members: @mention autocomplete for the community.

// PostScope is what a caller may find by searching posts: every post when All; otherwise
// posts of public clubs when Public, and of the clubs in ClubIDs and of the clubs hosted
// by the brands in BrandIDs. A scope that is not Public has no ClubIDs.
type PostScope struct {
	All      bool
	Public   bool
	ClubIDs  []string
	BrandIDs []string
	// HiddenClubIDs are clubs that are private now but whose posts the index may still
	// hold as public, because the change waits in the outbox: their posts are not public to
	// this caller, whatever the index says. None of them is in ClubIDs or hosted by a brand
	// of BrandIDs.
	HiddenClubIDs []string
}

// SearchScope returns what the caller may find by searching posts: platform staff every
// post; members and verified newcomers the posts of public clubs, plus those of the clubs
// the member belongs to; brand staff those of their brand's clubs. UNAUTHENTICATED
// without a valid token.
//
// The engine filters on the visibility each post's document was indexed with, and a club
// that turns private is re-indexed by the relay a moment after the write. Until then the
// scope names it in HiddenClubIDs unless the caller may see inside it (insideRule, the one
// rule for that), so that totals
// and facets, which the engine counts, never count what the caller may not see. Of the two
// ways to close that window — name the private clubs whose change is still pending, or
// name every private club the caller is not in — this takes the first: it costs one read
// of an index of the outbox per search, and names no club at all but in the moments
// after a change of visibility (or while the engine is down), whereas every private club
// would be thousands of ids in every search's filter, read on every search.
func (s *PostService) SearchScope(ctx context.Context) (PostScope, error) {
	a := ActorFrom(ctx)
	if a.anonymous() {
		return PostScope{}, Errorf(CodeUnauthenticated, "sign in to search posts")
	}
	if a.isPlatformStaff() {
		return PostScope{All: true}, nil
	}
	var scope PostScope
	if a.ActsForBrand() {
		scope.BrandIDs = []string{a.BrandID}
	}
	if a.IsMember() || a.Identity != nil {
		scope.Public = true
	}
	if a.IsMember() {
		ids, err := s.store.JoinedClubIDs(ctx, a.MemberID)
		if err != nil {
			return PostScope{}, err
		}
		scope.ClubIDs = ids
	}
	if scope.Public {
		pending, err := s.store.PendingClubs(ctx)
		if err != nil {
			return PostScope{}, err
		}
		if len(pending) == 0 {
			return scope, nil
		}
		clubs := make(map[string]Club, len(pending))
		for _, c := range pending {
			clubs[c.ID] = c
		}
		rule, err := s.insideRule(ctx, clubs)
		if err != nil {
			return PostScope{}, err
		}
		for _, c := range pending {
			if rule[c.ID] != nil {
				scope.HiddenClubIDs = append(scope.HiddenClubIDs, c.ID)
			}
		}
	}
	return scope, nil
}

// VisiblePosts returns, in the order of ids, the posts the caller may see that are
// listed now (see Post.Listed), leaving out the rest: search hits are checked against the store, the
// system of record, so that a post deleted a moment ago is not shown while the index
// catches up.
func (s *PostService) VisiblePosts(ctx context.Context, ids []string) ([]Post, error) {
	posts, errs := s.PostsByID(ctx, ids)
	out := make([]Post, 0, len(ids))
	for i, p := range posts {
		switch code := ErrorCode(errs[i]); {
		case code == CodeForbidden || code == CodeUnauthenticated:
		case errs[i] != nil:
			return nil, errs[i]
		case p != nil && p.Listed():
			out = append(out, *p)
		}
	}
	return out, nil
}

// Limits of searches.
const (
	// MaxSearchText is the longest query text, in characters.
	MaxSearchText = 200
	// MaxMentionPrefix is the longest member-search prefix, in characters.
	MaxMentionPrefix = 50
)

// CheckSearchText trims a post search's text and checks its length: BAD_USER_INPUT for
// more than MaxSearchText characters or invalid UTF-8.
func CheckSearchText(text string) (string, error) {
	text = strings.TrimSpace(text)
	if !utf8.ValidString(text) {
		return "", fieldError("query", "query is not valid UTF-8")
	}
	if utf8.RuneCountInString(text) > MaxSearchText {
		return "", fieldError("query", "query is longer than %d characters", MaxSearchText)
	}
	return text, nil
}

// SearchMembers finds members by handle or display-name prefix, for @mention
// autocomplete: up to first (1–20) members, handle matches first. For the community:
// UNAUTHENTICATED without a token; FORBIDDEN for brand staff acting for their brand, who
// read members through the brand's consented lists; BAD_USER_INPUT for an empty or too
// long prefix, or first out of range.
func (s *MemberService) SearchMembers(ctx context.Context, prefix string, first int) ([]Member, error) {
	a := ActorFrom(ctx)
	switch {
	case a.anonymous():
		return nil, unauthenticated(a)
	case a.isPlatformStaff():
	case a.ActsForBrand() || !(a.IsMember() || a.Identity != nil):
		return nil, Errorf(CodeForbidden, "member search is for the community; brand staff read the members who consented to the brand")
	}
	prefix = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(prefix), "@"))
	switch n := utf8.RuneCountInString(prefix); {
	case !utf8.ValidString(prefix) || n == 0:
		return nil, fieldError("query", "give at least one character to search for")
	case n > MaxMentionPrefix:
		return nil, fieldError("query", "query is longer than %d characters", MaxMentionPrefix)
	}
	if first < 1 || first > 20 {
		return nil, fieldError("first", "first must be between 1 and 20")
	}
	return s.store.SearchMembers(ctx, prefix, first)
}

// offsetCursors are the cursors of lists ranked elsewhere, such as search hits.
const offsetCursors cursorList[offsetKey] = "offsets"

// OffsetCursor returns the cursor of the item at offset in a ranked list, such as the hits
// of one search; list names the list (for searches, a digest of the query), so that a
// cursor cannot be carried to another list.
func (s *core) OffsetCursor(list string, offset int) string {
	return encodeCursor(s, offsetCursors, list, offsetKey{offset})
}

// DecodeOffsetCursor reads a cursor from OffsetCursor for the same list and returns its
// offset. BAD_USER_INPUT for anything else.
func (s *core) DecodeOffsetCursor(list, c string) (int, error) {
	k, err := decodeCursor(s, offsetCursors, list, c)
	if err != nil {
		return 0, err
	}
	off := k.Offset
	if off < 0 || off > 1<<30 {
		return 0, fieldError("after", "cursor was not issued for this list")
	}
	return int(off), nil
}

// CanWatchSearch is the rule for reading the search index's state: platform staff
// (ADMIN, COMMUNITY_MANAGER). UNAUTHENTICATED without a token, FORBIDDEN for anyone else.
func CanWatchSearch(ctx context.Context) error {
	a := ActorFrom(ctx)
	switch {
	case a.anonymous():
		return unauthenticated(a)
	case a.isPlatformStaff():
		return nil
	}
	return Errorf(CodeForbidden, "the search index's state is for platform staff")
}

// CanRebuildSearch is the rule for rebuilding the search index: ADMIN only.
func CanRebuildSearch(ctx context.Context) error {
	return Decide(ActorFrom(ctx), ActRebuildSearch, Target{})
}
