package neo4jstore

import (
	"fmt"

	"quanzi/community"
)

// The Cypher of posts, comments, reactions, shares and feeds, one variable per statement,
// every value a parameter.
//
// A post is (:Member)-[:AUTHORED]->(:Post)-[:POSTED_IN]->(:Club); its clubId and authorId
// properties say the same, so that the indexes on (clubId, createdAt) and (authorId,
// createdAt) find a club's or a member's posts in a range of time, newest first. Every
// comment, reply or not, is (:Member)-[:WROTE]->(:Comment)-[:ON]->(:Post), and a reply is
// also (:Comment)-[:REPLIES_TO]->(:Comment); postId and parentId say the same. A reaction
// is (:Member)-[:REACTED {kind, at}]->(:Post|:Comment), at most one of each kind, and a
// share (:Member)-[:SHARED {id, at, channel}]->(:Post).
//
// The counters are properties of the post or comment they count (commentCount, replyCount,
// and one for each row of community.ReactionKinds and community.ShareChannels, named after
// it: reactionLike, …, shareWechat, …, shareInApp; see counterProperty), changed by the
// statement that changes what they count, so that ranking by them reads no relationships.
// A counter of a kind or channel added after a post was stored is absent from it, and
// reads as zero. Every statement that reads what decides a write to a post or comment
// (whether the post is listed, whether a reaction exists) locks it first (see cypher.go),
// so that two writes to one target run one after the other. Comment writes lock the
// comment's post before any comment, so that two of them never wait for each other in
// opposite orders.
//
// A post's version counts the writes that changed it or its counters: each statement that
// makes such a change raises it and renews the post's outbox event in the same statement
// (touchPost, see outbox_cypher.go). A post stored before versions were kept has no version
// property, and counts as version 1.
//
// A post's listed property is community.Post.Listed of its status, written with the status
// by every statement that writes either; statements select posts by it, never by status.
//
// A share is never older than its post: cypherSharePost stores it at the later of its
// time and the post's createdAt. A post therefore stands in a feed at its creation or at a
// share after it, which lets cypherFeed seek each source from the cursor (see there).
//
// Orders that start with a property an index seek holds fixed (ORDER BY p.clubId DESC,
// p.createdAt DESC, … after MATCH (p:Post {clubId: …})) change nothing but let the planner
// read the index on (clubId, createdAt), or (authorId, createdAt), in order and stop after
// $limit posts (a PartialTop) instead of sorting all of a club's or a member's posts.
//
// Fixed values (states, the IN_APP channel, PUBLIC, the kind of outbox event) are
// parameters too, filled from the community package's constants by stateParams; the name
// of the counter that a reaction or share changes is a parameter too ($counter), taken
// from reactionCounters or shareCounters, never from input.
//
// What depends on the community package's tables (the counters' names, the weights of
// engagement) is written into the statements when the package is initialised, from those
// tables only: the statements are variables built once, never from input.

// postFields projects a :Post node as postFrom reads it; a post stored before versions
// were kept reads as version 1.
var postFields = `p {.id, .clubId, .authorId, .title, .body, .tags, .createdAt, .editedAt, .deletedAt, .status,
  .commentCount, ` + projection(reactionCounters) + `,
  ` + projection(shareCounters) + `, version: coalesce(p.version, 1)}`

// commentFields projects a :Comment node as commentFrom reads it.
var commentFields = `c {.id, .postId, .authorId, .parentId, .body, .createdAt, .editedAt, .deletedAt, .replyCount,
  ` + projection(reactionCounters) + `}`

// reactionsOf and sharesOf are the post p's reactions of every kind and shares on every
// channel, as community.PostCounts holds them.
var (
	reactionsOf = sumOf("p", reactionCounters)
	sharesOf    = sumOf("p", shareCounters)
)

