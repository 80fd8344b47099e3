package community

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"sync"
	"time"
)

// RegisterMember makes a new member of a verified person whose token carries an identity
// claim and no member. UNAUTHENTICATED without a valid token; FORBIDDEN without an identity
// claim; CONFLICT when the caller is a member already, or the handle or identity is taken;
// BAD_USER_INPUT for an invalid profile, and on field code for an invitation code that
// cannot be redeemed (see CheckRedemption), and on DeviceField for a device id that
// ValidateDeviceID refuses. The new member keeps the keyed hash of the device the request
// named (WithDevice), if any. key is the client's idempotency key, or nil (see
// IdempotencyStore), scoped to the token's identity: a retry under it returns the member the
// first attempt made.
func (s *MemberService) RegisterMember(ctx context.Context, in RegisterMemberInput, key *string) (Member, error) {
	a, err := s.gate(ctx, "registerMember", NeedNewcomer)
	if err != nil {
		return Member{}, err
	}
	if err := a.Identity.Validate(); err != nil {
		return Member{}, Errorf(CodeUnauthenticated, "the token's identity claim is invalid")
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		return Member{}, err
	}
	device, err := s.device(ctx)
	if err != nil {
		return Member{}, err
	}
	subject := string(a.Identity.Provider) + ":" + a.Identity.ExternalID
	cl, err := s.claim(ctx, "registerMember", subject, key, in.Handle, in.DisplayName, in.Bio, in.AvatarURL, InviteCodeKey(in.InviteCode))
	if err != nil {
		return Member{}, err
	}
	if in.InviteCode != "" {
		// A retry of a registration that was made returns it, though its code may have
		// been used up by it since.
		if cl.keyed {
			found, err := s.store.MembersByID(ctx, []string{cl.id})
			if err != nil {
				return Member{}, err
			}
			if m, ok := found[cl.id]; ok {
				return m, nil
			}
		}
		// A code that could not be redeemed refuses the registration before anything is
		// written.
		if err := s.checkCode(ctx, in.InviteCode); err != nil {
			return Member{}, onInviteCode(err)
		}
	}
	now := s.now().UTC()
	m := Member{ID: cl.id, Handle: in.Handle, DisplayName: in.DisplayName, Bio: in.Bio, AvatarURL: in.AvatarURL, JoinedAt: now}
	id := Identity{Provider: a.Identity.Provider, ExternalID: a.Identity.ExternalID, LinkedAt: now}
	var devices []string
	if device != "" {
		devices = []string{device}
	}
	err = s.store.CreateMember(ctx, m, id, devices...)
	if err != nil || in.InviteCode == "" {
		return createdOnce(ctx, cl, m, err, s.store.MembersByID)
	}
	// A new member has no referrer, is in nobody's upline and shares no identity with
	// anyone, so only a code used up or ended since checkCode refuses this. The
	// redemption keeps the device.
	if _, err := s.redeem(ctx, m.ID, in.InviteCode, a.Identity, device); err != nil {
		return Member{}, onInviteCode(err)
	}
	return m, nil
}

// onInviteCode names registerMember's field in an error about a code: inviteCode.
func onInviteCode(err error) error {
	if e, ok := err.(*Error); ok && e.Field == "code" {
		out := *e
		out.Field = "inviteCode"
		return &out
	}
	return err
}

// UpdateProfile changes the calling member's profile. UNAUTHENTICATED without a member;
// BAD_USER_INPUT for invalid fields; CONFLICT for a taken handle.
func (s *MemberService) UpdateProfile(ctx context.Context, in UpdateProfileInput) (Member, error) {
	a, err := s.gate(ctx, "updateProfile", NeedMember)
	if err != nil {
		return Member{}, err
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		return Member{}, err
	}
	return s.store.UpdateMember(ctx, a.MemberID, in)
}

