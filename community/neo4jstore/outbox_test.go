package neo4jstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// The tests of this file check what the contract suite cannot see from outside: that an
// acknowledgement racing the writes of its entity never loses a change, that data stored
// before versions and display-name keys were kept still reads and is found, and that the
// outbox, the post scan and the member search read their indexes in order instead of
// sorting what they find.

// TestOutboxAcksRaceWrites runs a relay (read the events, read the entities, acknowledge)
// while members write one post and a manager flips one club's visibility. Whenever an
// entity's event is gone, the relay must have read the entity as it last was written.
func TestOutboxAcksRaceWrites(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	author := addMember(t, s, "li_hua")
	club := addClub(t, s, "es8-owners", "", author)
	p := addPost(t, s, club.ID, author, brandAt(1))
	const fans, rounds = 4, 15

	var delivered struct {
		version    int64
		visibility community.ClubVisibility
	}
	relayRound := func() error {
		evs, err := s.PendingEvents(ctx, community.ConsumerSearch, 100)
		if err != nil || len(evs) == 0 {
			return err
		}
		posts, err := s.PostsByID(ctx, []string{p.ID})
		if err != nil {
			return err
		}
		clubs, err := s.ClubsByID(ctx, []string{club.ID})
		if err != nil {
			return err
		}
		for _, e := range evs {
			switch e.Kind {
			case community.EventPost:
				delivered.version = posts[p.ID].Version
			case community.EventClub:
				delivered.visibility = clubs[club.ID].Visibility
			}
		}
		return s.AckEvents(ctx, community.ConsumerSearch, evs)
	}

	var writers sync.WaitGroup
	errs := make(chan error, fans+2)
	for i := range fans {
		fan := addMember(t, s, fmt.Sprintf("fan_%d", i))
		writers.Go(func() {
			for j := range rounds {
				if err := s.React(ctx, fan, p.ID, community.ReactionLike, brandAt(j)); err != nil {
					errs <- err
					return
				}
				if err := s.Unreact(ctx, fan, p.ID, community.ReactionLike); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	writers.Go(func() {
		for j := range 2 * rounds {
			v := community.VisibilityPrivate
			if j%2 == 1 {
				v = community.VisibilityPublic
			}
			if _, err := s.UpdateClub(ctx, club.ID, community.UpdateClubInput{Visibility: &v}); err != nil {
				errs <- err
				return
			}
		}
	})
	var stop atomic.Bool
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		for !stop.Load() {
			if err := relayRound(); err != nil {
				errs <- err
				return
			}
		}
	}()
	writers.Wait()
	stop.Store(true)
	<-relayDone
	close(errs)
	for err := range errs {
		t.Fatalf("a write or the relay failed: %v", err)
	}

	final := onePost(t, s, p.ID)
	if want := int64(1 + 2*fans*rounds); final.Version != want {
		t.Errorf("version after %d writes = %d, want %d", 2*fans*rounds, final.Version, want)
	}
	finalClub, err := s.ClubsByID(ctx, []string{club.ID})
	mustDo(t, err)
	check := func(when string) {
		t.Helper()
		left, err := s.PendingEvents(ctx, community.ConsumerSearch, 100)
		mustDo(t, err)
		keys := map[string]bool{}
		for _, e := range left {
			keys[string(e.Kind)+":"+e.EntityID] = true
		}
		if !keys[string(community.EventPost)+":"+p.ID] && delivered.version != final.Version {
			t.Errorf("%s: the post's event is gone, but the relay read version %d of %d", when, delivered.version, final.Version)
		}
		if v := finalClub[club.ID].Visibility; !keys[string(community.EventClub)+":"+club.ID] && delivered.visibility != v {
			t.Errorf("%s: the club's event is gone, but the relay read it %s, not %s", when, delivered.visibility, v)
		}
	}
	check("after the race")
	mustDo(t, relayRound())
	check("after one more round")
	if b, err := s.OutboxBacklog(ctx, community.ConsumerSearch); err != nil || b.Pending != 0 {
		t.Errorf("backlog after a quiet round = %+v, %v; want none", b, err)
	}
	noLocksLeft(t, s)
}

// TestAckBesideWriteInFlight holds one transaction open, a write of a post or an
// acknowledgement of its event, while the other runs: the acknowledgement must not delete
// the event that the write renews, and the write must not fail on the event that the
// acknowledgement deletes, but queue a new one.
func TestAckBesideWriteInFlight(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	_, p := addAuthoredPost(t, s)
	fan := addMember(t, s, "wang_fang")
	postEvent := func() (community.OutboxEvent, bool) {
		t.Helper()
		evs, err := s.PendingEvents(ctx, community.ConsumerSearch, 10)
		mustDo(t, err)
		for _, e := range evs {
			if e.Kind == community.EventPost && e.EntityID == p.ID {
				return e, true
			}
		}
		return community.OutboxEvent{}, false
	}
	// inFlight runs a statement in a transaction left open until the returned func commits it.
	inFlight := func(cypher string, params map[string]any) func() {
		t.Helper()
		session := s.session(ctx)
		tx, err := session.BeginTransaction(ctx)
		mustDo(t, err)
		res, err := tx.Run(ctx, cypher, params)
		mustDo(t, err)
		_, err = res.Consume(ctx)
		mustDo(t, err)
		return func() {
			mustDo(t, tx.Commit(ctx))
			mustDo(t, session.Close(ctx))
		}
	}
	// settle waits until a call started in another goroutine is blocked on the lock the
	// open transaction holds, so that the race under test really happens.
	settle := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			blocked, err := neo4j.ExecuteQuery(ctx, s.driver, cypherBlockedTransactions, nil, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(s.database))
			mustDo(t, err)
			if n, _ := blocked.Records[0].Get("blocked"); n.(int64) > 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the concurrent call never waited for the lock")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	t.Run("write in flight", func(t *testing.T) {
		read, ok := postEvent()
		if !ok {
			t.Fatal("the new post has no event")
		}
		commit := inFlight(cypherReact, s.stateParams(map[string]any{
			"memberId": fan, "targetId": p.ID, "kind": string(community.ReactionLike), "counter": reactionCounter(community.ReactionLike), "at": brandAt(2),
		}))
		acked := make(chan error, 1)
		go func() { acked <- s.AckEvents(ctx, community.ConsumerSearch, []community.OutboxEvent{read}) }()
		settle()
		commit()
		mustDo(t, <-acked)
		e, ok := postEvent()
		if !ok || e.Token == read.Token {
			t.Errorf("after an acknowledgement beside a write, the event is %+v (pending %v), read as %+v", e, ok, read)
		}
	})

	t.Run("acknowledgement in flight", func(t *testing.T) {
		_, err := s.EditPost(ctx, p.ID, community.PostInput{Title: "新标题", Body: "新正文"}, brandAt(3))
		mustDo(t, err)
		read, ok := postEvent()
		if !ok {
			t.Fatal("the post has no event")
		}
		before := onePost(t, s, p.ID).Version
		commit := inFlight(cypherAckEvents, map[string]any{
			"events": []map[string]any{{
				"key": eventKey(community.ConsumerSearch, read.Kind, read.EntityID), "kind": string(read.Kind), "entityId": read.EntityID, "token": read.Token,
			}},
			"postEvent": string(community.EventPost), "clubEvent": string(community.EventClub), "rewardEvent": string(community.EventReward),
		})
		wrote := make(chan error, 1)
		go func() {
			_, err := s.EditPost(ctx, p.ID, community.PostInput{Title: "又改了", Body: "又一次"}, brandAt(4))
			wrote <- err
		}()
		settle()
		commit()
		mustDo(t, <-wrote)
		e, ok := postEvent()
		if !ok || e.Token == read.Token || !e.At.After(read.At) {
			t.Errorf("after a write beside an acknowledgement, the event is %+v (pending %v), was %+v", e, ok, read)
		}
		if v := onePost(t, s, p.ID).Version; v != before+1 {
			t.Errorf("version = %d, want %d", v, before+1)
		}
	})
	noLocksLeft(t, s)
}

// TestDataOfOlderVersions checks that posts stored before versions were kept read as
// version 1 and count on from there, and that the migration that fills in display-name
// keys makes older members findable by display name.
func TestDataOfOlderVersions(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	_, p := addAuthoredPost(t, s)
	fan := addMember(t, s, "wang_fang")
	older := community.Member{ID: community.NewID(), Handle: "zhang_wei", DisplayName: "Zhang Wei 张伟", JoinedAt: brandBase}
	mustDo(t, s.CreateMember(ctx, older, community.Identity{Provider: community.ProviderWeChat, ExternalID: "o-zw", LinkedAt: brandBase}))
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		return struct{}{}, exec(ctx, tx, cypherForgetVersionsAndKeys, nil)
	})
	mustDo(t, err)

	if got := onePost(t, s, p.ID).Version; got != 1 {
		t.Errorf("a post without a version reads as version %d, want 1", got)
	}
	scanned, err := s.ScanPosts(ctx, "", 10)
	mustDo(t, err)
	if len(scanned) != 1 || scanned[0].Version != 1 {
		t.Errorf("ScanPosts of a post without a version = %+v", scanned)
	}
	mustDo(t, s.React(ctx, fan, p.ID, community.ReactionLike, brandAt(2)))
	if got := onePost(t, s, p.ID).Version; got != 2 {
		t.Errorf("a post without a version, reacted to, has version %d, want 2", got)
	}

	search := func() []string {
		found, err := s.SearchMembers(ctx, "zhang w", 10)
		mustDo(t, err)
		var ids []string
		for _, m := range found {
			ids = append(ids, m.ID)
		}
		return ids
	}
	if got := search(); len(got) != 0 {
		t.Fatalf("a member without a display-name key is found: %v", got)
	}
	mustDo(t, s.applyMigration(ctx, migrationNamed(t, "display_name_key_fill", "no migration fills in display-name keys")))
	if got := search(); len(got) != 1 || got[0] != older.ID {
		t.Errorf("after the migration, the search finds %v, want [%s]", got, older.ID)
	}
}

