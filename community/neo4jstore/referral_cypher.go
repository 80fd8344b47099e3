package neo4jstore

// The Cypher of referral campaigns, one constant per statement, every value a parameter.
//
// A campaign is (:Campaign {id, brandId, name, startsAt, endsAt, redeemWindowDays, rules,
// createdAt, endedAt, listKey})-[:RUN_BY]->(:Brand). Its rules are one JSON string: a
// property cannot hold maps, the rules are read and written whole, and seven parallel
// lists would say the same less plainly. listKey places the campaign in its brand's list
// (see listKey): newest first, then by id.
//
// An invitation code is (:Member)-[:INVITES_WITH]->(:InviteCode {code, campaignId,
// memberId, channel, uses, maxUses, expiresAt, createdAt})-[:FOR]->(:Campaign); maxUses 0
// is no limit.

// inviteFields projects an :InviteCode node as inviteFrom reads it.
const inviteFields = `i {.code, .campaignId, .memberId, .channel, .uses, .maxUses, .expiresAt, .createdAt}`

// campaignFields projects a :Campaign node as campaignFrom reads it.
const campaignFields = `c {.id, .brandId, .name, .startsAt, .endsAt, .redeemWindowDays, .rules, .createdAt, .endedAt}`

const (
	// cypherCreateCampaign returns whether the brand was found; nothing is written when it
	// was not. A taken id is refused by the unique constraint on id.
	cypherCreateCampaign = `
OPTIONAL MATCH (b:Brand {id: $brandId})
FOREACH (_ IN CASE WHEN b IS NULL THEN [] ELSE [1] END |
  CREATE (:Campaign {id: $id, brandId: $brandId, name: $name, startsAt: $startsAt, endsAt: $endsAt,
    redeemWindowDays: $redeemWindowDays, rules: $rules, createdAt: $createdAt, listKey: $listKey})-[:RUN_BY]->(b))
RETURN b IS NOT NULL AS found`

	// cypherEndCampaign keeps the first end time of a campaign ended already. Its SET
	// takes the node's write lock before it reads endedAt, so that two ends at once agree.
	cypherEndCampaign = `
MATCH (c:Campaign {id: $id})
SET c.endedAt = coalesce(c.endedAt, $at)
RETURN ` + campaignFields + ` AS campaign`

	cypherCampaignsByID = `
UNWIND $ids AS id
MATCH (c:Campaign {id: id})
RETURN ` + campaignFields + ` AS campaign`

	// cypherCampaigns reads one page plus one campaign, to tell whether another page
	// follows, of a brand's campaigns: the keys strictly between $from and $to, in list
	// order, by a seek of their range index; and the count of the brand's campaigns, from
	// the brand's degree.
	cypherCampaigns = `
CALL () {
  MATCH (c:Campaign)
  WHERE c.listKey > $from AND c.listKey < $to
  WITH c ORDER BY c.listKey LIMIT $limit
  RETURN collect(` + campaignFields + `) AS page
}
OPTIONAL MATCH (b:Brand {id: $brandId})
RETURN page, CASE WHEN b IS NULL THEN 0 ELSE COUNT { (b)<-[:RUN_BY]-(:Campaign) } END AS total`

	// cypherCreateInvite locks the member, then looks for its live invite of the campaign
	// (not expired at $now, not used up): it returns that one, or creates the new one. It
	// returns the outcome — "noMember", "noCampaign", "live" or "created" — and the live
	// invite. The lock makes two calls for one member wait for each other, so that they
	// make one invite; a taken code is refused by the unique constraint on code.
	cypherCreateInvite = `
OPTIONAL MATCH (m:Member {id: $memberId})
SET m._lock = true REMOVE m._lock
WITH m
OPTIONAL MATCH (c:Campaign {id: $campaignId})
CALL (m, c) {
  OPTIONAL MATCH (m)-[:INVITES_WITH]->(i:InviteCode {campaignId: c.id})
  WHERE i.expiresAt > $now AND (i.maxUses = 0 OR i.uses < i.maxUses)
  WITH i ORDER BY i.createdAt DESC LIMIT 1
  RETURN i
}
WITH m, c, i, CASE
  WHEN m IS NULL THEN 'noMember'
  WHEN c IS NULL THEN 'noCampaign'
  WHEN i IS NOT NULL THEN 'live'
  ELSE 'created' END AS outcome
FOREACH (_ IN CASE WHEN outcome = 'created' THEN [1] ELSE [] END |
  CREATE (m)-[:INVITES_WITH]->(:InviteCode {code: $code, campaignId: $campaignId, memberId: $memberId,
    channel: $channel, uses: 0, maxUses: $maxUses, expiresAt: $expiresAt, createdAt: $createdAt})-[:FOR]->(c))
RETURN outcome, CASE WHEN i IS NULL THEN null ELSE ` + inviteFields + ` END AS invite`

	cypherInviteByCode = `
MATCH (i:InviteCode {code: $code})
RETURN ` + inviteFields + ` AS invite`
)