// LinkIdentity binds another verified identity to the calling member. The token must carry
// the same identity as its identity claim: FORBIDDEN otherwise. CONFLICT when the identity
// is another member's, or the member has another identity of that provider.
func (s *MemberService) LinkIdentity(ctx context.Context, id Identity) (Member, error) {
	a, err := s.gate(ctx, "linkIdentity", NeedMember)
	if err != nil {
		return Member{}, err
	}
	if err := id.Validate(); err != nil {
		return Member{}, err
	}
	if a.Identity == nil || a.Identity.Provider != id.Provider || a.Identity.ExternalID != id.ExternalID {
		return Member{}, Errorf(CodeForbidden, "the identity must be verified: the token's identity claim must match it")
	}
	id.LinkedAt = s.now().UTC()
	if err := s.store.LinkIdentity(ctx, a.MemberID, id); err != nil {
		return Member{}, err
	}
	return s.member(ctx, a.MemberID)
}

// UnlinkIdentity removes the calling member's identity of a provider. NOT_FOUND when there
// is none; BAD_USER_INPUT for the member's last identity.
func (s *MemberService) UnlinkIdentity(ctx context.Context, provider IdentityProvider) (Member, error) {
	a, err := s.gate(ctx, "unlinkIdentity", NeedMember)
	if err != nil {
		return Member{}, err
	}
	if !provider.Valid() {
		return Member{}, fieldError("provider", "unknown identity provider %q", provider)
	}
	if err := s.store.UnlinkIdentity(ctx, a.MemberID, provider); err != nil {
		return Member{}, err
	}
	return s.member(ctx, a.MemberID)
}

// MembersByID returns the members with the given ids, in the order asked: nil where there
// is none or where the caller may not know of it (CanSeeMember: brand staff without the
// member's PROFILE consent), so that the two cannot be told apart; UNAUTHENTICATED for
// each id without a valid token. It reads consents only for brand staff. A dataloader
// batch function.
func (s *MemberService) MembersByID(ctx context.Context, ids []string) ([]*Member, []error) {
	seen, err := s.seeMembers(ctx, ids)
	if err != nil {
		return make([]*Member, len(ids)), repeatError(err, len(ids))
	}
	var shown []string
	for i, id := range ids {
		if seen[i] {
			shown = append(shown, id)
		}
	}
	out := make([]*Member, len(ids))
	if len(shown) == 0 {
		return out, nil
	}
	found, errs := byID(ctx, shown, s.store.MembersByID)
	if errs != nil {
		return out, repeatError(errs[0], len(ids))
	}
	// shown is ids in order, less those not seen.
	j := 0
	for i := range ids {
		if seen[i] {
			out[i] = found[j]
			j++
		}
	}
	return out, nil
}

// MemberByHandle returns the member with the handle (case-insensitive), or nil when there
// is none or the caller may not know of it (CanSeeMember), alike. UNAUTHENTICATED without
// a valid token, whether or not the handle is taken.
func (s *MemberService) MemberByHandle(ctx context.Context, handle string) (*Member, error) {
	if a := ActorFrom(ctx); a.anonymous() {
		return nil, unauthenticated(a)
	}
	if validateHandle(HandleKey(handle)) != nil {
		return nil, nil
	}
	m, err := orNone(s.store.MemberByHandle(ctx, HandleKey(handle)))
	if m == nil || err != nil {
		return nil, err
	}
	seen, err := s.seeMembers(ctx, []string{m.ID})
	if err != nil || !seen[0] {
		return nil, err
	}
	return m, nil
}

// seeMembers reports, for each id, whether the caller may know of that member
// (CanSeeMember), or UNAUTHENTICATED without a valid token. It reads consents only for
// brand staff: one store round trip for them, none for anyone else.
func (s *core) seeMembers(ctx context.Context, ids []string) ([]bool, error) {
	if a := ActorFrom(ctx); a.anonymous() {
		return nil, unauthenticated(a)
	}
	profile, err := s.access(ctx, ids, ScopeProfile)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(ids))
	for i, e := range profile {
		switch err := seeMember(e); ErrorCode(err) {
		case "":
			out[i] = true
		case CodeUnauthenticated:
			return nil, err
		}
	}
	return out, nil
}

