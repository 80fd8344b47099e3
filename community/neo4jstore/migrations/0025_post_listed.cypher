// Posts say whether they are listed (community.Post.Listed) in a listed property, which
// every write of a post's status sets and every statement selects by. Posts stored before
// get theirs, a batch at a time: then the only listed status was PUBLISHED. No index: each
// statement that selects by it seeks a post by id, club or author first.
MATCH (p:Post)
WHERE p.listed IS NULL
WITH p LIMIT 10000
SET p.listed = coalesce(p.status = 'PUBLISHED', false)
RETURN count(p) AS changed
