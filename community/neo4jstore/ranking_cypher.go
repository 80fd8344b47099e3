package neo4jstore

// The Cypher of referral paths and rankings, one constant per statement, every value a
// parameter.

const (
	// cypherReferralPath walks up from each end to its root, as deep as the chain goes
	// (an upline is a chain: a member has one referrer), and returns the part of one
	// upline from its start up to the other end: the lower member first. Each walk is
	// anchored at an end found by its id, through the index its hint names, and follows
	// REFERRED_BY out of it to a node left unnamed, so that no plan can start the walk
	// anywhere else: its work is the depth of the chain, never the size of a downline. Of
	// the paths up from an end, the longest reaches the root.
	cypherReferralPath = `
CALL () {
  OPTIONAL MATCH (a:Member {id: $fromId})
  USING INDEX SEEK a:Member(id)
  CALL (a) {
    OPTIONAL MATCH p = (a)-[:REFERRED_BY*0..]->()
    RETURN p ORDER BY length(p) DESC LIMIT 1
  }
  RETURN [n IN nodes(p) | n.id] AS fromUp
}
CALL () {
  OPTIONAL MATCH (b:Member {id: $toId})
  USING INDEX SEEK b:Member(id)
  CALL (b) {
    OPTIONAL MATCH p = (b)-[:REFERRED_BY*0..]->()
    RETURN p ORDER BY length(p) DESC LIMIT 1
  }
  RETURN [n IN nodes(p) | n.id] AS toUp
}
WITH coalesce(fromUp, []) AS fromUp, coalesce(toUp, []) AS toUp
WITH fromUp, toUp,
  [i IN range(1, size(fromUp) - 1) WHERE fromUp[i] = $toId] AS up,
  [i IN range(1, size(toUp) - 1) WHERE toUp[i] = $fromId] AS down
RETURN CASE
  WHEN size(up) > 0 THEN fromUp[..up[0] + 1]
  WHEN size(down) > 0 THEN toUp[..down[0] + 1]
  ELSE [] END AS path`

	// rankingScope finds the brand and the campaigns a ranking reads: all the brand's, or
	// the one asked for when it is the brand's. It ends with b, campaigns, brandFound and
	// campaignFound in scope for the ranking that follows.
	rankingScope = `
OPTIONAL MATCH (b:Brand {id: $brandId})
OPTIONAL MATCH (b)<-[:RUN_BY]-(c:Campaign)
WHERE $campaignId IS NULL OR c.id = $campaignId
WITH b, collect(c.id) AS campaigns
WITH b, b IS NOT NULL AS brandFound, campaigns, $campaignId IS NULL OR size(campaigns) > 0 AS campaignFound
`

	// rankingTop keeps, of the counted members (member, n), the $first highest, then by id,
	// leaving out those who do not consent to share ACTIVITY with the brand when
	// $consentingOnly. The consents are looked at in ranking order, and only until $first
	// members pass: a look at a member's relationships costs as many as it has, and a
	// referrer has one for each referee.
	rankingTop = `
  WITH member, n ORDER BY n DESC, member.id
  WITH member, n WHERE NOT $consentingOnly OR EXISTS { (member)-[c:CONSENTS]->(b) WHERE 'ACTIVITY' IN c.scopes }
  WITH member, n LIMIT $first
  RETURN collect({id: member.id, n: n}) AS top
}
RETURN brandFound, campaignFound, top`

	// rankingWindow reads the referrals of each campaign in the window, as r: a seek of
	// each campaign's range of the index referred_by_campaign_at, asked for because over
	// some graphs' statistics the planner would rather scan the whole index and filter it.
	// The ends of REFERRED_BY are members, so the pattern names no labels to check.
	rankingWindow = `
CALL (campaigns, b) {
  UNWIND campaigns AS campaign
  MATCH (referee)-[r:REFERRED_BY]->(referrer)
  USING INDEX SEEK r:REFERRED_BY(campaign, at)
  WHERE r.campaign = campaign AND r.at >= $from AND r.at < $to`

	// cypherTopDirect counts each referrer's referrals in the window.
	cypherTopDirect = rankingScope + rankingWindow + `
  WITH referrer AS member, count(r) AS n` + rankingTop

	// cypherTopConverted counts each referrer's referees in the window with a purchase
	// from the brand that is not refunded: one look at each referee's purchases.
	cypherTopConverted = rankingScope + rankingWindow + `
    AND EXISTS { (referee)-[:BOUGHT]->(p) WHERE p.brandId = $brandId AND p.refundedAt IS NULL }
  WITH referrer AS member, count(r) AS n` + rankingTop

	// cypherTopTotal counts each referral in the window once for every member of the
	// referee's upline: it counts each referrer's referrals, then walks each referrer's
	// upline once, adding its count to every member of it. Its work is the referrers in
	// the window times their depth.
	cypherTopTotal = rankingScope + rankingWindow + `
  WITH referrer, count(r) AS k
  MATCH (referrer)-[:REFERRED_BY*0..]->(member)
  WITH member, sum(k) AS n` + rankingTop
)