// mayHideMembers reports whether lists of members can hold members the caller may not
// know of (see CanSeeMember), so that they need filtering: only brand staff's can.
func mayHideMembers(a Actor) bool { return a.ActsForBrand() && !a.isPlatformStaff() }

// shownPage reads one page of up to first items of a list that names members, leaving
// out the members the caller may not know of (CanSeeMember): shownPages for one list.
// read returns up to first items after a position (nil for the start) and whether more
// follow.
func shownPage[T any](ctx context.Context, s *core, first int, after *Position,
	read func(after *Position) ([]T, bool, error), member func(T) string, position func(T) Position) (listPage[T], error) {
	pages, err := shownPages(ctx, s, first, []*Position{after},
		func(reqs []*Position) ([]listPage[T], error) {
			items, more, err := read(reqs[0])
			return []listPage[T]{{items: items, more: more}}, err
		},
		func(_ *Position, p Position) *Position { return &p },
		member, position)
	if err != nil {
		return listPage[T]{}, err
	}
	return pages[0], nil
}

// listPage is a page of a list that names members, as shownPages reads it: its items, and
// whether more follow.
type listPage[T any] struct {
	items []T
	more  bool
	// end, when set, is where the next page starts: past the last item read, when the
	// reading on stopped at readOnLimit with members left out after the last item shown.
	end *Position
}

// readOnLimit bounds the reads that shownPages makes past members the caller may not know
// of, after its first: a page of a list where few members are shown costs at most this
// many more round trips, and then ends short, with more set and an end position past what
// it read.
const readOnLimit = 4

// shownPages reads pages of up to first items of lists that name members, one for each
// request, leaving out the members the caller may not know of (CanSeeMember). read returns
// a page for each request, in order, in one round trip; after returns a request again,
// starting after a position; member and position say whom an item names and where it
// stands. Past a left-out member it reads on, with one more read for all the lists that
// are still short, so that a page is short only at the end of its list or after
// readOnLimit more reads (then its end says where the next page starts). more may be true
// with nothing shown after it, and the next page is then empty. Callers that see every
// member pay nothing.
func shownPages[R, T any](ctx context.Context, s *core, first int, reqs []R,
	read func(reqs []R) ([]listPage[T], error), after func(r R, p Position) R,
	member func(T) string, position func(T) Position) ([]listPage[T], error) {
	pages, err := read(reqs)
	if err != nil || !mayHideMembers(ActorFrom(ctx)) {
		return pages, err
	}
	out := make([]listPage[T], len(reqs))
	// pending are the indexes in reqs of the lists that pages holds, in its order.
	pending := make([]int, len(reqs))
	for i := range reqs {
		pending[i] = i
	}
	for round := 0; ; round++ {
		var ids []string
		for _, p := range pages {
			for _, it := range p.items {
				ids = append(ids, member(it))
			}
		}
		seen, err := s.seeMembers(ctx, ids)
		if err != nil {
			return nil, err
		}
		var next []int
		var nextReqs []R
		var ends []Position
		k := 0
		for j, i := range pending {
			p := pages[j]
			out[i].more = p.more
			for _, it := range p.items {
				shown := seen[k]
				k++
				switch {
				case !shown:
				case len(out[i].items) == first:
					out[i].more = true
				default:
					out[i].items = append(out[i].items, it)
				}
			}
			if len(out[i].items) < first && p.more && len(p.items) > 0 {
				end := position(p.items[len(p.items)-1])
				next = append(next, i)
				nextReqs = append(nextReqs, after(reqs[i], end))
				ends = append(ends, end)
			}
		}
		if len(next) == 0 {
			return out, nil
		}
		if round == readOnLimit {
			for j, i := range next {
				out[i].more, out[i].end = true, &ends[j]
			}
			return out, nil
		}
		if pages, err = read(nextReqs); err != nil {
			return nil, err
		}
		pending = next
	}
}

