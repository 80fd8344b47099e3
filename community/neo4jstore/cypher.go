package neo4jstore

// The Cypher of the store, one constant per statement, every value a parameter. Schema
// changes are not here but in migrations/.
//
// Several writes start with `SET m._lock = true REMOVE m._lock`: it changes nothing, but
// takes the member's write lock before anything is read, so that two transactions about the
// same member (two links, two unlinks, two profile updates) run one after the other instead
// of both acting on what they read before the other wrote.
//
// A member's handleKey is its handle in lower case (community.HandleKey), unique; its
// displayNameKey is its display name in lower case (toLower, here and in the migration that
// filled it in), in a range index. Both are written with the names they fold, so that
// SearchMembers finds a case-insensitive prefix of either by an index seek.

// memberFields projects a :Member node as memberFrom reads it.
const memberFields = `m ` + memberProjection

// memberProjection projects a member node's properties, as memberFrom reads them.
const memberProjection = `{.id, .handle, .displayName, .bio, .avatarUrl, .joinedAt}`

// followCountFields are the follow counts of m, served by its degrees.
const followCountFields = `COUNT { (m)<-[:FOLLOWS]-() } AS followers, COUNT { (m)-[:FOLLOWS]->() } AS following`

// followersPage and followingPage read one page of a member's follower or following list:
// the keys (see listKey) strictly between lo and hi, in list order, at most
// $followersLimit (or $followingLimit) of them, each as {key, member, followers,
// following}. The other member, the end of each relationship the seek read, is projected
// when $…Members and its follow counts read when $…Counts (community.ReadAhead); else they
// are null, and nothing but the index is read. The seek and its hint: see cypherFollowers.
// memberAhead is what a page of memberships reads ahead about each listed member o, as
// further fields of the page's maps: the member when $members, its follow counts when
// $counts (community.ReadAhead); else they are null.
const memberAhead = `, member: CASE WHEN $members THEN o ` + memberProjection + ` END,
    followers: CASE WHEN $counts THEN COUNT { (o)<-[:FOLLOWS]-() } END,
    following: CASE WHEN $counts THEN COUNT { (o)-[:FOLLOWS]->() } END`

const (
	followersPage = `COLLECT {
  MATCH (o)-[r:FOLLOWS]->()
  USING INDEX SEEK r:FOLLOWS(inKey)
  WHERE r.inKey > lo AND r.inKey < hi
  WITH r, o ORDER BY r.inKey LIMIT $followersLimit
  RETURN {key: r.inKey, member: CASE WHEN $followersMembers THEN o ` + memberProjection + ` END,
    followers: CASE WHEN $followersCounts THEN COUNT { (o)<-[:FOLLOWS]-() } END,
    following: CASE WHEN $followersCounts THEN COUNT { (o)-[:FOLLOWS]->() } END}
}`
	followingPage = `COLLECT {
  MATCH ()-[r:FOLLOWS]->(o)
  USING INDEX SEEK r:FOLLOWS(outKey)
  WHERE r.outKey > lo AND r.outKey < hi
  WITH r, o ORDER BY r.outKey LIMIT $followingLimit
  RETURN {key: r.outKey, member: CASE WHEN $followingMembers THEN o ` + memberProjection + ` END,
    followers: CASE WHEN $followingCounts THEN COUNT { (o)<-[:FOLLOWS]-() } END,
    following: CASE WHEN $followingCounts THEN COUNT { (o)-[:FOLLOWS]->() } END}
}`
)

