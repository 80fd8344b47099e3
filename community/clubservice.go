package community

import "context"

// standing is what the caller is to club c, as Decide needs it: one store round trip for
// a member (its role in the club), none for anyone else.
func (s *core) standing(ctx context.Context, c Club) (Target, error) {
	t := Target{Club: c}
	if a := ActorFrom(ctx); a.IsMember() {
		found, err := s.store.ClubMemberships(ctx, []ClubMemberKey{{c.ID, a.MemberID}})
		if err != nil {
			return t, err
		}
		t.Role = found[ClubMemberKey{c.ID, a.MemberID}].Role
	}
	return t, nil
}

// mayInClub is Decide for the caller and an act in club c.
func (s *core) mayInClub(ctx context.Context, act Act, c Club) error {
	t, err := s.standing(ctx, c)
	if err != nil {
		return err
	}
	return Decide(ActorFrom(ctx), act, t)
}

func (s *core) club(ctx context.Context, id string) (Club, error) {
	if !validID(id) {
		return Club{}, Errorf(CodeNotFound, "no club %q", id)
	}
	return oneByID(ctx, id, "club", s.store.ClubsByID)
}

// CreateClub creates a club. Platform staff create any; a brand's admins create their
// brand's. A caller who is a member becomes its first manager. BAD_USER_INPUT for invalid
// fields; CONFLICT for a taken slug; NOT_FOUND for an unknown brand.
func (s *ClubService) CreateClub(ctx context.Context, in CreateClubInput) (Club, error) {
	a, err := s.gate(ctx, "createClub", NeedSignedIn)
	if err != nil {
		return Club{}, err
	}
	if err := Decide(a, ActCreateClub, Target{Club: Club{BrandID: in.BrandID}}); err != nil {
		return Club{}, err
	}
	c := Club{
		ID: s.newID(), Slug: SlugKey(in.Slug), Name: nameText.normalize(in.Name), Description: descriptionText.normalize(in.Description),
		Kind: in.Kind, Visibility: in.Visibility, JoinPolicy: in.JoinPolicy, BrandID: in.BrandID, CreatedAt: s.now().UTC(),
	}
	if err := validateSlug(c.Slug); err != nil {
		return Club{}, err
	}
	if err := nameText.check(c.Name); err != nil {
		return Club{}, err
	}
	if err := descriptionText.check(c.Description); err != nil {
		return Club{}, err
	}
	switch {
	case c.Kind != KindOwnerClub && c.Kind != KindForum && c.Kind != KindInterest:
		return Club{}, fieldError("kind", "unknown club kind %q", c.Kind)
	case c.Visibility != VisibilityPublic && c.Visibility != VisibilityPrivate:
		return Club{}, fieldError("visibility", "unknown visibility %q", c.Visibility)
	case !validJoinPolicy(c.JoinPolicy):
		return Club{}, fieldError("joinPolicy", "unknown join policy %q", c.JoinPolicy)
	case c.JoinPolicy == JoinVerifiedOwner && c.BrandID == "":
		return Club{}, fieldError("joinPolicy", "only a brand's club can verify owners")
	case c.BrandID != "" && !validID(c.BrandID):
		return Club{}, Errorf(CodeNotFound, "no brand %q", c.BrandID)
	}
	var manager *ClubMembership
	if a.IsMember() {
		manager = &ClubMembership{ClubID: c.ID, MemberID: a.MemberID, Role: RoleManager, Since: c.CreatedAt}
	}
	if err := s.store.CreateClub(ctx, c, manager); err != nil {
		return Club{}, err
	}
	return c, nil
}

// UpdateClub changes a club. Its managers, the host brand's admins and platform staff.
func (s *ClubService) UpdateClub(ctx context.Context, clubID string, in UpdateClubInput) (Club, error) {
	_, err := s.gate(ctx, "updateClub", NeedSignedIn)
	if err != nil {
		return Club{}, err
	}
	c, err := s.club(ctx, clubID)
	if err != nil {
		return Club{}, err
	}
	if err := s.mayInClub(ctx, ActRunClub, c); err != nil {
		return Club{}, err
	}
	in.normalize()
	if err := in.validate(); err != nil {
		return Club{}, err
	}
	if in.JoinPolicy != nil && *in.JoinPolicy == JoinVerifiedOwner && c.BrandID == "" {
		return Club{}, fieldError("joinPolicy", "only a brand's club can verify owners")
	}
	return s.store.UpdateClub(ctx, clubID, in)
}

