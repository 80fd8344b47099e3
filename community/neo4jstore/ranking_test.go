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

// cypherPlanForest writes, for the plan tests, a brand with a campaign, and referrals
// straight into the graph: $wide referees of one root through the campaign, one a minute
// from $start, and as many through another brand's campaign; and a chain of $deep members
// under the root's first referee.
const cypherPlanForest = `
CREATE (b:Brand {id: $brandId}), (:Brand {id: $otherBrandId})
CREATE (:Campaign {id: $campaignId, brandId: $brandId})-[:RUN_BY]->(b)
CREATE (root:Member {id: $rootId})
WITH root
UNWIND range(1, $wide) AS i
CREATE (:Member {id: $rootId + '-a' + i})-[:REFERRED_BY {campaign: $campaignId, at: $start + duration({minutes: i})}]->(root)
CREATE (:Member {id: $rootId + '-b' + i})-[:REFERRED_BY {campaign: $otherCampaignId, at: $start + duration({minutes: i})}]->(root)
WITH root, count(*) AS made
MATCH (first:Member {id: $rootId + '-a1'})
WITH first
UNWIND range(1, $deep) AS d
CREATE (:Member {id: $rootId + '-d' + d})
WITH first, collect(d) AS ds
UNWIND ds AS d
MATCH (m:Member {id: $rootId + '-d' + d})
MATCH (up:Member {id: CASE d WHEN 1 THEN first.id ELSE $rootId + '-d' + (d - 1) END})
CREATE (m)-[:REFERRED_BY {campaign: $otherCampaignId, at: $start}]->(up)`

// TestRankingPlans profiles the statements of rankings and paths over a root with many
// referees: a ranking seeks its campaign's range of the index referred_by_campaign_at,
// reads only the window's referrals, and scans nothing; a path walks up its chain without
// reading the root's other referees.
func TestRankingPlans(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	const wide, deep, window = 400, 60, 50
	ids := map[string]any{
		"brandId": community.NewID(), "otherBrandId": community.NewID(), "campaignId": community.NewID(),
		"otherCampaignId": community.NewID(), "rootId": community.NewID(),
	}
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	params := map[string]any{"wide": int64(wide), "deep": int64(deep), "start": start}
	for k, v := range ids {
		params[k] = v
	}
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (bool, error) {
		return true, exec(ctx, tx, cypherPlanForest, params)
	})
	mustDo(t, err)

	for by, cypher := range rankingStatements {
		t.Run(string(by), func(t *testing.T) {
			q := map[string]any{
				"brandId": ids["brandId"], "campaignId": nil, "first": int64(20), "consentingOnly": true,
				"from": start.Add(100 * time.Minute), "to": start.Add((100 + window) * time.Minute),
			}
			ops := profile(t, s, cypher, q)
			seek := false
			for _, op := range ops {
				switch {
				case strings.Contains(op.name, "RelationshipIndexSeek"):
					seek = true
					if !strings.Contains(op.details, "REFERRED_BY(campaign, at)") {
						t.Errorf("%s seeks another index: %s", op.name, op.details)
					}
					if op.rows != window {
						t.Errorf("the seek read %d referrals, want the window's %d", op.rows, window)
					}
				case strings.Contains(op.name, "Scan"):
					t.Errorf("the ranking scans: %s (%s)", op.name, op.details)
				}
			}
			if !seek {
				t.Errorf("no relationship index seek among %v", ops)
			}
		})
	}

	t.Run("path", func(t *testing.T) {
		deepest := fmt.Sprintf("%s-d%d", ids["rootId"], deep)
		q := map[string]any{"fromId": deepest, "toId": ids["rootId"]}
		hits := int64(0)
		for _, op := range profile(t, s, cypherReferralPath, q) {
			hits += op.dbHits
			if strings.Contains(op.name, "Scan") {
				t.Errorf("the path scans: %s (%s)", op.name, op.details)
			}
		}
		// The walks read the chain (deep + 2 members) up from each end, a few hits a member;
		// the root's 2×wide referees, more than that, are never read.
		if hits > 10*(deep+2) {
			t.Errorf("the path of %d members cost %d db hits, beside a root of %d referees", deep+2, hits, 2*wide)
		}
		got, err := s.ReferralPath(ctx, deepest, ids["rootId"].(string))
		mustDo(t, err)
		if len(got) != deep+2 || got[0] != deepest || got[len(got)-1] != ids["rootId"] {
			t.Errorf("ReferralPath = %d members from %v, want %d from %s", len(got), got[:min(len(got), 1)], deep+2, deepest)
		}
	})
}
