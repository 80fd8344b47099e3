// A member's followers in list order: inKey is the followee's id, the time of the follow
// (newest first) and the follower's id (see listKey), and a page of followers is a seek
// of the followee's range of this index, from the position it starts after, that stops
// after the page.
CREATE INDEX follows_in_key IF NOT EXISTS FOR ()-[r:FOLLOWS]-() ON (r.inKey)