// JoinOutcome is what came of asking to join a club.
type JoinOutcome string

// The outcomes of joining.
const (
	Joined    JoinOutcome = "JOINED"
	Requested JoinOutcome = "REQUESTED"
)

// JoinClub lets the calling member into a club by its policy: at once for an open club, or
// a verified owner of a VERIFIED_OWNER club; otherwise as a request that the club's
// managers or its brand's staff decide. Members already in stay as they are.
func (s *ClubService) JoinClub(ctx context.Context, clubID, message string) (JoinOutcome, error) {
	a, err := s.gate(ctx, "joinClub", NeedMember)
	if err != nil {
		return "", err
	}
	c, err := s.club(ctx, clubID)
	if err != nil {
		return "", err
	}
	message = joinMessageText.normalize(message)
	if err := joinMessageText.check(message); err != nil {
		return "", err
	}
	now := s.now().UTC()
	member := ClubMembership{ClubID: c.ID, MemberID: a.MemberID, Role: RoleMember, Since: now}
	switch c.JoinPolicy {
	case JoinOpen:
		return Joined, s.store.JoinClub(ctx, member)
	case JoinVerifiedOwner:
		bought, err := s.store.PurchasesOf(ctx, c.BrandID, []string{a.MemberID})
		if err != nil {
			return "", err
		}
		for _, p := range bought[a.MemberID] {
			if !p.Refunded() {
				member.Verified = true
				return Joined, s.store.JoinClub(ctx, member)
			}
		}
	}
	found, err := s.store.ClubMemberships(ctx, []ClubMemberKey{{c.ID, a.MemberID}})
	if err != nil {
		return "", err
	}
	if _, in := found[ClubMemberKey{c.ID, a.MemberID}]; in {
		return Joined, nil
	}
	return Requested, s.store.RequestJoin(ctx, JoinRequest{ClubID: c.ID, MemberID: a.MemberID, Message: message, At: now})
}

// LeaveClub takes the calling member out of a club; leaving twice changes nothing.
func (s *ClubService) LeaveClub(ctx context.Context, clubID string) error {
	a, err := s.gate(ctx, "leaveClub", NeedMember)
	if err != nil {
		return err
	}
	if _, err := s.club(ctx, clubID); err != nil {
		return err
	}
	return s.store.LeaveClub(ctx, clubID, a.MemberID)
}

// listJoinRequests is the kind of list that join request cursors are tied to.
const listJoinRequests cursorList[timeKey] = "join-requests"

// ListedRequest is a join request in a page, with its cursor.
type ListedRequest struct {
	JoinRequest
	cursor lazyCursor[timeKey]
}

// Cursor returns the request's cursor.
func (r ListedRequest) Cursor() string { return r.cursor.String() }

// JoinRequestList is a page of a club's join requests.
type JoinRequestList struct {
	Requests []ListedRequest
	More     bool
	end      lazyCursor[timeKey]
}

// EndCursor returns where the next page starts when that is not after the last request
// (see readOnLimit), or "".
func (l JoinRequestList) EndCursor() string { return l.end.String() }

// JoinRequests pages through a club's pending requests: for those who decide them. Brand
// staff see the requests of members who consented to share their profile with their brand
// (CanSeeMember); the club's managers and platform staff decide the others.
func (s *ClubService) JoinRequests(ctx context.Context, clubID string, first int, after string) (JoinRequestList, error) {
	c, err := s.club(ctx, clubID)
	if err != nil {
		return JoinRequestList{}, err
	}
	if err := s.mayInClub(ctx, ActDecideJoins, c); err != nil {
		return JoinRequestList{}, err
	}
	if first < 0 || first > MaxPageSize {
		return JoinRequestList{}, fieldError("first", "first must be between 0 and %d", MaxPageSize)
	}
	var pos *Position
	if after != "" {
		k, err := decodeCursor(s.core, listJoinRequests, clubID, after)
		if err != nil {
			return JoinRequestList{}, err
		}
		pos = k.position()
	}
	page, err := shownPage(ctx, s.core, first, pos,
		func(after *Position) ([]JoinRequest, bool, error) {
			return s.store.JoinRequests(ctx, clubID, first, after)
		},
		func(r JoinRequest) string { return r.MemberID },
		func(r JoinRequest) Position { return Position{Since: r.At, ID: r.MemberID} })
	if err != nil {
		return JoinRequestList{}, err
	}
	out := JoinRequestList{More: page.more, Requests: make([]ListedRequest, len(page.items))}
	for i, r := range page.items {
		out.Requests[i] = ListedRequest{JoinRequest: r, cursor: newCursor(s.core, listJoinRequests, clubID, timeKey{r.At, r.MemberID})}
	}
	if page.end != nil {
		out.end = newCursor(s.core, listJoinRequests, clubID, timeKey{page.end.Since, page.end.ID})
	}
	return out, nil
}

