// The consent ledger is append-only: an entry is written once, under its own id.
CREATE CONSTRAINT consent_change_id IF NOT EXISTS FOR (c:ConsentChange) REQUIRE c.id IS UNIQUE
