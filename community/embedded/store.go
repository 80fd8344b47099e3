// Package embedded is the default graph store: the whole graph in memory, as adjacency
// lists, made durable in a bbolt file. Every write is one bbolt transaction, committed
// before the in-memory graph changes, so what a caller was told is stored survives a crash.
package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

var _ community.Store = (*Store)(nil)

// Bucket names of the bbolt file.
var (
	bucketMeta       = []byte("meta")
	bucketMembers    = []byte("members")
	bucketHandles    = []byte("handles")
	bucketIdentities = []byte("identities")
	bucketFollows    = []byte("follows")
)

// schemaVersion is the layout of the bbolt file this code reads and writes.
const schemaVersion = 3

// Config configures the embedded store.
type Config struct {
	// Path is the bbolt file; created if absent.
	Path string
	// Subscriptions is the outbox's table of consumers; nil means
	// community.OutboxSubscriptions.
	Subscriptions community.Subscriptions
	Logger        *slog.Logger
}

// Store is the embedded graph store. It is safe for concurrent use.
type Store struct {
	db    *bolt.DB
	trips community.RoundTrips

	mu         sync.RWMutex
	members    map[string]*member
	byHandle   map[string]*member
	byIdentity map[identityKey]*member
	// bySeq holds the members by seq, by which an edge names its member.
	bySeq []*member
	// follows maps (follower.seq, followee.seq) to the follow time in Unix nanoseconds.
	follows map[uint64]int64
	nextSeq uint32
	outbox  outboxTable

	brandGraph
	clubGraph
	postGraph
	referralGraph
	rewardGraph
	downlineGraph
}

type identityKey struct {
	provider   community.IdentityProvider
	externalID string
}

// member is a node of the in-memory graph.
type member struct {
	community.Member
	seq        uint32
	identities []community.Identity
	// devices are the hashes of the devices the member was seen with, most recent first.
	devices []string
	// followers and following are sorted oldest follow first (since ascending, then id
	// descending): the reverse of list order, so that a new follow is an append.
	followers []edge
	following []edge
}

// edge is a follow in a member's adjacency: the other member, by seq, and when the follow
// began. It holds no pointer, so that the collector does not scan the adjacency, which is
// most of the graph.
type edge struct {
	since int64
	seq   uint32
}

// memberDoc is a member as stored in bbolt.
type memberDoc struct {
	Member     community.Member     `json:"member"`
	Identities []community.Identity `json:"identities"`
	Devices    []string             `json:"devices,omitempty"`
}

// Open opens or creates the store file and loads the graph into memory.
func Open(cfg Config) (*Store, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	outbox, err := newOutboxTable(cfg.Subscriptions)
	if err != nil {
		return nil, err
	}
	db, err := bolt.Open(cfg.Path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", cfg.Path, err)
	}
	s := &Store{
		db:         db,
		members:    map[string]*member{},
		byHandle:   map[string]*member{},
		byIdentity: map[identityKey]*member{},
		follows:    map[uint64]int64{},
		outbox:     outbox,
		brandGraph: newBrandGraph(),
		clubGraph:  newClubGraph(),
		postGraph:  newPostGraph(),

		referralGraph: newReferralGraph(),
		rewardGraph:   newRewardGraph(),
		downlineGraph: newDownlineGraph(),
	}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	start := time.Now()
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	log.Info("embedded store opened", "path", cfg.Path, "members", len(s.members), "follows", len(s.follows), "brands", len(s.brands), "clubs", len(s.clubs), "posts", len(s.posts), "comments", len(s.comments), "load", time.Since(start).String())
	return s, nil
}

// RoundTrips counts the store's round trips: one for each time a Store method takes the
// store's lock, by method.
func (s *Store) RoundTrips() *community.RoundTrips { return &s.trips }

