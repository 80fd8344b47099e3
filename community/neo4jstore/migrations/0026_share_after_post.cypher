// A share is never older than its post: SharePost stores it at the later of its time and
// the post's createdAt, and the feed relies on it. Shares stored before are moved to their
// post's createdAt when they are older, a batch at a time.
MATCH (:Member)-[s:SHARED]->(p:Post)
WHERE s.at < p.createdAt
WITH s, p LIMIT 10000
SET s.at = p.createdAt
RETURN count(s) AS changed