// Viewer returns the calling member's id, "" for a caller who is not a member, or
// UNAUTHENTICATED for a refused token.
func (s *MemberService) Viewer(ctx context.Context) (string, error) {
	a := ActorFrom(ctx)
	if a.AuthError != nil {
		return "", unauthenticated(a)
	}
	return a.MemberID, nil
}

// Follow makes the calling member follow another; following twice changes nothing.
// BAD_USER_INPUT for oneself; NOT_FOUND for an unknown member.
func (s *MemberService) Follow(ctx context.Context, memberID string) (Member, error) {
	a, err := s.followTarget(ctx, "follow", memberID)
	if err != nil {
		return Member{}, err
	}
	if err := s.store.Follow(ctx, a.MemberID, memberID, s.now().UTC()); err != nil {
		return Member{}, err
	}
	return s.member(ctx, memberID)
}

// Unfollow makes the calling member stop following another; unfollowing twice changes
// nothing. BAD_USER_INPUT for oneself; NOT_FOUND for an unknown member.
func (s *MemberService) Unfollow(ctx context.Context, memberID string) (Member, error) {
	a, err := s.followTarget(ctx, "unfollow", memberID)
	if err != nil {
		return Member{}, err
	}
	if err := s.store.Unfollow(ctx, a.MemberID, memberID); err != nil {
		return Member{}, err
	}
	return s.member(ctx, memberID)
}

func (s *core) followTarget(ctx context.Context, action, memberID string) (Actor, error) {
	a, err := s.gate(ctx, action, NeedMember)
	if err != nil {
		return a, err
	}
	if memberID == a.MemberID {
		return a, fieldError("memberId", "members cannot follow themselves")
	}
	if !validID(memberID) {
		return a, Errorf(CodeNotFound, "no member %q", memberID)
	}
	return a, nil
}

// followCursors is the list of cursors of a follow list of the kind.
func followCursors(kind ListKind) cursorList[timeKey] { return cursorList[timeKey]("follows-" + kind) }

// ListKey names one page of one member's follow list, as a client asked for it: the key
// of a dataloader, so that lists nested in lists cost one round trip per level.
type ListKey struct {
	Kind     ListKind
	MemberID string
	// First is the page size asked for.
	First int
	// After is the cursor asked after, or "".
	After string
}

// FollowList is a page of one of a member's follow lists.
type FollowList struct {
	FollowPage
	edges []ListedFollow
	end   lazyCursor[timeKey]
}

// EndCursor returns where the next page starts when that is not after the last edge (see
// readOnLimit), or "".
func (l FollowList) EndCursor() string { return l.end.String() }

// ListedEdges returns the edges of the page with their cursors.
func (l FollowList) ListedEdges() []ListedFollow { return l.edges }

// WithMembers returns the page with the member at the other end of each edge, in order, as
// the caller read them (see ListedFollow.Member); errs, when not nil, says why a member
// could not be read. The page it was made from is left as it was.
func (l FollowList) WithMembers(members []*Member, errs []error) FollowList {
	edges := make([]ListedFollow, len(l.edges))
	for i, e := range l.edges {
		e.member = members[i]
		if errs != nil {
			e.memberErr = errs[i]
		}
		edges[i] = e
	}
	l.edges = edges
	return l
}

// ListedFollow is an edge of a follow list, with its cursor and, once the caller has read
// it (see FollowList.WithMembers), the member at its other end.
type ListedFollow struct {
	FollowEdge
	cursor    lazyCursor[timeKey]
	member    *Member
	memberErr error
}

// Cursor returns the edge's cursor.
func (e ListedFollow) Cursor() string { return e.cursor.String() }

// Member returns the member at the other end of the edge, as the caller read it:
// NOT_FOUND when there is none the caller may know of (or it was not read), or why it
// could not be read.
func (e ListedFollow) Member() (*Member, error) {
	if e.memberErr != nil {
		return nil, e.memberErr
	}
	if e.member == nil {
		return nil, Errorf(CodeNotFound, "no such member")
	}
	return e.member, nil
}