// DecideJoinRequest approves or rejects a pending request. The club's managers, its
// brand's staff and platform staff; NOT_FOUND when there is no such request.
func (s *ClubService) DecideJoinRequest(ctx context.Context, clubID, memberID string, approve bool) error {
	_, err := s.gate(ctx, decideAction(approve), NeedSignedIn)
	if err != nil {
		return err
	}
	c, err := s.club(ctx, clubID)
	if err != nil {
		return err
	}
	if err := s.mayInClub(ctx, ActDecideJoins, c); err != nil {
		return err
	}
	if !validID(memberID) {
		return Errorf(CodeNotFound, "no such request")
	}
	// A member the caller may not know of has no request the caller can see (JoinRequests
	// leaves it out), so none to decide: the answer is the same whether one is pending.
	if err := s.knownMember(ctx, memberID, "no such request"); err != nil {
		return err
	}
	return s.store.DecideJoinRequest(ctx, clubID, memberID, approve, s.now().UTC())
}

// SetClubRole appoints or removes a moderator (or a manager). Managers appoint and remove
// moderators; managers are appointed and removed by platform staff and the host brand's
// admins. NOT_FOUND when the member is not in the club.
func (s *ClubService) SetClubRole(ctx context.Context, clubID, memberID string, role ClubRole) (ClubMembership, error) {
	_, err := s.gate(ctx, "setClubRole", NeedSignedIn)
	if err != nil {
		return ClubMembership{}, err
	}
	c, err := s.club(ctx, clubID)
	if err != nil {
		return ClubMembership{}, err
	}
	if role != RoleMember && role != RoleModerator && role != RoleManager {
		return ClubMembership{}, fieldError("role", "unknown role %q", role)
	}
	// The caller's standing and the member's place, in one read.
	a := ActorFrom(ctx)
	key, own := ClubMemberKey{clubID, memberID}, ClubMemberKey{clubID, a.MemberID}
	var keys []ClubMemberKey
	if validID(memberID) { // a malformed id is in no club: it is not looked for
		keys = append(keys, key)
	}
	if a.IsMember() && own != key {
		keys = append(keys, own)
	}
	found, err := s.store.ClubMemberships(ctx, keys)
	if err != nil {
		return ClubMembership{}, err
	}
	t := Target{Club: c}
	if a.IsMember() {
		t.Role = found[own].Role
	}
	current, ok := found[key]
	if !ok {
		return ClubMembership{}, Errorf(CodeNotFound, "the member is not in the club")
	}
	// A member the caller may not know of is not listed among the club's members to them,
	// so is not in the club as far as they can tell.
	if err := s.knownMember(ctx, memberID, "the member is not in the club"); err != nil {
		return ClubMembership{}, err
	}
	if role == RoleManager || current.Role == RoleManager {
		if err := Decide(a, ActAppointManagers, t); err != nil {
			return ClubMembership{}, err
		}
	}
	if err := Decide(a, ActRunClub, t); err != nil {
		return ClubMembership{}, err
	}
	if err := s.store.SetClubRole(ctx, clubID, memberID, role); err != nil {
		return ClubMembership{}, err
	}
	current.Role = role
	return current, nil
}

// ClubsByID returns the clubs with the given ids, nil where there is none; a club itself
// (name, kind, policy) is public. A dataloader batch function.
func (s *ClubService) ClubsByID(ctx context.Context, ids []string) ([]*Club, []error) {
	return byID(ctx, ids, s.store.ClubsByID)
}

// ClubBySlug returns the club with the slug, or nil.
func (s *ClubService) ClubBySlug(ctx context.Context, slug string) (*Club, error) {
	if validateSlug(SlugKey(slug)) != nil {
		return nil, nil
	}
	return orNone(s.store.ClubBySlug(ctx, SlugKey(slug)))
}

// ClubsOfBrands returns the clubs each brand hosts. A dataloader batch function.
func (s *ClubService) ClubsOfBrands(ctx context.Context, brandIDs []string) ([][]Club, []error) {
	return valuesInOrder(ctx, brandIDs, s.store.ClubsOfBrands)
}

