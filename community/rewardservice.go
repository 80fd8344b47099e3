package community

import (
	"context"
	"log/slog"
	"time"
)

// The rules of reading the reward ledger and points history, of reviewing flagged
// rewards, and the grant job.

// Review notes.
const (
	// MaxReviewNote is the longest note of a review decision, in characters.
	MaxReviewNote = 1000
)

// reviewNoteText is a reviewer's note on a decision.
var reviewNoteText = textField{field: "note", what: "note", max: MaxReviewNote, long: true}

// rewardReader reports whether a may read the rewards or points history of member in the
// brand (brandID "" for all brands): the member and ADMIN read all; a brand's staff read
// those of their own brand when the member consents to share its activity with it, as
// for its referral (CanReadReferral): rewards and points changes are referral data and
// activity. consents are the member's current consents, needed only when NeedsConsent.
// It returns the brand to read: a brand's staff who name none read their own.
func rewardReader(a Actor, memberID, brandID string, consents []Consent) (string, error) {
	switch {
	case canReadPrivate(a, memberID) == nil:
		return brandID, nil
	case a.ActsForBrand() && a.AuthError == nil && (brandID == "" || brandID == a.BrandID):
		if err := CanReadReferral(a, memberID, a.BrandID, consents); err != nil {
			return "", err
		}
		return a.BrandID, nil
	case a.anonymous():
		return "", unauthenticated(a)
	}
	return "", Errorf(CodeForbidden, "only the member, administrators and the brand's staff may read this")
}

// rewardConsents reads the current consents of the members whose rewards and points
// history the caller's reads depend on (NeedsConsent): none, and no round trip, when the
// caller does not act for a brand.
func (s *core) rewardConsents(ctx context.Context, memberIDs []string) (map[string][]Consent, error) {
	a := ActorFrom(ctx)
	var need []string
	for _, id := range memberIDs {
		if NeedsConsent(a, id) && validID(id) {
			need = append(need, id)
		}
	}
	if len(need) == 0 {
		return nil, nil
	}
	return s.ruleConsents(ctx, need)
}

// RewardKey asks for a page of a member's rewards: a dataloader key.
type RewardKey struct {
	MemberID string
	// BrandID and Status filter; "" for all.
	BrandID string
	Status  RewardStatus
	First   int
	After   string
}

// RewardList is a page of rewards, with their cursors.
type RewardList struct {
	RewardPage
	edges []ListedReward
}

// ListedEdges returns the page's rewards with their cursors.
func (l RewardList) ListedEdges() []ListedReward { return l.edges }

// ListedReward is a reward in a page, with its cursor.
type ListedReward struct {
	Reward
	cursor lazyCursor[timeKey]
}

// Cursor returns the reward's cursor.
func (r ListedReward) Cursor() string { return r.cursor.String() }

// The kinds of list that reward and points cursors are tied to.
const (
	listRewards       cursorList[timeKey] = "rewards"
	listReviewQueue   cursorList[timeKey] = "review-queue"
	listPointsHistory cursorList[timeKey] = "points-history"
)

// rewardList wraps a page of rewards of list l of owner with their cursors.
func (s *core) rewardList(l cursorList[timeKey], owner string, page RewardPage) RewardList {
	out := RewardList{RewardPage: page, edges: make([]ListedReward, len(page.Rewards))}
	for i, r := range page.Rewards {
		out.edges[i] = ListedReward{Reward: r, cursor: newCursor(s, l, owner, timeKey{r.CreatedAt, r.ID})}
	}
	return out
}

