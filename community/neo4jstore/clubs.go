package neo4jstore

import (
	"context"
	"fmt"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

func noClub(id string) error {
	return community.Errorf(community.CodeNotFound, "no club %q", id)
}

// clubFrom reads a club projected with clubFields.
func clubFrom(v any) community.Club {
	p, _ := v.(map[string]any)
	return community.Club{
		ID:          str(p["id"]),
		Slug:        str(p["slug"]),
		Name:        str(p["name"]),
		Description: str(p["description"]),
		Kind:        community.ClubKind(str(p["kind"])),
		Visibility:  community.ClubVisibility(str(p["visibility"])),
		JoinPolicy:  community.JoinPolicy(str(p["joinPolicy"])),
		BrandID:     str(p["brandId"]),
		CreatedAt:   utc(p["createdAt"]),
	}
}

// orNull is s as a parameter, with "" as null: a property set to null is not stored.
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// afterParams sets the parameters of a page's start: null for the first page.
func afterParams(params map[string]any, sinceKey string, after *community.Position) {
	params[sinceKey], params["afterId"] = nil, nil
	if after != nil {
		params[sinceKey], params["afterId"] = after.Since.UTC(), after.ID
	}
}

// clubListOwner is the owner of the list of a club's members of role (see listKey): the
// club for every role (""), else the club and the role.
func clubListOwner(clubID string, role community.ClubRole) string {
	if role == "" {
		return clubID
	}
	return clubID + keySeparator + string(role)
}

// setMembershipKeys sets, in the parameters or row of a statement that stores a
// membership, the keys that place it in the club's lists: inKey in the list of every role,
// roleKey in that of its role.
func setMembershipKeys(params map[string]any, clubID, memberID string, role community.ClubRole, since time.Time) {
	params["inKey"] = listKey(clubID, since, memberID)
	params["roleKey"] = listKey(clubListOwner(clubID, role), since, memberID)
}

// CreateClub implements community.Store: the club, its link to its host brand and its
// first manager's membership are one statement. The manager joins the new club whatever
// ClubID it names.
func (s *Store) CreateClub(ctx context.Context, c community.Club, manager *community.ClubMembership) error {
	params := map[string]any{
		"id": c.ID, "slug": c.Slug, "slugKey": community.SlugKey(c.Slug), "name": c.Name, "description": c.Description,
		"kind": string(c.Kind), "visibility": string(c.Visibility), "joinPolicy": string(c.JoinPolicy),
		"brandId": orNull(c.BrandID), "createdAt": c.CreatedAt.UTC(),
		"managerId": nil, "role": nil, "since": nil, "verified": nil, "inKey": nil, "roleKey": nil,
	}
	if manager != nil {
		params["managerId"], params["role"], params["since"], params["verified"] = manager.MemberID, string(manager.Role), manager.Since.UTC(), manager.Verified
		setMembershipKeys(params, c.ID, manager.MemberID, manager.Role, manager.Since)
	}
	known, err := write(ctx, s, func(tx neo4j.ManagedTransaction) ([2]bool, error) {
		recs, err := collect(ctx, tx, cypherCreateClub, params)
		if err != nil || len(recs) == 0 {
			return [2]bool{}, err
		}
		return [2]bool{boolean(get(recs[0], "brandKnown")), boolean(get(recs[0], "managerKnown"))}, nil
	})
	if err != nil {
		return fail(err, "create club %q", c.Slug)
	}
	switch {
	case !known[0]:
		return noBrand(c.BrandID)
	case !known[1]:
		return notFound(manager.MemberID)
	}
	return nil
}

// UpdateClub implements community.Store: the club is locked and read, in.Apply makes the
// new club, and it is written back, with a club event when its visibility changed, all in
// one transaction.
func (s *Store) UpdateClub(ctx context.Context, clubID string, in community.UpdateClubInput) (community.Club, error) {
	c, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (community.Club, error) {
		recs, err := collect(ctx, tx, cypherLockClub, map[string]any{"id": clubID})
		if err != nil {
			return community.Club{}, err
		}
		if len(recs) == 0 {
			return community.Club{}, noClub(clubID)
		}
		stored := clubFrom(get(recs[0], "club"))
		updated := in.Apply(stored)
		params := s.eventParams(map[string]any{
			"id": clubID, "name": updated.Name, "description": updated.Description,
			"visibility": string(updated.Visibility), "joinPolicy": string(updated.JoinPolicy),
			"visibilityChanged": updated.Visibility != stored.Visibility,
		}, community.EventClub)
		return updated, exec(ctx, tx, cypherWriteClub, params)
	})
	if err != nil {
		return community.Club{}, fail(err, "update club %q", clubID)
	}
	return c, nil
}

// ClubsByID implements community.Store.
func (s *Store) ClubsByID(ctx context.Context, ids []string) (map[string]community.Club, error) {
	return batch(ctx, s, cypherClubsByID, ids, nil, "clubs", func(r *neo4j.Record) (string, community.Club) {
		c := clubFrom(get(r, "club"))
		return c.ID, c
	})
}

