// Package neo4jstore is the graph store on Neo4j 5: members, their external identities,
// their follows, brands, partnerships, membership programmes, consent, purchases, clubs,
// club members, join requests, posts, comments, reactions and shares as nodes and
// relationships (DESIGN §4), and the outbox of changes that other systems must receive,
// written in the transactions that make them (DESIGN §5). Every method is one managed
// transaction, retried by the driver on transient failures, so the work inside is
// idempotent. All Cypher lives in this package, as constants, with every value a parameter.
package neo4jstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j/config"

	"quanzi/community"
)

var _ community.Store = (*Store)(nil)

// Config configures the Neo4j store.
type Config struct {
	// URI is the server's address: bolt:// for one server, neo4j:// for a routing cluster
	// (with +s or +ssc for TLS).
	URI string
	// Username and Password authenticate; an empty Username connects without authentication.
	Username string
	Password string
	// Database names the database; empty means the user's home database.
	Database string
	// Subscriptions is the outbox's table of consumers; nil means
	// community.OutboxSubscriptions.
	Subscriptions community.Subscriptions
	// Logger receives the start-up and migration lines; nil means slog.Default().
	Logger *slog.Logger
	// Observe, when set, is called with every statement before it runs, and its
	// parameters: for tracing, and for profiling the statements a request sends. It must
	// not keep or change params.
	Observe func(cypher string, params map[string]any)
}

// Store is the graph store on Neo4j. It is safe for concurrent use.
type Store struct {
	driver   neo4j.DriverWithContext
	database string
	// bookmarks chain every session of the store, so that a read follows the writes before
	// it even when a cluster routes it to another server.
	bookmarks neo4j.BookmarkManager
	outbox    outboxTable
	trips     community.RoundTrips
	observe   func(cypher string, params map[string]any)
}

// RoundTrips counts the store's round trips: one for each transaction, by Store method.
func (s *Store) RoundTrips() *community.RoundTrips { return &s.trips }

// Open connects to Neo4j, checks that the server answers, and applies the migrations the
// database has not seen yet.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.URI == "" {
		return nil, errors.New("neo4jstore: no URI configured")
	}
	outbox, err := newOutboxTable(cfg.Subscriptions)
	if err != nil {
		return nil, err
	}
	auth := neo4j.NoAuth()
	if cfg.Username != "" {
		auth = neo4j.BasicAuth(cfg.Username, cfg.Password, "")
	}
	// No usage statistics go to the server: they are a message more for every transaction,
	// and what the platform sends anywhere is its operators' choice.
	driver, err := neo4j.NewDriverWithContext(cfg.URI, auth, func(c *config.Config) { c.TelemetryDisabled = true })
	if err != nil {
		return nil, fmt.Errorf("neo4jstore: driver for %s: %w", cfg.URI, err)
	}
	if err := driver.VerifyConnectivity(ctx); err != nil {
		driver.Close(ctx)
		return nil, fmt.Errorf("neo4jstore: connect to %s: %w", cfg.URI, err)
	}
	s := &Store{driver: driver, database: cfg.Database, bookmarks: driver.ExecuteQueryBookmarkManager(), outbox: outbox, observe: cfg.Observe}
	start := time.Now()
	applied, err := s.migrate(ctx, log)
	if err != nil {
		driver.Close(ctx)
		return nil, err
	}
	log.Info("neo4j store opened", "uri", cfg.URI, "database", cfg.Database, "migrationsApplied", applied, "took", time.Since(start).String())
	return s, nil
}

// Close closes the driver and its connections.
func (s *Store) Close(ctx context.Context) error { return s.driver.Close(ctx) }

func (s *Store) session(ctx context.Context) neo4j.SessionWithContext {
	return s.driver.NewSession(ctx, neo4j.SessionConfig{DatabaseName: s.database, BookmarkManager: s.bookmarks})
}