// ClubMemberCounts returns how many members each club has; public. A dataloader batch
// function.
func (s *ClubService) ClubMemberCounts(ctx context.Context, clubIDs []string) ([]int, []error) {
	return valuesInOrder(ctx, clubIDs, s.store.ClubMemberCounts)
}

// ViewerMemberships returns the calling member's membership of each club, nil where it
// is none. A dataloader batch function.
func (s *ClubService) ViewerMemberships(ctx context.Context, clubIDs []string) ([]*ClubMembership, []error) {
	a := ActorFrom(ctx)
	out := make([]*ClubMembership, len(clubIDs))
	if !a.IsMember() || a.AuthError != nil {
		return out, nil
	}
	keys := make([]ClubMemberKey, len(clubIDs))
	for i, id := range clubIDs {
		keys[i] = ClubMemberKey{id, a.MemberID}
	}
	found, err := s.store.ClubMemberships(ctx, keys)
	if err != nil {
		return out, repeatError(err, len(clubIDs))
	}
	for i, k := range keys {
		if m, ok := found[k]; ok {
			out[i] = &m
		}
	}
	return out, nil
}

// listClubMembers is the kind of list that club member cursors are tied to.
const listClubMembers cursorList[timeKey] = "club-members"

// ListedClubMember is a club membership in a page, with its cursor.
type ListedClubMember struct {
	ClubMembership
	cursor lazyCursor[timeKey]
}

// Cursor returns the membership's cursor.
func (m ListedClubMember) Cursor() string { return m.cursor.String() }

// ClubMembersKey names one page of a club's members of a role ("" for all), as a client
// asked for it: the key of a dataloader, so that the members of a list of clubs cost a
// fixed number of round trips.
type ClubMembersKey struct {
	ClubID string
	Role   ClubRole
	// First is the page size asked for.
	First int
	// After is the cursor asked after, or "".
	After string
}

// ClubMemberList is a page of a club's members.
type ClubMemberList struct {
	Members []ListedClubMember
	More    bool
	end     lazyCursor[timeKey]
}

// EndCursor returns where the next page starts when that is not after the last member (see
// readOnLimit), or "".
func (l ClubMemberList) EndCursor() string { return l.end.String() }

// ClubMemberPages returns the pages of clubs' members the keys ask for, in order. A public
// club's members are shown to the community (signed-in members, platform staff, the host
// brand's staff); a private club's to its members, the host brand's staff and platform
// staff. Brand staff see, of either, the members who consented to share their profile with
// their brand (CanSeeMember). A key gets NOT_FOUND for an unknown club, UNAUTHENTICATED
// or FORBIDDEN when the caller may not see inside the club, BAD_USER_INPUT for paging
// arguments out of range or a cursor this server did not issue for that very list. The
// batch reads the clubs and the caller's standing in them once, and the store once for
// each distinct (role, page size) among the keys (and once more per round in which brand
// staff read past members they may not see). A dataloader batch function.
func (s *ClubService) ClubMemberPages(ctx context.Context, keys []ClubMembersKey) ([]ClubMemberList, []error) {
	out := make([]ClubMemberList, len(keys))
	errs, err := canSeeInsideOf(ctx, s.core, keys, func(k ClubMembersKey) string { return k.ClubID })
	if err != nil {
		return out, repeatError(err, len(keys))
	}
	reqs := make([]ClubListRequest, len(keys))
	for i, k := range keys {
		switch {
		case errs[i] != nil:
			continue
		case k.Role != "" && k.Role != RoleMember && k.Role != RoleModerator && k.Role != RoleManager:
			errs[i] = Errorf(CodeInternal, "unknown role %q", k.Role)
			continue
		case k.First < 0 || k.First > MaxPageSize:
			errs[i] = fieldError("first", "first must be between 0 and %d", MaxPageSize)
			continue
		}
		reqs[i] = ClubListRequest{ClubID: k.ClubID}
		if k.After != "" {
			key, err := decodeCursor(s.core, listClubMembers, clubMembersOwner(k), k.After)
			if err != nil {
				errs[i] = err
				continue
			}
			reqs[i].After = key.position()
		}
	}
	type group struct {
		role  ClubRole
		first int
	}
	eachGroup(len(keys), func(i int) (group, bool) { return group{keys[i].Role, keys[i].First}, errs[i] == nil }, func(g group, idx []int) {
		batch := make([]ClubListRequest, len(idx))
		for j, i := range idx {
			batch[j] = reqs[i]
		}
		pages, err := shownPages(ctx, s.core, g.first, batch,
			func(reqs []ClubListRequest) ([]listPage[ClubMembership], error) {
				pages, err := s.store.ClubMembers(ctx, g.role, g.first, reqs)
				if err != nil {
					return nil, err
				}
				out := make([]listPage[ClubMembership], len(pages))
				for i, p := range pages {
					out[i] = listPage[ClubMembership]{items: p.Memberships, more: p.HasNextPage}
				}
				return out, nil
			},
			func(r ClubListRequest, p Position) ClubListRequest {
				return ClubListRequest{ClubID: r.ClubID, After: &p}
			},
			func(m ClubMembership) string { return m.MemberID },
			func(m ClubMembership) Position { return Position{Since: m.Since, ID: m.MemberID} })
		for j, i := range idx {
			if err != nil {
				errs[i] = err
				continue
			}
			owner := clubMembersOwner(keys[i])
			l := ClubMemberList{More: pages[j].more, Members: make([]ListedClubMember, len(pages[j].items))}
			for n, m := range pages[j].items {
				l.Members[n] = ListedClubMember{ClubMembership: m, cursor: newCursor(s.core, listClubMembers, owner, timeKey{m.Since, m.MemberID})}
			}
			if end := pages[j].end; end != nil {
				l.end = newCursor(s.core, listClubMembers, owner, timeKey{end.Since, end.ID})
			}
			out[i] = l
		}
	})
	return out, errs
}