// TestOutboxOfOlderVersions turns the outbox back into what it was before it had
// consumers, and applies the migration that moves it: the pending events become the search
// index's, with their tokens and times, and later writes renew them in place.
func TestOutboxOfOlderVersions(t *testing.T) {
	cfg := testConfig(t)
	cfg.Subscriptions = community.Subscriptions{
		{Consumer: community.ConsumerSearch, Kinds: []community.EventKind{community.EventPost, community.EventClub}},
		{Consumer: "rewards", Kinds: []community.EventKind{community.EventPost}},
	}
	s := openEmpty(t, cfg)
	ctx := context.Background()
	author := addMember(t, s, "li_hua")
	club := addClub(t, s, "es8-owners", "", author)
	p1 := addPost(t, s, club.ID, author, brandAt(1))
	addPost(t, s, club.ID, author, brandAt(2))
	private := community.VisibilityPrivate
	_, err := s.UpdateClub(ctx, club.ID, community.UpdateClubInput{Visibility: &private})
	mustDo(t, err)
	before, err := s.PendingEvents(ctx, community.ConsumerSearch, 100)
	mustDo(t, err)
	if len(before) != 3 {
		t.Fatalf("%d pending events of the search index, want 3", len(before))
	}
	_, err = write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		return struct{}{}, exec(ctx, tx, cypherForgetConsumers, map[string]any{"search": string(community.ConsumerSearch)})
	})
	mustDo(t, err)
	if evs, err := s.PendingEvents(ctx, community.ConsumerSearch, 100); err != nil || len(evs) != 0 {
		t.Fatalf("before the migration the search index reads %d events, %v; want none", len(evs), err)
	}

	mustDo(t, s.applyMigration(ctx, migrationNamed(t, "outbox_event_consumer_fill", "no migration gives the outbox's events their consumer")))
	after, err := s.PendingEvents(ctx, community.ConsumerSearch, 100)
	mustDo(t, err)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Fatalf("the search index's events after the migration (-before +after):\n%s", diff)
	}
	if evs, err := s.PendingEvents(ctx, "rewards", 100); err != nil || len(evs) != 0 {
		t.Errorf("rewards reads %d events of the old outbox, %v; want none", len(evs), err)
	}
	clubs, err := s.PendingClubs(ctx)
	mustDo(t, err)
	if len(clubs) != 1 || clubs[0].ID != club.ID {
		t.Errorf("pending clubs after the migration = %+v, want the club", clubs)
	}

	// A write renews the moved event in place, and queues a new one for rewards.
	_, err = s.EditPost(ctx, p1.ID, community.PostInput{Title: "新标题", Body: "新正文"}, brandAt(3))
	mustDo(t, err)
	renewed, err := s.PendingEvents(ctx, community.ConsumerSearch, 100)
	mustDo(t, err)
	if len(renewed) != 3 || renewed[0].EntityID != p1.ID || renewed[0].Token == before[0].Token || !renewed[0].At.Equal(before[0].At) {
		t.Errorf("after a write: %+v, want %s's event renewed in place of %+v", renewed, p1.ID, before[0])
	}
	mustDo(t, s.AckEvents(ctx, community.ConsumerSearch, before))
	left, err := s.PendingEvents(ctx, community.ConsumerSearch, 100)
	mustDo(t, err)
	if len(left) != 1 || left[0].EntityID != p1.ID {
		t.Errorf("after acknowledging the events read before the write: %+v, want %s's alone", left, p1.ID)
	}
	if b, err := s.OutboxBacklog(ctx, "rewards"); err != nil || b.Pending != 1 {
		t.Errorf("rewards' backlog = %+v, %v; want the edited post", b, err)
	}
}

