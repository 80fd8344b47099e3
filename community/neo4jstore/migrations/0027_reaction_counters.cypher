// The counter of each reaction kind is named after the kind, as those of share channels
// are (see counterProperty): likes, insightful, funny and support become reactionLike,
// reactionInsightful, reactionFunny and reactionSupport on posts and comments, a batch at
// a time.
MATCH (x:Post|Comment)
WHERE x.likes IS NOT NULL OR x.insightful IS NOT NULL OR x.funny IS NOT NULL OR x.support IS NOT NULL
WITH x LIMIT 10000
SET x.reactionLike = coalesce(x.reactionLike, 0) + coalesce(x.likes, 0),
  x.reactionInsightful = coalesce(x.reactionInsightful, 0) + coalesce(x.insightful, 0),
  x.reactionFunny = coalesce(x.reactionFunny, 0) + coalesce(x.funny, 0),
  x.reactionSupport = coalesce(x.reactionSupport, 0) + coalesce(x.support, 0)
REMOVE x.likes, x.insightful, x.funny, x.support
RETURN count(x) AS changed