// ClubBySlug implements community.Store.
func (s *Store) ClubBySlug(ctx context.Context, slug string) (community.Club, error) {
	recs, err := query(ctx, s, cypherClubBySlug, map[string]any{"slugKey": community.SlugKey(slug)})
	if err != nil {
		return community.Club{}, fail(err, "find club %q", slug)
	}
	if len(recs) == 0 {
		return community.Club{}, community.Errorf(community.CodeNotFound, "no club with slug %q", slug)
	}
	return clubFrom(get(recs[0], "club")), nil
}

// ClubsOfBrands implements community.Store: clubs created at the same time are ordered by
// id. Brands that host no club are absent from the map.
func (s *Store) ClubsOfBrands(ctx context.Context, brandIDs []string) (map[string][]community.Club, error) {
	return batch(ctx, s, cypherClubsOfBrands, brandIDs, nil, "clubs of brands", func(r *neo4j.Record) (string, []community.Club) {
		return listed(r, "clubs", clubFrom)
	})
}

// JoinClub implements community.Store.
func (s *Store) JoinClub(ctx context.Context, m community.ClubMembership) error {
	params := map[string]any{
		"clubId": m.ClubID, "memberId": m.MemberID,
		"role": string(m.Role), "since": m.Since.UTC(), "verified": m.Verified,
	}
	setMembershipKeys(params, m.ClubID, m.MemberID, m.Role, m.Since)
	result, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (string, error) {
		return outcome(ctx, tx, cypherJoinClub, params)
	})
	if err != nil {
		return fail(err, "put member %q in club %q", m.MemberID, m.ClubID)
	}
	switch result {
	case "noClub":
		return noClub(m.ClubID)
	case "noMember":
		return notFound(m.MemberID)
	case "joined":
		return nil
	}
	return fmt.Errorf("neo4jstore: put member %q in club %q: outcome %q", m.MemberID, m.ClubID, result)
}

// LeaveClub implements community.Store: leaving a club one is not in, or an unknown club,
// changes nothing and is no error.
func (s *Store) LeaveClub(ctx context.Context, clubID, memberID string) error {
	params := map[string]any{"clubId": clubID, "memberId": memberID}
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		return struct{}{}, exec(ctx, tx, cypherLeaveClub, params)
	})
	if err != nil {
		return fail(err, "take member %q out of club %q", memberID, clubID)
	}
	return nil
}

// RequestJoin implements community.Store.
func (s *Store) RequestJoin(ctx context.Context, r community.JoinRequest) error {
	params := map[string]any{"clubId": r.ClubID, "memberId": r.MemberID, "message": r.Message, "at": r.At.UTC(),
		"inKey": listKey(r.ClubID, r.At, r.MemberID)}
	result, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (string, error) {
		return outcome(ctx, tx, cypherRequestJoin, params)
	})
	if err != nil {
		return fail(err, "request to join club %q for %q", r.ClubID, r.MemberID)
	}
	switch result {
	case "noClub":
		return noClub(r.ClubID)
	case "noMember":
		return notFound(r.MemberID)
	case "member":
		return community.Errorf(community.CodeConflict, "the member is in the club already")
	case "requested":
		return nil
	}
	return fmt.Errorf("neo4jstore: request to join club %q for %q: outcome %q", r.ClubID, r.MemberID, result)
}

// JoinRequests implements community.Store: the page is read by its keys (see
// cypherJoinRequests); an unknown club has no requests.
func (s *Store) JoinRequests(ctx context.Context, clubID string, first int, after *community.Position) ([]community.JoinRequest, bool, error) {
	first = max(first, 0)
	params := map[string]any{"from": listKeyStart(clubID, after), "to": listKeyEnd(clubID), "limit": int64(first + 1)}
	recs, err := query(ctx, s, cypherJoinRequests, params)
	if err != nil {
		return nil, false, fail(err, "read join requests of club %q", clubID)
	}
	out := make([]community.JoinRequest, 0, len(recs))
	for _, r := range recs {
		memberID, at, ok := parseListKey(clubID, str(get(r, "key")))
		if !ok {
			return nil, false, fmt.Errorf("neo4jstore: join requests of club %q: malformed key %q", clubID, str(get(r, "key")))
		}
		out = append(out, community.JoinRequest{ClubID: clubID, MemberID: memberID, Message: str(get(r, "message")), At: at})
	}
	if len(out) > first {
		return out[:first], true, nil
	}
	return out, false, nil
}

// DecideJoinRequest implements community.Store: the member is locked, so that of two
// decisions of one request, one decides it and the other finds none.
func (s *Store) DecideJoinRequest(ctx context.Context, clubID, memberID string, approve bool, at time.Time) error {
	params := map[string]any{
		"clubId": clubID, "memberId": memberID, "approve": approve,
		"role": string(community.RoleMember), "at": at.UTC(),
	}
	setMembershipKeys(params, clubID, memberID, community.RoleMember, at)
	decided, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
		return count(ctx, tx, cypherDecideJoinRequest, params, "decided")
	})
	if err != nil {
		return fail(err, "decide the request of %q to join club %q", memberID, clubID)
	}
	if decided == 0 {
		return community.Errorf(community.CodeNotFound, "member %q has no pending request to join club %q", memberID, clubID)
	}
	return nil
}