// Rewards returns the page of rewards each key asks for, newest first: the member and
// ADMIN read all of a member's rewards; a brand's staff those of their brand (and theirs
// when they name no brand) when the member gave their brand ACTIVITY consent; anyone else
// gets FORBIDDEN. A reward's flags are shown only to whom may read its referral's
// (CanReadReferralFlags): the member reads its rewards without them. BAD_USER_INPUT for
// paging arguments out of range, a cursor of another list, or an unknown status. One store
// round trip for all the keys, and one for the consents that brand staff need. A
// dataloader batch function.
func (s *ReferralService) Rewards(ctx context.Context, keys []RewardKey) ([]RewardList, []error) {
	a := ActorFrom(ctx)
	out, errs := make([]RewardList, len(keys)), make([]error, len(keys))
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.MemberID
	}
	consents, err := s.rewardConsents(ctx, ids)
	if err != nil {
		return out, repeatError(err, len(keys))
	}
	brands := make([]string, len(keys))
	var qs []RewardQuery
	var at []int
	for i, k := range keys {
		brand, err := rewardReader(a, k.MemberID, k.BrandID, consents[k.MemberID])
		if err == nil && k.Status != "" && !k.Status.Valid() {
			err = fieldError("status", "unknown reward status %q", k.Status)
		}
		var after *Position
		if err == nil {
			after, err = pageArgs(s.core, listRewards, rewardOwner(k.MemberID, brand, k.Status), k.First, k.After)
		}
		if errs[i] = err; err != nil || !validID(k.MemberID) {
			continue
		}
		brands[i] = brand
		qs = append(qs, RewardQuery{MemberID: k.MemberID, BrandID: brand, Status: k.Status, First: k.First, After: after})
		at = append(at, i)
	}
	if len(qs) == 0 {
		return out, errs
	}
	pages, err := s.store.RewardPages(ctx, qs)
	if err != nil {
		return out, repeatError(err, len(keys))
	}
	for j, i := range at {
		k := keys[i]
		// The beneficiary is not told the fraud signals that hold a reward, as the member and
		// the referrer are not told their referral's (CanReadReferralFlags).
		for n, r := range pages[j].Rewards {
			if !CanReadReferralFlags(a, r.BrandID) {
				pages[j].Rewards[n].Flags = nil
			}
		}
		out[i] = s.rewardList(listRewards, rewardOwner(k.MemberID, brands[i], k.Status), pages[j])
	}
	return out, errs
}

// rewardOwner names the list of a member's rewards a cursor is tied to: the member and
// the filters.
func rewardOwner(memberID, brandID string, status RewardStatus) string {
	return memberID + "/" + brandID + "/" + string(status)
}

// PointsKey asks for a page of a member's points history in one brand: a dataloader key.
type PointsKey struct {
	MemberID string
	BrandID  string
	First    int
	After    string
}

// PointsList is a page of points history, with cursors.
type PointsList struct {
	PointsPage
	edges []ListedPoints
}

// ListedEdges returns the page's entries with their cursors.
func (l PointsList) ListedEdges() []ListedPoints { return l.edges }

// ListedPoints is a points entry in a page, with its cursor.
type ListedPoints struct {
	PointsEntry
	cursor lazyCursor[timeKey]
}

// Cursor returns the entry's cursor.
func (e ListedPoints) Cursor() string { return e.cursor.String() }

// PointsHistory returns the page of points history each key asks for, newest first: every
// change of the member's points in the brand's programme, with its reason. Read by whom
// Rewards are read (brand staff with the member's ACTIVITY consent); BAD_USER_INPUT for
// paging arguments out of range or a cursor of another list. One store round trip for all
// the keys, and one for the consents that brand staff need. A dataloader batch function.
func (s *BrandService) PointsHistory(ctx context.Context, keys []PointsKey) ([]PointsList, []error) {
	a := ActorFrom(ctx)
	out, errs := make([]PointsList, len(keys)), make([]error, len(keys))
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.MemberID
	}
	consents, err := s.rewardConsents(ctx, ids)
	if err != nil {
		return out, repeatError(err, len(keys))
	}
	var qs []PointsQuery
	var at []int
	for i, k := range keys {
		_, err := rewardReader(a, k.MemberID, k.BrandID, consents[k.MemberID])
		var after *Position
		if err == nil {
			after, err = pageArgs(s.core, listPointsHistory, k.MemberID+"/"+k.BrandID, k.First, k.After)
		}
		if errs[i] = err; err != nil || !validID(k.MemberID) || !validID(k.BrandID) {
			continue
		}
		qs = append(qs, PointsQuery{MemberID: k.MemberID, BrandID: k.BrandID, First: k.First, After: after})
		at = append(at, i)
	}
	if len(qs) == 0 {
		return out, errs
	}
	pages, err := s.store.PointsPages(ctx, qs)
	if err != nil {
		return out, repeatError(err, len(keys))
	}
	for j, i := range at {
		k := keys[i]
		l := PointsList{PointsPage: pages[j], edges: make([]ListedPoints, len(pages[j].Entries))}
		for n, e := range pages[j].Entries {
			l.edges[n] = ListedPoints{PointsEntry: e, cursor: newCursor(s.core, listPointsHistory, k.MemberID+"/"+k.BrandID, timeKey{e.At, e.ID})}
		}
		out[i] = l
	}
	return out, errs
}

