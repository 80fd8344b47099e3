package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

// bucketIdempotency maps a scope, NUL, an idempotency key to its idempotencyDoc. Neither a
// scope (a mutation and a member id or an identity, line text) nor a key holds a NUL, so
// the pair reads back one way only.
var bucketIdempotency = []byte("idempotency")

// idempotencyBuckets are the buckets migrate creates for idempotency keys.
var idempotencyBuckets = [][]byte{bucketIdempotency}

// idempotencyDoc is a reservation as stored.
type idempotencyDoc struct {
	EntityID    string    `json:"entityId"`
	Fingerprint string    `json:"fingerprint"`
	At          time.Time `json:"at"`
}

// ReserveIdempotencyKey implements community.IdempotencyStore: one bbolt transaction.
// Reservations are kept in the file only: they are read once per keyed create, never
// listed, so the graph in memory holds none, and the graph's lock is not taken (bbolt runs
// one writer at a time, which makes the reservation atomic).
func (s *Store) ReserveIdempotencyKey(_ context.Context, rec community.IdempotencyRecord, expiredBefore time.Time) (community.IdempotencyRecord, error) {
	rec.At = rec.At.UTC()
	key := []byte(rec.Scope + "\x00" + rec.Key)
	s.trips.Count()
	held := rec
	err := s.db.Update(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketIdempotency).Get(key); v != nil {
			var d idempotencyDoc
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decode idempotency key: %w", err)
			}
			if !d.At.Before(expiredBefore) {
				held.EntityID, held.Fingerprint, held.At = d.EntityID, d.Fingerprint, d.At
				return nil
			}
		}
		return putJSON(tx, bucketIdempotency, key, idempotencyDoc{EntityID: rec.EntityID, Fingerprint: rec.Fingerprint, At: rec.At})
	})
	if err != nil {
		return community.IdempotencyRecord{}, fmt.Errorf("embedded: reserve idempotency key: %w", err)
	}
	return held, nil
}

// SweepIdempotencyKeys implements community.IdempotencyStore. The old reservations are
// found in a read transaction, which holds up no writer, and deleted in a short write
// transaction that checks each again (a key reserved anew meanwhile stays).
func (s *Store) SweepIdempotencyKeys(_ context.Context, before time.Time, limit int) (int, error) {
	s.trips.Count()
	var old [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketIdempotency).Cursor()
		for k, v := c.First(); k != nil && len(old) < limit; k, v = c.Next() {
			if at, err := reservedAt(v); err != nil {
				return err
			} else if at.Before(before) {
				old = append(old, slices.Clone(k))
			}
		}
		return nil
	})
	if err != nil || len(old) == 0 {
		return 0, wrapSweep(err)
	}
	n := 0
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdempotency)
		for _, k := range old {
			v := b.Get(k)
			if v == nil {
				continue
			}
			if at, err := reservedAt(v); err != nil {
				return err
			} else if !at.Before(before) {
				continue
			}
			if err := b.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, wrapSweep(err)
	}
	return n, nil
}

// reservedAt reads when a stored reservation was made.
func reservedAt(v []byte) (time.Time, error) {
	var d idempotencyDoc
	if err := json.Unmarshal(v, &d); err != nil {
		return time.Time{}, fmt.Errorf("decode idempotency key: %w", err)
	}
	return d.At, nil
}

func wrapSweep(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("embedded: sweep idempotency keys: %w", err)
}
