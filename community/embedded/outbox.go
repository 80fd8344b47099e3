package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

// Bucket names of the outbox, post versions and member names.
var (
	// bucketOutboxQueue maps a consumer, NUL, a queue position (big-endian uint64, from
	// the bucket's sequence) to an eventDoc: each consumer's queue is a range of keys. The
	// position is that of the oldest change of the entity the consumer has not
	// acknowledged, so cursor order is delivery order.
	bucketOutboxQueue = []byte("outbox_queue")
	// bucketOutboxPending maps a consumer, NUL, kind, ":", entity id to the position of
	// the consumer's pending event of the entity: there is one at most.
	bucketOutboxPending = []byte("outbox_pending")
	// bucketPostVersions maps a post id to its version (big-endian uint64); a post absent
	// from it has version 1.
	bucketPostVersions = []byte("post_versions")
	// bucketNames maps a member's display name folded to lower case, NUL, member id, to
	// nothing: the sorted index that display-name prefixes are looked up in.
	bucketNames = []byte("names")
)

// The outbox of schema 2, before it had consumers: keys were positions and kind, ":",
// entity id, and every event was the search index's. migrateOutbox moves it.
var (
	bucketOutboxV2     = []byte("outbox")
	bucketOutboxKeysV2 = []byte("outbox_keys")
)

// outboxBuckets are the buckets migrate creates for the outbox part.
var outboxBuckets = [][]byte{bucketOutboxQueue, bucketOutboxPending, bucketPostVersions, bucketNames}

// eventDoc is a pending outbox event as stored.
type eventDoc struct {
	Kind     community.EventKind
	EntityID string
	// Token is the bucket sequence number of the write that last renewed the event.
	Token uint64
	At    time.Time
}

func (d eventDoc) event() community.OutboxEvent {
	return community.OutboxEvent{Kind: d.Kind, EntityID: d.EntityID, Token: strconv.FormatUint(d.Token, 10), At: d.At}
}

// queuePrefix is the start of the keys of consumer's queue, in both outbox buckets.
func queuePrefix(consumer community.Consumer) []byte { return []byte(string(consumer) + "\x00") }

func queueKey(consumer community.Consumer, pos []byte) []byte {
	return append(queuePrefix(consumer), pos...)
}

func pendingKey(consumer community.Consumer, kind community.EventKind, id string) []byte {
	return []byte(string(consumer) + "\x00" + string(kind) + ":" + id)
}

// outboxTable is the store's table of consumers, and how many events each one has pending.
type outboxTable struct {
	consumers map[community.EventKind][]community.Consumer
	// pending counts each consumer's pending events; guarded by the store's mu.
	pending map[community.Consumer]int
}

func newOutboxTable(subs community.Subscriptions) (outboxTable, error) {
	consumers, err := subs.ByKind()
	if err != nil {
		return outboxTable{}, fmt.Errorf("embedded: %w", err)
	}
	return outboxTable{consumers: consumers, pending: map[community.Consumer]int{}}, nil
}

// outboxAdds counts the events a write added to each consumer's queue, to be counted once
// the write has committed.
type outboxAdds map[community.Consumer]int

// enqueue writes or renews the pending event of an entity for each consumer of kind, in a
// write transaction, and counts in adds the events that are new.
func (s *Store) enqueue(tx *bolt.Tx, kind community.EventKind, id string, now time.Time, adds outboxAdds) error {
	consumers := s.outbox.consumers[kind]
	if len(consumers) == 0 {
		return nil
	}
	q, keys := tx.Bucket(bucketOutboxQueue), tx.Bucket(bucketOutboxPending)
	token, err := q.NextSequence()
	if err != nil {
		return err
	}
	for _, c := range consumers {
		key := pendingKey(c, kind, id)
		if pos := keys.Get(key); pos != nil {
			qk := queueKey(c, pos)
			var d eventDoc
			if err := json.Unmarshal(q.Get(qk), &d); err != nil {
				return fmt.Errorf("decode outbox event: %w", err)
			}
			d.Token = token
			if err := putJSON(tx, bucketOutboxQueue, qk, d); err != nil {
				return err
			}
			continue
		}
		pos := binary.BigEndian.AppendUint64(nil, token)
		if err := keys.Put(key, pos); err != nil {
			return err
		}
		if err := putJSON(tx, bucketOutboxQueue, queueKey(c, pos), eventDoc{Kind: kind, EntityID: id, Token: token, At: now.UTC()}); err != nil {
			return err
		}
		adds[c]++
	}
	return nil
}