// reading takes the store's read lock for one round trip and counts it; the caller calls
// what it returns to let go.
func (s *Store) reading() func() {
	s.trips.Count()
	s.mu.RLock()
	return s.mu.RUnlock
}

// writing takes the store's write lock for one round trip and counts it; the caller calls
// what it returns to let go.
func (s *Store) writing() func() {
	s.trips.Count()
	s.mu.Lock()
	return s.mu.Unlock
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) migrate() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		fillNames := tx.Bucket(bucketNames) == nil
		buckets := slices.Concat([][]byte{bucketMeta, bucketMembers, bucketHandles, bucketIdentities, bucketFollows}, brandBuckets, clubBuckets, postBuckets, referralBuckets, rewardBuckets, outboxBuckets, idempotencyBuckets)
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("embedded: create bucket %s: %w", b, err)
			}
		}
		if err := migrateOutbox(tx); err != nil {
			return err
		}
		if fillNames {
			// A file of schema 1 has no names index: build it from the members.
			err := tx.Bucket(bucketMembers).ForEach(func(_, v []byte) error {
				var doc memberDoc
				if err := json.Unmarshal(v, &doc); err != nil {
					return fmt.Errorf("embedded: decode member: %w", err)
				}
				return tx.Bucket(bucketNames).Put(nameKey(doc.Member), nil)
			})
			if err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get([]byte("schema")); v != nil {
			if got := binary.BigEndian.Uint64(v); got > schemaVersion {
				return fmt.Errorf("embedded: file has schema %d, newer than this program's %d", got, schemaVersion)
			}
		}
		return meta.Put([]byte("schema"), binary.BigEndian.AppendUint64(nil, schemaVersion))
	})
}

func (s *Store) load() error {
	return s.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketMembers).ForEach(func(_, v []byte) error {
			var doc memberDoc
			if err := json.Unmarshal(v, &doc); err != nil {
				return fmt.Errorf("embedded: decode member: %w", err)
			}
			s.index(&member{Member: doc.Member, identities: doc.Identities, devices: doc.Devices})
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketFollows).ForEach(func(k, v []byte) error {
			from, to := s.members[string(k[:idLen])], s.members[string(k[idLen:])]
			if from == nil || to == nil {
				return fmt.Errorf("embedded: follow %q refers to an unknown member", k)
			}
			since := int64(binary.BigEndian.Uint64(v))
			s.follows[pairKey(from, to)] = since
			from.following = append(from.following, edge{since, to.seq})
			to.followers = append(to.followers, edge{since, from.seq})
			return nil
		})
		if err != nil {
			return err
		}
		for _, m := range s.members {
			slices.SortFunc(m.followers, s.compareEdges)
			slices.SortFunc(m.following, s.compareEdges)
		}
		if err := s.loadBrands(tx); err != nil {
			return err
		}
		if err := s.loadClubs(tx); err != nil {
			return err
		}
		if err := s.loadPosts(tx); err != nil {
			return err
		}
		if err := s.loadReferrals(tx); err != nil {
			return err
		}
		if err := s.loadRewards(tx); err != nil {
			return err
		}
		return s.loadPostVersions(tx)
	})
}

// idLen is the length of a member id; follow keys are two ids side by side.
const idLen = 36

// index adds a member to the in-memory maps.
func (s *Store) index(m *member) {
	m.seq = s.nextSeq
	s.nextSeq++
	s.members[m.ID] = m
	s.bySeq = append(s.bySeq, m)
	s.byHandle[community.HandleKey(m.Handle)] = m
	for _, id := range m.identities {
		s.byIdentity[identityKey{id.Provider, id.ExternalID}] = m
	}
}

func pairKey(from, to *member) uint64 { return uint64(from.seq)<<32 | uint64(to.seq) }

// other returns the member at the other end of an edge.
func (s *Store) other(e edge) *member { return s.bySeq[e.seq] }

