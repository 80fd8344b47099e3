package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

// Bucket names of the club part of the bbolt file. Each holds JSON documents; the
// in-memory indexes (slugs, each brand's clubs, rosters, request queues) are rebuilt from
// them at load.
var (
	// bucketClubs maps a club id to its community.Club.
	bucketClubs = []byte("clubs")
	// bucketClubMembers maps club id, NUL, member id to a community.ClubMembership.
	bucketClubMembers = []byte("club_members")
	// bucketJoinRequests maps club id, NUL, member id to a pending community.JoinRequest.
	bucketJoinRequests = []byte("join_requests")
)

// clubBuckets are the buckets migrate creates for the club part.
var clubBuckets = [][]byte{bucketClubs, bucketClubMembers, bucketJoinRequests}

// clubGraph is the in-memory part of the store about clubs, their members and join
// requests. It is guarded by Store.mu, like the rest of the graph.
type clubGraph struct {
	clubs      map[string]*club
	clubBySlug map[string]*club
	// clubsOf is each brand's clubs oldest first (CreatedAt, then id); platform clubs
	// are in no list.
	clubsOf map[string][]*club
	// joined is each member's clubs, by member id: the feed and search scopes read it.
	joined map[string]map[*club]struct{}
}

func newClubGraph() clubGraph {
	return clubGraph{
		clubs:      map[string]*club{},
		clubBySlug: map[string]*club{},
		clubsOf:    map[string][]*club{},
		joined:     map[string]map[*club]struct{}{},
	}
}

// join records in the member index that a member belongs to a club.
func (g *clubGraph) join(c *club, memberID string) {
	if g.joined[memberID] == nil {
		g.joined[memberID] = map[*club]struct{}{}
	}
	g.joined[memberID][c] = struct{}{}
}

// club is a club node of the in-memory graph.
type club struct {
	community.Club
	// members are the club's memberships by member id.
	members map[string]*community.ClubMembership
	// roster holds the same memberships oldest first (Since ascending, then member id
	// descending): the reverse of list order, so that a join is usually an append.
	roster []*community.ClubMembership
	// requests are the pending join requests by member id.
	requests map[string]*community.JoinRequest
	// queue holds the same requests oldest first (At ascending, then member id
	// descending): the reverse of list order.
	queue []*community.JoinRequest
}

func clubNotFound(id string) error {
	return community.Errorf(community.CodeNotFound, "no club %q", id)
}

func clubMemberKey(clubID, memberID string) []byte { return []byte(clubID + "\x00" + memberID) }

// compareClubs orders a brand's clubs oldest first, then by id.
func compareClubs(a, b *club) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// compareClubRoster orders memberships as a club's roster keeps them: oldest first, then
// by member id descending.
func compareClubRoster(a, b *community.ClubMembership) int {
	if c := a.Since.Compare(b.Since); c != 0 {
		return c
	}
	return -strings.Compare(a.MemberID, b.MemberID)
}

// compareQueue orders join requests as a club's queue keeps them: oldest first, then by
// member id descending.
func compareQueue(a, b *community.JoinRequest) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	return -strings.Compare(a.MemberID, b.MemberID)
}

// pageEnd returns where the items after a position in list order end in a slice kept in
// reverse list order: they are list[:end]. The whole slice when after is nil.
func pageEnd[T any](list []T, after *community.Position, pos func(T) (time.Time, string)) int {
	if after == nil {
		return len(list)
	}
	end, _ := slices.BinarySearchFunc(list, after, func(v T, p *community.Position) int {
		if p.Precedes(pos(v)) {
			return -1
		}
		return 1
	})
	return end
}

// removeSorted removes v from a list sorted by cmp, if it is there.
func removeSorted[T any](list []T, v T, cmp func(T, T) int) []T {
	if i, ok := slices.BinarySearchFunc(list, v, cmp); ok {
		return slices.Delete(list, i, i+1)
	}
	return list
}

