package neo4jstore

// The Cypher of the bulk loaders, one variable per statement, every value a parameter.
// Each is one statement over a whole batch, and writes for each row exactly what the
// single-row statement it stands for (cypherJoinClub, cypherCreatePost for a new post,
// cypherReact) writes, so that every other statement reads imported data as it reads the
// rest.
//
// The rows come deduplicated and sorted from Go (see bulk.go): the first of equal rows is
// the one kept, and the locks a statement takes first (members for memberships, targets
// for reactions) are taken in the order of their ids, so that two imports seldom wait for
// each other in opposite orders. A deadlock that remains is a transient error, on which
// the driver runs the whole transaction again.

var (
	// cypherImportClubMembers puts members in clubs: $rows are maps of clubId, memberId,
	// role, since, verified and the keys (setMembershipKeys), sorted by memberId, one per
	// (clubId, memberId). Rows of an unknown club or member are dropped by the MATCHes. Each
	// member is locked first, as cypherJoinClub does; MERGE sets role, since, verified and
	// the keys only on creation, so that a member already in the club keeps its place, and
	// the member's pending request to join goes either way.
	cypherImportClubMembers = `
UNWIND $rows AS row
MATCH (m:Member {id: row.memberId})
SET m._lock = true REMOVE m._lock
WITH m, row
MATCH (c:Club {id: row.clubId})
MERGE (m)-[j:JOINED]->(c)
ON CREATE SET j.role = row.role, j.since = row.since, j.verified = row.verified, j.inKey = row.inKey, j.roleKey = row.roleKey
WITH m, c
OPTIONAL MATCH (m)-[r:REQUESTED_TO_JOIN]->(c)
DELETE r`

	// cypherImportPosts creates posts by their authors in their clubs, with every counter
	// zero, at version 1, each with its event (renewEvent): $rows are postRow maps, whose
	// counters it ignores, with no id twice. It first counts the rows whose id is taken by a
	// stored post or comment, whether or not the row would be skipped, and creates nothing
	// unless there are none; the caller then refuses the batch. Rows of an unknown club or
	// author are dropped by the MATCHes. The unique constraint on Post.id still refuses,
	// with the whole statement, an id that a concurrent import takes between the count and
	// the CREATE. The properties are those postRow gives CreatePost, written out rather
	// than SET p = row, because a map of unknown keys makes the planner buffer every row
	// twice (Eager) for fear that it writes what the MATCHes read.
	cypherImportPosts = `
UNWIND $rows AS row
WITH count(CASE WHEN EXISTS { MATCH (:Post {id: row.id}) } THEN 1 END) AS takenByPost,
  count(CASE WHEN EXISTS { MATCH (:Comment {id: row.id}) } THEN 1 END) AS takenByComment
CALL (takenByPost, takenByComment) {
  UNWIND CASE WHEN takenByPost + takenByComment = 0 THEN $rows ELSE [] END AS row
  MATCH (c:Club {id: row.clubId})
  MATCH (m:Member {id: row.authorId})
  CREATE (m)-[:AUTHORED]->(x:Post {id: row.id, clubId: row.clubId, authorId: row.authorId,
    title: row.title, body: row.body, tags: row.tags, createdAt: row.createdAt, editedAt: row.editedAt,
    deletedAt: row.deletedAt, status: row.status, listed: row.listed,
    ` + zeroCounters + `, version: 1})-[:POSTED_IN]->(c)` + renewEvent + `
}
RETURN takenByPost, takenByComment`

	// cypherImportReactions stores reactions and counts them on their targets. $rows has
	// one map per target, sorted by targetId: targetId and reactions, a list of maps of
	// memberId, kind, counter (the property that counts the kind) and at, with no two for
	// one member and kind. A target is skipped, as cypherReact refuses it, when it is
	// unknown, or is a post that is not listed or a comment whose post is not; a
	// reaction, when its member is unknown or it is stored already. Each target is locked
	// before its reactions are read, as cypherReact locks it before its MERGE, so that no
	// other write adds a reaction to it between the check and the CREATE; the rows being
	// distinct, every reaction created is new, and each target's counter of each kind gets
	// all of its new reactions in one SET. (MERGE with the _new mark of cypherReact does the
	// same but, with the mark written and read back, takes about a fifth longer.) Each post
	// among the targets then has its version raised by the number of its new reactions, and
	// its event renewed once (see touchPost); comments change no post.
	cypherImportReactions = `
UNWIND $rows AS row
OPTIONAL MATCH (post:Post {id: row.targetId})
OPTIONAL MATCH (comment:Comment {id: row.targetId})
WITH row, coalesce(post, comment) AS t
WHERE t IS NOT NULL AND CASE
  WHEN t:Post THEN t.listed
  ELSE EXISTS { (t)-[:ON]->(:Post {listed: true}) } END
SET t._lock = true REMOVE t._lock
WITH t, row
UNWIND row.reactions AS reaction
MATCH (m:Member {id: reaction.memberId})
WHERE NOT EXISTS { (m)-[:REACTED {kind: reaction.kind}]->(t) }
CREATE (m)-[:REACTED {kind: reaction.kind, at: reaction.at}]->(t)
WITH t, reaction.counter AS counter, count(*) AS created
SET t[counter] = coalesce(t[counter], 0) + created
WITH t, sum(created) AS created
FOREACH (x IN CASE WHEN t:Post THEN [t] ELSE [] END |
  SET x.version = coalesce(x.version, 1) + created` + renewEvent + `)`
)