const (
	cypherAppliedMigrations = `MATCH (g:Migration) RETURN g.id AS id`

	cypherRecordMigration = `
MERGE (g:Migration {id: $id})
ON CREATE SET g.appliedAt = datetime()`

	// cypherImportMembers creates members with their identities; $rows are memberRow maps.
	// The unique constraints refuse taken ids, handles and identities, and with them the
	// whole statement.
	cypherImportMembers = `
UNWIND $rows AS row
CREATE (m:Member {id: row.id, handle: row.handle, handleKey: row.handleKey,
  displayName: row.displayName, displayNameKey: toLower(row.displayName),
  bio: row.bio, avatarUrl: row.avatarUrl, joinedAt: row.joinedAt, deviceHashes: row.devices})
FOREACH (ident IN row.identities |
  CREATE (m)-[:IDENTIFIED_AS {linkedAt: ident.linkedAt}]->
         (:ExternalIdentity {provider: ident.provider, externalId: ident.externalId}))`

	// cypherLockMember locks a member and reads it, for UpdateMember.
	cypherLockMember = `
MATCH (m:Member {id: $id})
SET m._lock = true REMOVE m._lock
RETURN ` + memberFields + ` AS member`

	cypherWriteMember = `
MATCH (m:Member {id: $id})
SET m.handle = $handle, m.handleKey = $handleKey, m.displayName = $displayName,
    m.displayNameKey = toLower($displayName), m.bio = $bio, m.avatarUrl = $avatarUrl`

	cypherMembersByID = `
UNWIND $ids AS id
MATCH (m:Member {id: id})
RETURN ` + memberFields + ` AS member`

	cypherMemberByHandle = `
MATCH (m:Member {handleKey: $handleKey})
RETURN ` + memberFields + ` AS member`

	// cypherMemberByHandleAhead reads ahead (community.ReadAhead) the member's follow
	// counts and the first page, plus one, of its followers and of its followings
	// (followersPage and followingPage, from the start of each list; $…Limit 0 for none).
	cypherMemberByHandleAhead = `
MATCH (m:Member {handleKey: $handleKey})
WITH m, m.id + $keySeparator AS lo, m.id + $keyEnd AS hi
RETURN ` + memberFields + ` AS member, ` + followCountFields + `,
` + followersPage + ` AS followersPage,
` + followingPage + ` AS followingPage`

	// cypherSearchMembers reads up to $limit members whose handleKey starts with
	// $handlePrefix (by handleKey), then up to $limit members whose handle does not but whose
	// displayNameKey starts with the prefix in lower case (by displayNameKey, then id), and
	// keeps the first $limit of both in that order. Each part is a prefix seek in its index,
	// which gives its rows in order, so it stops after $limit members.
	cypherSearchMembers = `
CALL () {
    MATCH (m:Member)
    WHERE m.handleKey STARTS WITH $handlePrefix
    WITH m ORDER BY m.handleKey LIMIT $limit
    RETURN m, 0 AS part, m.handleKey AS key, m.id AS id
  UNION ALL
    MATCH (m:Member)
    WHERE m.displayNameKey STARTS WITH toLower($prefix) AND NOT m.handleKey STARTS WITH $handlePrefix
    WITH m ORDER BY m.displayNameKey, m.id LIMIT $limit
    RETURN m, 1 AS part, m.displayNameKey AS key, m.id AS id
}
WITH m ORDER BY part, key, id LIMIT $limit
RETURN ` + memberFields + ` AS member`

	cypherIdentitiesOf = `
UNWIND $ids AS id
MATCH (m:Member {id: id})
RETURN id, COLLECT {
  MATCH (m)-[r:IDENTIFIED_AS]->(i:ExternalIdentity)
  WITH i, r ORDER BY r.linkedAt, i.provider
  RETURN {provider: i.provider, externalId: i.externalId, linkedAt: r.linkedAt}
} AS identities`

	// cypherLinkIdentity returns the outcome: "new" (linked now), "linked" (the member's
	// already), "taken" (another member's) or "provider" (the member has another identity
	// of that provider); no row for an unknown member.
	cypherLinkIdentity = `
MATCH (m:Member {id: $memberId})
SET m._lock = true REMOVE m._lock
WITH m
OPTIONAL MATCH (owner:Member)-[:IDENTIFIED_AS]->(:ExternalIdentity {provider: $provider, externalId: $externalId})
WITH m, owner, EXISTS { (m)-[:IDENTIFIED_AS]->(:ExternalIdentity {provider: $provider}) } AS hasProvider
WITH m, CASE
  WHEN owner = m THEN 'linked'
  WHEN owner IS NOT NULL THEN 'taken'
  WHEN hasProvider THEN 'provider'
  ELSE 'new' END AS outcome
FOREACH (_ IN CASE WHEN outcome = 'new' THEN [1] ELSE [] END |
  CREATE (m)-[:IDENTIFIED_AS {linkedAt: $linkedAt}]->
         (:ExternalIdentity {provider: $provider, externalId: $externalId}))
RETURN outcome`

	// cypherUnlinkIdentity returns the outcome: "unlinked", "none" (no identity of that
	// provider) or "last" (the member's only identity, kept); no row for an unknown member.
	// The identity node goes too, so that it can be linked again later.
	cypherUnlinkIdentity = `
MATCH (m:Member {id: $memberId})
SET m._lock = true REMOVE m._lock
WITH m
OPTIONAL MATCH (m)-[:IDENTIFIED_AS]->(i:ExternalIdentity {provider: $provider})
WITH i, COUNT { (m)-[:IDENTIFIED_AS]->() } AS identities
WITH i, CASE WHEN i IS NULL THEN 'none' WHEN identities < 2 THEN 'last' ELSE 'unlinked' END AS outcome
FOREACH (x IN CASE WHEN outcome = 'unlinked' THEN [i] ELSE [] END | DETACH DELETE x)
RETURN outcome`

	// cypherFollow keeps the first time of a follow: MERGE sets since, and the keys that
	// place the follow in its members' lists (see listKey), only on creation.
	cypherFollow = `
OPTIONAL MATCH (a:Member {id: $followerId})
OPTIONAL MATCH (b:Member {id: $followeeId})
FOREACH (_ IN CASE WHEN a IS NOT NULL AND b IS NOT NULL THEN [1] ELSE [] END |
  MERGE (a)-[r:FOLLOWS]->(b) ON CREATE SET r.since = $since, r.inKey = $inKey, r.outKey = $outKey)
RETURN a IS NOT NULL AS followerKnown, b IS NOT NULL AS followeeKnown`

	cypherUnfollow = `
OPTIONAL MATCH (a:Member {id: $followerId})
OPTIONAL MATCH (b:Member {id: $followeeId})
OPTIONAL MATCH (a)-[r:FOLLOWS]->(b)
DELETE r
RETURN a IS NOT NULL AS followerKnown, b IS NOT NULL AS followeeKnown`

	// cypherImportFollows skips unknown members and self-follows; MERGE skips follows that
	// exist, including those earlier in the same batch, and keeps their first time and keys.
	cypherImportFollows = `
UNWIND $rows AS row
MATCH (a:Member {id: row.followerId})
MATCH (b:Member {id: row.followeeId})
WHERE a <> b
MERGE (a)-[r:FOLLOWS]->(b)
ON CREATE SET r.since = row.since, r.inKey = row.inKey, r.outKey = row.outKey`

	// The follower and following lists read, for each request in $reqs (index i, memberId,
	// from and to), one page plus one edge to tell whether another page follows (see
	// followersPage), and the length of the whole list, from the member's degree. The page
	// is the keys strictly between from (the key of the position it starts after, or the
	// member's id and keySeparator) and to (the member's id and keyEnd): a seek of the
	// range index of the keys, which gives them in list order and stops after $limit, so a
	// page reads about as many relationships as it returns, however many the member has
	// (TestFollowListPlans). The hint holds the planner to the seek: without it, after a
	// bulk import into an emptied graph, it was seen to plan a scan of the whole index in
	// order, filtered, which reads every key before the member's. A hint that cannot be
	// followed, while an index is not online, is only a warning, and the statement answers
	// by a scan (unless the server sets dbms.cypher.hints_error).

	cypherFollowers = `
UNWIND $reqs AS req
MATCH (m:Member {id: req.memberId})
WITH req, m, req.from AS lo, req.to AS hi
RETURN req.i AS i, COUNT { (m)<-[:FOLLOWS]-() } AS total, ` + followersPage + ` AS keys`

	cypherFollowing = `
UNWIND $reqs AS req
MATCH (m:Member {id: req.memberId})
WITH req, m, req.from AS lo, req.to AS hi
RETURN req.i AS i, COUNT { (m)-[:FOLLOWS]->() } AS total, ` + followingPage + ` AS keys`

	// cypherMutualFollows orders by the time of the member's follow of the other. It stays a
	// two-hop pattern, with the cursor and the top-k cut applied to every follow of the member
	// that is followed back: those are no range of one index, as followers and followings
	// are, so it reads all of the member's followings to find them.
	cypherMutualFollows = `
UNWIND $reqs AS req
MATCH (m:Member {id: req.memberId})
RETURN req.i AS i, COUNT { (m)-[:FOLLOWS]->(other)-[:FOLLOWS]->(m) } AS total, COLLECT {
  MATCH (m)-[r:FOLLOWS]->(other)-[:FOLLOWS]->(m)
  WHERE req.afterSince IS NULL OR r.since < req.afterSince OR (r.since = req.afterSince AND other.id > req.afterId)
  WITH other.id AS id, r.since AS since ORDER BY since DESC, id ASC LIMIT $limit
  RETURN {id: id, since: since}
} AS edges`

	cypherFollowCounts = `
UNWIND $ids AS id
MATCH (m:Member {id: id})
RETURN id, ` + followCountFields

	cypherFollowStates = `
MATCH (v:Member {id: $viewerId})
UNWIND $ids AS id
MATCH (o:Member {id: id})
RETURN id, EXISTS { (v)-[:FOLLOWS]->(o) } AS viewerFollows, EXISTS { (o)-[:FOLLOWS]->(v) } AS followsViewer`

	// cypherSuggestedFollows counts, for each member, one path per following that follows a
	// candidate: a member follows another at most once, so count(*) is how many followings
	// lead to it.
	cypherSuggestedFollows = `
UNWIND $ids AS memberId
MATCH (me:Member {id: memberId})
RETURN memberId AS id, COLLECT {
  MATCH (me)-[:FOLLOWS]->(:Member)-[:FOLLOWS]->(c:Member)
  WHERE c <> me AND NOT EXISTS { (me)-[:FOLLOWS]->(c) }
  WITH c, count(*) AS via
  WITH c.id AS id, via, COUNT { (c)<-[:FOLLOWS]-() } AS followers
  ORDER BY via DESC, followers DESC, id ASC
  LIMIT $limit
  RETURN {id: id, via: via, followers: followers}
} AS suggestions`

	cypherPing = `RETURN 1`
)