// compareEdges orders edges oldest follow first, then by id descending: reverse list order.
func (s *Store) compareEdges(a, b edge) int {
	if a.since != b.since {
		if a.since < b.since {
			return -1
		}
		return 1
	}
	return -strings.Compare(s.other(a).ID, s.other(b).ID)
}

func putMember(tx *bolt.Tx, m *member) error {
	v, err := json.Marshal(memberDoc{Member: m.Member, Identities: m.identities, Devices: m.devices})
	if err != nil {
		return fmt.Errorf("embedded: encode member: %w", err)
	}
	return tx.Bucket(bucketMembers).Put([]byte(m.ID), v)
}

func identityBoltKey(id community.Identity) []byte {
	return []byte(string(id.Provider) + "\x00" + id.ExternalID)
}

func conflict(format string, args ...any) error {
	return community.Errorf(community.CodeConflict, format, args...)
}

func notFound(id string) error {
	return community.Errorf(community.CodeNotFound, "no member %q", id)
}

// CreateMember implements community.Store.
func (s *Store) CreateMember(ctx context.Context, m community.Member, first community.Identity, devices ...string) error {
	return s.ImportMembers(ctx, []community.ImportedMember{{Member: m, Identities: []community.Identity{first}, Devices: devices}})
}

// ImportMembers implements community.Store: all members are stored in one transaction, or
// none is.
func (s *Store) ImportMembers(_ context.Context, batch []community.ImportedMember) error {
	if err := community.CheckImport(batch); err != nil {
		return err
	}
	defer s.writing()()
	for _, im := range batch {
		if len(im.Member.ID) != idLen {
			return fmt.Errorf("embedded: member id %q is not %d characters", im.Member.ID, idLen)
		}
		if _, ok := s.members[im.Member.ID]; ok {
			return conflict("member %q exists already", im.Member.ID)
		}
		if s.byHandle[community.HandleKey(im.Member.Handle)] != nil {
			return conflict("handle %q is taken", im.Member.Handle)
		}
		for _, id := range im.Identities {
			if s.byIdentity[identityKey{id.Provider, id.ExternalID}] != nil {
				return conflict("this %s identity belongs to a member already", id.Provider)
			}
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, im := range batch {
			m := &member{Member: im.Member, identities: im.Identities, devices: community.KeptDevices(im.Devices)}
			if err := putMember(tx, m); err != nil {
				return err
			}
			if err := tx.Bucket(bucketHandles).Put([]byte(community.HandleKey(m.Handle)), []byte(m.ID)); err != nil {
				return err
			}
			if err := tx.Bucket(bucketNames).Put(nameKey(m.Member), nil); err != nil {
				return err
			}
			for _, id := range im.Identities {
				if err := tx.Bucket(bucketIdentities).Put(identityBoltKey(id), []byte(m.ID)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: store members: %w", err)
	}
	for _, im := range batch {
		s.index(&member{Member: im.Member, identities: slices.Clone(im.Identities), devices: community.KeptDevices(im.Devices)})
	}
	return nil
}

// UpdateMember implements community.Store.
func (s *Store) UpdateMember(_ context.Context, memberID string, in community.UpdateProfileInput) (community.Member, error) {
	defer s.writing()()
	m := s.members[memberID]
	if m == nil {
		return community.Member{}, notFound(memberID)
	}
	updated := in.Apply(m.Member)
	oldKey, newKey := community.HandleKey(m.Handle), community.HandleKey(updated.Handle)
	if other := s.byHandle[newKey]; other != nil && other != m {
		return community.Member{}, conflict("handle %q is taken", updated.Handle)
	}
	next := *m
	next.Member = updated
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putMember(tx, &next); err != nil {
			return err
		}
		if err := tx.Bucket(bucketNames).Delete(nameKey(m.Member)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketNames).Put(nameKey(updated), nil); err != nil {
			return err
		}
		if oldKey == newKey {
			return nil
		}
		if err := tx.Bucket(bucketHandles).Delete([]byte(oldKey)); err != nil {
			return err
		}
		return tx.Bucket(bucketHandles).Put([]byte(newKey), []byte(m.ID))
	})
	if err != nil {
		return community.Member{}, fmt.Errorf("embedded: update member %q: %w", memberID, err)
	}
	m.Member = updated
	delete(s.byHandle, oldKey)
	s.byHandle[newKey] = m
	return updated, nil
}

// MembersByID implements community.Store.
func (s *Store) MembersByID(_ context.Context, ids []string) (map[string]community.Member, error) {
	defer s.reading()()
	out := make(map[string]community.Member, len(ids))
	for _, id := range ids {
		if m := s.members[id]; m != nil {
			out[id] = m.Member
		}
	}
	return out, nil
}

// MemberByHandle implements community.Store.
func (s *Store) MemberByHandle(_ context.Context, handle string) (community.Member, error) {
	defer s.reading()()
	if m := s.byHandle[community.HandleKey(handle)]; m != nil {
		return m.Member, nil
	}
	return community.Member{}, community.Errorf(community.CodeNotFound, "no member with handle %q", handle)
}

// IdentitiesOf implements community.Store.
func (s *Store) IdentitiesOf(_ context.Context, ids []string) (map[string][]community.Identity, error) {
	defer s.reading()()
	out := make(map[string][]community.Identity, len(ids))
	for _, id := range ids {
		if m := s.members[id]; m != nil {
			ids := slices.Clone(m.identities)
			slices.SortStableFunc(ids, func(a, b community.Identity) int {
				if c := a.LinkedAt.Compare(b.LinkedAt); c != 0 {
					return c
				}
				return strings.Compare(string(a.Provider), string(b.Provider))
			})
			out[id] = ids
		}
	}
	return out, nil
}

// LinkIdentity implements community.Store.
func (s *Store) LinkIdentity(_ context.Context, memberID string, id community.Identity) error {
	defer s.writing()()
	m := s.members[memberID]
	if m == nil {
		return notFound(memberID)
	}
	k := identityKey{id.Provider, id.ExternalID}
	if owner := s.byIdentity[k]; owner != nil {
		if owner == m {
			return nil
		}
		return conflict("this %s identity belongs to another member", id.Provider)
	}
	for _, have := range m.identities {
		if have.Provider == id.Provider {
			return conflict("the member has a %s identity already; unlink it first", id.Provider)
		}
	}
	next := *m
	next.identities = append(slices.Clone(m.identities), id)
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putMember(tx, &next); err != nil {
			return err
		}
		return tx.Bucket(bucketIdentities).Put(identityBoltKey(id), []byte(m.ID))
	})
	if err != nil {
		return fmt.Errorf("embedded: link identity: %w", err)
	}
	m.identities = next.identities
	s.byIdentity[k] = m
	return nil
}