// SetClubRole implements community.Store.
func (s *Store) SetClubRole(ctx context.Context, clubID, memberID string, role community.ClubRole) error {
	params := map[string]any{"clubId": clubID, "memberId": memberID, "role": string(role), "roleOwner": clubListOwner(clubID, role)}
	changed, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
		return count(ctx, tx, cypherSetClubRole, params, "changed")
	})
	if err != nil {
		return fail(err, "set the role of %q in club %q", memberID, clubID)
	}
	if changed == 0 {
		return community.Errorf(community.CodeNotFound, "member %q is not in club %q", memberID, clubID)
	}
	return nil
}

// ClubMemberships implements community.Store: one statement for every key.
func (s *Store) ClubMemberships(ctx context.Context, keys []community.ClubMemberKey) (map[community.ClubMemberKey]community.ClubMembership, error) {
	out := make(map[community.ClubMemberKey]community.ClubMembership, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	rows := make([]map[string]any, len(keys))
	for i, k := range keys {
		rows[i] = map[string]any{"clubId": k.ClubID, "memberId": k.MemberID}
	}
	recs, err := query(ctx, s, cypherClubMemberships, map[string]any{"keys": rows})
	if err != nil {
		return nil, fail(err, "read %d club memberships", len(keys))
	}
	for _, r := range recs {
		m := clubMembershipFrom(r, str(get(r, "clubId")))
		out[community.ClubMemberKey{ClubID: m.ClubID, MemberID: m.MemberID}] = m
	}
	return out, nil
}

// clubMembershipFrom reads a membership from a record of memberId, role, since and
// verified.
func clubMembershipFrom(r *neo4j.Record, clubID string) community.ClubMembership {
	return community.ClubMembership{
		ClubID:   clubID,
		MemberID: str(get(r, "memberId")),
		Role:     community.ClubRole(str(get(r, "role"))),
		Since:    utc(get(r, "since")),
		Verified: boolean(get(r, "verified")),
	}
}

// ClubMembers implements community.Store: one statement reads every requested page, by
// the keys of the club's list of every role or of role (see cypherClubMembers); an unknown
// club has no members. It reads ahead, when asked, the listed members and their follow
// counts.
func (s *Store) ClubMembers(ctx context.Context, role community.ClubRole, first int, reqs []community.ClubListRequest) ([]community.ClubMemberPage, error) {
	first = max(first, 0)
	cypher := cypherClubMembers
	if role != "" {
		cypher = cypherClubRoleMembers
	}
	rows := make([]map[string]any, len(reqs))
	for i, r := range reqs {
		owner := clubListOwner(r.ClubID, role)
		rows[i] = map[string]any{"i": i, "from": listKeyStart(owner, r.After), "to": listKeyEnd(owner)}
	}
	params := map[string]any{"reqs": rows, "limit": int64(first + 1)}
	a := aheadParams(ctx, s, params)
	recs, err := query(ctx, s, cypher, params)
	if err != nil {
		return nil, fail(err, "read members of %d clubs", len(reqs))
	}
	out := make([]community.ClubMemberPage, len(reqs))
	var got aheadRead
	for _, rec := range recs {
		i := integer(get(rec, "i"))
		owner := clubListOwner(reqs[i].ClubID, role)
		members, _ := get(rec, "members").([]any)
		page := make([]community.ClubMembership, len(members))
		for j, v := range members {
			m, _ := v.(map[string]any)
			memberID, since, ok := parseListKey(owner, str(m["key"]))
			if !ok {
				return nil, fmt.Errorf("neo4jstore: members of club %q: malformed key %q", reqs[i].ClubID, str(m["key"]))
			}
			page[j] = community.ClubMembership{
				ClubID:   reqs[i].ClubID,
				MemberID: memberID,
				Role:     community.ClubRole(str(m["role"])),
				Since:    since,
				Verified: boolean(m["verified"]),
			}
			got.take(memberID, m)
		}
		if len(page) > first {
			page, out[i].HasNextPage = page[:first], true
		}
		out[i].Memberships = page
	}
	if a != nil {
		a.keep(got.members, got.counts)
	}
	return out, nil
}

// JoinedClubIDs implements community.Store.
func (s *Store) JoinedClubIDs(ctx context.Context, memberID string) ([]string, error) {
	recs, err := query(ctx, s, cypherJoinedClubIDs, map[string]any{"memberId": memberID})
	if err != nil {
		return nil, fail(err, "read the clubs of %q", memberID)
	}
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, str(get(r, "id")))
	}
	return out, nil
}

// ClubMemberCounts implements community.Store: unknown clubs are absent.
func (s *Store) ClubMemberCounts(ctx context.Context, clubIDs []string) (map[string]int, error) {
	return batch(ctx, s, cypherClubMemberCounts, clubIDs, nil, "member counts of clubs", func(r *neo4j.Record) (string, int) {
		return str(get(r, "id")), integer(get(r, "members"))
	})
}
