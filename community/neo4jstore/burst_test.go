package neo4jstore

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// The migrations of bursts: 0056 keeps the referrer's id on the referrals stored before it
// was kept (0055 indexes them).
var burstMigrations = []string{"0056_referred_by_referrer_fill"}

// cypherForgetReferrers turns the referrals of a graph into what they were before
// burstMigrations.
const cypherForgetReferrers = `
MATCH ()-[r:REFERRED_BY]->()
REMOVE r.referrer`

// burstFixture stores a referrer with old referees (outside any burst window) and a code
// of a campaign that runs at at; it returns the referrer and the code.
func burstFixture(t testing.TB, s *Store, at time.Time, old int) (string, community.Invite) {
	t.Helper()
	ctx := context.Background()
	run := community.NewID()[24:]
	brand := community.Brand{ID: community.NewID(), Slug: "burst-" + run, Name: "Burst", Tiers: community.DefaultTiers, CreatedAt: at}
	mustDo(t, s.CreateBrand(ctx, brand))
	c := community.ReferralCampaign{ID: community.NewID(), BrandID: brand.ID, Name: "burst", StartsAt: at.Add(-48 * time.Hour), EndsAt: at.Add(24 * time.Hour),
		RedeemWindowDays: 7, CreatedAt: at, Rules: []community.ReferralRule{{Level: 1, Kind: community.RewardPoints, Value: 100_00}}}
	mustDo(t, s.CreateReferralCampaign(ctx, c))
	referrer := joined(t, s, "kol_"+run, at.Add(-48*time.Hour))
	if old > 0 {
		_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
			return struct{}{}, exec(ctx, tx, cypherBenchReferees, map[string]any{"referrerId": referrer, "n": old,
				"prefix": "fan-" + run + "-", "at": at, "campaignId": c.ID})
		})
		mustDo(t, err)
	}
	inv := community.Invite{Code: "BURST" + run[:5], CampaignID: c.ID, MemberID: referrer, Channel: community.ShareWeChat, ExpiresAt: c.EndsAt, CreatedAt: at}
	_, _, err := s.CreateInvite(ctx, inv, at)
	mustDo(t, err)
	return referrer, inv
}

// TestBurstCountSeeksItsWindow checks that the burst count of a redemption reads the
// referrals within the window through the index, not the referrer's every referral.
func TestBurstCountSeeksItsWindow(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Microsecond)
	const old = 2000
	_, inv := burstFixture(t, s, at, old)
	rule := community.BurstRule{Limit: 3, Window: time.Hour}
	var flags [][]community.ReferralFlag
	for i := range 4 {
		m := joined(t, s, "new_"+inv.Code+string(rune('a'+i)), at)
		r := community.Redemption{MemberID: m, Code: inv.Code, At: at.Add(time.Duration(i) * time.Minute), Burst: rule}
		ref, err := s.RedeemInvite(ctx, r, community.CheckRedemption)
		mustDo(t, err)
		flags = append(flags, ref.Flags)
	}
	if !slices.Equal(flags[3], []community.ReferralFlag{community.FlagBurst}) || flags[2] != nil {
		t.Errorf("flags of the four referrals: %v; want the fourth BURST", flags)
	}
	newcomer := joined(t, s, "new_"+inv.Code+"z", at)
	r := community.Redemption{MemberID: newcomer, Code: inv.Code, At: at.Add(5 * time.Minute), Burst: rule}
	params := map[string]any{"memberId": r.MemberID, "code": r.Code, "at": r.At, "since": r.BurstSince()}
	hits := int64(0)
	for _, op := range profile(t, s, cypherRedemptionFacts, params) {
		hits += op.dbHits
	}
	if hits > old/10 {
		t.Errorf("the facts of a redemption of a referrer with %d referrals cost %d db hits", old+4, hits)
	}
}

// TestReferrerMigration stores referrals, forgets their referrer's id as referrals stored
// before it was kept, migrates, and checks that bursts count them again.
func TestReferrerMigration(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Microsecond)
	_, inv := burstFixture(t, s, at, 4)
	rule := community.BurstRule{Limit: 2, Window: 10 * time.Minute}
	redeem := func(suffix string, minute int) []community.ReferralFlag {
		t.Helper()
		m := joined(t, s, "new_"+inv.Code+suffix, at)
		ref, err := s.RedeemInvite(ctx, community.Redemption{MemberID: m, Code: inv.Code, At: at.Add(time.Duration(minute) * time.Minute), Burst: rule}, community.CheckRedemption)
		mustDo(t, err)
		return ref.Flags
	}
	redeem("a", 0)
	redeem("b", 1)
	run := func(cypher string, params map[string]any) {
		t.Helper()
		_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
			return struct{}{}, exec(ctx, tx, cypher, params)
		})
		mustDo(t, err)
	}
	run(cypherForgetReferrers, nil)
	// Without the referrer's id the two referrals are not counted: this is what the
	// migration mends.
	if flags := redeem("c", 2); flags != nil {
		t.Fatalf("referrals without the referrer's id were counted: %v", flags)
	}
	run(cypherForgetReferrers, nil)
	run(cypherForgetMigrations, map[string]any{"ids": burstMigrations})
	smallBatches(t)
	applied, err := s.migrate(ctx, slog.New(slog.DiscardHandler))
	mustDo(t, err)
	if applied != len(burstMigrations) {
		t.Errorf("applied %d migrations, want %d", applied, len(burstMigrations))
	}
	recs, err := query(ctx, s, `MATCH ()-[r:REFERRED_BY]->(ref) WHERE r.referrer IS NULL OR r.referrer <> ref.id RETURN count(r) AS n`, nil)
	mustDo(t, err)
	if n := integer(get(recs[0], "n")); n != 0 {
		t.Errorf("%d referrals lack their referrer's id after the migration", n)
	}
	// Three referrals within ten minutes before it: the fourth is a burst.
	if flags := redeem("d", 3); !slices.Equal(flags, []community.ReferralFlag{community.FlagBurst}) {
		t.Errorf("flags after the migration: %v, want BURST", flags)
	}
}
