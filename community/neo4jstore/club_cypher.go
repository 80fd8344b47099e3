package neo4jstore

// The Cypher of clubs, their members and join requests, one constant per statement, every
// value a parameter.
//
// A club is a (:Club) node, linked (:Club)-[:HOSTED_BY]->(:Brand) when a brand hosts it;
// its brandId property says the same, and is absent for a club of the platform. A member
// is in a club through (:Member)-[:JOINED {role, since, verified, inKey, roleKey}]->(:Club),
// and a pending request is (:Member)-[:REQUESTED_TO_JOIN {message, at, inKey}]->(:Club). The
// keys place the member in the club's lists (see listKey): inKey in the list of its members
// and in that of its requests, roleKey in the list of its members of the role.
//
// Every write of a member's JOINED or REQUESTED_TO_JOIN relationships locks the member
// first (see cypher.go), so that a join, a leave, a request, a decision and a change of
// role of one member run one after the other: a request cannot be decided twice, nor be
// deleted by a join and a decision at once, nor a role be set on a membership that a leave
// is deleting. Locking the member rather than the club keeps a busy club's members from
// waiting for each other. The lock is also what makes two MERGEs of one member's JOINED
// (or REQUESTED_TO_JOIN) find one relationship: the second reads after the first commits.

// clubFields projects a :Club node as clubFrom reads it.
const clubFields = `c {.id, .slug, .name, .description, .kind, .visibility, .joinPolicy, .brandId, .createdAt}`

// lockMemberOf locks the member $memberId, if there is one, and leaves one row with m (null
// for an unknown member), for the statement it starts.
const lockMemberOf = `
OPTIONAL MATCH (m:Member {id: $memberId})
SET m._lock = true REMOVE m._lock
WITH m
`

