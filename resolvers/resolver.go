// Package resolvers maps GraphQL to the community service: resolvers, per-request
// dataloaders, the error presenter and the authentication middleware. It holds no rules.
package resolvers

import "quanzi/community"

// Resolver is the root resolver; it is shared by all requests.
type Resolver struct {
	Service *community.Service
}