// counted adds a committed write's new events to the counts; the caller holds mu.
func (s *Store) counted(adds outboxAdds) {
	for c, n := range adds {
		s.outbox.pending[c] += n
	}
}

// migrateOutbox moves the events of a schema 2 outbox into the search consumer's queue,
// in their order, and drops the old buckets. The queue's sequence goes on from the old
// one's, so that no token is given twice.
func migrateOutbox(tx *bolt.Tx) error {
	old := tx.Bucket(bucketOutboxV2)
	if old == nil {
		return nil
	}
	q, keys := tx.Bucket(bucketOutboxQueue), tx.Bucket(bucketOutboxPending)
	if err := q.SetSequence(max(q.Sequence(), old.Sequence())); err != nil {
		return err
	}
	c := community.ConsumerSearch
	err := old.ForEach(func(pos, v []byte) error {
		var d eventDoc
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("decode outbox event: %w", err)
		}
		if err := q.Put(queueKey(c, pos), bytes.Clone(v)); err != nil {
			return err
		}
		return keys.Put(pendingKey(c, d.Kind, d.EntityID), bytes.Clone(pos))
	})
	if err != nil {
		return fmt.Errorf("embedded: move the outbox to its consumers: %w", err)
	}
	for _, b := range [][]byte{bucketOutboxV2, bucketOutboxKeysV2} {
		if tx.Bucket(b) != nil {
			if err := tx.DeleteBucket(b); err != nil {
				return fmt.Errorf("embedded: drop bucket %s: %w", b, err)
			}
		}
	}
	return nil
}

// postTouch is what one write does to the versions of posts and the outbox: it raises
// each post's version by its count and enqueues one event for each.
type postTouch map[*postNode]int64

// apply sets the new versions in memory, once the transaction has committed.
func (pt postTouch) apply() {
	for n, d := range pt {
		n.version += d
	}
}

// updateTouching runs write in one write transaction with touchPosts of touched, and
// updates memory once it has committed.
func (s *Store) updateTouching(touched postTouch, write func(tx *bolt.Tx) error) error {
	var done func()
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := write(tx); err != nil {
			return err
		}
		var err error
		done, err = s.touchPosts(tx, touched)
		return err
	})
	if err != nil {
		return err
	}
	done()
	return nil
}

// touchPosts raises the versions of posts and enqueues their events in tx; after a
// successful commit the caller calls the returned func, which updates memory.
func (s *Store) touchPosts(tx *bolt.Tx, pt postTouch) (func(), error) {
	vb := tx.Bucket(bucketPostVersions)
	now := time.Now()
	adds := outboxAdds{}
	for n, d := range pt {
		if err := vb.Put([]byte(n.id), binary.BigEndian.AppendUint64(nil, uint64(n.version+d))); err != nil {
			return nil, fmt.Errorf("embedded: outbox: %w", err)
		}
		if err := s.enqueue(tx, community.EventPost, n.id, now, adds); err != nil {
			return nil, fmt.Errorf("embedded: outbox: %w", err)
		}
	}
	return func() {
		pt.apply()
		s.counted(adds)
	}, nil
}

// loadPostVersions reads the versions of the loaded posts, and counts the outbox.
func (s *Store) loadPostVersions(tx *bolt.Tx) error {
	for _, n := range s.posts {
		n.version = 1
	}
	err := tx.Bucket(bucketPostVersions).ForEach(func(k, v []byte) error {
		if n := s.posts[string(k)]; n != nil {
			n.version = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketOutboxPending).ForEach(func(k, _ []byte) error {
		if i := bytes.IndexByte(k, 0); i >= 0 {
			s.outbox.pending[community.Consumer(k[:i])]++
		}
		return nil
	})
}

// PendingEvents implements community.Outbox: a range of the queue's keys.
func (s *Store) PendingEvents(_ context.Context, consumer community.Consumer, limit int) ([]community.OutboxEvent, error) {
	s.trips.Count() // the queue is read from the file, under bbolt's own lock
	var out []community.OutboxEvent
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutboxQueue).Cursor()
		prefix := queuePrefix(consumer)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, v = c.Next() {
			var d eventDoc
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("embedded: decode outbox event: %w", err)
			}
			out = append(out, d.event())
		}
		return nil
	})
	return out, err
}

