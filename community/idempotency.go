package community

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"time"
)

// Idempotency keys (DESIGN §5), after Stripe's: the writes that create — createPost,
// addComment, sharePost, registerMember — take an optional key, so that a client that lost
// the response to a create can send it again and get what the first attempt made instead of
// a second post, comment, share or member.
//
// A key belongs to its caller (the member; for registerMember, the verified identity of the
// token) and to its mutation: the same key sent by another caller, or to another mutation,
// is another key. The service reserves the key in the store just before the create, once
// the gate, the input rules and the target's rules have let the write through, so that a
// refused write reserves nothing. The reservation binds the key to the id the create then
// uses and to a fingerprint of the normalized input. A retry finds the reservation and
// creates under the same id: the store refuses a taken id with CONFLICT, and the service
// answers with the entity that holds the id, as it stands now. Retries that arrive
// together, even while the first attempt is still running, so make one entity, and each
// returns it. The same key with another input is CONFLICT on idempotencyKey.
//
// A retry is checked again like a first attempt (a member who has left a club since does
// not post in it by replaying a key). A key stays bound to its first input even when the
// create under it failed (a handle taken): a retry fails the same way, or succeeds if the
// cause has gone. Keys are remembered for IdempotencyTTL at least; a reservation older
// than that is replaced when its key comes again.

// IdempotencyTTL is how long an idempotency key is remembered at least.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyRecord is the reservation of an idempotency key.
type IdempotencyRecord struct {
	// Scope is the mutation and the caller the key belongs to.
	Scope string
	// Key is the client's key, as sent.
	Key string
	// EntityID is the id of the entity the create under the key makes.
	EntityID string
	// Fingerprint identifies the normalized input the key was first sent with.
	Fingerprint string
	// At is when the key was reserved.
	At time.Time
}

// IdempotencyStore is the part of the Store that remembers idempotency keys.
type IdempotencyStore interface {
	// ReserveIdempotencyKey records rec under (rec.Scope, rec.Key) unless a record made at
	// or after expiredBefore is there, and returns the record that holds: rec when it was
	// recorded (replacing a record made before expiredBefore, if any), else the one there.
	// One transaction: of calls for one scope and key at the same time, one records, and
	// all return its record. Called by the services, just before the create the key names.
	ReserveIdempotencyKey(ctx context.Context, rec IdempotencyRecord, expiredBefore time.Time) (IdempotencyRecord, error)
	// SweepIdempotencyKeys deletes up to limit reservations made before before, and
	// returns how many it deleted: one round trip. IdempotencySweep calls it.
	SweepIdempotencyKeys(ctx context.Context, before time.Time, limit int) (int, error)
}

// claim is the id a create uses: a new one, or the one an idempotency key holds.
type claim struct {
	id string
	// keyed says that a key holds the id, so that an earlier attempt under the key may
	// have made the entity already.
	keyed bool
}

// claim returns the id for a create of the action by subject (a member id, or an identity
// for registerMember), with the parts of its normalized input. Without a key, a new id.
// With one: BAD_USER_INPUT (field idempotencyKey) for a key outside the rule of
// idempotencyKeyText; CONFLICT (field idempotencyKey) when the key was sent with another
// input; otherwise the id the key holds, reserved now if it was not.
func (s *core) claim(ctx context.Context, action, subject string, key *string, input ...string) (claim, error) {
	if key == nil {
		return claim{id: s.newID()}, nil
	}
	if err := idempotencyKeyText.check(*key); err != nil {
		return claim{}, err
	}
	now := s.now().UTC()
	rec := IdempotencyRecord{
		Scope: action + "/" + subject, Key: *key, EntityID: s.newID(),
		Fingerprint: fingerprint(append([]string{action}, input...)), At: now,
	}
	held, err := s.store.ReserveIdempotencyKey(ctx, rec, now.Add(-IdempotencyTTL))
	if err != nil {
		return claim{}, err
	}
	if held.Fingerprint != rec.Fingerprint {
		return claim{}, &Error{Code: CodeConflict, Field: "idempotencyKey",
			Message: "this idempotency key was sent with another input: send a new key for a new request"}
	}
	return claim{id: held.EntityID, keyed: true}, nil
}

// fingerprint is the SHA-256, in hex, of parts, each prefixed with its length so that no
// two lists of parts run together alike.
func fingerprint(parts []string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(p))))
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// createdOnce returns what a create under cl answers, given the entity it made and the
// store's answer err. When the store refused the create with CONFLICT under a key, an
// earlier attempt under the key may have made the entity with the same id: lookup reads
// it, and it is the answer; when there is none, the conflict was about something else and
// stands.
func createdOnce[T any](ctx context.Context, cl claim, made T, err error, lookup func(context.Context, []string) (map[string]T, error)) (T, error) {
	var zero T
	switch {
	case err == nil:
		return made, nil
	case !cl.keyed || ErrorCode(err) != CodeConflict:
		return zero, err
	}
	found, lerr := lookup(ctx, []string{cl.id})
	if lerr != nil {
		return zero, lerr
	}
	if v, ok := found[cl.id]; ok {
		return v, nil
	}
	return zero, err
}

// SweepConfig configures an IdempotencySweep.
type SweepConfig struct {
	// Every is how often the sweep runs (an hour).
	Every time.Duration
	// Batch is how many reservations one store call deletes at most (1,000).
	Batch int
	// Holder names this instance in the sweep's lease; empty means a new id.
	Holder string
	// Now is the clock (time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// IdempotencySweep deletes the reservations of idempotency keys older than IdempotencyTTL,
// so that the store keeps only the keys of the last day or so: a leased job, which one
// instance at a time runs.
type IdempotencySweep struct {
	store  IdempotencyStore
	runner *Runner
	cfg    SweepConfig
	log    *slog.Logger
}

// NewIdempotencySweep returns a sweep of store's idempotency keys under the lease
// "idempotency-sweep" of leases.
func NewIdempotencySweep(store IdempotencyStore, leases Leases, cfg SweepConfig) *IdempotencySweep {
	if cfg.Every <= 0 {
		cfg.Every = time.Hour
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	runner := NewRunner(leases, RunnerConfig{Lease: "idempotency-sweep", Holder: cfg.Holder, Logger: log})
	return &IdempotencySweep{store: store, runner: runner, cfg: cfg, log: log}
}

// Run sweeps now and then every cfg.Every, until ctx ends, and returns nil then
// (Runner.Every: one instance at a time, a failed sweep tried again at the next).
func (w *IdempotencySweep) Run(ctx context.Context) error {
	w.runner.Every(ctx, w.cfg.Every, func(ctx context.Context) error {
		n, err := w.SweepOnce(ctx)
		if n > 0 {
			w.log.Info("idempotency keys swept", "keys", n)
		}
		return err
	})
	return nil
}

// SweepOnce deletes every reservation older than IdempotencyTTL, cfg.Batch at a time, and
// returns how many it deleted. It holds no lease: Run does.
func (w *IdempotencySweep) SweepOnce(ctx context.Context) (int, error) {
	before := w.cfg.Now().Add(-IdempotencyTTL)
	total := 0
	for {
		n, err := w.store.SweepIdempotencyKeys(ctx, before, w.cfg.Batch)
		total += n
		if err != nil || n < w.cfg.Batch {
			return total, err
		}
	}
}