// ReviewQueue pages through a brand's rewards that await review, newest first, with the
// flags that hold them. The brand's staff, community managers and ADMIN; BAD_USER_INPUT
// for bad paging arguments.
func (s *ReferralService) ReviewQueue(ctx context.Context, brandID string, first int, after string) (RewardList, error) {
	if err := canReview(ActorFrom(ctx), brandID); err != nil {
		return RewardList{}, err
	}
	pos, err := pageArgs(s.core, listReviewQueue, brandID, first, after)
	if err != nil {
		return RewardList{}, err
	}
	page, err := s.store.ReviewQueue(ctx, brandID, first, pos)
	if err != nil {
		return RewardList{}, err
	}
	return s.rewardList(listReviewQueue, brandID, page), nil
}

// canReview is the rule of reviewing a brand's rewards: its admins and staff, community
// managers and ADMIN.
func canReview(a Actor, brandID string) error {
	switch {
	case a.anonymous():
		return unauthenticated(a)
	case a.isPlatformStaff() || a.IsStaffOf(brandID):
		return nil
	}
	return Errorf(CodeForbidden, "only the brand's staff and community managers review its rewards")
}

// ReviewRewardInput is a reviewer's decision about a reward.
type ReviewRewardInput struct {
	RewardID string
	Decision ReviewDecision
	Note     string
}

// ReviewReward records a decision about a pending reward: APPROVE lets the grant job
// grant it when its hold ends, REJECT ends it. Every decision is kept, with who made it,
// when and why. The staff of the reward's brand, community managers and ADMIN;
// BAD_USER_INPUT for an unknown decision or a note outside the text rules; NOT_FOUND for an
// unknown reward (and, to the staff of another brand, for one of the brand they do not
// serve); FORBIDDEN for any other caller; CONFLICT for a reward that is no longer pending.
func (s *ReferralService) ReviewReward(ctx context.Context, in ReviewRewardInput) (Reward, error) {
	a, err := s.gate(ctx, "reviewReward", NeedSignedIn)
	if err != nil {
		return Reward{}, err
	}
	in.Note = reviewNoteText.normalize(in.Note)
	if !in.Decision.Valid() {
		return Reward{}, fieldError("decision", "decision must be APPROVE or REJECT")
	}
	if err := reviewNoteText.check(in.Note); err != nil {
		return Reward{}, err
	}
	if !validID(in.RewardID) {
		return Reward{}, Errorf(CodeNotFound, "no reward %q", in.RewardID)
	}
	found, err := s.store.RewardsByID(ctx, []string{in.RewardID})
	if err != nil {
		return Reward{}, err
	}
	r, ok := found[in.RewardID]
	if !ok {
		return Reward{}, Errorf(CodeNotFound, "no reward %q", in.RewardID)
	}
	if err := canReview(a, r.BrandID); err != nil {
		// Staff of other brands are not told that the reward exists.
		if ErrorCode(err) == CodeForbidden && a.ActsForBrand() && !a.isPlatformStaff() {
			return Reward{}, Errorf(CodeNotFound, "no reward %q", in.RewardID)
		}
		return Reward{}, err
	}
	// A staff or administrator token without a member leaves the reviewer unnamed.
	rv := RewardReview{ReviewerID: a.MemberID, Decision: in.Decision, Note: in.Note, At: s.now().UTC()}
	return s.store.ReviewReward(ctx, in.RewardID, rv)
}