// loadClubs reads the club part of the file into memory; members and brands are loaded
// already.
func (s *Store) loadClubs(tx *bolt.Tx) error {
	err := tx.Bucket(bucketClubs).ForEach(func(_, v []byte) error {
		var c community.Club
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("embedded: decode club: %w", err)
		}
		if c.BrandID != "" && s.brands[c.BrandID] == nil {
			return fmt.Errorf("embedded: club %q refers to an unknown brand", c.ID)
		}
		n := newClub(c)
		s.clubs[c.ID] = n
		s.clubBySlug[community.SlugKey(c.Slug)] = n
		if c.BrandID != "" {
			s.clubsOf[c.BrandID] = append(s.clubsOf[c.BrandID], n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketClubMembers).ForEach(func(k, v []byte) error {
		m := &community.ClubMembership{}
		if err := json.Unmarshal(v, m); err != nil {
			return fmt.Errorf("embedded: decode club membership: %w", err)
		}
		c := s.clubs[m.ClubID]
		if c == nil || s.members[m.MemberID] == nil {
			return fmt.Errorf("embedded: club membership %q refers to an unknown club or member", k)
		}
		c.members[m.MemberID] = m
		c.roster = append(c.roster, m)
		s.join(c, m.MemberID)
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketJoinRequests).ForEach(func(k, v []byte) error {
		r := &community.JoinRequest{}
		if err := json.Unmarshal(v, r); err != nil {
			return fmt.Errorf("embedded: decode join request: %w", err)
		}
		c := s.clubs[r.ClubID]
		if c == nil || s.members[r.MemberID] == nil {
			return fmt.Errorf("embedded: join request %q refers to an unknown club or member", k)
		}
		c.requests[r.MemberID] = r
		c.queue = append(c.queue, r)
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range s.clubs {
		slices.SortFunc(c.roster, compareClubRoster)
		slices.SortFunc(c.queue, compareQueue)
	}
	for _, list := range s.clubsOf {
		slices.SortFunc(list, compareClubs)
	}
	return nil
}

func newClub(c community.Club) *club {
	return &club{Club: c, members: map[string]*community.ClubMembership{}, requests: map[string]*community.JoinRequest{}}
}

// putMembership writes a new membership of the club in tx and deletes the member's
// pending request to join it, if there is one: a member of a club has no request.
func putMembership(tx *bolt.Tx, c *club, m *community.ClubMembership) error {
	k := clubMemberKey(m.ClubID, m.MemberID)
	if err := putJSON(tx, bucketClubMembers, k, m); err != nil {
		return err
	}
	if c.requests[m.MemberID] == nil {
		return nil
	}
	return tx.Bucket(bucketJoinRequests).Delete(k)
}

// addMembers adds stored memberships to the club in memory, as putMembership wrote
// them: their members' pending requests go. It sorts ms.
func (g *clubGraph) addMembers(c *club, ms ...*community.ClubMembership) {
	for _, m := range ms {
		c.removeRequest(m.MemberID)
		c.members[m.MemberID] = m
		g.join(c, m.MemberID)
	}
	slices.SortFunc(ms, compareClubRoster)
	c.roster = mergeSorted(c.roster, ms, compareClubRoster)
}

// removeRequest removes a member's pending request from the club in memory, if any.
func (c *club) removeRequest(memberID string) {
	if r := c.requests[memberID]; r != nil {
		delete(c.requests, memberID)
		c.queue = removeSorted(c.queue, r, compareQueue)
	}
}

// CreateClub implements community.ClubStore. The slug is compared in its SlugKey form;
// the manager's membership must name the new club.
func (s *Store) CreateClub(_ context.Context, c community.Club, manager *community.ClubMembership) error {
	c.CreatedAt = c.CreatedAt.UTC()
	var m *community.ClubMembership
	if manager != nil {
		if manager.ClubID != c.ID {
			return fmt.Errorf("embedded: create club %q: the manager's membership is of club %q", c.ID, manager.ClubID)
		}
		copied := *manager
		copied.Since = copied.Since.UTC()
		m = &copied
	}
	defer s.writing()()
	if s.clubs[c.ID] != nil {
		return conflict("club %q exists already", c.ID)
	}
	if s.clubBySlug[community.SlugKey(c.Slug)] != nil {
		return conflict("slug %q is taken", c.Slug)
	}
	if c.BrandID != "" && s.brands[c.BrandID] == nil {
		return brandNotFound(c.BrandID)
	}
	if m != nil && s.members[m.MemberID] == nil {
		return notFound(m.MemberID)
	}
	n := newClub(c)
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx, bucketClubs, []byte(c.ID), c); err != nil {
			return err
		}
		if m == nil {
			return nil
		}
		return putMembership(tx, n, m)
	})
	if err != nil {
		return fmt.Errorf("embedded: create club: %w", err)
	}
	s.clubs[c.ID] = n
	s.clubBySlug[community.SlugKey(c.Slug)] = n
	if c.BrandID != "" {
		s.clubsOf[c.BrandID] = insertSorted(s.clubsOf[c.BrandID], n, compareClubs)
	}
	if m != nil {
		s.addMembers(n, m)
	}
	return nil
}

// UpdateClub implements community.ClubStore.
func (s *Store) UpdateClub(_ context.Context, clubID string, in community.UpdateClubInput) (community.Club, error) {
	defer s.writing()()
	c := s.clubs[clubID]
	if c == nil {
		return community.Club{}, clubNotFound(clubID)
	}
	next := in.Apply(c.Club)
	adds := outboxAdds{}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx, bucketClubs, []byte(clubID), next); err != nil {
			return err
		}
		if next.Visibility == c.Visibility {
			return nil
		}
		return s.enqueue(tx, community.EventClub, clubID, time.Now(), adds)
	})
	if err != nil {
		return community.Club{}, fmt.Errorf("embedded: update club %q: %w", clubID, err)
	}
	s.counted(adds)
	c.Club = next
	return next, nil
}

