package neo4jstore

// The Cypher of brands, partnerships, membership programmes, consent and purchases, one
// constant per statement, every value a parameter (domain values such as partnership
// states and consent scopes included, so that the Go constants stay their one source).
//
// The writes that read before they write take write locks first, as cypher.go explains:
// partnership writes lock both brands, in id order so that two of them do not deadlock;
// consent changes lock the member; refunds lock the purchase. Points are only ever changed
// by a SET whose right-hand side reads them, for which Neo4j takes the write lock before
// the read, so concurrent credits and refunds are never lost. Recording a purchase needs
// no lock of its own: its MERGE locks the (brandId, externalId) entry of the unique index.

// brandFields projects a :Brand node as brandFrom reads it.
const brandFields = `b {.id, .slug, .name, .description, .tierNames, .tierThresholds, .createdAt}`

// purchaseFields projects a :Purchase node as purchaseFrom reads it.
const purchaseFields = `p {.id, .memberId, .brandId, .amount, .currency, .externalId, .at, .recordedAt, .refundedAt}`

// lockBrandPair locks the brands $pair (either may be unknown) in id order, and leaves one
// row whatever it found, for the statement it starts.
const lockBrandPair = `
MATCH (locked:Brand) WHERE locked.id IN $pair
WITH locked ORDER BY locked.id
SET locked._lock = true REMOVE locked._lock
WITH count(locked) AS lockedBrands
`

