package community

import (
	"context"
	"crypto/rand"
	"time"
)

// The rules of the community are held by one service per area — members and follows,
// brands, clubs, posts, referrals — each a thin type over one shared core: the clock, the ids, the
// cursor key, the store and the write gate. The rules that cross areas (who may see a
// member, a club's authority, what of a club is inside) are the core's, so that each area
// states them once. A coming area adds one service and one port.

// core is what every area service shares.
type core struct {
	store     Store
	now       func() time.Time
	newID     func() string
	cursorKey []byte
	checks    []WriteCheck
	// inviteBaseURL is what an invitation code is appended to, to make its link.
	inviteBaseURL string
	// deviceKey keys the hashes of device ids; burst is the rule of FlagBurst.
	deviceKey []byte
	burst     BurstRule
}

// Config configures the services; zero fields take defaults.
type Config struct {
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// NewID returns a new member id (a lower-case UUID); time-ordered UUIDv7 by default.
	NewID func() string
	// CursorKey signs page cursors. Instances that serve the same clients need the same
	// key; by default a random one, so cursors do not outlive the process.
	CursorKey []byte
	// Checks run, in order, for every write after the gate has established the actor
	// (see Gate): rate limits, sanctions, trust levels.
	Checks []WriteCheck
	// InviteBaseURL is the base of invitation links: a code's link is the base followed by
	// the code. DefaultInviteBaseURL by default.
	InviteBaseURL string
	// DeviceKey keys the hashes kept of device ids (HashDevice). Instances that share a
	// store need the same key, and it must outlive restarts, or a device is not recognised
	// again; DevelopmentDeviceKey by default.
	DeviceKey []byte
	// Burst is the rule of FlagBurst; DefaultBurst by default.
	Burst BurstRule
}

// MemberService holds the rules of members, their identities and follows.
type MemberService struct{ *core }

// BrandService holds the rules of brands, partnerships, programmes, consent and purchases.
type BrandService struct{ *core }

// ClubService holds the rules of clubs, their members and join requests.
type ClubService struct{ *core }

// PostService holds the rules of posts, comments, reactions, shares, feeds and what
// searches may show.
type PostService struct{ *core }

// ReferralService holds the rules of referral fission: campaigns, invitation codes and
// rewards.
type ReferralService struct{ *core }

// Services are the services of every area over one store. Resolvers hold the ones they use.
type Services struct {
	Members   *MemberService
	Brands    *BrandService
	Clubs     *ClubService
	Posts     *PostService
	Referrals *ReferralService
}

// New returns the services over store.
func New(store Store, cfg Config) Services {
	c := &core{store: store, now: cfg.Now, newID: cfg.NewID, cursorKey: cfg.CursorKey, checks: cfg.Checks, inviteBaseURL: cfg.InviteBaseURL,
		deviceKey: cfg.DeviceKey, burst: cfg.Burst.orDefault()}
	if len(c.deviceKey) == 0 {
		c.deviceKey = []byte(DevelopmentDeviceKey)
	}
	if c.inviteBaseURL == "" {
		c.inviteBaseURL = DefaultInviteBaseURL
	}
	if len(c.cursorKey) == 0 {
		c.cursorKey = make([]byte, 32)
		rand.Read(c.cursorKey)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.newID == nil {
		c.newID = NewID
	}
	return Services{Members: &MemberService{c}, Brands: &BrandService{c}, Clubs: &ClubService{c}, Posts: &PostService{c}, Referrals: &ReferralService{c}}
}

// Ping reports whether the store is reachable.
func (s Services) Ping(ctx context.Context) error { return s.Members.store.Ping(ctx) }

// ShareReads returns a context in which the services' reads of the store share one read
// transaction where the store can (see SharedReads), and the function that ends it; on
// other stores ctx itself and a function that does nothing. For the reads of one query
// operation only: a write's reads must follow it.
func (s Services) ShareReads(ctx context.Context) (context.Context, func()) {
	if sr, ok := s.Members.store.(SharedReads); ok {
		return sr.ShareReads(ctx)
	}
	return ctx, func() {}
}
