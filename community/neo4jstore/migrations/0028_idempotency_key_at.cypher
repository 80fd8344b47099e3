// The sweep of old idempotency keys (SweepIdempotencyKeys) finds them by their time.
CREATE INDEX idempotency_key_at IF NOT EXISTS FOR (k:IdempotencyKey) ON (k.at)
