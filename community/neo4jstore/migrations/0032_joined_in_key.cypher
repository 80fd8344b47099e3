// A club's members in list order: inKey is the club's id, the time the member joined
// (newest first) and the member's id (see listKey), and a page of the club's members is a
// seek of the club's range of this index.
CREATE INDEX joined_in_key IF NOT EXISTS FOR ()-[j:JOINED]-() ON (j.inKey)
