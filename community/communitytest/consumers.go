package communitytest

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

// NewStoreWith returns an empty store for one subtest, whose outbox has the consumers of
// subs; it cleans up after itself with t.Cleanup.
type NewStoreWith func(t *testing.T, subs community.Subscriptions) community.Store

// rewards is the second consumer of the suite: it receives post events only.
const rewards community.Consumer = "rewards"

// twoConsumers is the suite's table: the search index, and rewards, which receives post
// events and no club events.
var twoConsumers = community.Subscriptions{
	{Consumer: community.ConsumerSearch, Kinds: []community.EventKind{community.EventPost, community.EventClub}},
	{Consumer: rewards, Kinds: []community.EventKind{community.EventPost}},
}

// RunConsumers runs the suite's part about an outbox of several consumers, and the relay
// that delivers one consumer's events, on stores made by newStore.
func RunConsumers(t *testing.T, newStore NewStoreWith) {
	store := func(t *testing.T) community.Store { return newStore(t, twoConsumers) }
	t.Run("AckApart", func(t *testing.T) { testConsumersAckApart(t, store(t)) })
	t.Run("OnePendingEach", func(t *testing.T) { testConsumersOnePendingEach(t, store(t)) })
	t.Run("AckRacesWrites", func(t *testing.T) { testConsumersAckRacesWrites(t, store(t)) })
	t.Run("Backlog", func(t *testing.T) { testConsumersBacklog(t, store(t)) })
	t.Run("Relays", func(t *testing.T) { testRelays(t, store(t)) })
	t.Run("RelayWake", func(t *testing.T) { testRelayWake(t, store(t)) })
	t.Run("RelayIdle", func(t *testing.T) { testRelayIdle(t, store(t)) })
}

// pendingOf reads every pending event of a consumer.
func pendingOf(t *testing.T, s community.Store, c community.Consumer) []community.OutboxEvent {
	t.Helper()
	evs, err := s.PendingEvents(context.Background(), c, 10_000)
	must(t, err)
	return evs
}

// checkOf fails the test unless consumer c has the pending events want (kind:entity, in
// queue order), and returns them.
func checkOf(t *testing.T, s community.Store, c community.Consumer, want ...string) []community.OutboxEvent {
	t.Helper()
	evs := pendingOf(t, s, c)
	if diff := cmp.Diff(want, eventKeys(evs), equateEmpty); diff != "" {
		t.Fatalf("pending events of %s (-want +got):\n%s", c, diff)
	}
	for _, e := range evs {
		if e.Token == "" || e.At.IsZero() {
			t.Fatalf("event %+v of %s lacks a token or a time", e, c)
		}
	}
	return evs
}

func backlogOf(t *testing.T, s community.Store, c community.Consumer) community.Backlog {
	t.Helper()
	b, err := s.OutboxBacklog(context.Background(), c)
	must(t, err)
	return b
}

// testConsumersAckApart checks that each write queues one event for each consumer of its
// kind, and that a consumer's acknowledgements leave the others' events as they were.
func testConsumersAckApart(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "mei_lin", "wang_qiang")
	club := newClub("byd-owners", "", 0)
	createClubs(t, s, club)
	p1, p2 := postTwiceAndHide(t, s, club.ID, ms[0].ID)

	search := checkOf(t, s, community.ConsumerSearch, "post:"+p1.ID, "post:"+p2.ID, "club:"+club.ID)
	rew := checkOf(t, s, rewards, "post:"+p1.ID, "post:"+p2.ID)

	// Acknowledging every event of rewards leaves the search index's as they were.
	must(t, s.AckEvents(ctx, rewards, rew))
	checkOf(t, s, rewards)
	if diff := cmp.Diff(search, pendingOf(t, s, community.ConsumerSearch)); diff != "" {
		t.Fatalf("the search index's events after rewards acknowledged (-before +after):\n%s", diff)
	}

	// Acknowledging one event of the search index leaves its others pending.
	must(t, s.AckEvents(ctx, community.ConsumerSearch, search[:1]))
	checkOf(t, s, community.ConsumerSearch, "post:"+p2.ID, "club:"+club.ID)

	// A write to p1 queues it again for both, at the back of each queue.
	must(t, s.React(ctx, ms[1].ID, p1.ID, community.ReactionLike, at(3)))
	checkOf(t, s, community.ConsumerSearch, "post:"+p2.ID, "club:"+club.ID, "post:"+p1.ID)
	checkOf(t, s, rewards, "post:"+p1.ID)

	// Acknowledging rewards' event as another consumer's, or as a consumer the store does
	// not know, changes nothing.
	rew = pendingOf(t, s, rewards)
	must(t, s.AckEvents(ctx, "webhooks", rew))
	checkOf(t, s, rewards, "post:"+p1.ID)
	checkOf(t, s, "webhooks")
}