// FollowLists returns the pages the keys ask for, in order, or why the caller may not read
// them (follow lists are ScopeActivity). A key
// with paging arguments out of range, or a cursor this server did not issue for that very
// list, gets BAD_USER_INPUT. It costs one store round trip for each distinct (kind, page
// size) among the keys. A dataloader batch function.
func (s *MemberService) FollowLists(ctx context.Context, keys []ListKey) ([]FollowList, []error) {
	out := make([]FollowList, len(keys))
	errs := make([]error, len(keys))
	type group struct {
		kind  ListKind
		first int
	}
	reqs := make([]ListRequest, len(keys))
	owners := make([]string, len(keys))
	for i, k := range keys {
		owners[i] = k.MemberID
	}
	allowed, err := s.access(ctx, owners, ScopeActivity)
	if err != nil {
		return out, repeatError(err, len(keys))
	}
	for i, k := range keys {
		first := k.First
		switch {
		case allowed[i] != nil:
			errs[i] = allowed[i]
			continue
		case !k.Kind.Valid():
			errs[i] = Errorf(CodeInternal, "unknown list kind %q", k.Kind)
			continue
		case first < 0 || first > MaxPageSize:
			errs[i] = fieldError("first", "first must be between 0 and %d", MaxPageSize)
			continue
		}
		reqs[i] = ListRequest{MemberID: k.MemberID}
		if k.After != "" {
			key, err := decodeCursor(s.core, followCursors(k.Kind), k.MemberID, k.After)
			if err != nil {
				errs[i] = err
				continue
			}
			reqs[i].After = key.position()
		}
	}
	eachGroup(len(keys), func(i int) (group, bool) { return group{keys[i].Kind, keys[i].First}, errs[i] == nil }, func(g group, idx []int) {
		batch := make([]ListRequest, len(idx))
		for j, i := range idx {
			batch[j] = reqs[i]
		}
		pages, ends, err := s.shownFollowPages(ctx, g.kind, g.first, batch)
		for j, i := range idx {
			if err != nil {
				errs[i] = err
				continue
			}
			out[i] = s.listOf(g.kind, keys[i].MemberID, pages[j], ends[j])
		}
	})
	return out, errs
}

// shownFollowPages reads pages of follow lists, as the store's FollowLists does, leaving
// out the members the caller may not know of (CanSeeMember) and reading on past them
// (shownPages). TotalCount stays the length of the whole list: a count, which names no one.
func (s *core) shownFollowPages(ctx context.Context, kind ListKind, first int, reqs []ListRequest) ([]FollowPage, []*Position, error) {
	var totals []int // of the first read, which reads every list
	pages, err := shownPages(ctx, s, first, reqs,
		func(reqs []ListRequest) ([]listPage[FollowEdge], error) {
			pages, err := s.store.FollowLists(ctx, kind, first, reqs)
			if err != nil {
				return nil, err
			}
			out := make([]listPage[FollowEdge], len(pages))
			for i, p := range pages {
				out[i] = listPage[FollowEdge]{items: p.Edges, more: p.HasNextPage}
			}
			if totals == nil {
				totals = make([]int, len(pages))
				for i, p := range pages {
					totals[i] = p.TotalCount
				}
			}
			return out, nil
		},
		func(r ListRequest, p Position) ListRequest { return ListRequest{MemberID: r.MemberID, After: &p} },
		func(e FollowEdge) string { return e.MemberID },
		func(e FollowEdge) Position { return Position{Since: e.Since, ID: e.MemberID} })
	if err != nil {
		return nil, nil, err
	}
	out, ends := make([]FollowPage, len(pages)), make([]*Position, len(pages))
	for i, p := range pages {
		out[i], ends[i] = FollowPage{Edges: p.items, HasNextPage: p.more, TotalCount: totals[i]}, p.end
	}
	return out, ends, nil
}

