package community

import (
	"context"
	"sync"
)

// One request may ask a rule the same question many times: a page of a brand's members,
// their profiles, their purchases and their posts each ask whether brand staff may see
// each member, and so read the members' consents. A request memo remembers what the rules
// read of the store for the rest of one request, so that each member's consents are read
// once. Every write forgets it at the gate, so that a write and what the request reads
// after it see the store as it is.

type memoKey struct{}

type requestMemo struct {
	mu       sync.Mutex
	consents map[string][]Consent // by member id; nil slices for members without any

	// insideMu guards inside apart from consents: deciding inside reads consents.
	insideMu sync.Mutex
	inside   map[string]error // by club id: canSeeInside's answer
}

// WithRequestMemo returns a context in which the services remember what their rules read,
// for one request. Without it every rule reads the store anew.
func WithRequestMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &requestMemo{consents: map[string][]Consent{}, inside: map[string]error{}})
}

func memoOf(ctx context.Context) *requestMemo {
	m, _ := ctx.Value(memoKey{}).(*requestMemo)
	return m
}

// forget drops what the request's memo holds.
func (m *requestMemo) forget() {
	if m == nil {
		return
	}
	m.mu.Lock()
	clear(m.consents)
	m.mu.Unlock()
	m.insideMu.Lock()
	clear(m.inside)
	m.insideMu.Unlock()
}

// ruleConsents returns the current consents of the members, for the rules: through the
// request's memo, reading the store only for members it has not read yet.
func (s *core) ruleConsents(ctx context.Context, ids []string) (map[string][]Consent, error) {
	m := memoOf(ctx)
	if m == nil {
		return s.store.ConsentsOf(ctx, ids)
	}
	// The lock is held across the read, so that two fields that ask at once wait for one
	// read instead of both reading.
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string][]Consent, len(ids))
	var missing []string
	for _, id := range ids {
		if c, ok := m.consents[id]; ok {
			out[id] = c
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	found, err := s.store.ConsentsOf(ctx, missing)
	if err != nil {
		return nil, err
	}
	for _, id := range missing {
		m.consents[id] = found[id]
		out[id] = found[id]
	}
	return out, nil
}
