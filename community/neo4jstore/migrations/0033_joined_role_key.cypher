// A club's members of one role in list order: roleKey is the club's id and the role, the
// time the member joined (newest first) and the member's id (see listKey and
// clubListOwner), and a page of the club's members of a role is a seek of the range of the
// club and the role in this index.
CREATE INDEX joined_role_key IF NOT EXISTS FOR ()-[j:JOINED]-() ON (j.roleKey)