func (s *core) listOf(kind ListKind, owner string, p FollowPage, end *Position) FollowList {
	list := followCursors(kind)
	l := FollowList{FollowPage: p, edges: make([]ListedFollow, len(p.Edges))}
	for i, e := range p.Edges {
		l.edges[i] = ListedFollow{FollowEdge: e, cursor: newCursor(s, list, owner, timeKey{e.Since, e.MemberID})}
	}
	if end != nil {
		l.end = newCursor(s, list, owner, timeKey{end.Since, end.ID})
	}
	return l
}

// FollowCounts returns follower and following counts of each member, in the order asked,
// or why the caller may not read them (ScopeActivity). A dataloader batch function.
func (s *MemberService) FollowCounts(ctx context.Context, ids []string) ([]FollowCounts, []error) {
	out := make([]FollowCounts, len(ids))
	errs, err := s.access(ctx, ids, ScopeActivity)
	if err != nil {
		return out, repeatError(err, len(ids))
	}
	readIDs(ids, out, errs, func(ids []string) (map[string]FollowCounts, error) { return s.store.FollowCounts(ctx, ids) })
	return out, errs
}

// FollowStates returns the follow relationship between the calling member and each given
// member; for a caller who is not a member, none. A dataloader batch function.
func (s *MemberService) FollowStates(ctx context.Context, ids []string) ([]FollowState, []error) {
	out := make([]FollowState, len(ids))
	a := ActorFrom(ctx)
	errs, err := s.access(ctx, ids, ScopeActivity)
	if err != nil {
		return out, repeatError(err, len(ids))
	}
	if !a.IsMember() {
		return out, errs
	}
	readIDs(ids, out, errs, func(ids []string) (map[string]FollowState, error) {
		return s.store.FollowStates(ctx, a.MemberID, ids)
	})
	return out, errs
}

// access returns, for each member, nil when the caller may read its fields of scope, or
// why not (see CanRead). It reads consents from the store only for brand staff.
func (s *core) access(ctx context.Context, ids []string, scope ConsentScope) ([]error, error) {
	a := ActorFrom(ctx)
	var consents map[string][]Consent
	var need []string
	for _, id := range ids {
		if NeedsConsent(a, id) {
			need = append(need, id)
		}
	}
	if len(need) > 0 {
		var err error
		if consents, err = s.ruleConsents(ctx, need); err != nil {
			return nil, err
		}
	}
	errs := make([]error, len(ids))
	for i, id := range ids {
		errs[i] = CanRead(a, id, scope, consents[id])
	}
	return errs, nil
}

// Identities returns each member's identities, or an error for those the caller may not
// read (CanRead with ScopeContact). A caller whose token carries a verified identity and no
// member sees the member that identity belongs to, as just registered. A dataloader batch
// function.
func (s *MemberService) Identities(ctx context.Context, ids []string) ([][]Identity, []error) {
	a := ActorFrom(ctx)
	out := make([][]Identity, len(ids))
	errs, err := s.access(ctx, ids, ScopeContact)
	if err != nil {
		return out, repeatError(err, len(ids))
	}
	claimant := a.claimant()
	var fetch []string
	for i, id := range ids {
		if errs[i] == nil || claimant {
			fetch = append(fetch, id)
		}
	}
	if len(fetch) == 0 {
		return out, errs
	}
	found, err := s.store.IdentitiesOf(ctx, fetch)
	if err != nil {
		return out, repeatError(err, len(ids))
	}
	for i, id := range ids {
		if errs[i] != nil && claimant && slices.ContainsFunc(found[id], a.Identity.Same) {
			errs[i] = nil
		}
		if errs[i] == nil {
			out[i] = found[id]
		}
	}
	return out, errs
}

// Suggestion limits.
const (
	DefaultSuggestions = 10
	MaxSuggestions     = 50
)

// SuggestionKey names the suggestions asked for one member: the key of a dataloader.
type SuggestionKey struct {
	MemberID string
	// First is how many are asked for.
	First int
}

