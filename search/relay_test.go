package search_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"quanzi/community"
	"quanzi/community/embedded"
	"quanzi/search"
	"quanzi/search/bleveindex"
)

// outage is a real index that can be taken down: while down, every call fails as an
// unreachable engine's would, and nothing reaches the index.
type outage struct {
	search.Index
	down  atomic.Bool
	calls atomic.Int64
}

var errDown = errors.New("search engine unreachable")

func (o *outage) Apply(ctx context.Context, docs []search.Document) error {
	o.calls.Add(1)
	if o.down.Load() {
		return errDown
	}
	return o.Index.Apply(ctx, docs)
}

// world is a store with a club and members to write posts with, and an index.
type world struct {
	store   *embedded.Store
	index   *outage
	club    community.Club
	members []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	store, err := embedded.Open(embedded.Config{Path: filepath.Join(dir, "graph.db"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	idx, err := bleveindex.Open(bleveindex.Config{Dir: filepath.Join(dir, "search")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	w := &world{store: store, index: &outage{Index: idx}}
	ctx := context.Background()
	w.club = community.Club{ID: community.NewID(), Slug: "ev-talk", Name: "EV Talk", Kind: community.KindForum,
		Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen, CreatedAt: time.Now()}
	if err := store.CreateClub(ctx, w.club, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		m := community.Member{ID: community.NewID(), Handle: fmt.Sprintf("member_%d", i), DisplayName: fmt.Sprintf("会员 %d", i), JoinedAt: time.Now()}
		if err := store.CreateMember(ctx, m, community.Identity{Provider: community.ProviderWeChat, ExternalID: m.Handle, LinkedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		w.members = append(w.members, m.ID)
	}
	return w
}

// word is a word no other post contains, two edits or more from every other word (each
// letter is doubled), so that typo tolerance does not blur them: letters only, so every
// analyzer keeps it whole.
func word(i int) string {
	b := []byte("qz")
	for n := i + 1; n > 0; n /= 26 {
		b = append(b, byte('a'+n%26), byte('a'+n%26))
	}
	return string(b)
}

func (w *world) newPost(i int) community.Post {
	return community.Post{
		ID: community.NewID(), ClubID: w.club.ID, AuthorID: w.members[i%len(w.members)],
		Title: fmt.Sprintf("充电桩 %s", word(i)), Body: fmt.Sprintf("第 %d 篇：小区充电桩安装经验。", i),
		CreatedAt: time.Now(), Status: community.PostPublished,
	}
}

// converged waits until the outbox is empty.
func converged(t *testing.T, store community.Store, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		b, err := store.OutboxBacklog(context.Background(), community.ConsumerSearch)
		if err != nil {
			t.Fatal(err)
		}
		if b.Pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending after %s", b.Pending, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// found searches for one post's word as platform staff would.
func found(t *testing.T, idx search.Index, w string) []string {
	t.Helper()
	res, err := idx.Search(context.Background(), search.Query{Text: w, Scope: search.Scope{All: true}, Sort: search.SortRelevance, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids
}

// TestRelayConvergesAfterOutage writes 1,000 posts, edits and deletes while the engine
// goes down in the middle and comes back, and checks that the index ends with every live
// post found at its newest version and no deleted one.
func TestRelayConvergesAfterOutage(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	relay := search.NewRelay(w.store, w.index, &community.LocalLeases{}, search.RelayConfig{
		Batch: 50, Idle: 2 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	})
	var wg sync.WaitGroup
	wg.Go(func() { relay.Run(ctx) })

	rng := rand.New(rand.NewPCG(4, 2))
	var live []community.Post
	deleted := map[string]string{} // id → word
	words := map[string]string{}   // id → word
	const writes = 1000
	for i := range writes {
		switch {
		case i == writes*3/10:
			w.index.down.Store(true)
		case i == writes*7/10:
			w.index.down.Store(false)
		}
		switch r := rng.IntN(10); {
		case r < 6 || len(live) < 10:
			p := w.newPost(i)
			if _, err := w.store.CreatePost(ctx, p); err != nil {
				t.Fatalf("write %d while the engine is %v: %v", i, map[bool]string{true: "down", false: "up"}[w.index.down.Load()], err)
			}
			live = append(live, p)
			words[p.ID] = word(i)
		case r < 8:
			p := live[rng.IntN(len(live))]
			// The edit gives the post a new word; the old one must stop finding it.
			deleted["old-"+p.ID] = words[p.ID]
			words[p.ID] = word(writes + i)
			if _, err := w.store.EditPost(ctx, p.ID, community.PostInput{Title: "改 " + words[p.ID], Body: p.Body}, time.Now()); err != nil {
				t.Fatal(err)
			}
		default:
			k := rng.IntN(len(live))
			p := live[k]
			live = append(live[:k], live[k+1:]...)
			if _, err := w.store.DeletePost(ctx, p.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			deleted[p.ID] = words[p.ID]
		}
	}
	converged(t, w.store, 60*time.Second)
	cancel()
	wg.Wait()

	if s := relay.Stats(); s.Failures == 0 {
		t.Fatalf("the relay never saw the engine down: %+v", s)
	}
	for _, p := range live {
		if got := found(t, w.index, words[p.ID]); len(got) != 1 || got[0] != p.ID {
			t.Errorf("live post %s (%s) found as %v", p.ID, words[p.ID], got)
		}
	}
	for _, wd := range deleted {
		if got := found(t, w.index, wd); len(got) != 0 {
			t.Errorf("deleted or replaced word %s still finds %v", wd, got)
		}
	}
	// Every post is indexed at the version the store has.
	var ids []string
	for id := range words {
		ids = append(ids, id)
	}
	stored, err := w.store.PostsByID(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	versions, err := w.index.Versions(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for id, p := range stored {
		if versions[id] != p.Version {
			t.Errorf("post %s: index has version %d, store %d", id, versions[id], p.Version)
		}
	}
	t.Logf("%d live posts, %d deleted or replaced words; relay: %+v", len(live), len(deleted), relay.Stats())
}

// TestRelayLease runs two relays on one outbox: only the lease holder delivers, and the
// other takes over when the holder stops.
func TestRelayLease(t *testing.T) {
	w := newWorld(t)
	leases := &community.LocalLeases{}
	cfg := search.RelayConfig{Idle: 2 * time.Millisecond, LeaseTTL: 300 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}
	cfgA, cfgB := cfg, cfg
	cfgA.Holder, cfgB.Holder = "instance-a", "instance-b"
	a := search.NewRelay(w.store, w.index, leases, cfgA)
	b := search.NewRelay(w.store, w.index, leases, cfgB)
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	var runA, runB sync.WaitGroup
	runA.Go(func() { a.Run(ctxA) })
	// a takes the lease before b starts.
	deadline := time.Now().Add(5 * time.Second)
	for h, _ := leases.Holder(context.Background(), search.RelayLease); h != "instance-a"; h, _ = leases.Holder(context.Background(), search.RelayLease) {
		if time.Now().After(deadline) {
			t.Fatal("instance a never took the lease")
		}
		time.Sleep(time.Millisecond)
	}
	runB.Go(func() { b.Run(ctxB) })
	// delivered waits until the two relays together have counted want deliveries: the
	// count follows the acknowledgement that empties the outbox.
	delivered := func(want int64) {
		t.Helper()
		converged(t, w.store, 10*time.Second)
		deadline := time.Now().Add(5 * time.Second)
		for a.Stats().Delivered+b.Stats().Delivered < want {
			if time.Now().After(deadline) {
				t.Fatalf("delivered: a %d, b %d; want %d in all", a.Stats().Delivered, b.Stats().Delivered, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for i := range 20 {
		if _, err := w.store.CreatePost(context.Background(), w.newPost(i)); err != nil {
			t.Fatal(err)
		}
	}
	delivered(20)
	if a.Stats().Delivered != 20 || b.Stats().Delivered != 0 {
		t.Fatalf("delivered: a %d, b %d; want all by a", a.Stats().Delivered, b.Stats().Delivered)
	}
	// a stops (its lease released) and has stopped; b takes over.
	stopA()
	runA.Wait()
	for i := 20; i < 30; i++ {
		if _, err := w.store.CreatePost(context.Background(), w.newPost(i)); err != nil {
			t.Fatal(err)
		}
	}
	delivered(30)
	if a.Stats().Delivered != 20 || b.Stats().Delivered != 10 {
		t.Errorf("delivered: a %d, b %d after a stopped; want 20 and 10", a.Stats().Delivered, b.Stats().Delivered)
	}
	stopB()
	runB.Wait()
}

// TestRebuildWhileWriting rebuilds the index while posts are written and the relay runs:
// the new index is switched in with every post, and writes made during the rebuild reach
// it afterwards.
func TestRebuildWhileWriting(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for i := range 300 {
		if _, err := w.store.CreatePost(ctx, w.newPost(i)); err != nil {
			t.Fatal(err)
		}
	}
	leases := &community.LocalLeases{}
	relayCtx, stop := context.WithCancel(ctx)
	relay := search.NewRelay(w.store, w.index, leases, search.RelayConfig{Idle: 2 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	var wg sync.WaitGroup
	wg.Go(func() { relay.Run(relayCtx) })
	converged(t, w.store, 10*time.Second)

	var writing sync.WaitGroup
	writing.Go(func() {
		for i := 300; i < 400; i++ {
			p := w.newPost(i)
			if _, err := w.store.CreatePost(ctx, p); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(500 * time.Microsecond)
		}
	})
	var progress []int
	n, err := search.Rebuild(ctx, w.store, w.index, leases, search.RebuildConfig{Batch: 64, Progress: func(done int) { progress = append(progress, done) }})
	if err != nil {
		t.Fatal(err)
	}
	writing.Wait()
	if n < 300 || len(progress) == 0 || progress[len(progress)-1] != n {
		t.Errorf("rebuild indexed %d posts, progress %v", n, progress)
	}
	converged(t, w.store, 10*time.Second)
	stop()
	wg.Wait()
	for i := range 400 {
		if got := found(t, w.index, word(i)); len(got) != 1 {
			t.Errorf("post %d (%s) found %d times after the rebuild", i, word(i), len(got))
		}
	}
}

// batched is a real index that asks for batches of its own size and records the size of
// each write.
type batched struct {
	search.Index
	size  int
	sizes []int
}

func (b *batched) WriteBatch() int { return b.size }

func (b *batched) Apply(ctx context.Context, docs []search.Document) error {
	b.sizes = append(b.sizes, len(docs))
	return b.Index.Apply(ctx, docs)
}

func (b *batched) Rebuild(ctx context.Context) (search.Build, error) {
	build, err := b.Index.Rebuild(ctx)
	return batchedBuild{Build: build, of: b}, err
}

// batchedBuild records the size of each write to a rebuild's new index.
type batchedBuild struct {
	search.Build
	of *batched
}

func (b batchedBuild) Apply(ctx context.Context, docs []search.Document) error {
	b.of.sizes = append(b.of.sizes, len(docs))
	return b.Build.Apply(ctx, docs)
}

// TestRelayTakesTheIndexBatch checks that the relay and a rebuild write in the batches an
// index asks for (Meilisearch's are larger than the default), and that a batch set in the
// relay's configuration still wins.
func TestRelayTakesTheIndexBatch(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for i := range 7 {
		if _, err := w.store.CreatePost(ctx, w.newPost(i)); err != nil {
			t.Fatal(err)
		}
	}
	idx := &batched{Index: w.index, size: 3}
	relay := search.NewRelay(w.store, idx, &community.LocalLeases{}, search.RelayConfig{Logger: slog.New(slog.DiscardHandler)})
	for {
		n, err := relay.DeliverOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if want := []int{3, 3, 1}; fmt.Sprint(idx.sizes) != fmt.Sprint(want) {
		t.Errorf("relay wrote batches of %v, want %v", idx.sizes, want)
	}
	if _, err := w.store.CreatePost(ctx, w.newPost(7)); err != nil {
		t.Fatal(err)
	}
	idx.sizes = nil
	if _, err := search.Rebuild(ctx, w.store, idx, &community.LocalLeases{}, search.RebuildConfig{}); err != nil {
		t.Fatal(err)
	}
	if want := []int{3, 3, 2}; fmt.Sprint(idx.sizes) != fmt.Sprint(want) {
		t.Errorf("rebuild wrote batches of %v, want %v", idx.sizes, want)
	}
	if got := found(t, idx, word(7)); len(got) != 1 {
		t.Errorf("after the rebuild, %s found %v", word(7), got)
	}
	for i := range 3 {
		if _, err := w.store.CreatePost(ctx, w.newPost(10+i)); err != nil {
			t.Fatal(err)
		}
	}
	idx.sizes = nil
	configured := search.NewRelay(w.store, idx, &community.LocalLeases{}, search.RelayConfig{Batch: 2, Logger: slog.New(slog.DiscardHandler)})
	if n, err := configured.DeliverOnce(ctx); err != nil || n != 2 {
		t.Errorf("a relay configured for batches of 2 delivered %d (%v)", n, err)
	}
}