// ClubsByID implements community.ClubStore.
func (s *Store) ClubsByID(_ context.Context, ids []string) (map[string]community.Club, error) {
	defer s.reading()()
	out := make(map[string]community.Club, len(ids))
	for _, id := range ids {
		if c := s.clubs[id]; c != nil {
			out[id] = c.Club
		}
	}
	return out, nil
}

// ClubBySlug implements community.ClubStore.
func (s *Store) ClubBySlug(_ context.Context, slug string) (community.Club, error) {
	defer s.reading()()
	if c := s.clubBySlug[community.SlugKey(slug)]; c != nil {
		return c.Club, nil
	}
	return community.Club{}, community.Errorf(community.CodeNotFound, "no club with slug %q", slug)
}

// ClubsOfBrands implements community.ClubStore. Brands that host no club, and unknown
// brands, are absent from the map.
func (s *Store) ClubsOfBrands(_ context.Context, brandIDs []string) (map[string][]community.Club, error) {
	defer s.reading()()
	out := make(map[string][]community.Club, len(brandIDs))
	for _, id := range brandIDs {
		list := s.clubsOf[id]
		if len(list) == 0 {
			continue
		}
		clubs := make([]community.Club, len(list))
		for i, c := range list {
			clubs[i] = c.Club
		}
		out[id] = clubs
	}
	return out, nil
}

// JoinClub implements community.ClubStore. A member already in the club keeps its
// membership as it is, verified or not.
func (s *Store) JoinClub(_ context.Context, m community.ClubMembership) error {
	m.Since = m.Since.UTC()
	defer s.writing()()
	c := s.clubs[m.ClubID]
	if c == nil {
		return clubNotFound(m.ClubID)
	}
	if s.members[m.MemberID] == nil {
		return notFound(m.MemberID)
	}
	if c.members[m.MemberID] != nil {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error { return putMembership(tx, c, &m) })
	if err != nil {
		return fmt.Errorf("embedded: join club: %w", err)
	}
	s.addMembers(c, &m)
	return nil
}

// LeaveClub implements community.ClubStore. Leaving a club one is not in, or an unknown
// club, changes nothing and is no error.
func (s *Store) LeaveClub(_ context.Context, clubID, memberID string) error {
	defer s.writing()()
	c := s.clubs[clubID]
	if c == nil {
		return nil
	}
	m := c.members[memberID]
	if m == nil {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketClubMembers).Delete(clubMemberKey(clubID, memberID))
	})
	if err != nil {
		return fmt.Errorf("embedded: leave club: %w", err)
	}
	delete(c.members, memberID)
	delete(s.joined[memberID], c)
	c.roster = removeSorted(c.roster, m, compareClubRoster)
	return nil
}

// RequestJoin implements community.ClubStore.
func (s *Store) RequestJoin(_ context.Context, r community.JoinRequest) error {
	r.At = r.At.UTC()
	defer s.writing()()
	c := s.clubs[r.ClubID]
	if c == nil {
		return clubNotFound(r.ClubID)
	}
	if s.members[r.MemberID] == nil {
		return notFound(r.MemberID)
	}
	if c.members[r.MemberID] != nil {
		return conflict("the member is in the club already")
	}
	if c.requests[r.MemberID] != nil {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx, bucketJoinRequests, clubMemberKey(r.ClubID, r.MemberID), r)
	})
	if err != nil {
		return fmt.Errorf("embedded: request to join club: %w", err)
	}
	c.requests[r.MemberID] = &r
	c.queue = insertSorted(c.queue, &r, compareQueue)
	return nil
}

