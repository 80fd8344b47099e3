// A brand records each of its purchases once: recording is idempotent on the brand's own
// reference, and this constraint is what makes concurrent MERGEs of one purchase find one node.
CREATE CONSTRAINT purchase_external_id IF NOT EXISTS FOR (p:Purchase) REQUIRE (p.brandId, p.externalId) IS UNIQUE