// read runs work in one managed read transaction, or in the context's shared read
// transaction when it has one (see ShareReads).
func read[T any](ctx context.Context, s *Store, work neo4j.ManagedTransactionWorkT[T]) (T, error) {
	if sr := shared(ctx, s); sr != nil {
		if v, ok := readShared(ctx, sr, work); ok {
			return v, nil
		}
	}
	s.trips.Count()
	session := s.session(ctx)
	defer session.Close(ctx)
	return neo4j.ExecuteRead(ctx, session, observed(s, work))
}

// write runs work in one managed write transaction.
func write[T any](ctx context.Context, s *Store, work neo4j.ManagedTransactionWorkT[T]) (T, error) {
	s.trips.Count()
	session := s.session(ctx)
	defer session.Close(ctx)
	return neo4j.ExecuteWrite(ctx, session, observed(s, work))
}

// observed is work that shows each of its statements to the store's observer, if it has
// one.
func observed[T any](s *Store, work neo4j.ManagedTransactionWorkT[T]) neo4j.ManagedTransactionWorkT[T] {
	if s.observe == nil {
		return work
	}
	return func(tx neo4j.ManagedTransaction) (T, error) {
		return work(observedTx{tx, s.observe})
	}
}

// observedTx is a transaction that shows each statement to observe before running it.
type observedTx struct {
	neo4j.ManagedTransaction
	observe func(cypher string, params map[string]any)
}

func (t observedTx) Run(ctx context.Context, cypher string, params map[string]any) (neo4j.ResultWithContext, error) {
	t.observe(cypher, params)
	return t.ManagedTransaction.Run(ctx, cypher, params)
}

// query runs one statement in a read transaction of its own and returns its records: the
// shape of nearly every read.
func query(ctx context.Context, s *Store, cypher string, params map[string]any) ([]*neo4j.Record, error) {
	return read(ctx, s, func(tx neo4j.ManagedTransaction) ([]*neo4j.Record, error) {
		return collect(ctx, tx, cypher, params)
	})
}

