package resolvers

import (
	"context"
	"math"

	"github.com/99designs/gqlgen/graphql"
	"github.com/maypok86/otter/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// docBytesPerQueryByte is at least how many bytes of memory a parsed and validated
// document holds per byte of its query text, so that the cache of documents is bounded by
// the memory it really holds: 1,000 parsed and validated copies of a followers-page query
// of 245 bytes held 5,799 bytes each on the heap (runtime.MemStats), 23.7 per byte; a
// query of fields without spaces between them ({ viewer { id id … } }) holds about 75.
const docBytesPerQueryByte = 80

// ByteCache is a gqlgen cache bounded by the bytes its entries hold rather than by their
// number: many small queries fit, and a few large ones cannot pin unbounded memory.
// Entries larger than MaxEntry are not kept.
type ByteCache[T any] struct {
	cache    *otter.Cache[string, T]
	maxEntry int
	weigh    func(key string, value T) int
}

var _ graphql.Cache[string] = (*ByteCache[string])(nil)

// NewByteCache returns a cache holding at most budget bytes, as weigh counts them, and no
// entry over maxEntry bytes.
func NewByteCache[T any](budget, maxEntry int, weigh func(key string, value T) int) *ByteCache[T] {
	return &ByteCache[T]{
		cache: otter.Must(&otter.Options[string, T]{
			MaximumWeight: uint64(max(budget, 1)),
			Weigher: func(key string, value T) uint32 {
				return uint32(min(weigh(key, value), math.MaxUint32))
			},
		}),
		maxEntry: maxEntry,
		weigh:    weigh,
	}
}

// NewDocumentCache returns the cache of parsed and validated documents, by query text.
func NewDocumentCache(budget, maxEntry int) *ByteCache[*ast.QueryDocument] {
	return NewByteCache(budget, maxEntry, func(query string, _ *ast.QueryDocument) int {
		return len(query) * (1 + docBytesPerQueryByte)
	})
}

// NewPersistedQueryCache returns the cache of automatic persisted queries: query texts by
// hash. A query over maxQuery bytes is not registered; its client keeps sending it whole.
func NewPersistedQueryCache(budget, maxQuery int) *ByteCache[string] {
	return NewByteCache(budget, maxQuery, func(hash, query string) int { return len(hash) + len(query) })
}

// Get implements graphql.Cache.
func (c *ByteCache[T]) Get(_ context.Context, key string) (T, bool) {
	return c.cache.GetIfPresent(key)
}

// Add implements graphql.Cache.
func (c *ByteCache[T]) Add(_ context.Context, key string, value T) {
	if c.weigh(key, value) > c.maxEntry {
		return
	}
	c.cache.Set(key, value)
}

// Bytes returns about how many bytes the cache holds now.
func (c *ByteCache[T]) Bytes() int { return int(c.cache.WeightedSize()) }
