// A member's followings in list order: outKey is the follower's id, the time of the follow
// (newest first) and the followee's id (see listKey), and a page of followings is a seek
// of the follower's range of this index.
CREATE INDEX follows_out_key IF NOT EXISTS FOR ()-[r:FOLLOWS]-() ON (r.outKey)