// UnlinkIdentity implements community.Store.
func (s *Store) UnlinkIdentity(_ context.Context, memberID string, provider community.IdentityProvider) error {
	defer s.writing()()
	m := s.members[memberID]
	if m == nil {
		return notFound(memberID)
	}
	i := slices.IndexFunc(m.identities, func(id community.Identity) bool { return id.Provider == provider })
	if i < 0 {
		return community.Errorf(community.CodeNotFound, "the member has no %s identity", provider)
	}
	if len(m.identities) == 1 {
		return community.Errorf(community.CodeBadUserInput, "a member keeps at least one identity")
	}
	gone := m.identities[i]
	next := *m
	next.identities = slices.Delete(slices.Clone(m.identities), i, i+1)
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putMember(tx, &next); err != nil {
			return err
		}
		return tx.Bucket(bucketIdentities).Delete(identityBoltKey(gone))
	})
	if err != nil {
		return fmt.Errorf("embedded: unlink identity: %w", err)
	}
	m.identities = next.identities
	delete(s.byIdentity, identityKey{gone.Provider, gone.ExternalID})
	return nil
}

func followBoltKey(from, to string) []byte { return []byte(from + to) }

// Follow implements community.Store.
func (s *Store) Follow(_ context.Context, followerID, followeeID string, at time.Time) error {
	defer s.writing()()
	from, to, err := s.pair(followerID, followeeID)
	if err != nil {
		return err
	}
	if _, ok := s.follows[pairKey(from, to)]; ok {
		return nil
	}
	since := at.UnixNano()
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFollows).Put(followBoltKey(from.ID, to.ID), binary.BigEndian.AppendUint64(nil, uint64(since)))
	})
	if err != nil {
		return fmt.Errorf("embedded: follow: %w", err)
	}
	s.addFollow(from, to, since)
	return nil
}