// batch reads one statement for a batch of ids (as $ids, beside params) and files each
// record under the key from returns; from returns an empty key for a record to leave out.
// Ids without a record are absent from the map, and an empty batch reads nothing. what
// says what was being read, for the error.
func batch[V any](ctx context.Context, s *Store, cypher string, ids []string, params map[string]any, what string, from func(*neo4j.Record) (string, V)) (map[string]V, error) {
	out := make(map[string]V, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	all := map[string]any{"ids": ids}
	for k, v := range params {
		all[k] = v
	}
	recs, err := query(ctx, s, cypher, all)
	if err != nil {
		return nil, fail(err, "read %s of %d", what, len(ids))
	}
	for _, r := range recs {
		if k, v := from(r); k != "" {
			out[k] = v
		}
	}
	return out, nil
}

// listed reads the list in a record's field, each element with from, and keys it by the
// record's "id": batch's from for statements that return an id and a list for each. An
// empty list leaves the record out.
func listed[T any](r *neo4j.Record, field string, from func(any) T) (string, []T) {
	list, _ := get(r, field).([]any)
	if len(list) == 0 {
		return "", nil
	}
	out := make([]T, len(list))
	for i, v := range list {
		out[i] = from(v)
	}
	return str(get(r, "id")), out
}

// collect runs one statement and returns all its records.
func collect(ctx context.Context, tx neo4j.ManagedTransaction, cypher string, params map[string]any) ([]*neo4j.Record, error) {
	res, err := tx.Run(ctx, cypher, params)
	if err != nil {
		return nil, err
	}
	return res.Collect(ctx)
}

// exec runs one statement for its effect, waiting for it to finish so that its errors
// (constraint violations above all) surface here.
func exec(ctx context.Context, tx neo4j.ManagedTransaction, cypher string, params map[string]any) error {
	res, err := tx.Run(ctx, cypher, params)
	if err != nil {
		return err
	}
	_, err = res.Consume(ctx)
	return err
}

// constraintFailed is the code of a statement refused by a unique constraint.
const constraintFailed = "Neo.ClientError.Schema.ConstraintValidationFailed"

// conflicts are the messages of refusals by unique constraints, by what the driver's
// message names; the first that matches is said.
var conflicts = []struct{ names, message string }{
	{"`handleKey`", "the handle is taken"},
	{"`ExternalIdentity`", "the identity belongs to a member already"},
	{"`Member`", "the member exists already"},
	{"`slugKey`", "the slug is taken"},
	{"`Brand`", "the brand exists already"},
	{"`Club`", "the club exists already"},
	{"`Campaign`", "the campaign exists already"},
	{"`InviteCode`", "the invitation code is taken"},
	{"`Purchase`", "the purchase is recorded already"},
	{"`Post`", "the post exists already"},
	{"`Comment`", "the comment exists already"},
	{"`SHARED`", "the share is recorded already"},
}

// fail maps an error of the driver to the store's errors, once for every method: domain
// errors pass through, a constraint violation is CONFLICT, and anything else is wrapped
// with what was being done, so that it is INTERNAL and its detail stays in the log.
func fail(err error, format string, args ...any) error {
	var domain *community.Error
	if errors.As(err, &domain) {
		return err
	}
	var dbErr *neo4j.Neo4jError
	if errors.As(err, &dbErr) && dbErr.Code == constraintFailed {
		// The driver's message names the constraint's label and properties; it picks one
		// of our own messages and never reaches the client itself.
		for _, c := range conflicts {
			if strings.Contains(dbErr.Msg, c.names) {
				return community.Errorf(community.CodeConflict, "%s", c.message)
			}
		}
		return community.Errorf(community.CodeConflict, "the change conflicts with stored data")
	}
	return fmt.Errorf("neo4jstore: "+format+": %w", append(args, err)...)
}

func notFound(id string) error {
	return community.Errorf(community.CodeNotFound, "no member %q", id)
}

// memberRow is a member as statements take it.
func memberRow(m community.Member) map[string]any {
	return map[string]any{
		"id":          m.ID,
		"handle":      m.Handle,
		"handleKey":   community.HandleKey(m.Handle),
		"displayName": m.DisplayName,
		"bio":         m.Bio,
		"avatarUrl":   m.AvatarURL,
		"joinedAt":    m.JoinedAt.UTC(),
	}
}

// memberFrom reads a member projected with memberFields.
func memberFrom(v any) community.Member {
	p, _ := v.(map[string]any)
	return community.Member{
		ID:          str(p["id"]),
		Handle:      str(p["handle"]),
		DisplayName: str(p["displayName"]),
		Bio:         str(p["bio"]),
		AvatarURL:   str(p["avatarUrl"]),
		JoinedAt:    utc(p["joinedAt"]),
	}
}

// pageOf turns the rows of a page read with one row more than first (the look-ahead that
// tells whether another page follows) into the page's items.
func pageOf[E, T any](rows []E, first int, from func(E) T) ([]T, bool) {
	more := len(rows) > first
	if more {
		rows = rows[:first]
	}
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		out = append(out, from(r))
	}
	return out, more
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// utc reads a DATETIME as a time in UTC, so that times compare equal to those stored.
func utc(v any) time.Time {
	t, _ := v.(time.Time)
	return t.UTC()
}

func integer(v any) int {
	n, _ := v.(int64)
	return int(n)
}

func boolean(v any) bool {
	b, _ := v.(bool)
	return b
}

func get(r *neo4j.Record, key string) any {
	v, _ := r.Get(key)
	return v
}

// CreateMember implements community.Store.
func (s *Store) CreateMember(ctx context.Context, m community.Member, first community.Identity, devices ...string) error {
	return s.ImportMembers(ctx, []community.ImportedMember{{Member: m, Identities: []community.Identity{first}, Devices: devices}})
}

// ImportMembers implements community.Store: the whole batch is one statement in one
// transaction, so a conflict anywhere stores none of it.
func (s *Store) ImportMembers(ctx context.Context, batch []community.ImportedMember) error {
	if len(batch) == 0 {
		return nil
	}
	if err := community.CheckImport(batch); err != nil {
		return err
	}
	rows := make([]map[string]any, len(batch))
	for i, im := range batch {
		idents := make([]map[string]any, len(im.Identities))
		for j, id := range im.Identities {
			idents[j] = map[string]any{"provider": string(id.Provider), "externalId": id.ExternalID, "linkedAt": id.LinkedAt.UTC()}
		}
		row := memberRow(im.Member)
		row["identities"] = idents
		row["devices"] = nil
		if kept := community.KeptDevices(im.Devices); len(kept) > 0 {
			row["devices"] = kept
		}
		rows[i] = row
	}
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		return struct{}{}, exec(ctx, tx, cypherImportMembers, map[string]any{"rows": rows})
	})
	if err != nil {
		return fail(err, "store %d members", len(batch))
	}
	return nil
}