// testConsumersOnePendingEach writes one post again and again, also from many goroutines
// at once: each consumer keeps one pending event of it, renewed by every write, which
// keeps its place in that consumer's queue until that consumer acknowledges it.
func testConsumersOnePendingEach(t *testing.T, s community.Store) {
	ctx := context.Background()
	const n = 8
	ms := createWithFans(t, s, "author", n)
	club := newClub("nio-owners", "", 0)
	createClubs(t, s, club)
	p := newPost(club.ID, ms[0].ID, 0)
	must(t, errOf(s.CreatePost(ctx, p)))
	firstSearch := checkOf(t, s, community.ConsumerSearch, "post:"+p.ID)
	firstRewards := checkOf(t, s, rewards, "post:"+p.ID)
	must(t, s.AckEvents(ctx, rewards, firstRewards))

	_, err := s.EditPost(ctx, p.ID, community.PostInput{Title: "改了标题", Body: "新的正文"}, at(1))
	must(t, err)
	for _, err := range concurrently(n, func(i int) error {
		return s.React(ctx, ms[1+i].ID, p.ID, community.ReactionLike, at(i))
	}) {
		must(t, err)
	}

	search := checkOf(t, s, community.ConsumerSearch, "post:"+p.ID)
	if search[0].Token == firstSearch[0].Token || !search[0].At.Equal(firstSearch[0].At) {
		t.Errorf("the search index's event after %d writes = %+v, want a new token and the time %v", n+1, search[0], firstSearch[0].At)
	}
	rew := checkOf(t, s, rewards, "post:"+p.ID)
	if rew[0].Token == firstRewards[0].Token || !rew[0].At.After(firstRewards[0].At) {
		t.Errorf("rewards' event after it acknowledged the first = %+v, want a new one after %v", rew[0], firstRewards[0].At)
	}
	for _, c := range []community.Consumer{community.ConsumerSearch, rewards} {
		if b := backlogOf(t, s, c); b.Pending != 1 {
			t.Errorf("backlog of %s = %+v, want 1 pending", c, b)
		}
	}
}