func (s *Store) addFollow(from, to *member, since int64) {
	s.follows[pairKey(from, to)] = since
	from.following = s.insertEdge(from.following, edge{since, to.seq})
	to.followers = s.insertEdge(to.followers, edge{since, from.seq})
}

func (s *Store) insertEdge(list []edge, e edge) []edge {
	i, _ := slices.BinarySearchFunc(list, e, s.compareEdges)
	return slices.Insert(list, i, e)
}

func (s *Store) removeEdge(list []edge, e edge) []edge {
	if i, ok := slices.BinarySearchFunc(list, e, s.compareEdges); ok {
		return slices.Delete(list, i, i+1)
	}
	return list
}

// Unfollow implements community.Store.
func (s *Store) Unfollow(_ context.Context, followerID, followeeID string) error {
	defer s.writing()()
	from, to, err := s.pair(followerID, followeeID)
	if err != nil {
		return err
	}
	since, ok := s.follows[pairKey(from, to)]
	if !ok {
		return nil
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFollows).Delete(followBoltKey(from.ID, to.ID))
	})
	if err != nil {
		return fmt.Errorf("embedded: unfollow: %w", err)
	}
	delete(s.follows, pairKey(from, to))
	from.following = s.removeEdge(from.following, edge{since, to.seq})
	to.followers = s.removeEdge(to.followers, edge{since, from.seq})
	return nil
}

func (s *Store) pair(followerID, followeeID string) (*member, *member, error) {
	from, to := s.members[followerID], s.members[followeeID]
	if from == nil {
		return nil, nil, notFound(followerID)
	}
	if to == nil {
		return nil, nil, notFound(followeeID)
	}
	return from, to, nil
}