const (
	// cypherCreateBrand relies on the unique constraints on id and slugKey. Tiers are two
	// parallel lists because a property cannot hold maps; no tiers is no property.
	cypherCreateBrand = `
CREATE (b:Brand {id: $id, slug: $slug, slugKey: $slugKey, name: $name, description: $description,
  tierNames: $tierNames, tierThresholds: $tierThresholds, createdAt: $createdAt})`

	cypherSetBrandTiers = `
MATCH (b:Brand {id: $id})
SET b.tierNames = $tierNames, b.tierThresholds = $tierThresholds
RETURN count(b) AS found`

	cypherBrandsByID = `
UNWIND $ids AS id
MATCH (b:Brand {id: id})
RETURN ` + brandFields + ` AS brand`

	cypherBrandBySlug = `
MATCH (b:Brand {slugKey: $slugKey})
RETURN ` + brandFields + ` AS brand`

	// cypherInvitePartner returns the outcome: "invited", "noInviter", "noInvitee", "self"
	// or "taken" (the two have a partnership that is not ended, either way round). Both
	// brands are locked before the check, so that two invitations of one pair cannot both
	// pass it. Each brand counts the invitations it took part in (partnerSeq), and the
	// partnership keeps both counts, so that invitations made at the same time are listed
	// in the order they were made.
	cypherInvitePartner = lockBrandPair + `
OPTIONAL MATCH (a:Brand {id: $inviterId})
OPTIONAL MATCH (b:Brand {id: $inviteeId})
WITH a, b, CASE
  WHEN a IS NULL THEN 'noInviter'
  WHEN b IS NULL THEN 'noInvitee'
  WHEN a = b THEN 'self'
  WHEN EXISTS { (a)-[r:PARTNER_OF]-(b) WHERE r.status <> $ended } THEN 'taken'
  ELSE 'invited' END AS outcome
FOREACH (_ IN CASE WHEN outcome = 'invited' THEN [1] ELSE [] END |
  SET a.partnerSeq = coalesce(a.partnerSeq, 0) + 1, b.partnerSeq = coalesce(b.partnerSeq, 0) + 1
  CREATE (a)-[:PARTNER_OF {status: $pending, invitedAt: $invitedAt,
    inviterSeq: a.partnerSeq, inviteeSeq: b.partnerSeq}]->(b))
RETURN outcome`

	cypherAcceptPartnership = lockBrandPair + `
MATCH (:Brand {id: $inviterId})-[r:PARTNER_OF {status: $pending}]->(:Brand {id: $inviteeId})
SET r.status = $active, r.acceptedAt = $at
RETURN count(r) AS changed`

	// cypherEndPartnership keeps the ended partnership: it is the pair's history.
	cypherEndPartnership = lockBrandPair + `
MATCH (:Brand {id: $brandId})-[r:PARTNER_OF]-(:Brand {id: $otherId})
WHERE r.status IN [$pending, $active]
SET r.status = $ended, r.endedAt = $at
RETURN count(r) AS changed`

	cypherPartnershipsOf = `
UNWIND $ids AS id
MATCH (b:Brand {id: id})
RETURN id, COLLECT {
  MATCH (b)-[r:PARTNER_OF]-(:Brand)
  WHERE r.status <> $ended
  WITH r, startNode(r).id AS inviterId, endNode(r).id AS inviteeId,
    CASE WHEN startNode(r) = b THEN r.inviterSeq ELSE r.inviteeSeq END AS seq
  ORDER BY r.invitedAt, seq
  RETURN {inviterId: inviterId, inviteeId: inviteeId, status: r.status,
    invitedAt: r.invitedAt, acceptedAt: r.acceptedAt, endedAt: r.endedAt}
} AS partnerships`

	// cypherJoinBrand keeps the first membership: MERGE sets points, since and the key that
	// places the member in the brand's list (see listKey) only on creation.
	cypherJoinBrand = `
OPTIONAL MATCH (m:Member {id: $memberId})
OPTIONAL MATCH (b:Brand {id: $brandId})
FOREACH (_ IN CASE WHEN m IS NOT NULL AND b IS NOT NULL THEN [1] ELSE [] END |
  MERGE (m)-[r:MEMBER_OF]->(b) ON CREATE SET r.points = 0, r.since = $since, r.inKey = $inKey)
RETURN m IS NOT NULL AS memberKnown, b IS NOT NULL AS brandKnown`

	cypherMembershipsOf = `
UNWIND $ids AS id
MATCH (m:Member {id: id})
RETURN id, COLLECT {
  MATCH (m)-[r:MEMBER_OF]->(b:Brand)
  WITH r, b.id AS brandId ORDER BY r.since, brandId
  RETURN {brandId: brandId, points: r.points, since: r.since}
} AS memberships`

	// cypherBrandMembers reads the keys and points of one page plus one membership, to tell
	// whether another page follows, of the brand's members whose points are in
	// [$minPoints, $maxPoints) ($maxPoints < 0: no bound) and who consent to $scope. The
	// candidates are the keys of the brand's list strictly between $from and $to, in list
	// order (since descending, then member id ascending), read by a seek of their range
	// index (see cypherFollowers, and the hint's reason there). The points and the consent
	// are no part of the key: they stay filters, applied to each membership the seek yields,
	// in order, and the seek reads on until $limit of them pass, and stops. A page costs
	// about as many keys as it holds when most members pass, and as many as lie between
	// its start and its last member when few do: a page of a rare range of points, or of a
	// brand whose members seldom consent, reads as far down the list as it must. The brand
	// is the end of each relationship the seek reads, and an unknown brand has no keys. Each
	// row is a map of the key and points, and, when asked (community.ReadAhead), the member
	// ($members) and its follow counts ($counts), read for the page's rows only.
	cypherBrandMembers = `
MATCH (o)-[r:MEMBER_OF]->(b)
USING INDEX SEEK r:MEMBER_OF(inKey)
WHERE r.inKey > $from AND r.inKey < $to
  AND r.points >= $minPoints AND ($maxPoints < 0 OR r.points < $maxPoints)
  AND EXISTS { (o)-[c:CONSENTS]->(b) WHERE $scope IN c.scopes }
WITH r, o ORDER BY r.inKey LIMIT $limit
RETURN {key: r.inKey, points: r.points` + memberAhead + `} AS row`

	cypherBrandMemberCounts = `
UNWIND $ids AS id
MATCH (b:Brand {id: id})
RETURN id, COUNT { (b)<-[:MEMBER_OF]-(:Member) } AS members`

	// cypherChangeConsent locks the member, then compares each of $rows (i, scope, id: the
	// changes asked for, each scope once) with the current consent: a row whose scope's
	// state differs from $granted is a change, appended to the ledger; the current scopes
	// are rebuilt in $scopeOrder. It returns the indexes of the rows that changed. Nothing
	// is written for an unknown member or brand.
	cypherChangeConsent = `
OPTIONAL MATCH (m:Member {id: $memberId})
OPTIONAL MATCH (b:Brand {id: $brandId})
SET m._lock = true REMOVE m._lock
WITH m, b
OPTIONAL MATCH (m)-[c:CONSENTS]->(b)
WITH m, b, coalesce(c.scopes, []) AS current
WITH m, b, current, CASE WHEN m IS NULL OR b IS NULL THEN []
  ELSE [row IN $rows WHERE (row.scope IN current) <> $granted] END AS changes
WITH m, b, changes, [s IN $scopeOrder WHERE
  CASE WHEN any(row IN changes WHERE row.scope = s) THEN $granted ELSE s IN current END] AS scopes
FOREACH (_ IN CASE WHEN size(changes) > 0 THEN [1] ELSE [] END |
  MERGE (m)-[now:CONSENTS]->(b)
  SET now.scopes = scopes, now.updatedAt = $at)
FOREACH (row IN changes |
  CREATE (m)-[:CHANGED_CONSENT]->(:ConsentChange {id: row.id, scope: row.scope, granted: $granted,
    at: $at, memberId: $memberId, brandId: $brandId})-[:TO]->(b))
RETURN m IS NOT NULL AS memberKnown, b IS NOT NULL AS brandKnown, [row IN changes | row.i] AS changed`

	cypherConsentsOf = `
UNWIND $ids AS id
MATCH (m:Member {id: id})
RETURN id, COLLECT {
  MATCH (m)-[c:CONSENTS]->(b:Brand)
  WHERE size(c.scopes) > 0
  WITH c, b.id AS brandId ORDER BY brandId
  RETURN {brandId: brandId, scopes: c.scopes, updatedAt: c.updatedAt}
} AS consents`

	// cypherConsentHistory reads up to $limit entries, one more than asked for, to tell
	// whether more follow. Ledger ids increase with time, so id order is time order.
	cypherConsentHistory = `
MATCH (:Member {id: $memberId})-[:CHANGED_CONSENT]->(c:ConsentChange)
WHERE $before = '' OR c.id < $before
WITH c ORDER BY c.id DESC LIMIT $limit
RETURN c {.id, .memberId, .brandId, .scope, .granted, .at} AS change`

	// cypherRecordPurchase MERGEs the purchase on (brandId, externalId): the unique
	// constraint on the pair makes a concurrent MERGE of the same purchase wait for this one
	// and then find its node. A purchase marked _new was created by this statement: only
	// then is it linked and are its points credited; the mark is removed before the
	// transaction ends. (Its id cannot tell: a retry may bring the same id.) The purchase
	// keeps the points it credited: $points when the member is in the brand's programme
	// and the purchase does not come refunded, else 0; a refund takes back that and no
	// more. Nothing is written for an unknown member or brand, and stored is then null.
	// overLimit says that the credit took the member's points above $maxPoints: the
	// caller then rolls the transaction back. (The credit's SET reads the points under the
	// membership's write lock, so of concurrent purchases each sees the others' credits.)
	cypherRecordPurchase = `
OPTIONAL MATCH (m:Member {id: $memberId})
OPTIONAL MATCH (b:Brand {id: $brandId})
OPTIONAL MATCH (m)-[r:MEMBER_OF]->(b)
WITH m, b, r, CASE WHEN r IS NOT NULL AND $refundedAt IS NULL THEN $points ELSE 0 END AS credit
FOREACH (_ IN CASE WHEN m IS NOT NULL AND b IS NOT NULL THEN [1] ELSE [] END |
  MERGE (p:Purchase {brandId: $brandId, externalId: $externalId})
  ON CREATE SET p.id = $id, p.memberId = $memberId, p.amount = $amount, p.currency = $currency,
    p.points = credit, p.at = $at, p.recordedAt = $recordedAt, p.refundedAt = $refundedAt, p._new = true)
WITH m, b, r
OPTIONAL MATCH (p:Purchase {brandId: $brandId, externalId: $externalId})
WHERE m IS NOT NULL AND b IS NOT NULL
WITH m, b, r, p, coalesce(p._new, false) AS created
REMOVE p._new
FOREACH (_ IN CASE WHEN created THEN [1] ELSE [] END |
  CREATE (m)-[:BOUGHT]->(p)-[:FROM]->(b))
FOREACH (x IN CASE WHEN created AND r IS NOT NULL AND p.points > 0 THEN [r] ELSE [] END |
  SET x.points = x.points + p.points)
RETURN m IS NOT NULL AS memberKnown, b IS NOT NULL AS brandKnown, ` + purchaseFields + ` AS stored,
  created AND r IS NOT NULL AND p.points > 0 AND r.points > $maxPoints AS overLimit,
  created, CASE WHEN created AND r IS NOT NULL THEN p.points ELSE 0 END AS credited, r.points AS balance`

	// cypherRefundPurchase locks the purchase, so that of two refunds one finds it refunded,
	// and marks it refunded. It returns whether this statement refunded it, and the points
	// recording it credited (0 when the member was not in the programme then), which the
	// caller takes back (cypherChangePoints). No row when the brand has no such purchase.
	cypherRefundPurchase = `
MATCH (m:Member)-[:BOUGHT]->(p:Purchase {id: $purchaseId})-[:FROM]->(b:Brand {id: $brandId})
SET p._lock = true REMOVE p._lock
WITH m, b, p, p.refundedAt IS NULL AS refunding
SET p.refundedAt = CASE WHEN refunding THEN $at ELSE p.refundedAt END
RETURN ` + purchaseFields + ` AS purchase, refunding, p.points AS credited`

	cypherPurchasesOf = `
UNWIND $ids AS id
MATCH (m:Member {id: id})
RETURN id, COLLECT {
  MATCH (m)-[:BOUGHT]->(p:Purchase)
  WHERE $brandId = '' OR p.brandId = $brandId
  WITH p ORDER BY p.at DESC, p.id DESC
  RETURN ` + purchaseFields + `
} AS purchases`
)