// UpdateMember implements community.Store: the member is locked and read, in.Apply makes
// the new profile, and it is written back, all in one transaction.
func (s *Store) UpdateMember(ctx context.Context, memberID string, in community.UpdateProfileInput) (community.Member, error) {
	m, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (community.Member, error) {
		recs, err := collect(ctx, tx, cypherLockMember, map[string]any{"id": memberID})
		if err != nil {
			return community.Member{}, err
		}
		if len(recs) == 0 {
			return community.Member{}, notFound(memberID)
		}
		updated := in.Apply(memberFrom(get(recs[0], "member")))
		params := memberRow(updated)
		delete(params, "joinedAt")
		return updated, exec(ctx, tx, cypherWriteMember, params)
	})
	if err != nil {
		return community.Member{}, fail(err, "update member %q", memberID)
	}
	return m, nil
}

// MembersByID implements community.Store.
// Members read ahead in the request's shared read are not read again.
func (s *Store) MembersByID(ctx context.Context, ids []string) (map[string]community.Member, error) {
	return readKept(ctx, s, ids, func(a *aheadRead) map[string]community.Member { return a.members }, func(ids []string) (map[string]community.Member, error) {
		return batch(ctx, s, cypherMembersByID, ids, nil, "members", func(r *neo4j.Record) (string, community.Member) {
			m := memberFrom(get(r, "member"))
			return m.ID, m
		})
	})
}

// SearchMembers implements community.Store: one statement, two prefix seeks (see
// cypherSearchMembers).
func (s *Store) SearchMembers(ctx context.Context, prefix string, limit int) ([]community.Member, error) {
	params := map[string]any{"prefix": prefix, "handlePrefix": community.HandleKey(prefix), "limit": int64(max(limit, 0))}
	recs, err := query(ctx, s, cypherSearchMembers, params)
	if err != nil {
		return nil, fail(err, "search members by %q", prefix)
	}
	out := make([]community.Member, 0, len(recs))
	for _, r := range recs {
		out = append(out, memberFrom(get(r, "member")))
	}
	return out, nil
}

// MemberByHandle implements community.Store.
// It reads ahead, when asked, the member's follow counts and the first pages of its
// follower and following lists (see cypherMemberByHandleAhead).
func (s *Store) MemberByHandle(ctx context.Context, handle string) (community.Member, error) {
	params := map[string]any{"handleKey": community.HandleKey(handle)}
	cypher := cypherMemberByHandle
	a, want := ahead(ctx, s)
	reading := a != nil && (want.FollowCounts || want.Followers.First > 0 || want.Following.First > 0)
	if reading {
		cypher = cypherMemberByHandleAhead
		params["keySeparator"], params["keyEnd"] = keySeparator, keyEnd
		pageParams(params, community.ListFollowers, aheadLimit(want.Followers), want.Followers)
		pageParams(params, community.ListFollowing, aheadLimit(want.Following), want.Following)
	}
	recs, err := query(ctx, s, cypher, params)
	if err != nil {
		return community.Member{}, fail(err, "find handle %q", handle)
	}
	if len(recs) == 0 {
		return community.Member{}, community.Errorf(community.CodeNotFound, "no member with handle %q", handle)
	}
	m := memberFrom(get(recs[0], "member"))
	if !reading {
		return m, nil
	}
	counts := followCountsOf(recs[0])
	got := aheadRead{counts: map[string]community.FollowCounts{m.ID: counts}}
	for _, l := range []struct {
		kind  community.ListKind
		page  community.PageAhead
		field string
		total int
	}{{community.ListFollowers, want.Followers, "followersPage", counts.Followers}, {community.ListFollowing, want.Following, "followingPage", counts.Following}} {
		if l.page.First <= 0 {
			continue
		}
		p, ok := got.page(m.ID, l.page.First, get(recs[0], l.field), l.total)
		if !ok {
			return community.Member{}, fmt.Errorf("neo4jstore: %s of %q: malformed key", l.kind, m.ID)
		}
		a.keepPage(l.kind, m.ID, l.page.First, p)
	}
	a.keep(got.members, got.counts)
	return m, nil
}