// SuggestedFollows suggests members for each key's member to follow. Suggestions are
// personal: only the member and ADMIN may read them (UNAUTHENTICATED, FORBIDDEN otherwise).
// One store round trip per distinct page size. A dataloader batch function.
func (s *MemberService) SuggestedFollows(ctx context.Context, keys []SuggestionKey) ([][]Suggestion, []error) {
	a := ActorFrom(ctx)
	out := make([][]Suggestion, len(keys))
	errs := make([]error, len(keys))
	for i, k := range keys {
		switch err := canReadPrivate(a, k.MemberID); {
		case ErrorCode(err) == CodeForbidden:
			errs[i] = Errorf(CodeForbidden, "only the member and administrators may read suggestions")
		case err != nil:
			errs[i] = err
		case k.First < 0 || k.First > MaxSuggestions:
			errs[i] = fieldError("first", "first must be between 0 and %d", MaxSuggestions)
		}
	}
	readByMember(keys, out, errs, func(k SuggestionKey) int { return k.First },
		func(k SuggestionKey) string { return k.MemberID },
		func(limit int, ids []string) (map[string][]Suggestion, error) {
			if limit == 0 { // asking for none costs nothing
				return nil, nil
			}
			return s.store.SuggestedFollows(ctx, ids, limit)
		})
	return out, errs
}

func (s *core) member(ctx context.Context, id string) (Member, error) {
	return oneByID(ctx, id, "member", s.store.MembersByID)
}

// byID looks up the entities with the given ids in one store call and returns them in
// the order asked, nil where there is none: the shape of a dataloader batch function.
func byID[T any](ctx context.Context, ids []string, lookup func(context.Context, []string) (map[string]T, error)) ([]*T, []error) {
	found, err := lookup(ctx, onlyValidIDs(ids))
	out := make([]*T, len(ids))
	if err != nil {
		return out, repeatError(err, len(ids))
	}
	// One allocation for the values, not one for each.
	values := make([]T, len(ids))
	for i, id := range ids {
		if v, ok := found[id]; ok {
			values[i] = v
			out[i] = &values[i]
		}
	}
	return out, nil
}

// valuesInOrder looks up a value for each key in one store call and returns them in the
// order asked, the zero value where the store has none.
func valuesInOrder[V any](ctx context.Context, keys []string, lookup func(context.Context, []string) (map[string]V, error)) ([]V, []error) {
	found, err := lookup(ctx, keys)
	out := make([]V, len(keys))
	if err != nil {
		return out, repeatError(err, len(keys))
	}
	for i, k := range keys {
		out[i] = found[k]
	}
	return out, nil
}

// orNone turns a store's single lookup into the service's: nil, not NOT_FOUND, when there
// is none.
func orNone[T any](v T, err error) (*T, error) {
	if ErrorCode(err) == CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// oneByID looks up one entity (what names its kind in the error): NOT_FOUND when there is
// none.
func oneByID[T any](ctx context.Context, id, what string, lookup func(context.Context, []string) (map[string]T, error)) (T, error) {
	found, err := lookup(ctx, []string{id})
	if err != nil {
		var zero T
		return zero, err
	}
	v, ok := found[id]
	if !ok {
		return v, Errorf(CodeNotFound, "no %s %q", what, id)
	}
	return v, nil
}

func onlyValidIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if validID(id) {
			out = append(out, id)
		}
	}
	return out
}

func repeatError(err error, n int) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// NewID returns a new time-ordered id: a UUIDv7 in its lower-case text form. Ids made by
// one process increase strictly, even within a millisecond (a 12-bit counter follows the
// time, as RFC 9562 allows), so they order what this process did in the order it did it.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	idMu.Lock()
	ms := uint64(time.Now().UnixMilli())
	switch {
	case ms > idLastMs:
		idLastMs, idSeq = ms, uint16(b[6])<<4&0x7ff // start in the lower half: room to count
	case idSeq < 0xfff:
		idSeq++
	default:
		idLastMs++
		idSeq = 0
	}
	ms, seq := idLastMs, idSeq
	idMu.Unlock()
	binary.BigEndian.PutUint64(b[:8], ms<<16|0x7000|uint64(seq))
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

var (
	idMu     sync.Mutex
	idLastMs uint64
	idSeq    uint16
)
