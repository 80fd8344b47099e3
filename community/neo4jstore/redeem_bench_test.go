package neo4jstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// cypherBenchReferees gives a member $n referees of a campaign, hours before $at, so that
// they are outside any burst window: what the burst count of a redemption reads past.
const cypherBenchReferees = `
MATCH (ref:Member {id: $referrerId})
UNWIND range(1, $n) AS k
CREATE (m:Member {id: $prefix + toString(k), handle: $prefix + toString(k), handleKey: $prefix + toString(k),
  displayName: 'fan', displayNameKey: 'fan', bio: '', avatarUrl: '', joinedAt: $at})
CREATE (m)-[:REFERRED_BY {at: $at - duration({hours: 5}), code: 'BENCHCODE0', campaign: $campaignId, channel: 'WECHAT', flags: [],
  referrer: ref.id}]->(ref)`

// BenchmarkRedeem times a redemption of the code of a referrer with no referees, and of
// one with many (the burst count reads the referrer's referrals of the campaign).
//
//	NEO4J_URI=… go test -run '^$' -bench Redeem -benchtime 200x ./community/neo4jstore/
func BenchmarkRedeem(b *testing.B) {
	s := openEmpty(b, testConfig(b))
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Microsecond)
	brand := community.Brand{ID: community.NewID(), Slug: "bench", Name: "Bench", Tiers: community.DefaultTiers, CreatedAt: at}
	mustDo(b, s.CreateBrand(ctx, brand))
	c := community.ReferralCampaign{ID: community.NewID(), BrandID: brand.ID, Name: "bench", StartsAt: at.Add(-time.Hour), EndsAt: at.Add(24 * time.Hour),
		RedeemWindowDays: 7, CreatedAt: at, Rules: []community.ReferralRule{{Level: 1, Kind: community.RewardPoints, Value: 100_00}}}
	mustDo(b, s.CreateReferralCampaign(ctx, c))
	for _, referees := range []int{0, 20_000} {
		b.Run(fmt.Sprintf("referees=%d", referees), func(b *testing.B) {
			// The body runs once for each b.N tried: each run has members of its own.
			run := community.NewID()[24:]
			referrer := joined(b, s, fmt.Sprintf("kol_%d_%s", referees, run), at)
			if referees > 0 {
				_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
					return struct{}{}, exec(ctx, tx, cypherBenchReferees, map[string]any{"referrerId": referrer, "n": referees,
						"prefix": fmt.Sprintf("fan-%d-%s-", referees, run), "at": at, "campaignId": c.ID})
				})
				mustDo(b, err)
			}
			inv := community.Invite{Code: "B" + strings.ToUpper(run[:9]), CampaignID: c.ID, MemberID: referrer, Channel: community.ShareWeChat,
				ExpiresAt: c.EndsAt, CreatedAt: at}
			_, _, err := s.CreateInvite(ctx, inv, at)
			mustDo(b, err)
			newcomers := make([]string, b.N)
			for i := range newcomers {
				newcomers[i] = joined(b, s, fmt.Sprintf("new_%d_%s_%d", referees, run, i), at)
			}
			b.ResetTimer()
			for i := range b.N {
				r := community.Redemption{MemberID: newcomers[i], Code: inv.Code, At: at, Device: "d"}
				if _, err := s.RedeemInvite(ctx, r, community.CheckRedemption); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// joined stores a member who joined at the given time and returns its id.
func joined(t testing.TB, s *Store, handle string, at time.Time) string {
	t.Helper()
	m := community.Member{ID: community.NewID(), Handle: handle, DisplayName: handle, JoinedAt: at}
	mustDo(t, s.CreateMember(context.Background(), m, community.Identity{Provider: community.ProviderWeChat, ExternalID: "o-" + handle, LinkedAt: at}))
	return m.ID
}
