package community

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// RoundTrips counts the round trips a store makes, in total and by operation (the Store
// method that made them). Each adapter counts in its own transaction helper, so no call
// escapes the count; tests read it to prove that a request costs a bounded number of
// round trips, and metrics may export it. The zero value is ready to use.
type RoundTrips struct {
	total        atomic.Int64
	transactions atomic.Int64
	byMethod     atomic.Bool
	mu           sync.Mutex
	byOp         map[string]int64
}

// ByMethod turns on counting by Store method, which Of reads: it walks the caller's stack
// on every round trip, so it is for tests, not for serving. The total is always counted.
func (r *RoundTrips) ByMethod() *RoundTrips {
	r.byMethod.Store(true)
	return r
}

// Count counts one round trip, in a transaction of its own, of the Store method that
// called the adapter's helper: the outermost exported method of a type named Store among
// the nearest callers (a method that serves itself through another, as CreateMember
// through ImportMembers, counts as itself).
func (r *RoundTrips) Count() { r.count(true) }

// CountShared counts one round trip in a transaction that several round trips share (see
// SharedReads); begins says whether it is the first, which begins the transaction.
func (r *RoundTrips) CountShared(begins bool) { r.count(begins) }

func (r *RoundTrips) count(begins bool) {
	if r == nil {
		return
	}
	r.total.Add(1)
	if begins {
		r.transactions.Add(1)
	}
	if !r.byMethod.Load() {
		return
	}
	var pcs [12]uintptr
	n := runtime.Callers(3, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	op := "unknown"
	for {
		f, more := frames.Next()
		if name, ok := storeMethod(f.Function); ok {
			op = name
		}
		if !more {
			break
		}
	}
	r.mu.Lock()
	if r.byOp == nil {
		r.byOp = map[string]int64{}
	}
	r.byOp[op]++
	r.mu.Unlock()
}

// storeMethod returns the method name of fn when it is an exported method of a type
// named Store, as in "quanzi/community/embedded.(*Store).MembersByID".
func storeMethod(fn string) (string, bool) {
	_, method, ok := strings.Cut(fn, ".(*Store).")
	if !ok || method == "" || method[0] < 'A' || method[0] > 'Z' {
		return "", false
	}
	if i := strings.IndexAny(method, ".["); i >= 0 {
		method = method[:i] // a closure or an instantiation inside the method
	}
	return method, true
}

// Total returns how many round trips were counted.
func (r *RoundTrips) Total() int64 { return r.total.Load() }

// Transactions returns how many transactions the counted round trips made.
func (r *RoundTrips) Transactions() int64 { return r.transactions.Load() }

// Of returns how many round trips operation op (a Store method's name) made since
// ByMethod turned counting by method on.
func (r *RoundTrips) Of(op string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byOp[op]
}
