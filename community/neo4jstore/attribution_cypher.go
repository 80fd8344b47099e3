package neo4jstore

// The Cypher of attribution, one constant per statement, every value a parameter.
//
// A referral is (:Member)-[:REFERRED_BY {at, code, campaign, channel, flags, referrer,
// inKey}]->(:Member): the referee points at the referrer; campaign is the campaign's id;
// flags are its fraud signals (absent on referrals written before flags were kept: read as
// none); referrer is the referrer's id again, for the index that bursts are counted in
// (migration 0055); inKey places the referee in the referrer's list of referees (see
// downline_cypher.go). A member has at most one, and they never form a cycle: RedeemInvite
// keeps both true under locks. A member's deviceHashes are the keyed hashes of the devices
// it was seen with, most recent first, at most community.MaxDevicesKept (absent for none).

const (
	// cypherLockRedemption takes the write locks a redemption decides under: first the
	// code's invite, so that redemptions of one code queue on it (uses never pass maxUses);
	// then, in id order so that two redemptions never wait for each other in a circle, the
	// redeemer and every member of the referrer's upline, the referrer included, so that
	// neither the redeemer's referral nor any chain the new referral joins changes before
	// the transaction commits (two members redeeming each other's codes queue on both).
	// That is enough against cycles: a redeemer that may go on has no referrer, so it is
	// the top of its own chain, and any redemption that would close a cycle through the
	// new referral has the redeemer in its referrer's upline and waits for its lock; the
	// facts are read after the locks, so the one that waits sees the other's referral.
	cypherLockRedemption = `
OPTIONAL MATCH (i:InviteCode {code: $code})
FOREACH (_ IN CASE WHEN i IS NULL THEN [] ELSE [1] END | SET i._lock = true REMOVE i._lock)
WITH i
OPTIONAL MATCH (ref:Member {id: i.memberId})
CALL (ref) {
  OPTIONAL MATCH (ref)-[:REFERRED_BY*0..]->(up:Member)
  RETURN collect(DISTINCT up.id) AS upline
}
UNWIND upline + [$memberId] AS id
WITH DISTINCT id ORDER BY id
MATCH (x:Member {id: id})
SET x._lock = true REMOVE x._lock
RETURN count(x) AS locked`

	// cypherRedemptionFacts reads, under the locks of cypherLockRedemption, what
	// community.CheckRedemption decides on. No row for an unknown redeemer. The burst count
	// names its index: the index of a campaign's referrals by time (for rankings) serves
	// its predicates too, but reads every referrer's.
	cypherRedemptionFacts = `
MATCH (m:Member {id: $memberId})
OPTIONAL MATCH (i:InviteCode {code: $code})-[:FOR]->(c:Campaign)
OPTIONAL MATCH (ref:Member {id: i.memberId})
RETURN m.joinedAt AS joinedAt,
  [(m)-[:IDENTIFIED_AS]->(x:ExternalIdentity) | x {.provider, .externalId}] AS mine,
  CASE WHEN ref IS NULL THEN [] ELSE [(ref)-[:IDENTIFIED_AS]->(x:ExternalIdentity) | x {.provider, .externalId}] END AS theirs,
  EXISTS { (m)-[:REFERRED_BY]->(:Member) } AS referred,
  ref IS NOT NULL AND (ref = m OR EXISTS { (ref)-[:REFERRED_BY*1..]->(m) }) AS inUpline,
  coalesce(m.deviceHashes, []) AS myDevices,
  CASE WHEN ref IS NULL THEN [] ELSE coalesce(ref.deviceHashes, []) END AS theirDevices,
  CASE WHEN ref IS NULL THEN 0 ELSE
    COUNT { MATCH ()-[r:REFERRED_BY]->() USING INDEX SEEK r:REFERRED_BY(referrer, campaign, at)
      WHERE r.referrer = ref.id AND r.campaign = i.campaignId AND r.at >= $since } END AS recent,
  CASE WHEN i IS NULL THEN null ELSE ` + inviteFields + ` END AS invite,
  CASE WHEN c IS NULL THEN null ELSE ` + campaignFields + ` END AS campaign`

	// cypherRedeem writes a referral the rule allowed, with its flags and its key in the
	// referrer's list of referees ($inKey, see listKey), keeps the redeemer's device hashes
	// ($devices, when the redemption named a device), and counts a use of the code.
	cypherRedeem = `
MATCH (m:Member {id: $memberId}), (i:InviteCode {code: $code})
MATCH (ref:Member {id: i.memberId})
CREATE (m)-[:REFERRED_BY {at: $at, code: i.code, campaign: i.campaignId, channel: i.channel, flags: $flags, referrer: ref.id, inKey: $inKey}]->(ref)
SET i.uses = i.uses + 1
FOREACH (_ IN CASE WHEN $devices IS NULL THEN [] ELSE [1] END | SET m.deviceHashes = $devices)
RETURN ref.id AS referrerId, i.campaignId AS campaignId, i.channel AS channel`

	cypherReferralsOf = `
UNWIND $ids AS id
MATCH (:Member {id: id})-[r:REFERRED_BY]->(ref:Member)
RETURN id, ref.id AS referrerId, r.code AS code, r.campaign AS campaignId, r.channel AS channel, r.at AS at,
  coalesce(r.flags, []) AS flags`

	// cypherLockDevices locks a member and reads its device hashes; no row for an unknown
	// member.
	cypherLockDevices = `
MATCH (m:Member {id: $id})
SET m._lock = true REMOVE m._lock
RETURN coalesce(m.deviceHashes, []) AS devices`

	// cypherKeepDevices writes a member's device hashes.
	cypherKeepDevices = `
MATCH (m:Member {id: $id})
SET m.deviceHashes = $devices`

	cypherDevicesOf = `
UNWIND $ids AS id
MATCH (m:Member {id: id})
WHERE size(coalesce(m.deviceHashes, [])) > 0
RETURN id, m.deviceHashes AS devices`

	// cypherUplines reads each member's upline, nearest first, up to MaxChainDepth members
	// (a bound of a variable-length pattern is a literal): of the paths up the chain, the
	// longest.
	cypherUplines = `
UNWIND $ids AS id
CALL (id) {
  MATCH p = (:Member {id: id})-[:REFERRED_BY*1..50]->(:Member)
  WITH p ORDER BY length(p) DESC LIMIT 1
  RETURN [n IN nodes(p)[1..] | n.id] AS upline
}
RETURN id, upline[..$maxDepth] AS upline`
)
