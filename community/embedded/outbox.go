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
	// bucketOutbox maps a queue position (big-endian uint64, from the bucket's sequence) to
	// an eventDoc. The position is that of the entity's oldest undelivered change, so
	// cursor order is delivery order.
	bucketOutbox = []byte("outbox")
	// bucketOutboxKeys maps kind, ":", entity id to the position of its pending event: an
	// entity has at most one.
	bucketOutboxKeys = []byte("outbox_keys")
	// bucketPostVersions maps a post id to its version (big-endian uint64); a post absent
	// from it has version 1.
	bucketPostVersions = []byte("post_versions")
	// bucketNames maps a member's display name folded to lower case, NUL, member id, to
	// nothing: the sorted index that display-name prefixes are looked up in.
	bucketNames = []byte("names")
)

// outboxBuckets are the buckets migrate creates for the outbox part.
var outboxBuckets = [][]byte{bucketOutbox, bucketOutboxKeys, bucketPostVersions, bucketNames}

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

func outboxKey(kind community.EventKind, id string) []byte { return []byte(string(kind) + ":" + id) }

// enqueue writes or renews the pending event of an entity, in a write transaction. It
// reports whether the event is new (the queue grew).
func enqueue(tx *bolt.Tx, kind community.EventKind, id string, now time.Time) (bool, error) {
	q, keys := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxKeys)
	token, err := q.NextSequence()
	if err != nil {
		return false, err
	}
	key := outboxKey(kind, id)
	if pos := keys.Get(key); pos != nil {
		var d eventDoc
		if err := json.Unmarshal(q.Get(pos), &d); err != nil {
			return false, fmt.Errorf("decode outbox event: %w", err)
		}
		d.Token = token
		return false, putJSON(tx, bucketOutbox, bytes.Clone(pos), d)
	}
	pos := binary.BigEndian.AppendUint64(nil, token)
	if err := keys.Put(key, pos); err != nil {
		return false, err
	}
	return true, putJSON(tx, bucketOutbox, pos, eventDoc{Kind: kind, EntityID: id, Token: token, At: now.UTC()})
}

// postTouch is what one write does to the versions of posts and the outbox: it raises
// each post's version by its count and enqueues one event for each.
type postTouch map[*postNode]int64

// write stores the new versions and the events, in the write's transaction, and returns
// how many events are new.
func (pt postTouch) write(tx *bolt.Tx, now time.Time) (int, error) {
	vb := tx.Bucket(bucketPostVersions)
	added := 0
	for n, d := range pt {
		if err := vb.Put([]byte(n.id), binary.BigEndian.AppendUint64(nil, uint64(n.version+d))); err != nil {
			return 0, err
		}
		isNew, err := enqueue(tx, community.EventPost, n.id, now)
		if err != nil {
			return 0, err
		}
		if isNew {
			added++
		}
	}
	return added, nil
}

// apply sets the new versions in memory, once the transaction has committed.
func (pt postTouch) apply() {
	for n, d := range pt {
		n.version += d
	}
}

// touchPosts raises the versions of posts and enqueues their events in tx; after a
// successful commit the caller calls the returned func, which updates memory.
func (s *Store) touchPosts(tx *bolt.Tx, pt postTouch) (func(), error) {
	added, err := pt.write(tx, time.Now())
	if err != nil {
		return nil, fmt.Errorf("embedded: outbox: %w", err)
	}
	return func() {
		pt.apply()
		s.outboxLen += added
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
	s.outboxLen = tx.Bucket(bucketOutboxKeys).Stats().KeyN
	return nil
}

// PendingEvents implements community.Outbox.
func (s *Store) PendingEvents(_ context.Context, limit int) ([]community.OutboxEvent, error) {
	var out []community.OutboxEvent
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
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
func (s *Store) AckEvents(_ context.Context, events []community.OutboxEvent) error {
	if len(events) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	removed := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		q, keys := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxKeys)
		for _, e := range events {
			key := outboxKey(e.Kind, e.EntityID)
			pos := keys.Get(key)
			if pos == nil {
				continue
			}
			var d eventDoc
			if err := json.Unmarshal(q.Get(pos), &d); err != nil {
				return fmt.Errorf("decode outbox event: %w", err)
			}
			if strconv.FormatUint(d.Token, 10) != e.Token {
				continue
			}
			pos = bytes.Clone(pos)
			if err := q.Delete(pos); err != nil {
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
	s.outboxLen -= removed
	return nil
}

// PendingClubs implements community.Outbox: a prefix seek in the outbox's keys.
func (s *Store) PendingClubs(_ context.Context) ([]community.Club, error) {
	var ids []string
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutboxKeys).Cursor()
		prefix := outboxKey(community.EventClub, "")
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			ids = append(ids, string(k[len(prefix):]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: read pending clubs: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]community.Club, 0, len(ids))
	for _, id := range ids {
		if c := s.clubs[id]; c != nil {
			out = append(out, c.Club)
		}
	}
	return out, nil
}

// OutboxBacklog implements community.Outbox.
func (s *Store) OutboxBacklog(_ context.Context) (community.Backlog, error) {
	s.mu.RLock()
	b := community.Backlog{Pending: s.outboxLen}
	s.mu.RUnlock()
	err := s.db.View(func(tx *bolt.Tx) error {
		_, v := tx.Bucket(bucketOutbox).Cursor().First()
		if v == nil {
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
	s.mu.RLock()
	defer s.mu.RUnlock()
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
	s.mu.RLock()
	defer s.mu.RUnlock()
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
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.joined[memberID]))
	for c := range s.joined[memberID] {
		out = append(out, c.ID)
	}
	return out, nil
}