// AckEvents implements community.Outbox.
func (s *Store) AckEvents(_ context.Context, consumer community.Consumer, events []community.OutboxEvent) error {
	if len(events) == 0 {
		return nil
	}
	defer s.writing()()
	removed := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		q, keys := tx.Bucket(bucketOutboxQueue), tx.Bucket(bucketOutboxPending)
		for _, e := range events {
			key := pendingKey(consumer, e.Kind, e.EntityID)
			pos := keys.Get(key)
			if pos == nil {
				continue
			}
			qk := queueKey(consumer, pos)
			var d eventDoc
			if err := json.Unmarshal(q.Get(qk), &d); err != nil {
				return fmt.Errorf("decode outbox event: %w", err)
			}
			if strconv.FormatUint(d.Token, 10) != e.Token {
				continue
			}
			if err := q.Delete(qk); err != nil {
				return err
			}
			if err := keys.Delete(key); err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: acknowledge events: %w", err)
	}
	s.outbox.pending[consumer] -= removed
	return nil
}

// PendingClubs implements community.Outbox: a prefix seek in the outbox's keys.
func (s *Store) PendingClubs(_ context.Context) ([]community.Club, error) {
	var ids []string
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutboxPending).Cursor()
		prefix := pendingKey(community.ConsumerSearch, community.EventClub, "")
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			ids = append(ids, string(k[len(prefix):]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: read pending clubs: %w", err)
	}
	defer s.reading()()
	out := make([]community.Club, 0, len(ids))
	for _, id := range ids {
		if c := s.clubs[id]; c != nil {
			out = append(out, c.Club)
		}
	}
	return out, nil
}

// OutboxBacklog implements community.Outbox.
func (s *Store) OutboxBacklog(_ context.Context, consumer community.Consumer) (community.Backlog, error) {
	unlock := s.reading()
	b := community.Backlog{Pending: s.outbox.pending[consumer]}
	unlock()
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := queuePrefix(consumer)
		k, v := tx.Bucket(bucketOutboxQueue).Cursor().Seek(prefix)
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return nil
		}
		var d eventDoc
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("embedded: decode outbox event: %w", err)
		}
		b.Oldest = d.At
		return nil
	})
	return b, err
}

// nameKey is the key of a member in bucketNames.
func nameKey(m community.Member) []byte {
	return []byte(strings.ToLower(m.DisplayName) + "\x00" + m.ID)
}

// SearchMembers implements community.Store: handles come from the sorted handles bucket,
// display names from the sorted names bucket, both by a prefix seek.
func (s *Store) SearchMembers(_ context.Context, prefix string, limit int) ([]community.Member, error) {
	prefix = strings.ToLower(prefix)
	var ids []string
	seen := map[string]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHandles).Cursor()
		p := []byte(prefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p) && len(ids) < limit; k, v = c.Next() {
			ids = append(ids, string(v))
			seen[string(v)] = true
		}
		c = tx.Bucket(bucketNames).Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p) && len(ids) < limit; k, _ = c.Next() {
			id := string(k[bytes.LastIndexByte(k, 0)+1:])
			if !seen[id] {
				ids = append(ids, id)
				seen[id] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: search members: %w", err)
	}
	defer s.reading()()
	out := make([]community.Member, 0, len(ids))
	for _, id := range ids {
		if m := s.members[id]; m != nil {
			out = append(out, m.Member)
		}
	}
	return out, nil
}

// ScanPosts implements community.PostStore, in the order of the posts bucket's keys.
func (s *Store) ScanPosts(_ context.Context, afterID string, limit int) ([]community.Post, error) {
	defer s.reading()()
	var out []community.Post
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPosts).Cursor()
		k, v := c.Seek([]byte(afterID))
		if k != nil && string(k) == afterID {
			k, v = c.Next()
		}
		for ; k != nil && len(out) < limit; k, v = c.Next() {
			n := s.posts[string(k)]
			if n == nil {
				continue
			}
			var d postDoc
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decode post: %w", err)
			}
			out = append(out, d.post(n))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: scan posts: %w", err)
	}
	return out, nil
}

// JoinedClubIDs implements community.ClubStore, from the index of members' clubs.
func (s *Store) JoinedClubIDs(_ context.Context, memberID string) ([]string, error) {
	defer s.reading()()
	out := make([]string, 0, len(s.joined[memberID]))
	for c := range s.joined[memberID] {
		out = append(out, c.ID)
	}
	return out, nil
}