// JoinRequests implements community.ClubStore. An unknown club has no requests.
func (s *Store) JoinRequests(_ context.Context, clubID string, first int, after *community.Position) ([]community.JoinRequest, bool, error) {
	defer s.reading()()
	c := s.clubs[clubID]
	if c == nil {
		return nil, false, nil
	}
	end := pageEnd(c.queue, after, func(r *community.JoinRequest) (time.Time, string) { return r.At, r.MemberID })
	n := min(max(first, 0), end)
	var out []community.JoinRequest
	for i := end - 1; i >= end-n; i-- {
		out = append(out, *c.queue[i])
	}
	return out, end > n, nil
}

// DecideJoinRequest implements community.ClubStore. Approving the request of a member
// who has joined meanwhile leaves its membership as it is.
func (s *Store) DecideJoinRequest(_ context.Context, clubID, memberID string, approve bool, at time.Time) error {
	defer s.writing()()
	c := s.clubs[clubID]
	if c == nil || c.requests[memberID] == nil {
		return community.Errorf(community.CodeNotFound, "no pending request of member %q to join club %q", memberID, clubID)
	}
	var m *community.ClubMembership
	if approve && c.members[memberID] == nil {
		m = &community.ClubMembership{ClubID: clubID, MemberID: memberID, Role: community.RoleMember, Since: at.UTC()}
	}
	k := clubMemberKey(clubID, memberID)
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketJoinRequests).Delete(k); err != nil {
			return err
		}
		if m == nil {
			return nil
		}
		return putJSON(tx, bucketClubMembers, k, m)
	})
	if err != nil {
		return fmt.Errorf("embedded: decide join request: %w", err)
	}
	c.removeRequest(memberID)
	if m != nil {
		s.addMembers(c, m)
	}
	return nil
}

// SetClubRole implements community.ClubStore.
func (s *Store) SetClubRole(_ context.Context, clubID, memberID string, role community.ClubRole) error {
	defer s.writing()()
	var m *community.ClubMembership
	if c := s.clubs[clubID]; c != nil {
		m = c.members[memberID]
	}
	if m == nil {
		return community.Errorf(community.CodeNotFound, "member %q is not in club %q", memberID, clubID)
	}
	if m.Role == role {
		return nil
	}
	next := *m
	next.Role = role
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx, bucketClubMembers, clubMemberKey(clubID, memberID), next)
	})
	if err != nil {
		return fmt.Errorf("embedded: set club role: %w", err)
	}
	// The role is not part of the roster's order, so the membership stays where it is.
	*m = next
	return nil
}

// ClubMemberships implements community.ClubStore.
func (s *Store) ClubMemberships(_ context.Context, keys []community.ClubMemberKey) (map[community.ClubMemberKey]community.ClubMembership, error) {
	defer s.reading()()
	out := make(map[community.ClubMemberKey]community.ClubMembership, len(keys))
	for _, k := range keys {
		if c := s.clubs[k.ClubID]; c != nil {
			if m := c.members[k.MemberID]; m != nil {
				out[k] = *m
			}
		}
	}
	return out, nil
}

// ClubMembers implements community.ClubStore: every page is read under one lock. An
// unknown club has no members.
func (s *Store) ClubMembers(_ context.Context, role community.ClubRole, first int, reqs []community.ClubListRequest) ([]community.ClubMemberPage, error) {
	defer s.reading()()
	out := make([]community.ClubMemberPage, len(reqs))
	for i, r := range reqs {
		if c := s.clubs[r.ClubID]; c != nil {
			out[i] = c.page(role, first, r.After)
		}
	}
	return out, nil
}

// page returns up to first of the club's members of role ("" for all) after a position,
// in list order.
func (c *club) page(role community.ClubRole, first int, after *community.Position) community.ClubMemberPage {
	var p community.ClubMemberPage
	end := pageEnd(c.roster, after, func(m *community.ClubMembership) (time.Time, string) { return m.Since, m.MemberID })
	for i := end - 1; i >= 0; i-- {
		m := c.roster[i]
		if role != "" && m.Role != role {
			continue
		}
		if len(p.Memberships) >= first {
			p.HasNextPage = true
			return p
		}
		p.Memberships = append(p.Memberships, *m)
	}
	return p
}

// ClubMemberCounts implements community.ClubStore. Unknown clubs are absent; known clubs
// are present, with 0 when they have no members.
func (s *Store) ClubMemberCounts(_ context.Context, clubIDs []string) (map[string]int, error) {
	defer s.reading()()
	out := make(map[string]int, len(clubIDs))
	for _, id := range clubIDs {
		if c := s.clubs[id]; c != nil {
			out[id] = len(c.members)
		}
	}
	return out, nil
}