// cypherForgetConsumers makes the outbox look as it did before it had consumers: the
// search index's events keyed by kind and entity, with no consumer, and no other's.
const cypherForgetConsumers = `
MATCH (e:OutboxEvent)
WITH e, e.consumer = $search AS kept
FOREACH (_ IN CASE WHEN kept THEN [1] ELSE [] END |
  SET e.key = substring(e.key, size($search) + 1) REMOVE e.consumer)
FOREACH (_ IN CASE WHEN kept THEN [] ELSE [1] END | DELETE e)`

// cypherForgetVersionsAndKeys makes the graph look as it did before versions and
// display-name keys were kept.
const cypherForgetVersionsAndKeys = `
MATCH (n) WHERE n:Post OR n:Member
REMOVE n.version, n.displayNameKey`

// TestIndexOrder profiles the reads that page through an index, on more rows than they
// return: each must read its index in order and stop after the page (and the row that
// tells where the page ends), never sort or scan a label.
func TestIndexOrder(t *testing.T) {
	cfg := testConfig(t)
	// Another consumer's events share the index: reads of the search consumer's queue must
	// not read them.
	cfg.Subscriptions = community.Subscriptions{
		{Consumer: community.ConsumerSearch, Kinds: []community.EventKind{community.EventPost, community.EventClub}},
		{Consumer: "rewards", Kinds: []community.EventKind{community.EventPost}},
	}
	s := openEmpty(t, cfg)
	ctx := context.Background()
	author := addMember(t, s, "li_hua")
	club := addClub(t, s, "es8-owners", "", author)
	posts := make([]community.Post, 300)
	members := make([]community.ImportedMember, 300)
	for i := range posts {
		posts[i] = community.Post{ID: community.NewID(), ClubID: club.ID, AuthorID: author, Title: "标题", Body: "正文", CreatedAt: brandAt(i)}
		m := community.Member{ID: community.NewID(), Handle: fmt.Sprintf("user_%03d", i), DisplayName: fmt.Sprintf("Li %03d", i), JoinedAt: brandBase}
		members[i] = community.ImportedMember{Member: m, Identities: []community.Identity{{Provider: community.ProviderWeChat, ExternalID: "o-" + m.Handle, LinkedAt: brandBase}}}
	}
	mustDo(t, s.ImportPosts(ctx, posts)) // 300 pending events for each consumer, all at one time
	mustDo(t, s.ImportMembers(ctx, members))
	const limit = 10

	for _, tc := range []struct {
		name   string
		cypher string
		params map[string]any
		// index is the operator that must read at most limit+1 rows.
		index string
		// allowed are the operators that sort, and may: the search sorts the two pages of
		// its parts, and a part by display name sorts the members that share the last
		// display name of its page by id.
		allowed []string
	}{
		{"PendingEvents", cypherPendingEvents, map[string]any{"consumer": string(community.ConsumerSearch), "limit": limit}, "NodeIndexSeek", nil},
		{"ScanPosts", cypherScanPosts, map[string]any{"afterId": posts[5].ID, "limit": limit}, "NodeUniqueIndexSeekByRange", nil},
		{"SearchMembers/handle", cypherSearchMembers, map[string]any{"prefix": "user_", "handlePrefix": "user_", "limit": limit}, "NodeUniqueIndexSeekByRange", []string{"PartialTop", "Top"}},
		{"SearchMembers/display name", cypherSearchMembers, map[string]any{"prefix": "LI ", "handlePrefix": "li ", "limit": limit}, "NodeIndexSeekByRange", []string{"PartialTop", "Top"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops := profile(t, s, tc.cypher, tc.params)
			seen := false
			for _, op := range ops {
				switch {
				case op.name == tc.index:
					seen = true
					if op.rows > limit+1 {
						t.Errorf("%s read %d rows for a page of %d", op.name, op.rows, limit)
					}
				case op.name == "NodeByLabelScan" || op.name == "AllNodesScan":
					t.Errorf("the statement scans: %s", op.name)
				case (strings.Contains(op.name, "Sort") || strings.HasSuffix(op.name, "Top")) && !containsName(tc.allowed, op.name):
					t.Errorf("the statement sorts: %s", op.name)
				}
			}
			if !seen {
				t.Errorf("no %s among %v", tc.index, ops)
			}
		})
	}

	t.Run("OutboxBacklog", func(t *testing.T) {
		// The count reads the consumer's entries of the index (a consumer's count is not in
		// the count store), and none of the other consumer's, nor any event.
		hits := int64(0)
		for _, op := range profile(t, s, cypherOutboxBacklog, map[string]any{"consumer": string(community.ConsumerSearch)}) {
			hits += op.dbHits
			if op.name == "NodeByLabelScan" || op.name == "AllNodesScan" || strings.Contains(op.name, "Sort") {
				t.Errorf("the backlog scans or sorts: %s", op.name)
			}
		}
		if hits > int64(len(posts))+20 {
			t.Errorf("the backlog of %d events (and %d of another consumer) costs %d db hits", len(posts), len(posts), hits)
		}
		b, err := s.OutboxBacklog(ctx, community.ConsumerSearch)
		mustDo(t, err)
		if b.Pending != len(posts) || b.Oldest.IsZero() || time.Since(b.Oldest) > time.Hour {
			t.Errorf("backlog = %+v, want %d pending and the time of the import", b, len(posts))
		}
	})
}

