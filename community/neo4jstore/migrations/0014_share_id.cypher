// A share is a (:Member)-[:SHARED {id, at, channel}]->(:Post) relationship, recorded once
// under its own id.
CREATE CONSTRAINT share_id IF NOT EXISTS FOR ()-[s:SHARED]-() REQUIRE s.id IS UNIQUE
