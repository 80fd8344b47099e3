package neo4jstore

// The Cypher of referral campaigns, one constant per statement, every value a parameter.
//
// A campaign is (:Campaign {id, brandId, name, startsAt, endsAt, redeemWindowDays, rules,
// createdAt, endedAt, listKey})-[:RUN_BY]->(:Brand). Its rules are one JSON string: a
// property cannot hold maps, the rules are read and written whole, and seven parallel
// lists would say the same less plainly. listKey places the campaign in its brand's list
// (see listKey): newest first, then by id.

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
)