func containsName(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// operator is one operator of a profiled plan.
type operator struct {
	name    string
	rows    int64
	dbHits  int64
	details string
}

func (o operator) String() string { return o.name }

// profile runs a read statement with PROFILE and lists its operators, without the
// runtime's suffix (NodeIndexScan, not NodeIndexScan@neo4j).
func profile(t testing.TB, s *Store, cypher string, params map[string]any) []operator {
	t.Helper()
	ctx := context.Background()
	plan, err := read(ctx, s, func(tx neo4j.ManagedTransaction) (neo4j.ProfiledPlan, error) {
		res, err := tx.Run(ctx, "PROFILE "+cypher, params)
		if err != nil {
			return nil, err
		}
		sum, err := res.Consume(ctx)
		if err != nil {
			return nil, err
		}
		return sum.Profile(), nil
	})
	mustDo(t, err)
	var out []operator
	var walk func(p neo4j.ProfiledPlan)
	walk = func(p neo4j.ProfiledPlan) {
		name, _, _ := strings.Cut(p.Operator(), "@")
		details, _ := p.Arguments()["Details"].(string)
		out = append(out, operator{name: name, rows: p.Records(), dbHits: p.DbHits(), details: details})
		for _, c := range p.Children() {
			walk(c)
		}
	}
	walk(plan)
	return out
}

// cypherBlockedTransactions counts the transactions waiting for a lock.
const cypherBlockedTransactions = `
SHOW TRANSACTIONS YIELD status
WHERE status STARTS WITH 'Blocked'
RETURN count(*) AS blocked`

// migrationNamed returns the migration whose id holds part; missing says what the test
// needs of it, when there is none.
func migrationNamed(t *testing.T, part, missing string) migration {
	t.Helper()
	all, err := migrations()
	mustDo(t, err)
	for _, m := range all {
		if strings.Contains(m.id, part) {
			return m
		}
	}
	t.Fatal(missing)
	return migration{}
}