// testConsumersAckRacesWrites runs a relay of each consumer (read the events, read the
// post, acknowledge) while members react to the post: whenever a consumer's event is
// gone, that consumer must have read the post as it last was written.
func testConsumersAckRacesWrites(t *testing.T, s community.Store) {
	ctx := context.Background()
	const fans, rounds = 4, 10
	ms := createWithFans(t, s, "li_hua", fans)
	club := newClub("es8-owners", "", 0)
	createClubs(t, s, club)
	p := newPost(club.ID, ms[0].ID, 0)
	must(t, errOf(s.CreatePost(ctx, p)))

	consumers := []community.Consumer{community.ConsumerSearch, rewards}
	delivered := make([]int64, len(consumers)) // the version each consumer last read
	relayRound := func(i int) error {
		evs, err := s.PendingEvents(ctx, consumers[i], 100)
		if err != nil || len(evs) == 0 {
			return err
		}
		posts, err := s.PostsByID(ctx, []string{p.ID})
		if err != nil {
			return err
		}
		delivered[i] = posts[p.ID].Version
		return s.AckEvents(ctx, consumers[i], evs)
	}

	var stop atomic.Bool
	var relays, writers sync.WaitGroup
	errs := make(chan error, fans+len(consumers))
	for i := range consumers {
		relays.Go(func() {
			for !stop.Load() {
				if err := relayRound(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range fans {
		fan := ms[1+i].ID
		writers.Go(func() {
			for j := range rounds {
				if err := s.React(ctx, fan, p.ID, community.ReactionLike, at(j)); err != nil {
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
	writers.Wait()
	stop.Store(true)
	relays.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a write or a relay failed: %v", err)
	}

	final := version(t, s, p.ID)
	if want := int64(1 + 2*fans*rounds); final != want {
		t.Fatalf("version after %d writes = %d, want %d", 2*fans*rounds, final, want)
	}
	for i, c := range consumers {
		if len(pendingOf(t, s, c)) == 0 && delivered[i] != final {
			t.Errorf("%s: the event is gone, but the relay read version %d of %d", c, delivered[i], final)
		}
		must(t, relayRound(i))
		if delivered[i] != final {
			t.Errorf("%s: after one more round the relay read version %d of %d", c, delivered[i], final)
		}
		if b := backlogOf(t, s, c); b.Pending != 0 {
			t.Errorf("%s: backlog after a quiet round = %+v, want none", c, b)
		}
	}
}

// testConsumersBacklog checks that each consumer's backlog counts its own pending events
// and dates its own oldest one.
func testConsumersBacklog(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "liu_yang")
	club := newClub("ev-talk", "", 0)
	createClubs(t, s, club)
	for _, c := range []community.Consumer{community.ConsumerSearch, rewards, "webhooks"} {
		if b := backlogOf(t, s, c); b.Pending != 0 || !b.Oldest.IsZero() {
			t.Fatalf("backlog of %s before any write = %+v, want none", c, b)
		}
	}
	postTwiceAndHide(t, s, club.ID, ms[0].ID)
	search := pendingOf(t, s, community.ConsumerSearch)
	rew := pendingOf(t, s, rewards)
	if len(search) != 3 || len(rew) != 2 {
		t.Fatalf("pending: %d of the search index, %d of rewards; want 3 and 2", len(search), len(rew))
	}

	for _, step := range []struct {
		name           string
		ack            []community.OutboxEvent
		search, reward community.Backlog
	}{
		{"written", nil, community.Backlog{Pending: 3, Oldest: search[0].At}, community.Backlog{Pending: 2, Oldest: rew[0].At}},
		{"rewards acknowledged its oldest", rew[:1], community.Backlog{Pending: 3, Oldest: search[0].At}, community.Backlog{Pending: 1, Oldest: rew[1].At}},
		{"rewards acknowledged all", rew[1:], community.Backlog{Pending: 3, Oldest: search[0].At}, community.Backlog{}},
	} {
		t.Run(step.name, func(t *testing.T) {
			must(t, s.AckEvents(ctx, rewards, step.ack))
			if diff := cmp.Diff(step.search, backlogOf(t, s, community.ConsumerSearch)); diff != "" {
				t.Errorf("backlog of the search index (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(step.reward, backlogOf(t, s, rewards)); diff != "" {
				t.Errorf("backlog of rewards (-want +got):\n%s", diff)
			}
		})
	}
	if b := backlogOf(t, s, "webhooks"); b.Pending != 0 || !b.Oldest.IsZero() {
		t.Errorf("backlog of a consumer the store does not know = %+v, want none", b)
	}
}

// quiet discards the relays' logs.
var quiet = slog.New(slog.DiscardHandler)

// within is how long the relay tests wait for something that should happen soon.
const within = 15 * time.Second

// eventually waits until cond holds, and fails the test when it does not within the
// deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// recorder is a handler that records the entities it was handed, and fails while down.
type recorder struct {
	mu   sync.Mutex
	seen map[string]int // kind:entity → times handed
	down atomic.Bool
}

var errConsumerDown = errors.New("consumer unreachable")

func (r *recorder) handle(_ context.Context, events []community.OutboxEvent) error {
	if r.down.Load() {
		return errConsumerDown
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]int{}
	}
	for _, k := range eventKeys(events) {
		r.seen[k]++
	}
	return nil
}

func (r *recorder) keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k := range r.seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// running runs a relay until the test ends.
func running(t *testing.T, r *community.Relay) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// testRelays runs a relay of each consumer while rewards is down: the search index gets
// every change, rewards' events wait, and reach it once it is back.
func testRelays(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "sun_li")
	club := newClub("byd-owners", "", 0)
	createClubs(t, s, club)
	cfg := community.RelayConfig{Batch: 7, MinIdle: 2 * time.Millisecond, MaxIdle: 20 * time.Millisecond,
		MinBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Logger: quiet}
	var searchGot, rewardsGot recorder
	rewardsGot.down.Store(true)
	searchRelay := community.NewRelay(s, community.ConsumerSearch, searchGot.handle, cfg)
	rewardsRelay := community.NewRelay(s, rewards, rewardsGot.handle, cfg)
	running(t, searchRelay)
	running(t, rewardsRelay)

	var posts []string
	for i := range 20 {
		p := newPost(club.ID, ms[0].ID, i)
		must(t, errOf(s.CreatePost(ctx, p)))
		posts = append(posts, "post:"+p.ID)
	}
	private := community.VisibilityPrivate
	_, err := s.UpdateClub(ctx, club.ID, community.UpdateClubInput{Visibility: &private})
	must(t, err)
	slices.Sort(posts)
	wantSearch := slices.Sorted(slices.Values(append(slices.Clone(posts), "club:"+club.ID)))

	eventually(t, "the search index gets every change", func() bool { return backlogOf(t, s, community.ConsumerSearch).Pending == 0 })
	if diff := cmp.Diff(wantSearch, searchGot.keys()); diff != "" {
		t.Errorf("handed to the search index (-want +got):\n%s", diff)
	}
	eventually(t, "rewards' relay fails and retries", func() bool { return rewardsRelay.Stats().Failures >= 2 })
	if b := backlogOf(t, s, rewards); b.Pending != len(posts) {
		t.Fatalf("rewards' backlog while it is down = %+v, want %d", b, len(posts))
	}
	if st := rewardsRelay.Stats(); st.Delivered != 0 || st.LastError == "" {
		t.Errorf("rewards' relay while it is down: %+v", st)
	}

	rewardsGot.down.Store(false)
	eventually(t, "rewards gets every post once it is back", func() bool { return backlogOf(t, s, rewards).Pending == 0 })
	if diff := cmp.Diff(posts, rewardsGot.keys()); diff != "" {
		t.Errorf("handed to rewards (-want +got):\n%s", diff)
	}
	eventually(t, "rewards' relay counts its deliveries", func() bool { return rewardsRelay.Stats().Delivered == int64(len(posts)) })
	if st := rewardsRelay.Stats(); st.LastError != "" {
		t.Errorf("rewards' relay after it is back: %+v", st)
	}
	if st := searchRelay.Stats(); st.Delivered != int64(len(wantSearch)) || st.Failures != 0 {
		t.Errorf("the search index's relay: %+v, want %d delivered and no failure", st, len(wantSearch))
	}
}

// countingOutbox counts the reads of a store's outbox.
type countingOutbox struct {
	community.Outbox
	reads atomic.Int64
}

func (c *countingOutbox) PendingEvents(ctx context.Context, consumer community.Consumer, limit int) ([]community.OutboxEvent, error) {
	c.reads.Add(1)
	return c.Outbox.PendingEvents(ctx, consumer, limit)
}

// testRelayWake runs a relay that, idle, waits an hour between looks at its queue: a
// write is delivered once the relay is woken.
func testRelayWake(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "he_jun")
	club := newClub("cuihu-garden", "", 0)
	createClubs(t, s, club)
	outbox := &countingOutbox{Outbox: s}
	var got recorder
	r := community.NewRelay(outbox, rewards, got.handle, community.RelayConfig{MinIdle: time.Hour, MaxIdle: time.Hour, Logger: quiet})
	running(t, r)
	eventually(t, "the relay looks at its queue", func() bool { return outbox.reads.Load() == 1 })

	p := newPost(club.ID, ms[0].ID, 1)
	must(t, errOf(s.CreatePost(ctx, p)))
	time.Sleep(20 * time.Millisecond)
	if n := outbox.reads.Load(); n != 1 {
		t.Fatalf("the idle relay read its queue %d times without a wake, want once", n)
	}
	r.Wake()
	eventually(t, "the woken relay delivers the post", func() bool { return len(got.keys()) == 1 })
	if diff := cmp.Diff([]string{"post:" + p.ID}, got.keys()); diff != "" {
		t.Errorf("handed to rewards (-want +got):\n%s", diff)
	}
}

// testRelayIdle runs a relay on an empty queue: its waits grow from MinIdle to MaxIdle,
// so that it reads the queue far less often than once every MinIdle.
func testRelayIdle(t *testing.T, s community.Store) {
	const minIdle, maxIdle = 2 * time.Millisecond, 50 * time.Millisecond
	outbox := &countingOutbox{Outbox: s}
	var got recorder
	start := time.Now()
	running(t, community.NewRelay(outbox, rewards, got.handle, community.RelayConfig{MinIdle: minIdle, MaxIdle: maxIdle, Logger: quiet}))
	time.Sleep(20 * maxIdle)
	reads, elapsed := outbox.reads.Load(), time.Since(start)
	// The waits are 2, 4, …, 32 ms (5 of them), then 50 ms each: the first read and those
	// after the short waits, then one per 50 ms at most.
	if most := 1 + 5 + int64(elapsed/maxIdle); reads > most {
		t.Errorf("an idle relay read its queue %d times in %s, want %d at most", reads, elapsed, most)
	}
	eventually(t, "the idle relay looks again", func() bool { return outbox.reads.Load() >= 2 })
}

// postTwiceAndHide writes two posts by author in the club, then makes the club private:
// two post events and a club event.
func postTwiceAndHide(t *testing.T, s community.Store, clubID, author string) (community.Post, community.Post) {
	t.Helper()
	ctx := context.Background()
	p1, p2 := newPost(clubID, author, 1), newPost(clubID, author, 2)
	must(t, errOf(s.CreatePost(ctx, p1)))
	must(t, errOf(s.CreatePost(ctx, p2)))
	private := community.VisibilityPrivate
	_, err := s.UpdateClub(ctx, clubID, community.UpdateClubInput{Visibility: &private})
	must(t, err)
	return p1, p2
}