// ImportFollows implements community.Store: all follows are stored in one transaction.
func (s *Store) ImportFollows(_ context.Context, batch []community.Follow) error {
	defer s.writing()()
	type add struct {
		from, to *member
		since    int64
	}
	var adds []add
	seen := map[uint64]bool{}
	for _, f := range batch {
		from, to := s.members[f.FollowerID], s.members[f.FolloweeID]
		if from == nil || to == nil || from == to {
			continue
		}
		k := pairKey(from, to)
		if _, ok := s.follows[k]; ok || seen[k] {
			continue
		}
		seen[k] = true
		adds = append(adds, add{from, to, f.Since.UnixNano()})
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFollows)
		for _, a := range adds {
			if err := b.Put(followBoltKey(a.from.ID, a.to.ID), binary.BigEndian.AppendUint64(nil, uint64(a.since))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: import follows: %w", err)
	}
	for _, a := range adds {
		s.addFollow(a.from, a.to, a.since)
	}
	return nil
}

// FollowLists implements community.Store.
func (s *Store) FollowLists(_ context.Context, kind community.ListKind, first int, reqs []community.ListRequest) ([]community.FollowPage, error) {
	defer s.reading()()
	out := make([]community.FollowPage, len(reqs))
	for i, r := range reqs {
		m := s.members[r.MemberID]
		if m == nil {
			continue
		}
		switch kind {
		case community.ListFollowers:
			out[i] = s.page(m.followers, first, r.After, nil)
		case community.ListFollowing:
			out[i] = s.page(m.following, first, r.After, nil)
		case community.ListMutual:
			out[i] = s.page(m.following, first, r.After, func(e edge) bool {
				_, back := s.follows[pairKey(s.other(e), m)]
				return back
			})
		default:
			return nil, fmt.Errorf("embedded: unknown list kind %q", kind)
		}
	}
	return out, nil
}

// page cuts a page out of a list kept in reverse list order, keeping only the edges that
// keep accepts (all, when keep is nil).
func (s *Store) page(list []edge, first int, after *community.Position, keep func(edge) bool) community.FollowPage {
	// Edges after the cursor in list order are those before it in slice order: list[:end].
	end := len(list)
	if after != nil {
		end, _ = slices.BinarySearchFunc(list, after, func(e edge, p *community.Position) int {
			if p.Precedes(time.Unix(0, e.since), s.other(e).ID) {
				return -1
			}
			return 1
		})
	}
	var out community.FollowPage
	if keep == nil {
		out.TotalCount = len(list)
	} else {
		for _, e := range list {
			if keep(e) {
				out.TotalCount++
			}
		}
	}
	for i := end - 1; i >= 0; i-- {
		e := list[i]
		if keep != nil && !keep(e) {
			continue
		}
		if len(out.Edges) == first {
			out.HasNextPage = true
			break
		}
		out.Edges = append(out.Edges, community.FollowEdge{MemberID: s.other(e).ID, Since: time.Unix(0, e.since).UTC()})
	}
	return out
}

// FollowCounts implements community.Store.
func (s *Store) FollowCounts(_ context.Context, ids []string) (map[string]community.FollowCounts, error) {
	defer s.reading()()
	out := make(map[string]community.FollowCounts, len(ids))
	for _, id := range ids {
		if m := s.members[id]; m != nil {
			out[id] = community.FollowCounts{Followers: len(m.followers), Following: len(m.following)}
		}
	}
	return out, nil
}

// FollowStates implements community.Store.
func (s *Store) FollowStates(_ context.Context, viewerID string, ids []string) (map[string]community.FollowState, error) {
	defer s.reading()()
	out := make(map[string]community.FollowState, len(ids))
	v := s.members[viewerID]
	if v == nil {
		return out, nil
	}
	for _, id := range ids {
		if m := s.members[id]; m != nil {
			_, follows := s.follows[pairKey(v, m)]
			_, back := s.follows[pairKey(m, v)]
			out[id] = community.FollowState{ViewerFollows: follows, FollowsViewer: back}
		}
	}
	return out, nil
}

// SuggestedFollows implements community.Store.
func (s *Store) SuggestedFollows(_ context.Context, ids []string, limit int) (map[string][]community.Suggestion, error) {
	defer s.reading()()
	out := make(map[string][]community.Suggestion, len(ids))
	for _, id := range ids {
		if m := s.members[id]; m != nil {
			out[id] = s.suggest(m, limit)
		}
	}
	return out, nil
}

func (s *Store) suggest(m *member, limit int) []community.Suggestion {
	via := map[*member]int{}
	for _, f := range m.following {
		for _, e := range s.other(f).following {
			c := s.other(e)
			if c == m {
				continue
			}
			if _, already := s.follows[pairKey(m, c)]; already {
				continue
			}
			via[c]++
		}
	}
	out := make([]community.Suggestion, 0, len(via))
	for c, n := range via {
		out = append(out, community.Suggestion{MemberID: c.ID, Via: n, FollowerCount: len(c.followers)})
	}
	slices.SortFunc(out, community.CompareSuggestions)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Ping implements community.Store.
func (s *Store) Ping(context.Context) error {
	s.trips.Count()
	return s.db.View(func(*bolt.Tx) error { return nil })
}