const (
	// cypherCreateClub creates the club, hosted by the brand $brandId (null for a club of the
	// platform), and, when $managerId is not null, that member's membership, with its keys.
	// Nothing is written when the brand or the manager is unknown. The unique constraints on
	// id and slugKey refuse a taken id or slug.
	cypherCreateClub = `
OPTIONAL MATCH (b:Brand {id: $brandId})
OPTIONAL MATCH (m:Member {id: $managerId})
WITH b, m, $brandId IS NULL OR b IS NOT NULL AS brandKnown, $managerId IS NULL OR m IS NOT NULL AS managerKnown
FOREACH (_ IN CASE WHEN brandKnown AND managerKnown THEN [1] ELSE [] END |
  CREATE (c:Club {id: $id, slug: $slug, slugKey: $slugKey, name: $name, description: $description,
    kind: $kind, visibility: $visibility, joinPolicy: $joinPolicy, brandId: $brandId, createdAt: $createdAt})
  FOREACH (host IN CASE WHEN b IS NULL THEN [] ELSE [b] END | CREATE (c)-[:HOSTED_BY]->(host))
  FOREACH (manager IN CASE WHEN m IS NULL THEN [] ELSE [m] END |
    CREATE (manager)-[:JOINED {role: $role, since: $since, verified: $verified, inKey: $inKey, roleKey: $roleKey}]->(c)))
RETURN brandKnown, managerKnown`

	// cypherLockClub locks a club and reads it, for UpdateClub.
	cypherLockClub = `
MATCH (c:Club {id: $id})
SET c._lock = true REMOVE c._lock
RETURN ` + clubFields + ` AS club`

	// cypherWriteClub writes a club that cypherLockClub locked and, when $visibilityChanged,
	// renews its event (renewEvent): what of its posts may be shown changed.
	cypherWriteClub = `
MATCH (c:Club {id: $id})
SET c.name = $name, c.description = $description, c.visibility = $visibility, c.joinPolicy = $joinPolicy
FOREACH (x IN CASE WHEN $visibilityChanged THEN [c] ELSE [] END |` + renewEvent + `)`

	cypherClubsByID = `
UNWIND $ids AS id
MATCH (c:Club {id: id})
RETURN ` + clubFields + ` AS club`

	cypherClubBySlug = `
MATCH (c:Club {slugKey: $slugKey})
RETURN ` + clubFields + ` AS club`

	cypherClubsOfBrands = `
UNWIND $ids AS id
MATCH (b:Brand {id: id})
RETURN id, COLLECT {
  MATCH (b)<-[:HOSTED_BY]-(c:Club)
  WITH c ORDER BY c.createdAt, c.id
  RETURN ` + clubFields + `
} AS clubs`

	// cypherJoinClub returns the outcome: "joined" (a member now or already), "noClub" or
	// "noMember". MERGE sets role, since, verified and the keys only on creation, so a
	// member keeps its place; the member's pending request goes either way.
	cypherJoinClub = lockMemberOf + `
OPTIONAL MATCH (c:Club {id: $clubId})
WITH m, c, CASE WHEN c IS NULL THEN 'noClub' WHEN m IS NULL THEN 'noMember' ELSE 'joined' END AS outcome
FOREACH (_ IN CASE WHEN outcome = 'joined' THEN [1] ELSE [] END |
  MERGE (m)-[j:JOINED]->(c)
  ON CREATE SET j.role = $role, j.since = $since, j.verified = $verified, j.inKey = $inKey, j.roleKey = $roleKey)
WITH m, c, outcome
OPTIONAL MATCH (m)-[r:REQUESTED_TO_JOIN]->(c)
WITH outcome, collect(r) AS requests
FOREACH (r IN requests | DELETE r)
RETURN outcome`

	cypherLeaveClub = lockMemberOf + `
MATCH (m)-[j:JOINED]->(:Club {id: $clubId})
DELETE j`

	// cypherRequestJoin returns the outcome: "requested" (pending now or already, with the
	// first message, time and key), "member" (in the club already), "noClub" or "noMember".
	cypherRequestJoin = lockMemberOf + `
OPTIONAL MATCH (c:Club {id: $clubId})
WITH m, c, CASE
  WHEN c IS NULL THEN 'noClub'
  WHEN m IS NULL THEN 'noMember'
  WHEN EXISTS { (m)-[:JOINED]->(c) } THEN 'member'
  ELSE 'requested' END AS outcome
FOREACH (_ IN CASE WHEN outcome = 'requested' THEN [1] ELSE [] END |
  MERGE (m)-[r:REQUESTED_TO_JOIN]->(c)
  ON CREATE SET r.message = $message, r.at = $at, r.inKey = $inKey)
RETURN outcome`

	// cypherJoinRequests reads the keys and messages of one page plus one request, to tell
	// whether another page follows: the keys of the club's list strictly between $from and
	// $to, in list order (at descending, then member id ascending), a seek of their range
	// index that stops after $limit (see cypherFollowers, and the hint's reason there).
	cypherJoinRequests = `
MATCH ()-[r:REQUESTED_TO_JOIN]->()
USING INDEX SEEK r:REQUESTED_TO_JOIN(inKey)
WHERE r.inKey > $from AND r.inKey < $to
WITH r ORDER BY r.inKey LIMIT $limit
RETURN r.inKey AS key, r.message AS message`

	// cypherDecideJoinRequest deletes the member's pending request and, when $approve, makes
	// the member a $role of the club since $at, with its keys, unless it is one already. It
	// returns how many requests it decided: no row when there was none.
	cypherDecideJoinRequest = lockMemberOf + `
MATCH (m)-[r:REQUESTED_TO_JOIN]->(c:Club {id: $clubId})
WITH m, c, collect(r) AS requests
FOREACH (r IN requests | DELETE r)
FOREACH (_ IN CASE WHEN $approve THEN [1] ELSE [] END |
  MERGE (m)-[j:JOINED]->(c)
  ON CREATE SET j.role = $role, j.since = $at, j.verified = false, j.inKey = $inKey, j.roleKey = $roleKey)
RETURN size(requests) AS decided`

	// cypherSetClubRole sets the role and moves the membership to the list of that role: the
	// role key is the key of the membership in the list of the club, whose owner, $clubId,
	// it begins with, under the owner of the role's list, $roleOwner (see clubListOwner).
	cypherSetClubRole = lockMemberOf + `
MATCH (m)-[j:JOINED]->(:Club {id: $clubId})
SET j.role = $role, j.roleKey = $roleOwner + substring(j.inKey, size($clubId))
RETURN count(j) AS changed`

	cypherClubMemberships = `
UNWIND $keys AS key
MATCH (:Member {id: key.memberId})-[j:JOINED]->(:Club {id: key.clubId})
RETURN key.clubId AS clubId, key.memberId AS memberId, j.role AS role, j.since AS since, j.verified AS verified`

	// cypherClubMembers and cypherClubRoleMembers read, for each request in $reqs (index
	// i, from and to), the keys, roles and verified flags of one page plus one membership, to
	// tell whether another page follows, of a club's members (of every role, by inKey, or
	// of one, by roleKey): the keys of the club's list strictly between from and to, in list
	// order (since descending, then member id ascending), a seek of their range index that
	// stops after $limit (see cypherFollowers, and the hint's reason there). A membership's
	// role and verified flag are read for the page's rows only, and so are, when asked
	// (community.ReadAhead), the member ($members) and its follow counts ($counts); else
	// they are null. An unknown club has no keys.
	cypherClubMembers = `
UNWIND $reqs AS req
RETURN req.i AS i, COLLECT {
  MATCH (o)-[j:JOINED]->()
  USING INDEX SEEK j:JOINED(inKey)
  WHERE j.inKey > req.from AND j.inKey < req.to
  WITH j, o ORDER BY j.inKey LIMIT $limit
  RETURN {key: j.inKey, role: j.role, verified: j.verified` + memberAhead + `}
} AS members`

	cypherClubRoleMembers = `
UNWIND $reqs AS req
RETURN req.i AS i, COLLECT {
  MATCH (o)-[j:JOINED]->()
  USING INDEX SEEK j:JOINED(roleKey)
  WHERE j.roleKey > req.from AND j.roleKey < req.to
  WITH j, o ORDER BY j.roleKey LIMIT $limit
  RETURN {key: j.roleKey, role: j.role, verified: j.verified` + memberAhead + `}
} AS members`

	cypherJoinedClubIDs = `
MATCH (:Member {id: $memberId})-[:JOINED]->(c:Club)
RETURN c.id AS id`

	cypherClubMemberCounts = `
UNWIND $ids AS id
MATCH (c:Club {id: id})
RETURN id, COUNT { (c)<-[:JOINED]-(:Member) } AS members`
)