// pageParams sets the parameters of followersPage or followingPage, by the list's kind:
// limit keys (0 for no page), with the listed members and their counts when page asks
// for them.
func pageParams(params map[string]any, kind community.ListKind, limit int, page community.PageAhead) {
	params[string(kind)+"Limit"] = limit
	params[string(kind)+"Members"] = page.Members
	params[string(kind)+"Counts"] = page.FollowCounts
}

// aheadLimit is the limit of a page read ahead: its first and one more, or none.
func aheadLimit(page community.PageAhead) int {
	if page.First <= 0 {
		return 0
	}
	return page.First + 1
}

// followCountsOf reads the follow counts of a record of the fields followers and following.
func followCountsOf(r *neo4j.Record) community.FollowCounts {
	return community.FollowCounts{Followers: integer(get(r, "followers")), Following: integer(get(r, "following"))}
}

// IdentitiesOf implements community.Store: identities are ordered by the time they were
// linked, then by provider. Members without identities are absent from the map.
func (s *Store) IdentitiesOf(ctx context.Context, ids []string) (map[string][]community.Identity, error) {
	return batch(ctx, s, cypherIdentitiesOf, ids, nil, "identities", func(r *neo4j.Record) (string, []community.Identity) {
		return listed(r, "identities", func(v any) community.Identity {
			p, _ := v.(map[string]any)
			return community.Identity{Provider: community.IdentityProvider(str(p["provider"])), ExternalID: str(p["externalId"]), LinkedAt: utc(p["linkedAt"])}
		})
	})
}

// LinkIdentity implements community.Store.
func (s *Store) LinkIdentity(ctx context.Context, memberID string, id community.Identity) error {
	params := map[string]any{"memberId": memberID, "provider": string(id.Provider), "externalId": id.ExternalID, "linkedAt": id.LinkedAt.UTC()}
	outcome, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (string, error) {
		return outcome(ctx, tx, cypherLinkIdentity, params)
	})
	if err != nil {
		return fail(err, "link %s identity to %q", id.Provider, memberID)
	}
	switch outcome {
	case "":
		return notFound(memberID)
	case "taken":
		return community.Errorf(community.CodeConflict, "this %s identity belongs to another member", id.Provider)
	case "provider":
		return community.Errorf(community.CodeConflict, "the member has a %s identity already; unlink it first", id.Provider)
	}
	return nil
}

// UnlinkIdentity implements community.Store.
func (s *Store) UnlinkIdentity(ctx context.Context, memberID string, provider community.IdentityProvider) error {
	params := map[string]any{"memberId": memberID, "provider": string(provider)}
	outcome, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (string, error) {
		return outcome(ctx, tx, cypherUnlinkIdentity, params)
	})
	if err != nil {
		return fail(err, "unlink %s identity of %q", provider, memberID)
	}
	switch outcome {
	case "":
		return notFound(memberID)
	case "none":
		return community.Errorf(community.CodeNotFound, "the member has no %s identity", provider)
	case "last":
		return community.Errorf(community.CodeBadUserInput, "a member keeps at least one identity")
	}
	return nil
}

// outcome runs a statement that returns one row with an outcome column, and returns it;
// "" when there is no row.
func outcome(ctx context.Context, tx neo4j.ManagedTransaction, cypher string, params map[string]any) (string, error) {
	recs, err := collect(ctx, tx, cypher, params)
	if err != nil || len(recs) == 0 {
		return "", err
	}
	return str(get(recs[0], "outcome")), nil
}

