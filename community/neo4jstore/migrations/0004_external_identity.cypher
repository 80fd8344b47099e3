// An external account belongs to one member at most.
CREATE CONSTRAINT external_identity IF NOT EXISTS FOR (i:ExternalIdentity) REQUIRE (i.provider, i.externalId) IS UNIQUE
