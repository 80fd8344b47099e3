package neo4jstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// eventKey is the key of a consumer's pending event of an entity, as renewEvent writes it.
func eventKey(consumer community.Consumer, kind community.EventKind, entityID string) string {
	return string(consumer) + ":" + string(kind) + ":" + entityID
}

// outboxTable is the store's table of consumers, as the parameters of the statements that
// write events: the consumers of each kind.
type outboxTable map[community.EventKind][]string

func newOutboxTable(subs community.Subscriptions) (outboxTable, error) {
	consumers, err := subs.ByKind()
	if err != nil {
		return nil, fmt.Errorf("neo4jstore: %w", err)
	}
	t := outboxTable{}
	for kind, cs := range consumers {
		for _, c := range cs {
			t[kind] = append(t[kind], string(c))
		}
	}
	return t, nil
}

// eventParams adds to params the kind of the events a statement writes (renewEvent) and
// the consumers that receive them.
func (s *Store) eventParams(params map[string]any, kind community.EventKind) map[string]any {
	params["eventKind"] = string(kind)
	consumers := s.outbox[kind]
	if consumers == nil {
		consumers = []string{}
	}
	params["eventConsumers"] = consumers
	return params
}

// PendingEvents implements community.Outbox: one read of the head of the consumer's part
// of the index on the events' times.
func (s *Store) PendingEvents(ctx context.Context, consumer community.Consumer, limit int) ([]community.OutboxEvent, error) {
	params := map[string]any{"consumer": string(consumer), "limit": int64(max(limit, 0))}
	recs, err := query(ctx, s, cypherPendingEvents, params)
	if err != nil {
		return nil, fail(err, "read %d pending events of %s", limit, consumer)
	}
	out := make([]community.OutboxEvent, 0, len(recs))
	for _, r := range recs {
		out = append(out, community.OutboxEvent{
			Kind:     community.EventKind(str(get(r, "kind"))),
			EntityID: str(get(r, "entityId")),
			Token:    str(get(r, "token")),
			At:       utc(get(r, "at")),
		})
	}
	return out, nil
}

// AckEvents implements community.Outbox: the whole batch is one statement in one
// transaction. The entities are locked in the order of their ids, as the bulk writes lock
// them, so that an acknowledgement and an import seldom wait for each other in opposite
// orders.
func (s *Store) AckEvents(ctx context.Context, consumer community.Consumer, events []community.OutboxEvent) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([]map[string]any, len(events))
	for i, e := range events {
		rows[i] = map[string]any{
			"key": eventKey(consumer, e.Kind, e.EntityID), "kind": string(e.Kind), "entityId": e.EntityID, "token": e.Token,
		}
	}
	slices.SortStableFunc(rows, func(a, b map[string]any) int {
		return cmp.Compare(a["entityId"].(string), b["entityId"].(string))
	})
	params := map[string]any{
		"events": rows, "postEvent": string(community.EventPost), "clubEvent": string(community.EventClub),
		"rewardEvent": string(community.EventReward),
	}
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		return struct{}{}, exec(ctx, tx, cypherAckEvents, params)
	})
	if err != nil {
		return fail(err, "acknowledge %d events of %s", len(events), consumer)
	}
	return nil
}

// PendingClubs implements community.Outbox: a prefix seek in the unique index on the
// events' keys, for the search consumer's club events.
func (s *Store) PendingClubs(ctx context.Context) ([]community.Club, error) {
	recs, err := query(ctx, s, cypherPendingClubs, map[string]any{"prefix": eventKey(community.ConsumerSearch, community.EventClub, "")})
	if err != nil {
		return nil, fail(err, "read pending clubs")
	}
	out := make([]community.Club, 0, len(recs))
	for _, r := range recs {
		out = append(out, clubFrom(get(r, "club")))
	}
	return out, nil
}

// OutboxBacklog implements community.Outbox.
func (s *Store) OutboxBacklog(ctx context.Context, consumer community.Consumer) (community.Backlog, error) {
	recs, err := query(ctx, s, cypherOutboxBacklog, map[string]any{"consumer": string(consumer)})
	if err != nil {
		return community.Backlog{}, fail(err, "read the outbox backlog of %s", consumer)
	}
	var b community.Backlog
	if len(recs) > 0 {
		b.Pending = integer(get(recs[0], "pending"))
		b.Oldest = utc(get(recs[0], "oldest"))
	}
	return b, nil
}