// Follow implements community.Store.
func (s *Store) Follow(ctx context.Context, followerID, followeeID string, at time.Time) error {
	params := map[string]any{"followerId": followerID, "followeeId": followeeID, "since": at.UTC(),
		"inKey": listKey(followeeID, at, followerID), "outKey": listKey(followerID, at, followeeID)}
	return s.followWrite(ctx, cypherFollow, params, "follow")
}

// Unfollow implements community.Store.
func (s *Store) Unfollow(ctx context.Context, followerID, followeeID string) error {
	params := map[string]any{"followerId": followerID, "followeeId": followeeID}
	return s.followWrite(ctx, cypherUnfollow, params, "unfollow")
}

// followWrite runs a follow or an unfollow, which report whether they knew both members.
func (s *Store) followWrite(ctx context.Context, cypher string, params map[string]any, what string) error {
	known, err := write(ctx, s, func(tx neo4j.ManagedTransaction) ([2]bool, error) {
		recs, err := collect(ctx, tx, cypher, params)
		if err != nil || len(recs) == 0 {
			return [2]bool{}, err
		}
		return [2]bool{boolean(get(recs[0], "followerKnown")), boolean(get(recs[0], "followeeKnown"))}, nil
	})
	followerID, followeeID := params["followerId"].(string), params["followeeId"].(string)
	if err != nil {
		return fail(err, "%s %q -> %q", what, followerID, followeeID)
	}
	if !known[0] {
		return notFound(followerID)
	}
	if !known[1] {
		return notFound(followeeID)
	}
	return nil
}

// ImportFollows implements community.Store: the whole batch is one statement in one
// transaction.
func (s *Store) ImportFollows(ctx context.Context, follows []community.Follow) error {
	if len(follows) == 0 {
		return nil
	}
	rows := make([]map[string]any, len(follows))
	for i, f := range follows {
		rows[i] = map[string]any{"followerId": f.FollowerID, "followeeId": f.FolloweeID, "since": f.Since.UTC(),
			"inKey": listKey(f.FolloweeID, f.Since, f.FollowerID), "outKey": listKey(f.FollowerID, f.Since, f.FolloweeID)}
	}
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		return struct{}{}, exec(ctx, tx, cypherImportFollows, map[string]any{"rows": rows})
	})
	if err != nil {
		return fail(err, "store %d follows", len(follows))
	}
	return nil
}

// FollowLists implements community.Store: one statement reads every requested page.
// Followers and followings are read by their keys (see followKey), the mutual list by its
// pattern (see cypherMutualFollows).
func (s *Store) FollowLists(ctx context.Context, kind community.ListKind, first int, reqs []community.ListRequest) ([]community.FollowPage, error) {
	var cypher string
	switch kind {
	case community.ListFollowers:
		cypher = cypherFollowers
	case community.ListFollowing:
		cypher = cypherFollowing
	case community.ListMutual:
		cypher = cypherMutualFollows
	default:
		return nil, fmt.Errorf("neo4jstore: unknown list kind %q", kind)
	}
	keyed := kind != community.ListMutual
	first = max(first, 0)
	a, want := ahead(ctx, s)
	if kept := a.pages(kind, first, reqs); kept != nil {
		return kept, nil
	}
	params := map[string]any{}
	if !keyed {
		params["limit"] = first + 1
	} else {
		// Members are read ahead only where a shared read keeps them for the reads after.
		pageParams(params, kind, first+1, community.PageAhead{Members: a != nil && want.Members, FollowCounts: a != nil && want.FollowCounts})
	}
	rows := make([]map[string]any, len(reqs))
	for i, r := range reqs {
		row := map[string]any{"i": i, "memberId": r.MemberID}
		switch {
		case keyed:
			row["from"], row["to"] = listKeyStart(r.MemberID, r.After), listKeyEnd(r.MemberID)
		case r.After != nil:
			row["afterSince"], row["afterId"] = r.After.Since.UTC(), r.After.ID
		default:
			row["afterSince"], row["afterId"] = nil, nil
		}
		rows[i] = row
	}
	params["reqs"] = rows
	recs, err := query(ctx, s, cypher, params)
	if err != nil {
		return nil, fail(err, "read %d %s lists", len(reqs), kind)
	}
	out := make([]community.FollowPage, len(reqs))
	var got aheadRead
	for _, rec := range recs {
		i := integer(get(rec, "i"))
		owner := reqs[i].MemberID
		if !keyed {
			list, _ := get(rec, "edges").([]any)
			edges := make([]community.FollowEdge, len(list))
			for j, v := range list {
				e, _ := v.(map[string]any)
				edges[j] = community.FollowEdge{MemberID: str(e["id"]), Since: utc(e["since"])}
			}
			out[i] = community.FollowPage{TotalCount: integer(get(rec, "total"))}
			out[i].Edges, out[i].HasNextPage = pageOf(edges, first, func(e community.FollowEdge) community.FollowEdge { return e })
			continue
		}
		var ok bool
		out[i], ok = got.page(owner, first, get(rec, "keys"), integer(get(rec, "total")))
		if !ok {
			return nil, fmt.Errorf("neo4jstore: %s of %q: malformed key", kind, owner)
		}
	}
	if a != nil {
		a.keep(got.members, got.counts)
	}
	return out, nil
}

