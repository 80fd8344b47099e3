package embedded

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

// TestOutboxOfSchema2 opens a file whose outbox was written before it had consumers: its
// pending events become the search index's, in their order and with their tokens, and
// later writes renew them in place; another consumer starts with an empty queue.
func TestOutboxOfSchema2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "graph.db")
	subs := community.Subscriptions{
		{Consumer: community.ConsumerSearch, Kinds: []community.EventKind{community.EventPost, community.EventClub}},
		{Consumer: "rewards", Kinds: []community.EventKind{community.EventPost}},
	}
	open := func() *Store {
		t.Helper()
		s, err := Open(Config{Path: path, Subscriptions: subs, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	// A club and three posts, stored by this version, with their events dropped.
	s := open()
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	m := community.Member{ID: community.NewID(), Handle: "li_hua", DisplayName: "李华", JoinedAt: at}
	must(t, s.CreateMember(ctx, m, community.Identity{Provider: community.ProviderWeChat, ExternalID: "o-lihua", LinkedAt: at}))
	club := community.Club{ID: community.NewID(), Slug: "ev-talk", Name: "EV Talk", Kind: community.KindForum,
		Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen, CreatedAt: at}
	must(t, s.CreateClub(ctx, club, nil))
	var posts []string
	for i := range 3 {
		p := community.Post{ID: community.NewID(), ClubID: club.ID, AuthorID: m.ID, Title: fmt.Sprintf("标题 %d", i),
			Body: "正文", CreatedAt: at, Status: community.PostPublished}
		must(t, errOf(s.CreatePost(ctx, p)))
		posts = append(posts, p.ID)
	}
	must(t, s.Close())

	// The outbox as schema 2 kept it: events by position, keys by kind and entity, the
	// sequence at the last token given, for the second post, the club, then the first.
	type old struct {
		kind community.EventKind
		id   string
	}
	written := []old{{community.EventPost, posts[1]}, {community.EventClub, club.ID}, {community.EventPost, posts[0]}}
	var want []community.OutboxEvent
	db, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketOutboxQueue, bucketOutboxPending} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		q, err := tx.CreateBucket(bucketOutboxV2)
		if err != nil {
			return err
		}
		keys, err := tx.CreateBucket(bucketOutboxKeysV2)
		if err != nil {
			return err
		}
		for i, e := range written {
			pos := uint64(10 + 5*i)
			d := eventDoc{Kind: e.kind, EntityID: e.id, Token: pos + 2, At: at.Add(time.Duration(i) * time.Minute)}
			if err := putJSON(tx, bucketOutboxV2, binary.BigEndian.AppendUint64(nil, pos), d); err != nil {
				return err
			}
			if err := keys.Put([]byte(string(e.kind)+":"+e.id), binary.BigEndian.AppendUint64(nil, pos)); err != nil {
				return err
			}
			want = append(want, d.event())
		}
		if err := q.SetSequence(30); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put([]byte("schema"), binary.BigEndian.AppendUint64(nil, 2))
	})
	must(t, err)
	must(t, db.Close())

	s = open()
	defer s.Close()
	pending := func(c community.Consumer) []community.OutboxEvent {
		t.Helper()
		evs, err := s.PendingEvents(ctx, c, 100)
		must(t, err)
		return evs
	}
	if diff := cmp.Diff(want, pending(community.ConsumerSearch)); diff != "" {
		t.Fatalf("the search index's events after the move (-want +got):\n%s", diff)
	}
	if got := pending("rewards"); len(got) != 0 {
		t.Fatalf("rewards has %d events of the old outbox, want none", len(got))
	}
	b, err := s.OutboxBacklog(ctx, community.ConsumerSearch)
	must(t, err)
	if diff := cmp.Diff(community.Backlog{Pending: 3, Oldest: want[0].At}, b); diff != "" {
		t.Errorf("the search index's backlog (-want +got):\n%s", diff)
	}
	clubs, err := s.PendingClubs(ctx)
	must(t, err)
	if len(clubs) != 1 || clubs[0].ID != club.ID {
		t.Errorf("pending clubs = %+v, want the club", clubs)
	}
	must(t, s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketOutboxV2) != nil || tx.Bucket(bucketOutboxKeysV2) != nil {
			t.Error("the old outbox buckets are still there")
		}
		if v := binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get([]byte("schema"))); v != schemaVersion {
			t.Errorf("schema = %d, want %d", v, schemaVersion)
		}
		return nil
	}))

	// A write renews the moved event in place, with a token after every old one.
	must(t, s.React(ctx, m.ID, posts[1], community.ReactionLike, at))
	got := pending(community.ConsumerSearch)
	if len(got) != 3 || got[0].EntityID != posts[1] || !got[0].At.Equal(want[0].At) {
		t.Fatalf("the search index's events after a write = %+v, want the first renewed in place", got)
	}
	if tok, err := strconv.ParseUint(got[0].Token, 10, 64); err != nil || tok <= 30 {
		t.Errorf("the renewed token is %q, want one after the old sequence's 30", got[0].Token)
	}
	if got := pending("rewards"); len(got) != 1 || got[0].EntityID != posts[1] {
		t.Errorf("rewards' events after the write = %+v, want the post", got)
	}
	// An old token acknowledges nothing now; the events read acknowledge what they name.
	must(t, s.AckEvents(ctx, community.ConsumerSearch, want))
	got = pending(community.ConsumerSearch)
	if len(got) != 1 || got[0].EntityID != posts[1] {
		t.Errorf("after acknowledging the old events: %+v, want the renewed one alone", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// errOf is the error of a call that also returns a value the caller does not need.
func errOf[T any](_ T, err error) error { return err }
