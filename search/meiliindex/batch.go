package meiliindex

import "quanzi/search"

// writeBatch is how many documents the relay and rebuilds should give Apply at a time.
// Meilisearch pays a cost for each indexing task that grows with the index, beside the
// cost of each document: on a 2-core machine the relay indexed 20,000 posts at 534
// documents a second in batches of 500, 1,220 in batches of 2,000 and 1,637 in batches of
// 5,000 (search's BenchmarkSearch, QUANZI_BENCH_RELAY_BATCH).
const writeBatch = 5000

// WriteBatch implements search.Batcher.
func (ix *Index) WriteBatch() int { return writeBatch }

var _ search.Batcher = (*Index)(nil)