// page reads a page of first edges of a keyed follow list of owner from rows (followersPage
// or followingPage: the page and one edge more), and keeps in a the members and counts
// that the rows carry; ok is false when a key is malformed.
func (a *aheadRead) page(owner string, first int, rows any, total int) (p community.FollowPage, ok bool) {
	list, _ := rows.([]any)
	edges := make([]community.FollowEdge, len(list))
	for j, v := range list {
		row, _ := v.(map[string]any)
		other, since, ok := parseListKey(owner, str(row["key"]))
		if !ok {
			return p, false
		}
		edges[j] = community.FollowEdge{MemberID: other, Since: since}
		a.take(other, row)
	}
	p.TotalCount = total
	p.Edges, p.HasNextPage = pageOf(edges, first, func(e community.FollowEdge) community.FollowEdge { return e })
	return p, true
}

// FollowCounts implements community.Store: unknown members are absent.
// Counts read ahead in the request's shared read are not read again.
func (s *Store) FollowCounts(ctx context.Context, ids []string) (map[string]community.FollowCounts, error) {
	return readKept(ctx, s, ids, func(a *aheadRead) map[string]community.FollowCounts { return a.counts }, func(ids []string) (map[string]community.FollowCounts, error) {
		return batch(ctx, s, cypherFollowCounts, ids, nil, "follow counts", func(r *neo4j.Record) (string, community.FollowCounts) {
			return str(get(r, "id")), followCountsOf(r)
		})
	})
}

// FollowStates implements community.Store: unknown members are absent, and all are when
// the viewer is unknown.
func (s *Store) FollowStates(ctx context.Context, viewerID string, ids []string) (map[string]community.FollowState, error) {
	return batch(ctx, s, cypherFollowStates, ids, map[string]any{"viewerId": viewerID}, "follow states", func(r *neo4j.Record) (string, community.FollowState) {
		return str(get(r, "id")), community.FollowState{ViewerFollows: boolean(get(r, "viewerFollows")), FollowsViewer: boolean(get(r, "followsViewer"))}
	})
}

// SuggestedFollows implements community.Store: one statement for every member. Members
// without suggestions are absent from the map.
func (s *Store) SuggestedFollows(ctx context.Context, ids []string, limit int) (map[string][]community.Suggestion, error) {
	return batch(ctx, s, cypherSuggestedFollows, ids, map[string]any{"limit": max(limit, 0)}, "suggestions", func(r *neo4j.Record) (string, []community.Suggestion) {
		return listed(r, "suggestions", func(v any) community.Suggestion {
			m, _ := v.(map[string]any)
			return community.Suggestion{MemberID: str(m["id"]), Via: integer(m["via"]), FollowerCount: integer(m["followers"])}
		})
	})
}

// Ping implements community.Store: it runs a statement on the store's database, which
// also finds a database that is down while the server is up.
func (s *Store) Ping(ctx context.Context) error {
	_, err := read(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		return struct{}{}, exec(ctx, tx, cypherPing, nil)
	})
	if err != nil {
		return fail(err, "ping")
	}
	return nil
}