// RewardGrantsConfig configures RewardGrants; zero fields take defaults.
type RewardGrantsConfig struct {
	// Holder names this instance in leases.
	Holder string
	// Every is how often the job looks for due rewards and announcements (one minute).
	Every time.Duration
	// Batch is how many due rewards one look grants at most before looking again (500).
	Batch int
	// Announce receives the rewards whose changes the outbox announces (created, granted,
	// reversed, clawed back, reviewed), as they now are: the place where the brand's
	// payment and notification systems are told of money rewards. At least once: an error
	// leaves them to be announced again. By default each is logged.
	Announce func(ctx context.Context, rewards []Reward) error
	// Now is the clock; time.Now by default.
	Now    func() time.Time
	Logger *slog.Logger
}

// RewardGrants is the reward job: under the lease "rewards", it grants every due reward,
// each in a transaction of its own that checks the reward's state inside it (so that two
// instances, a job run twice or a crash half-way grant each reward once), and relays the
// outbox's reward events to Announce as the consumer ConsumerRewards.
type RewardGrants struct {
	store  Store
	runner *Runner
	relay  *Relay
	cfg    RewardGrantsConfig
	log    *slog.Logger
}

// NewRewardGrants returns the reward job over store, under the lease "rewards" of leases.
func NewRewardGrants(store Store, leases Leases, cfg RewardGrantsConfig) *RewardGrants {
	if cfg.Every <= 0 {
		cfg.Every = time.Minute
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	g := &RewardGrants{store: store, cfg: cfg, log: log}
	if g.cfg.Announce == nil {
		g.cfg.Announce = g.logAnnounce
	}
	g.runner = NewRunner(leases, RunnerConfig{Lease: "rewards", Holder: cfg.Holder, Logger: log})
	g.relay = NewRelay(store, ConsumerRewards, g.announce, RelayConfig{Logger: log})
	return g
}

// Run runs the job now and then every cfg.Every, until ctx ends, and returns nil then
// (Runner.Every: one instance at a time, a failed run tried again at the next).
func (g *RewardGrants) Run(ctx context.Context) error {
	g.runner.Every(ctx, g.cfg.Every, func(ctx context.Context) error {
		n, err := g.RunOnce(ctx)
		if n > 0 {
			g.log.Info("rewards granted", "rewards", n)
		}
		return err
	})
	return nil
}

// RunOnce grants every reward due now, cfg.Batch at a time, then relays the pending
// reward events to Announce; it returns how many rewards it granted. It holds no lease:
// Run does. Two RunOnce at the same time still grant each reward once.
func (g *RewardGrants) RunOnce(ctx context.Context) (int, error) {
	granted := 0
	for {
		now := g.cfg.Now().UTC()
		ids, err := g.store.DueRewards(ctx, now, g.cfg.Batch)
		if err != nil {
			return granted, err
		}
		round := 0
		for _, id := range ids {
			_, ok, err := g.store.GrantReward(ctx, id, now)
			if err != nil {
				return granted, err
			}
			if ok {
				round++
			}
		}
		granted += round
		// A short batch was the last; a full one that granted nothing was granted by
		// another run meanwhile, which goes on with the rest.
		if len(ids) < g.cfg.Batch || round == 0 {
			break
		}
	}
	for {
		n, err := g.relay.DeliverOnce(ctx)
		if err != nil || n == 0 {
			return granted, err
		}
	}
}

// announce reads the rewards of a batch of reward events and hands them to Announce.
func (g *RewardGrants) announce(ctx context.Context, events []OutboxEvent) error {
	ids := make([]string, 0, len(events))
	for _, e := range events {
		if e.Kind == EventReward {
			ids = append(ids, e.EntityID)
		}
	}
	found, err := g.store.RewardsByID(ctx, ids)
	if err != nil {
		return err
	}
	rewards := make([]Reward, 0, len(found))
	for _, id := range ids {
		if r, ok := found[id]; ok {
			rewards = append(rewards, r)
		}
	}
	return g.cfg.Announce(ctx, rewards)
}

// logAnnounce is the default Announce: one log line per reward.
func (g *RewardGrants) logAnnounce(_ context.Context, rewards []Reward) error {
	for _, r := range rewards {
		g.log.Info("reward", "id", r.ID, "status", r.Status, "kind", r.Kind, "beneficiary", r.BeneficiaryID,
			"brand", r.BrandID, "points", r.Points, "amount", FormatAmount(r.Amount), "currency", r.Currency)
	}
	return nil
}