// engagement is community.Post.Engagement of the post p, by community.EngagementWeights.
var engagement = fmt.Sprintf(`(%d * %s + %d * p.commentCount + %d * %s)`,
	community.EngagementWeights.Reaction, reactionsOf, community.EngagementWeights.Comment,
	community.EngagementWeights.Share, sharesOf)

// zeroCounters are a new post's counters, all zero, as properties of a map or a node.
var zeroCounters = `commentCount: 0, ` + zeros(reactionCounters) + `, ` + zeros(shareCounters)

// visibleTo holds when the post p is in a club whose ids are in joined, or in a public club.
const visibleTo = `(p.clubId IN joined OR EXISTS { (p)-[:POSTED_IN]->(:Club {visibility: $public}) })`

var (
	// cypherCreatePost creates the post $post (a postRow, at version 1) by its author in its
	// club, with its event; nothing is written when either is unknown. The unique
	// constraint on id refuses a taken id.
	cypherCreatePost = `
OPTIONAL MATCH (c:Club {id: $clubId})
OPTIONAL MATCH (m:Member {id: $authorId})
WITH c, m, EXISTS { MATCH (:Comment {id: $post.id}) } AS taken
FOREACH (_ IN CASE WHEN c IS NOT NULL AND m IS NOT NULL AND NOT taken THEN [1] ELSE [] END |
  CREATE (m)-[:AUTHORED]->(x:Post $post)-[:POSTED_IN]->(c)` + renewEvent + `)
WITH c, m, taken
OPTIONAL MATCH (p:Post {id: $post.id}) WHERE c IS NOT NULL AND m IS NOT NULL AND NOT taken
RETURN c IS NOT NULL AS clubKnown, m IS NOT NULL AS authorKnown, taken, CASE WHEN p IS NULL THEN null ELSE ` + postFields + ` END AS post`

	// cypherEditPost replaces a listed post's content and touches it (touchPost); edited
	// says whether it was listed. No row for an unknown post.
	cypherEditPost = `
MATCH (p:Post {id: $id})
SET p._lock = true REMOVE p._lock
WITH p, coalesce(p.listed, false) AS edited
FOREACH (x IN CASE WHEN edited THEN [p] ELSE [] END |
  SET x.title = $title, x.body = $body, x.tags = $tags, x.editedAt = $at` + touchPost + `)
RETURN edited, ` + postFields + ` AS post`

	// cypherDeletePost marks a post deleted at $at, listed as a deleted post is
	// ($deletedListed), and touches it (touchPost), unless it is deleted already. No row
	// for an unknown post.
	cypherDeletePost = `
MATCH (p:Post {id: $id})
SET p._lock = true REMOVE p._lock
WITH p
FOREACH (x IN CASE WHEN p.status <> $deleted THEN [p] ELSE [] END |
  SET x.status = $deleted, x.listed = $deletedListed, x.deletedAt = $at` + touchPost + `)
RETURN ` + postFields + ` AS post`

	// cypherScanPosts reads up to $limit posts with ids after $afterId, in id order: the
	// range index of the unique constraint on id gives them in order from $afterId on.
	cypherScanPosts = `
MATCH (p:Post)
WHERE p.id > $afterId
WITH p ORDER BY p.id LIMIT $limit
RETURN ` + postFields + ` AS post`

	cypherPostsByID = `
UNWIND $ids AS id
MATCH (p:Post {id: id})
RETURN ` + postFields + ` AS post`

	// cypherClubPostsNew reads, for each request of $reqs, one page plus one post of its
	// club's listed posts, newest first, then by id, strictly after (req.upTo,
	// req.afterId), or from req.upTo on (a time after every post) when req.afterId is
	// null. The bound on createdAt lets the index on (clubId, createdAt) seek the page's
	// start and give the order (see the top of this file).
	cypherClubPostsNew = `
UNWIND $reqs AS req
CALL (req) {
  MATCH (p:Post {clubId: req.clubId})
  WHERE p.createdAt <= req.upTo AND p.listed
    AND (req.afterId IS NULL OR p.createdAt < req.upTo OR p.id > req.afterId)
  WITH p ORDER BY p.clubId DESC, p.createdAt DESC, p.id ASC LIMIT $limit
  RETURN collect(` + postFields + `) AS posts
}
RETURN req.i AS i, posts`

	// cypherClubPostsTop reads, for each request of $reqs, one page plus one post of its
	// club's listed posts created at or after $since, by engagement, then newest first,
	// then by id, strictly after (req.afterScore, req.afterAt, req.afterId), or from the
	// start when req.afterId is null.
	cypherClubPostsTop = `
UNWIND $reqs AS req
CALL (req) {
  MATCH (p:Post {clubId: req.clubId})
  WHERE p.createdAt >= $since AND p.listed
  WITH p, ` + engagement + ` AS score
  WHERE req.afterId IS NULL OR score < req.afterScore OR (score = req.afterScore
    AND (p.createdAt < req.afterAt OR (p.createdAt = req.afterAt AND p.id > req.afterId)))
  WITH p ORDER BY score DESC, p.createdAt DESC, p.id ASC LIMIT $limit
  RETURN collect(` + postFields + `) AS posts
}
RETURN req.i AS i, posts`

	// cypherRecentPostCounts reads, for each club of $ids, what HOT ranks of its listed
	// posts created at or after $since, newest first, then by id, at most $limit: the id,
	// the time and the counters summed as community.PostCounts holds them, never the
	// title, body or tags.
	cypherRecentPostCounts = `
UNWIND $ids AS id
CALL (id) {
  MATCH (p:Post {clubId: id})
  WHERE p.createdAt >= $since AND p.listed
  WITH p ORDER BY p.clubId DESC, p.createdAt DESC, p.id ASC LIMIT $limit
  RETURN collect({id: p.id, createdAt: p.createdAt,
    reactions: ` + reactionsOf + `, comments: p.commentCount, shares: ` + sharesOf + `}) AS counts
}
RETURN id, counts`

	// cypherAddComment creates the comment $comment (a commentRow) and counts it on its post
	// and, for a reply, on its parent, and touches the post (touchPost). It returns the
	// outcome: "added", "taken" (a post has the comment's id: posts and comments share one
	// space of ids, as targets of reactions), "noPost" (unknown or unlisted), "noAuthor" or
	// "noParent" (not a comment of the post).
	cypherAddComment = `
OPTIONAL MATCH (p:Post {id: $postId})
SET p._lock = true REMOVE p._lock
WITH p
OPTIONAL MATCH (m:Member {id: $authorId})
OPTIONAL MATCH (parent:Comment {id: $parentId})-[:ON]->(p)
WITH p, m, parent, CASE
  WHEN EXISTS { MATCH (:Post {id: $comment.id}) } THEN 'taken'
  WHEN p IS NULL OR NOT coalesce(p.listed, false) THEN 'noPost'
  WHEN m IS NULL THEN 'noAuthor'
  WHEN $parentId IS NOT NULL AND parent IS NULL THEN 'noParent'
  ELSE 'added' END AS outcome
FOREACH (_ IN CASE WHEN outcome = 'added' THEN [1] ELSE [] END |
  CREATE (m)-[:WROTE]->(c:Comment $comment)-[:ON]->(p)
  SET p.commentCount = p.commentCount + 1
  FOREACH (x IN CASE WHEN parent IS NULL THEN [] ELSE [parent] END |
    CREATE (c)-[:REPLIES_TO]->(x)
    SET x.replyCount = x.replyCount + 1))
FOREACH (x IN CASE WHEN outcome = 'added' THEN [p] ELSE [] END |` + touchPost + `)
RETURN outcome`

	// cypherEditComment replaces the body of a comment that is not deleted; edited says
	// whether it was not. No row for an unknown comment.
	cypherEditComment = `
MATCH (c:Comment {id: $id})
SET c._lock = true REMOVE c._lock
WITH c, c.deletedAt IS NULL AS edited
FOREACH (x IN CASE WHEN edited THEN [c] ELSE [] END | SET x.body = $body, x.editedAt = $at)
RETURN edited, ` + commentFields + ` AS comment`

	// cypherDeleteComment marks a comment deleted at $at, unless it is already, and takes it
	// off its post's and parent's counts, and touches the post (touchPost); the body stays.
	// The post's lock covers its comments. No row for an unknown comment.
	cypherDeleteComment = `
MATCH (c:Comment {id: $id})-[:ON]->(p:Post)
SET p._lock = true REMOVE p._lock
WITH c, p, c.deletedAt IS NULL AS deleting
OPTIONAL MATCH (c)-[:REPLIES_TO]->(parent:Comment)
FOREACH (_ IN CASE WHEN deleting THEN [1] ELSE [] END |
  SET c.deletedAt = $at, p.commentCount = p.commentCount - 1
  FOREACH (x IN CASE WHEN parent IS NULL THEN [] ELSE [parent] END |
    SET x.replyCount = x.replyCount - 1))
FOREACH (x IN CASE WHEN deleting THEN [p] ELSE [] END |` + touchPost + `)
RETURN ` + commentFields + ` AS comment`

	// cypherTargets says what each of $ids names: a post, or a comment with its post, and
	// the club and author of either. No row for an id that names neither.
	cypherTargets = `
UNWIND $ids AS id
OPTIONAL MATCH (p:Post {id: id})-[:POSTED_IN]->(pc:Club)
OPTIONAL MATCH (c:Comment {id: id})
OPTIONAL MATCH (cp:Post {id: c.postId})-[:POSTED_IN]->(cc:Club)
WITH id, p, pc, c, cp, cc WHERE p IS NOT NULL OR c IS NOT NULL
RETURN id, p IS NULL AS comment, coalesce(p.id, cp.id) AS postId, coalesce(pc.id, cc.id) AS clubId,
  coalesce(p.authorId, c.authorId) AS authorId`

	cypherCommentsByID = `
UNWIND $ids AS id
MATCH (c:Comment {id: id})
RETURN ` + commentFields + ` AS comment`

	// cypherComments reads, for each parent in $parents (a post or a comment), one page plus
	// one comment: a post's top-level comments, or a comment's replies, oldest first, then
	// by id, strictly after ($afterAt, $afterId), or from the start when $afterAt is null.
	// $limit is the same for every parent, so that the subquery's top-k sort can use it.
	// Unknown parents have no row.
	cypherComments = `
UNWIND $parents AS parent
OPTIONAL MATCH (post:Post {id: parent})
OPTIONAL MATCH (comment:Comment {id: parent})
WITH parent, coalesce(post, comment) AS x
WHERE x IS NOT NULL
RETURN parent, COLLECT {
  MATCH (c:Comment)-[r:ON|REPLIES_TO]->(x)
  WHERE (type(r) = 'REPLIES_TO' OR c.parentId IS NULL)
    AND ($afterAt IS NULL OR c.createdAt > $afterAt OR (c.createdAt = $afterAt AND c.id > $afterId))
  WITH c ORDER BY c.createdAt ASC, c.id ASC LIMIT $limit
  RETURN ` + commentFields + `
} AS comments`

	// cypherReact MERGEs the member's reaction of $kind to the target, a post or a comment,
	// which is locked first, so that of two equal reactions one creates it and the other
	// finds it. A reaction marked _new was created by this statement: only then is it
	// counted, and a post touched (touchPost); the mark is removed before the transaction
	// ends. A reaction to a comment changes no post. It returns the outcome:
	// "reacted" (now or already), "noTarget", "noMember" or "deleted" (the post, or the
	// comment's post, is not listed).
	cypherReact = `
OPTIONAL MATCH (post:Post {id: $targetId})
OPTIONAL MATCH (comment:Comment {id: $targetId})
WITH coalesce(post, comment) AS t
SET t._lock = true REMOVE t._lock
WITH t
OPTIONAL MATCH (m:Member {id: $memberId})
OPTIONAL MATCH (t)-[:ON]->(commented:Post)
WITH t, m, CASE
  WHEN t IS NULL THEN 'noTarget'
  WHEN m IS NULL THEN 'noMember'
  WHEN t:Post AND NOT coalesce(t.listed, false) THEN 'deleted'
  WHEN t:Comment AND NOT coalesce(commented.listed, false) THEN 'deleted'
  ELSE 'reacted' END AS outcome
FOREACH (_ IN CASE WHEN outcome = 'reacted' THEN [1] ELSE [] END |
  MERGE (m)-[r:REACTED {kind: $kind}]->(t)
  ON CREATE SET r.at = $at, r._new = true)
WITH t, m, outcome
OPTIONAL MATCH (m)-[r:REACTED {kind: $kind}]->(t)
WHERE outcome = 'reacted'
WITH t, r, outcome, coalesce(r._new, false) AS created
REMOVE r._new
FOREACH (x IN CASE WHEN created THEN [t] ELSE [] END | SET x[$counter] = coalesce(x[$counter], 0) + 1)
FOREACH (x IN CASE WHEN created AND t:Post THEN [t] ELSE [] END |` + touchPost + `)
RETURN outcome`

	// cypherUnreact deletes the member's reaction of $kind to the target, if there is one,
	// takes it off the target's count and, for a post, touches it (touchPost).
	cypherUnreact = `
OPTIONAL MATCH (post:Post {id: $targetId})
OPTIONAL MATCH (comment:Comment {id: $targetId})
WITH coalesce(post, comment) AS t
SET t._lock = true REMOVE t._lock
WITH t
MATCH (:Member {id: $memberId})-[r:REACTED {kind: $kind}]->(t)
DELETE r
SET t[$counter] = coalesce(t[$counter], 0) - 1
FOREACH (x IN CASE WHEN t:Post THEN [t] ELSE [] END |` + touchPost + `)`

	cypherViewerReactions = `
MATCH (m:Member {id: $memberId})
UNWIND $ids AS id
OPTIONAL MATCH (post:Post {id: id})
OPTIONAL MATCH (comment:Comment {id: id})
WITH m, id, coalesce(post, comment) AS t
MATCH (m)-[r:REACTED]->(t)
RETURN id, collect(r.kind) AS kinds`

	// cypherSharePost records the share at the later of $at and the post's createdAt,
	// counts it on the post's $counter and touches the post (touchPost). It returns the
	// outcome: "shared", "noPost" (unknown or unlisted) or "noMember". The unique
	// constraint on the share's id refuses a taken id.
	cypherSharePost = `
OPTIONAL MATCH (p:Post {id: $postId})
SET p._lock = true REMOVE p._lock
WITH p
OPTIONAL MATCH (m:Member {id: $memberId})
WITH p, m, CASE
  WHEN p IS NULL OR NOT coalesce(p.listed, false) THEN 'noPost'
  WHEN m IS NULL THEN 'noMember'
  ELSE 'shared' END AS outcome
FOREACH (_ IN CASE WHEN outcome = 'shared' THEN [1] ELSE [] END |
  CREATE (m)-[:SHARED {id: $id, at: CASE WHEN $at < p.createdAt THEN p.createdAt ELSE $at END, channel: $channel}]->(p)
  SET p[$counter] = coalesce(p[$counter], 0) + 1)
FOREACH (x IN CASE WHEN outcome = 'shared' THEN [p] ELSE [] END |` + touchPost + `)
RETURN outcome`

	// cypherFeed reads one page plus one item of a member's feed as it stood at $asOf.
	//
	// An activity is the creation of a post by a followed member or in a joined club (at
	// createdAt), or an IN_APP share by a followed member (at the share's time); a listed
	// post stands in the feed at its newest activity up to $asOf. A page starts strictly
	// after ($afterAt, $afterId), or at the start when $afterAt is null; $upTo is the
	// earlier of $afterAt and $asOf.
	//
	// Each source gives the posts that stand, in the feed, at one of its activities after
	// the cursor, and stops after $limit of them: a post among the page's first $limit has
	// fewer than $limit posts before it in any one source. Because a share is never older
	// than its post, a post with a followed member's IN_APP share up to $asOf stands at its
	// newest such share (a share wins a tie with the creation; of equal shares, the sharer
	// with the least id), and any other post at its creation. So the creation sources keep
	// the posts without such a share, each seeking a followed member's or a joined club's
	// posts from the cursor on, newest first, in the index on (authorId, createdAt) or
	// (clubId, createdAt), and reading no further than the page needs; and the share source
	// takes each shared post at its newest share up to $asOf, and keeps it if that is after
	// the cursor.
	cypherFeed = `
MATCH (me:Member {id: $memberId})
WITH me, COLLECT { MATCH (me)-[:JOINED]->(c:Club) RETURN c.id } AS joined
CALL (me, joined) {
    MATCH (me)-[:FOLLOWS]->(a:Member)
    CALL (me, a, joined) {
      MATCH (p:Post {authorId: a.id})
      WHERE p.createdAt <= $upTo AND p.listed AND ` + createdAfterCursor + ` AND ` + visibleTo + `
        AND NOT ` + sharedToMe + `
      WITH p ORDER BY p.authorId DESC, p.createdAt DESC, p.id ASC LIMIT $limit
      RETURN p.id AS postId, p.createdAt AS at, null AS sharedBy
    }
    RETURN postId, at, sharedBy
  UNION ALL
    UNWIND joined AS clubId
    CALL (me, clubId) {
      MATCH (p:Post {clubId: clubId})
      WHERE p.createdAt <= $upTo AND p.listed AND ` + createdAfterCursor + `
        AND NOT ` + sharedToMe + `
      WITH p ORDER BY p.clubId DESC, p.createdAt DESC, p.id ASC LIMIT $limit
      RETURN p.id AS postId, p.createdAt AS at, null AS sharedBy
    }
    RETURN postId, at, sharedBy
  UNION ALL
    MATCH (me)-[:FOLLOWS]->(f:Member)-[s:SHARED {channel: $inApp}]->(p:Post)
    WHERE s.at <= $asOf AND p.listed AND ` + visibleTo + `
    WITH p.id AS postId, s.at AS at, f.id AS sharer ORDER BY at DESC, sharer ASC
    WITH postId, head(collect({at: at, sharedBy: sharer})) AS newest
    WITH postId, newest.at AS at, newest.sharedBy AS sharedBy
    WHERE $afterAt IS NULL OR at < $afterAt OR (at = $afterAt AND postId > $afterId)
    WITH postId, at, sharedBy ORDER BY at DESC, postId ASC LIMIT $limit
    RETURN postId, at, sharedBy
}
WITH DISTINCT postId, at, sharedBy
WITH postId, at, sharedBy ORDER BY at DESC, postId ASC LIMIT $limit
RETURN postId, at, sharedBy`
)

// createdAfterCursor holds when the creation of the post p, at or before $upTo, comes
// after the cursor of cypherFeed.
const createdAfterCursor = `($afterAt IS NULL OR p.createdAt < $afterAt OR p.id > $afterId)`

// sharedToMe holds when a member that me follows shared the post p IN_APP at or before
// $asOf: p then stands in me's feed at such a share, not at its creation.
const sharedToMe = `EXISTS { (me)-[:FOLLOWS]->(:Member)-[s:SHARED {channel: $inApp}]->(p) WHERE s.at <= $asOf }`
