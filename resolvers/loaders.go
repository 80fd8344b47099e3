package resolvers

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"

	"quanzi/community"
)

// batchWait is how long a loader waits for more keys before it calls the store: long
// enough for gqlgen to resolve the sibling fields of a list, short against a round trip.
const batchWait = 250 * time.Microsecond

// Loaders batches the by-id lookups of one request, so a list costs a fixed number of
// store round trips whatever its length. A Loaders serves one request only: it caches.
type Loaders struct {
	Members      *dataloader.Loader[string, *community.Member]
	FollowCounts *dataloader.Loader[string, community.FollowCounts]
	FollowStates *dataloader.Loader[string, community.FollowState]
	Identities   *dataloader.Loader[string, []community.Identity]
}

// NewLoaders returns the loaders of one request over the service's batch functions.
func NewLoaders(svc *community.Service) *Loaders {
	return &Loaders{
		Members:      newLoader(svc.MembersByID),
		FollowCounts: newLoader(svc.FollowCounts),
		FollowStates: newLoader(svc.FollowStates),
		Identities:   newLoader(svc.Identities),
	}
}

func newLoader[V any](fetch func(context.Context, []string) ([]V, []error)) *dataloader.Loader[string, V] {
	batch := func(ctx context.Context, keys []string) []*dataloader.Result[V] {
		values, errs := fetch(ctx, keys)
		out := make([]*dataloader.Result[V], len(keys))
		for i := range keys {
			out[i] = &dataloader.Result[V]{Data: values[i]}
			if errs != nil {
				out[i].Error = errs[i]
			}
		}
		return out
	}
	return dataloader.NewBatchedLoader(batch, dataloader.WithWait[string, V](batchWait), dataloader.WithBatchCapacity[string, V](1000))
}

type loadersKey struct{}

// WithLoaders is HTTP middleware that gives each request its own Loaders.
func WithLoaders(svc *community.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), loadersKey{}, NewLoaders(svc))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// loadersFor returns the request's loaders; a request without them (a subscription or a
// test that skipped the middleware) gets fresh ones, which still batch within the call.
func (r *Resolver) loadersFor(ctx context.Context) *Loaders {
	if l, ok := ctx.Value(loadersKey{}).(*Loaders); ok {
		return l
	}
	return NewLoaders(r.Service)
}

// member loads a member by id through the request's loader.
func (r *Resolver) member(ctx context.Context, id string) (*community.Member, error) {
	return r.loadersFor(ctx).Members.Load(ctx, id)()
}

// existingMember loads a member that another record refers to; one that is not there is
// NOT_FOUND, since a null would break the non-null field that asked.
func (r *Resolver) existingMember(ctx context.Context, id string) (*community.Member, error) {
	m, err := r.member(ctx, id)
	if err == nil && m == nil {
		err = community.Errorf(community.CodeNotFound, "no member %q", id)
	}
	return m, err
}

// prefetchMembers primes the request's loaders for the members of a list, so that a page
// costs one round trip per loader however the resolvers of its items are scheduled (a
// timed batch can split when the scheduler is slow). The members are the objects at path
// (field names) below the current field; only the loaders their selected fields need are
// primed. The fetches run concurrently and are done when it returns.
func (r *Resolver) prefetchMembers(ctx context.Context, ids []string, path ...string) {
	if len(ids) == 0 || !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return
	}
	op := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFieldsCtx(ctx, nil)
	for _, name := range path {
		var next []graphql.CollectedField
		for _, f := range fields {
			if f.Name == name {
				next = append(next, graphql.CollectFields(op, f.Selections, nil)...)
			}
		}
		fields = next
	}
	l := r.loadersFor(ctx)
	var wg sync.WaitGroup
	prime(ctx, &wg, l.Members, r.Service.MembersByID, ids)
	var counts, states, identities bool
	for _, f := range fields {
		switch f.Name {
		case "followerCount", "followingCount":
			counts = true
		case "followsViewer", "followedByViewer":
			states = true
		case "identities":
			identities = true
		}
	}
	if counts {
		prime(ctx, &wg, l.FollowCounts, r.Service.FollowCounts, ids)
	}
	if states {
		prime(ctx, &wg, l.FollowStates, r.Service.FollowStates, ids)
	}
	if identities {
		prime(ctx, &wg, l.Identities, r.Service.Identities, ids)
	}
	wg.Wait()
}

// prime fetches the values of keys in one batch and puts them in the loader's cache; keys
// whose fetch failed are left for the loader, which will report the error.
func prime[V any](ctx context.Context, wg *sync.WaitGroup, l *dataloader.Loader[string, V], fetch func(context.Context, []string) ([]V, []error), keys []string) {
	wg.Go(func() {
		values, errs := fetch(ctx, keys)
		for i, k := range keys {
			if errs == nil || errs[i] == nil {
				l.Prime(ctx, k, values[i])
			}
		}
	})
}
