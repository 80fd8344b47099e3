// A brand's programme members in list order: inKey is the brand's id, the time the member
// joined (newest first) and the member's id (see listKey), and a page of the brand's
// members is a seek of the brand's range of this index, filtered.
CREATE INDEX member_of_in_key IF NOT EXISTS FOR ()-[r:MEMBER_OF]-() ON (r.inKey)