// clubMembersOwner is whose list a key's cursors belong to: a list of one role is a list
// of its own, whose cursors the others refuse.
func clubMembersOwner(k ClubMembersKey) string { return k.ClubID + "/" + string(k.Role) }

// knownMember is NOT_FOUND with notFound when the caller may not know of the member
// (CanSeeMember): a write that names a member answers as if it were not there, as the
// lists the caller reads leave it out. It reads consents for brand staff only.
func (s *core) knownMember(ctx context.Context, memberID, notFound string) error {
	seen, err := s.seeMembers(ctx, []string{memberID})
	if err != nil {
		return err
	}
	if !seen[0] {
		return Errorf(CodeNotFound, "%s", notFound)
	}
	return nil
}

// canSeeInsideOf is canSeeInside for keys that each name a club.
func canSeeInsideOf[K any](ctx context.Context, s *core, keys []K, club func(K) string) ([]error, error) {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = club(k)
	}
	return s.canSeeInside(ctx, ids)
}

// canSeeInside is the rule for what is inside clubs (their members and posts): for each
// club id, nil when the caller may see inside that club, or why not (NOT_FOUND for an
// unknown club, else insideRule). It reads the clubs once and the caller's standing in
// them once.
func (s *core) canSeeInside(ctx context.Context, clubIDs []string) ([]error, error) {
	m := memoOf(ctx)
	if m == nil {
		return s.decideInside(ctx, clubIDs)
	}
	// Through the request's memo: the club fields of one request (members, moderators,
	// managers, posts) each ask about the same clubs. The lock is held across the read, so
	// that fields that ask at once wait for one read.
	m.insideMu.Lock()
	defer m.insideMu.Unlock()
	var missing []string
	for _, id := range clubIDs {
		if _, ok := m.inside[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		errs, err := s.decideInside(ctx, missing)
		if err != nil {
			return nil, err
		}
		for i, id := range missing {
			m.inside[id] = errs[i]
		}
	}
	errs := make([]error, len(clubIDs))
	for i, id := range clubIDs {
		errs[i] = m.inside[id]
	}
	return errs, nil
}

// decideInside is canSeeInside read from the store: the clubs once, and the caller's
// standing in them once.
func (s *core) decideInside(ctx context.Context, clubIDs []string) ([]error, error) {
	errs := make([]error, len(clubIDs))
	ids := onlyValidIDs(clubIDs)
	var clubs map[string]Club
	if len(ids) > 0 {
		var err error
		if clubs, err = s.store.ClubsByID(ctx, ids); err != nil {
			return nil, err
		}
	}
	var rule map[string]error
	if len(clubs) > 0 {
		var err error
		if rule, err = s.insideRule(ctx, clubs); err != nil {
			return nil, err
		}
	}
	for i, id := range clubIDs {
		if _, ok := clubs[id]; !ok {
			errs[i] = Errorf(CodeNotFound, "no club %q", id)
			continue
		}
		errs[i] = rule[id]
	}
	return errs, nil
}
