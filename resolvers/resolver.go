// Package resolvers maps GraphQL to the community service: resolvers, per-request
// dataloaders, the @consent directive, the error presenter, and NewHandler, which
// assembles the API's HTTP handler (transports, limits, caches, authentication,
// readiness). It holds no rules. Its API tests, in package resolvers_test, go through
// NewHandler over real stores and search indexes.
package resolvers

import (
	"quanzi/community"
	"quanzi/search"
)

// Resolver is the root resolver; it is shared by all requests.
type Resolver struct {
	// The services of the community's areas: r.Members, r.Brands, r.Clubs, r.Posts.
	community.Services
	// Search runs searches; it is nil where no index is wired (then searches fail INTERNAL).
	Search *search.Service
	// SearchOps watches and rebuilds the index.
	SearchOps *search.Ops
	// Wrote, when set, is called after every mutation that succeeded: it wakes the search
	// relay, so that a write is searchable without waiting for the relay's next poll.
	Wrote func()
}
