package resolvers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

	"quanzi/community"
	"quanzi/graph"
	"quanzi/search"
)

// Deps are what the API's handler serves with.
type Deps struct {
	Services community.Services
	// Search runs searches; nil where no index is wired (then searches fail INTERNAL).
	Search *search.Service
	// SearchOps watches and rebuilds the index, and its relay is woken after each mutation;
	// nil where no index is wired.
	SearchOps *search.Ops
	Verifier  community.TokenVerifier
	Log       *slog.Logger
	// Ready are the backends /readyz reports on; with none, it reports on the store alone.
	Ready []ReadyCheck
}

// ReadyCheck is one backend that /readyz reports on.
type ReadyCheck struct {
	Name string
	Ping func(context.Context) error
}

// Options are the settings of the API's handler.
type Options struct {
	HandlerLimits
	// Production serves no GraphiQL, gives no "Did you mean" hints and answers no
	// introspection unless Introspection allows it (development always does).
	Production    bool
	Introspection bool
	// TrustedProxies are the gateways and load balancers whose X-Forwarded-For names the
	// caller's address.
	TrustedProxies []netip.Prefix
}

// HandlerLimits bound the requests the handler serves and the memory it keeps for them.
// Each must be positive; DefaultHandlerLimits gives every one.
type HandlerLimits struct {
	MaxBodyBytes        int
	MaxTokens           int
	MaxFields           int
	MaxDepth            int
	MaxComplexity       int
	MaxValidationErrors int
	RequestTimeout      time.Duration
	MaxInFlight         int
	CallerInFlight      int
	CallerQueue         int
	QueryCacheBytes     int
	APQCacheBytes       int
	APQMaxQueryBytes    int
}

// DefaultHandlerLimits returns the limits a server has unless configured otherwise.
func DefaultHandlerLimits() HandlerLimits {
	return HandlerLimits{
		MaxBodyBytes:        1 << 20,
		MaxTokens:           2000,
		MaxFields:           1000,
		MaxDepth:            12,
		MaxComplexity:       5000,
		MaxValidationErrors: 20,
		RequestTimeout:      10 * time.Second,
		MaxInFlight:         128,
		// One caller may keep half the cores busy, so that the others always have the rest.
		CallerInFlight:   max(1, runtime.GOMAXPROCS(0)/2),
		CallerQueue:      32,
		QueryCacheBytes:  32 << 20,
		APQCacheBytes:    16 << 20,
		APQMaxQueryBytes: 32 << 10,
	}
}

