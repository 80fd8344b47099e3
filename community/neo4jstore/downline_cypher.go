package neo4jstore

// The Cypher of downlines. A member's figures (community.ReferralStats) are kept on its
// node as referrals are written: downlineLevels (a list of community.DownlineLevels
// counts, level 1 first), downlineTotal, downlineDeepest and downlineConverted; bought
// says whether the member has a purchase that is not refunded, which its upline counts.
// A member without them has zero figures, and has not bought: every read coalesces. A
// referral is listed in its referrer's level 1 by REFERRED_BY.inKey (see listKey: the
// referrer, the time of the referral, the referee), in the range index of migration 0040.

// figuresFields projects the kept figures of m.
const figuresFields = `coalesce(m.downlineLevels, [0,0,0,0,0,0,0,0,0,0]) AS levels,
  coalesce(m.downlineTotal, 0) AS total, coalesce(m.downlineDeepest, 0) AS deepest,
  coalesce(m.downlineConverted, 0) AS converted, coalesce(m.bought, false) AS bought`

const (
	cypherReferralStats = `
UNWIND $ids AS id
MATCH (m:Member {id: id})
RETURN id, ` + figuresFields

	// cypherUplineFigures reads, for a redemption written a moment ago in the same
	// transaction and under its locks, the figures of the redeemer and of each member of
	// its new upline, with its distance (1 for the referrer).
	cypherUplineFigures = `
MATCH (r:Member {id: $memberId})
CALL (r) {
  MATCH p = (r)-[:REFERRED_BY*0..]->(m:Member)
  RETURN m, length(p) AS distance
}
RETURN m.id AS id, distance, ` + figuresFields

	// cypherSetFigures writes figures computed in Go: each row is {id, levels, total,
	// deepest, converted}.
	cypherSetFigures = `
UNWIND $rows AS row
MATCH (m:Member {id: row.id})
SET m.downlineLevels = row.levels, m.downlineTotal = row.total, m.downlineDeepest = row.deepest,
  m.downlineConverted = row.converted`

	// cypherLockUpline takes the write locks of a member and its whole upline, in id order
	// as cypherLockRedemption takes them, so that a redemption that joins the member's
	// chain to another either waits for this transaction or is seen by the statement after.
	cypherLockUpline = `
MATCH (:Member {id: $memberId})-[:REFERRED_BY*0..]->(up:Member)
WITH up ORDER BY up.id
SET up._lock = true REMOVE up._lock
RETURN count(up) AS locked`

	// cypherCountConversion keeps whether the member bought, after its purchases changed:
	// when that changes, the converted figure of every member of its upline changes by one.
	cypherCountConversion = `
MATCH (m:Member {id: $memberId})
WITH m, EXISTS { (m)-[:BOUGHT]->(p:Purchase) WHERE p.refundedAt IS NULL } AS bought
WHERE coalesce(m.bought, false) <> bought
SET m.bought = bought
WITH m, CASE WHEN bought THEN 1 ELSE -1 END AS delta
CALL (m, delta) {
  MATCH (m)-[:REFERRED_BY*1..]->(up:Member)
  SET up.downlineConverted = coalesce(up.downlineConverted, 0) + delta
}
RETURN count(*) AS changed`

	// cypherDownlineLevel1 reads pages of members' referees: a seek of the range index of
	// REFERRED_BY.inKey from the position each page starts after, that stops after $limit
	// keys, as cypherFollowers reads a page of followers; the count is the kept one.
	cypherDownlineLevel1 = `
UNWIND $reqs AS req
MATCH (m:Member {id: req.memberId})
WITH req, m, req.from AS lo, req.to AS hi
RETURN req.i AS i, coalesce(m.downlineLevels[0], 0) AS total, COLLECT {
  MATCH ()-[r:REFERRED_BY]->()
  USING INDEX SEEK r:REFERRED_BY(inKey)
  WHERE r.inKey > lo AND r.inKey < hi
  WITH r ORDER BY r.inKey LIMIT $limit
  RETURN r.inKey
} AS keys`

	// downlineDeeperHead and downlineDeeperTail are the parts of the statements that read a
	// level below the first: the members whose referrers are level-1 levels below the
	// member (the bound of a variable-length pattern is a literal, hence a statement per
	// level), after the position, newest referral first, then by id. A page of level k
	// reads the members of levels 1 to k-1 and every referral of level k: a top-k sort, no
	// index, as the level is no range of one.
	downlineDeeperHead = `
UNWIND $reqs AS req
MATCH (m:Member {id: req.memberId})
RETURN req.i AS i, coalesce(m.downlineLevels[$level - 1], 0) AS total, COLLECT {
  MATCH (m)<-[:REFERRED_BY`
	downlineDeeperTail = `]-(:Member)<-[r:REFERRED_BY]-(x:Member)
  WHERE req.afterAt IS NULL OR r.at < req.afterAt OR (r.at = req.afterAt AND x.id > req.afterId)
  WITH r, x ORDER BY r.at DESC, x.id LIMIT $limit
  RETURN {id: x.id, at: r.at}
} AS edges`

	// cypherImportUplines reads, for a batch of referrals to import, each given member
	// with its whole upline: each member's referrer (null for a root) and figures.
	cypherImportUplines = `
UNWIND $ids AS id
MATCH (:Member {id: id})-[:REFERRED_BY*0..]->(m:Member)
WITH DISTINCT m
OPTIONAL MATCH (m)-[:REFERRED_BY]->(p:Member)
RETURN m.id AS id, p.id AS referrerId, ` + figuresFields

	// cypherImportReferrals writes the referrals of a batch that ImportReferrals kept.
	cypherImportReferrals = `
UNWIND $rows AS row
MATCH (m:Member {id: row.memberId}), (ref:Member {id: row.referrerId})
CREATE (m)-[:REFERRED_BY {at: row.at, code: row.code, campaign: row.campaign, channel: row.channel, flags: row.flags,
  referrer: ref.id, inKey: row.inKey}]->(ref)`
)

// cypherDownlineDeeper are the statements that read levels 2 to community.DownlineLevels,
// by level.
var cypherDownlineDeeper = [...]string{
	2:  downlineDeeperHead + `*1` + downlineDeeperTail,
	3:  downlineDeeperHead + `*2` + downlineDeeperTail,
	4:  downlineDeeperHead + `*3` + downlineDeeperTail,
	5:  downlineDeeperHead + `*4` + downlineDeeperTail,
	6:  downlineDeeperHead + `*5` + downlineDeeperTail,
	7:  downlineDeeperHead + `*6` + downlineDeeperTail,
	8:  downlineDeeperHead + `*7` + downlineDeeperTail,
	9:  downlineDeeperHead + `*8` + downlineDeeperTail,
	10: downlineDeeperHead + `*9` + downlineDeeperTail,
}
