package community

import (
	"context"
	"time"
)

// Every write of every service starts at one gate: it establishes who acts, then runs the
// configured checks (rate limits, sanctions, trust levels), before the write validates its
// input, checks the rule of its target, and reaches the store. A refused write changes
// nothing.

// Who says whom a write needs.
type Who int

// The kinds of actor a write needs.
const (
	// NeedMember: a signed-in member.
	NeedMember Who = iota
	// NeedNewcomer: a verified person who is not a member yet (registering).
	NeedNewcomer
	// NeedSignedIn: any valid token; the write's own rule then decides by role and target
	// (brand staff, platform staff).
	NeedSignedIn
)

// Write describes a write to the gate and its checks.
type Write struct {
	// Action names the write: its mutation's name, such as "createPost".
	Action string
	// Who the write needs.
	Who Who
}

// WriteCheck is one check the gate runs for every write, after it has established the
// actor: nil lets the write go on; an *Error refuses it (RATE_LIMITED with a RetryAfter
// detail, FORBIDDEN for a sanction).
type WriteCheck interface {
	CheckWrite(ctx context.Context, a Actor, w Write) error
}

// WriteCheckFunc is a WriteCheck written as a function.
type WriteCheckFunc func(ctx context.Context, a Actor, w Write) error

// CheckWrite implements WriteCheck.
func (f WriteCheckFunc) CheckWrite(ctx context.Context, a Actor, w Write) error { return f(ctx, a, w) }

// gate establishes the actor of a write and runs the checks. UNAUTHENTICATED without a
// valid token; FORBIDDEN when the token is not of the kind the write needs; otherwise the
// first refusal of a check.
func (s *core) gate(ctx context.Context, action string, who Who) (Actor, error) {
	a := ActorFrom(ctx)
	switch who {
	case NeedMember:
		var err error
		if a, err = requireMember(ctx); err != nil {
			return a, err
		}
	case NeedNewcomer:
		switch {
		case a.anonymous():
			return a, unauthenticated(a)
		case a.IsMember():
			return a, Errorf(CodeConflict, "you are a member already")
		case a.Identity == nil:
			return a, Errorf(CodeForbidden, "registering needs a token with a verified identity")
		}
	default:
		if a.anonymous() {
			return a, unauthenticated(a)
		}
	}
	memoOf(ctx).forget()
	w := Write{Action: action, Who: who}
	for _, c := range s.checks {
		if err := c.CheckWrite(ctx, a, w); err != nil {
			return a, err
		}
	}
	return a, nil
}

// RateLimited returns the RATE_LIMITED error for a write refused for retryAfter; the
// presenter shows the wait as extensions.retryAfter, in whole seconds rounded up.
func RateLimited(message string, retryAfter time.Duration) *Error {
	secs := int((retryAfter + time.Second - 1) / time.Second)
	return &Error{Code: CodeRateLimited, Message: message, Details: map[string]any{"retryAfter": secs}}
}

// consentAction, decideAction and reactAction name the writes one service method makes as
// two mutations.
func consentAction(granted bool) string { return pick(granted, "grantConsent", "revokeConsent") }
func decideAction(approve bool) string {
	return pick(approve, "approveJoinRequest", "rejectJoinRequest")
}
func reactAction(on bool) string { return pick(on, "react", "unreact") }

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}
