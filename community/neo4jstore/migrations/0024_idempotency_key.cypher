// An idempotency key is reserved once in its scope (a mutation and its caller): the
// constraint is also what makes two MERGEs of one key find one node.
CREATE CONSTRAINT idempotency_key IF NOT EXISTS FOR (k:IdempotencyKey) REQUIRE (k.scope, k.key) IS UNIQUE
