package neo4jstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// ReserveIdempotencyKey implements community.IdempotencyStore with one MERGE on the
// unique (scope, key) of an :IdempotencyKey node.
func (s *Store) ReserveIdempotencyKey(ctx context.Context, rec community.IdempotencyRecord, expiredBefore time.Time) (community.IdempotencyRecord, error) {
	params := map[string]any{
		"scope": rec.Scope, "key": rec.Key, "entityId": rec.EntityID, "fingerprint": rec.Fingerprint,
		"at": rec.At.UTC(), "expiredBefore": expiredBefore.UTC(),
	}
	// A MERGE that loses the race to create the node normally waits and finds it; should
	// the constraint refuse it instead, the node is there, and the next attempt finds it.
	for attempt := 1; ; attempt++ {
		held, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (community.IdempotencyRecord, error) {
			recs, err := collect(ctx, tx, cypherReserveIdempotencyKey, params)
			if err != nil {
				return community.IdempotencyRecord{}, err
			}
			if len(recs) != 1 {
				return community.IdempotencyRecord{}, fmt.Errorf("%d rows", len(recs))
			}
			r := recs[0]
			return community.IdempotencyRecord{
				Scope: rec.Scope, Key: rec.Key, EntityID: str(get(r, "entityId")),
				Fingerprint: str(get(r, "fingerprint")), At: utc(get(r, "at")),
			}, nil
		})
		var dbErr *neo4j.Neo4jError
		if errors.As(err, &dbErr) && dbErr.Code == constraintFailed && attempt < 3 {
			continue
		}
		if err != nil {
			return community.IdempotencyRecord{}, fail(err, "reserve idempotency key in %q", rec.Scope)
		}
		return held, nil
	}
}

// SweepIdempotencyKeys implements community.IdempotencyStore.
func (s *Store) SweepIdempotencyKeys(ctx context.Context, before time.Time, limit int) (int, error) {
	params := map[string]any{"before": before.UTC(), "limit": int64(max(limit, 0))}
	n, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
		recs, err := collect(ctx, tx, cypherSweepIdempotencyKeys, params)
		if err != nil || len(recs) == 0 {
			return 0, err
		}
		return integer(get(recs[0], "swept")), nil
	})
	if err != nil {
		return 0, fail(err, "sweep idempotency keys before %s", before)
	}
	return n, nil
}
