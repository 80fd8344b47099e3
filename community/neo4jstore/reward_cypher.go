package neo4jstore

// The Cypher of the reward ledger and points history, one constant per statement, every
// value a parameter.
//
// A reward is (:Member)-[:EARNED]->(:Reward)-[:FOR]->(:Purchase): the beneficiary earns it
// for the referee's purchase. Its awaitsReview property is kept true while it is pending,
// flagged and not approved, so that the review queue and the due rewards are index seeks.
// A points entry is (:Member)-[:POINTS]->(:PointsEntry {brandId, …}).
//
// Every write of a reward locks it first (lockReward), so that the state it checks is the
// state it changes: of two grants of one reward, the second finds it granted. Points are
// changed by cypherChangePoints, which locks the membership before it reads the points.

// rewardFields projects a :Reward node as rewardFrom reads it.
const rewardFields = `x {.*}`

const (
	// cypherLockRewardUpline locks the buyer's referrer and the referrer's referrer, in id order
	// as redemptions lock uplines, so that the rewards they have earned (which caps count)
	// do not change before the purchase's transaction commits.
	cypherLockRewardUpline = `
MATCH (:Member {id: $memberId})-[:REFERRED_BY*1..2]->(up:Member)
WITH DISTINCT up ORDER BY up.id
SET up._lock = true REMOVE up._lock
RETURN count(up) AS locked`

	// cypherRewardFacts reads, under the locks of cypherLockRewardUpline, what
	// community.RewardsFor decides on. No row for an unknown buyer.
	cypherRewardFacts = `
MATCH (m:Member {id: $memberId})
OPTIONAL MATCH (m)-[ref:REFERRED_BY]->(r1:Member)
OPTIONAL MATCH (r1)-[:REFERRED_BY]->(r2:Member)
OPTIONAL MATCH (c:Campaign {id: ref.campaign})
CALL (m) { OPTIONAL MATCH (m)-[:AUTHORED]->(x:Post) RETURN min(x.createdAt) AS post }
CALL (m) { OPTIONAL MATCH (m)-[:WROTE]->(x:Comment) RETURN min(x.createdAt) AS comment }
CALL (m) { OPTIONAL MATCH (m)-[x:REACTED]->() RETURN min(x.at) AS reaction }
CALL (m) { OPTIONAL MATCH (m)-[:BOUGHT]->(x:Purchase) WHERE x.id <> $purchaseId RETURN min(x.at) AS purchase }
RETURN m.joinedAt AS joinedAt,
  CASE WHEN ref IS NULL THEN null ELSE {referrerId: r1.id, code: ref.code, campaignId: ref.campaign, channel: ref.channel,
    at: ref.at, flags: coalesce(ref.flags, [])} END AS referral,
  [x IN [r1, r2] WHERE x IS NOT NULL | x.id] AS upline,
  CASE WHEN c IS NULL THEN null ELSE ` + campaignFields + ` END AS campaign,
  [t IN [post, comment, reaction, purchase] WHERE t IS NOT NULL] AS acts,
  COUNT { MATCH (m)-[:BOUGHT]->(x:Purchase)
    WHERE x.brandId = $brandId AND x.id <> $purchaseId AND x.refundedAt IS NULL AND (x.at < $at OR (x.at = $at AND x.id < $purchaseId)) } AS earlier,
  COLLECT { UNWIND [b IN [r1, r2] WHERE b IS NOT NULL] AS b
    MATCH (b)-[:EARNED]->(x:Reward)
    WHERE x.campaignId = ref.campaign AND x.status IN $counting
    WITH b.id AS beneficiaryId, x.rule AS rule, count(*) AS n
    RETURN {beneficiaryId: beneficiaryId, rule: rule, n: n} } AS earned`

	// cypherCreateRewards creates the rewards of a purchase, each with its outbox events.
	cypherCreateRewards = `
UNWIND $rewards AS row
MATCH (b:Member {id: row.beneficiaryId}), (p:Purchase {id: row.purchaseId})
CREATE (b)-[:EARNED]->(x:Reward)-[:FOR]->(p)
SET x = row` + renewEvent

	// cypherLockReward locks a reward and reads it. No row for an unknown reward.
	cypherLockReward = `
MATCH (x:Reward {id: $id})
SET x._lock = true REMOVE x._lock
RETURN ` + rewardFields + ` AS reward`

	// cypherLockPurchaseRewards locks a purchase's rewards, in id order, and reads them.
	cypherLockPurchaseRewards = `
MATCH (x:Reward)-[:FOR]->(:Purchase {id: $purchaseId})
WITH x ORDER BY x.id
SET x._lock = true REMOVE x._lock
RETURN ` + rewardFields + ` AS reward`

	// cypherSetReward writes a reward's new state, locked already, and renews its events.
	cypherSetReward = `
MATCH (x:Reward {id: $id})
SET x += $props` + renewEvent

	// cypherChangePoints adds $delta to a membership's points, never below 0 nor above
	// $maxPoints, under the membership's lock, and writes the points entry of the change
	// ($entry, with the change, the balance after it and what fell short of $delta). No row
	// when the member is not in the brand's programme: then nothing is written.
	cypherChangePoints = `
MATCH (m:Member {id: $memberId})-[r:MEMBER_OF]->(:Brand {id: $brandId})
SET r._lock = true REMOVE r._lock
WITH m, r, r.points AS before
WITH m, r, before, CASE WHEN before + $delta < 0 THEN 0 WHEN before + $delta > $maxPoints THEN $maxPoints ELSE before + $delta END AS after
SET r.points = after
CREATE (m)-[:POINTS]->(e:PointsEntry)
SET e = $entry, e.delta = after - before, e.balance = after,
  e.shortfall = CASE WHEN $delta < 0 THEN (after - before) - $delta ELSE $delta - (after - before) END
RETURN after - before AS changed`

	// cypherPointsEntry writes a points entry whose change is made already.
	cypherPointsEntry = `
MATCH (m:Member {id: $memberId})
CREATE (m)-[:POINTS]->(e:PointsEntry)
SET e = $entry`

	cypherRewardsByID = `
UNWIND $ids AS id
MATCH (x:Reward {id: id})
RETURN id, ` + rewardFields + ` AS reward`

	// cypherRewardPages reads, for each query, its page and one more reward, to tell
	// whether another page follows. A top referrer earns a reward for every purchase of
	// every referee, so the member's rewards are not sorted whole: a top-k sort keeps the
	// largest page asked for ($limit; a LIMIT cannot name q), and only those are projected.
	cypherRewardPages = `
UNWIND $queries AS q
CALL (q) {
  MATCH (:Member {id: q.memberId})-[:EARNED]->(x:Reward)
  WHERE (q.brandId = '' OR x.brandId = q.brandId) AND (q.status = '' OR x.status = q.status)
    AND (q.afterAt IS NULL OR x.createdAt < q.afterAt OR (x.createdAt = q.afterAt AND x.id > q.afterId))
  WITH x ORDER BY x.createdAt DESC, x.id ASC LIMIT $limit
  RETURN collect(` + rewardFields + `) AS rewards
}
RETURN rewards[..q.limit] AS rewards`

	// cypherPointsPages reads, for each query, its page and one more entry: a top-k sort
	// of the largest page asked for ($limit), as cypherRewardPages, since a membership's
	// history grows with every purchase.
	cypherPointsPages = `
UNWIND $queries AS q
CALL (q) {
  MATCH (:Member {id: q.memberId})-[:POINTS]->(e:PointsEntry)
  WHERE e.brandId = q.brandId
    AND (q.afterAt IS NULL OR e.at < q.afterAt OR (e.at = q.afterAt AND e.id > q.afterId))
  WITH e ORDER BY e.at DESC, e.id ASC LIMIT $limit
  RETURN collect(e {.*}) AS entries
}
RETURN entries[..q.limit] AS entries`

	// cypherReviewQueue reads a page and one more reward of a brand's rewards that await
	// review, from the index on (brandId, awaitsReview).
	cypherReviewQueue = `
MATCH (x:Reward)
WHERE x.brandId = $brandId AND x.awaitsReview = true
  AND ($afterAt IS NULL OR x.createdAt < $afterAt OR (x.createdAt = $afterAt AND x.id > $afterId))
WITH x ORDER BY x.createdAt DESC, x.id ASC LIMIT $limit
RETURN ` + rewardFields + ` AS reward`

	// cypherDueRewards reads the pending rewards whose hold has ended, from the index on
	// (status, grantsAt), and keeps those that do not await review.
	cypherDueRewards = `
MATCH (x:Reward)
WHERE x.status = $pending AND x.grantsAt <= $now AND x.awaitsReview = false
WITH x ORDER BY x.grantsAt, x.id LIMIT $limit
RETURN x.id AS id`
)