// NewHandler returns the HTTP handler of the whole API: GraphQL at /query behind its
// limits and authentication, /healthz, /readyz, and GraphiQL at / outside production.
func NewHandler(d Deps, o Options) http.Handler {
	root := &Resolver{Services: d.Services, Search: d.Search, SearchOps: d.SearchOps}
	if d.SearchOps != nil {
		root.Wrote = d.SearchOps.Wake
	}
	gcfg := graph.Config{Resolvers: root, Complexity: Complexity()}
	gcfg.Directives.Consent = root.ConsentRule
	gcfg.Directives.Write = root.Write
	es := graph.NewExecutableSchema(gcfg)
	introspection := !o.Production || o.Introspection
	budget := Limits{
		MaxTokens:           o.MaxTokens,
		MaxFields:           o.MaxFields,
		MaxValidationErrors: o.MaxValidationErrors,
		MaxDepth:            o.MaxDepth,
		MaxComplexity:       o.MaxComplexity,
		Introspection:       introspection,
		Suggestions:         !o.Production,
	}
	documents := NewDocumentCache(o.QueryCacheBytes, o.QueryCacheBytes/8)

	gql := handler.New(es)
	gql.AddTransport(transport.Options{})
	gql.AddTransport(GET{Log: d.Log})
	gql.AddTransport(POST{Log: d.Log})
	gql.SetQueryCache(documents)
	gql.SetParserTokenLimit(o.MaxTokens)
	gql.SetValidationRulesFn(budget.ValidationRules())
	if introspection {
		gql.Use(extension.Introspection{})
	}
	// The budget goes first: a query it refuses is never registered as a persisted query,
	// and one looked up by its hash passed it when it was registered.
	gql.Use(&Budget{Limits: budget, Validated: documents})
	gql.Use(extension.AutomaticPersistedQuery{Cache: NewPersistedQueryCache(o.APQCacheBytes, o.APQMaxQueryBytes)})
	gql.AroundRootFields(CheckRepresentations(es))
	gql.AroundOperations(ShareReads(d.Services))
	gql.SetErrorPresenter(ErrorPresenter(d.Log, !o.Production))
	gql.SetRecoverFunc(Recover)

	api := WithLoaders(d.Services, gql)
	api = PerCaller(o.CallerInFlight, o.CallerQueue, o.TrustedProxies, d.Log, api)
	api = Authenticate(d.Verifier, api)
	api = Device(api)
	api = Deadline(o.RequestTimeout, api)
	api = Shed(o.MaxInFlight, d.Log, api)
	api = ReadBody(int64(o.MaxBodyBytes), o.CallerInFlight+o.CallerQueue, o.TrustedProxies, d.Log, api)
	mux := http.NewServeMux()
	mux.Handle("/query", Guard(api))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	checks := d.Ready
	if len(checks) == 0 {
		checks = []ReadyCheck{{"store", d.Services.Ping}}
	}
	readiness := &readiness{checks: checks, log: d.Log}
	mux.HandleFunc("GET /readyz", readiness.serve)
	if !o.Production {
		mux.Handle("GET /{$}", playground.Handler("Quanzi", "/query"))
	}
	return logRequests(d.Log, mux)
}

// ShareReads serves the reads of each query operation from one read transaction where
// the store can (community.SharedReads), ended when its response is complete. Mutations
// read apart: what they read must follow what they wrote. Subscriptions too: their
// responses go on for as long as the client listens.
func ShareReads(svc community.Services) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		op := graphql.GetOperationContext(ctx).Operation
		if op == nil || op.Operation != ast.Query {
			return next(ctx)
		}
		ctx, end := svc.ShareReads(ctx)
		respond := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			defer end()
			return respond(ctx)
		}
	}
}

// readiness answers /readyz: each backend's state, checked at once with a 2 s deadline, as
// a JSON object of "ok" or "unreachable", with 503 when any is unreachable. A check is
// reused for a second, so that a flood of probes does not become one of pings.
type readiness struct {
	checks []ReadyCheck
	log    *slog.Logger

	mu     sync.Mutex
	at     time.Time
	states map[string]string
	status int
}

func (rd *readiness) serve(w http.ResponseWriter, r *http.Request) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if time.Since(rd.at) > time.Second {
		rd.states, rd.status = rd.check(r.Context())
		rd.at = time.Now()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rd.status)
	json.NewEncoder(w).Encode(rd.states)
}

func (rd *readiness) check(ctx context.Context) (map[string]string, int) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	states := make(map[string]string, len(rd.checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	status := http.StatusOK
	for _, c := range rd.checks {
		wg.Go(func() {
			err := c.Ping(ctx)
			mu.Lock()
			defer mu.Unlock()
			states[c.Name] = "ok"
			if err != nil {
				rd.log.WarnContext(ctx, "not ready", "backend", c.Name, "err", err)
				states[c.Name], status = "unreachable", http.StatusServiceUnavailable
			}
		})
	}
	wg.Wait()
	return states, status
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// logRequests gives each request an id (the caller's X-Request-Id, or a new one), returns
// it in the response, and logs the request when it ends.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r.WithContext(WithRequestID(r.Context(), id)))
		if r.URL.Path != "/healthz" {
			log.Info("request", "request_id", id, "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration_ms", float64(time.Since(start).Microseconds())/1000)
		}
	})
}
