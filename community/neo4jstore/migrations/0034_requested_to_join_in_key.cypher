// A club's requests to join in list order: inKey is the club's id, the time of the request
// (newest first) and the member's id (see listKey), and a page of the club's requests is a
// seek of the club's range of this index.
CREATE INDEX requested_to_join_in_key IF NOT EXISTS FOR ()-[r:REQUESTED_TO_JOIN]-() ON (r.inKey)
