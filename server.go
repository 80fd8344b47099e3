// Command quanzi serves the Quanzi GraphQL API, a federation subgraph over a community
// graph, and runs its maintenance subcommands.
//
//	quanzi [serve]     run the server (the default)
//	quanzi token ...   mint a development token
//	quanzi seed ...    seed a demo community, or a synthetic one at scale
package main

//go:generate go tool gqlgen generate

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/schollz/progressbar/v3"
	bolt "go.etcd.io/bbolt"

	"quanzi/community"
	"quanzi/community/embedded"
	"quanzi/community/jwtauth"
	"quanzi/community/neo4jstore"
	"quanzi/community/redislease"
	"quanzi/resolvers"
	"quanzi/search"
	"quanzi/search/bleveindex"
	"quanzi/search/meiliindex"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "quanzi:", err)
		os.Exit(1)
	}
}

// run runs the program with its arguments and environment until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := parseConfig("serve", args, getenv, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stderr)
	case "token", "seed", "reindex":
		sub := mintToken
		switch cmd {
		case "seed":
			sub = func(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
				return seed(ctx, args, getenv, stdout, stderr)
			}
		case "reindex":
			sub = func(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
				return reindex(ctx, args, getenv, stderr)
			}
		}
		err := sub(args, getenv, stdout, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	case "help":
		fmt.Fprintln(stdout, "usage: quanzi [serve|token|seed|reindex] [flags]; quanzi COMMAND -h lists the flags")
		return nil
	}
	return fmt.Errorf("unknown command %q (serve, token, seed, reindex)", cmd)
}

// config is the program's configuration: environment variables, overridden by flags of the
// same meaning.
type config struct {
	Addr          string
	DataDir       string
	Env           string
	Store         string
	Neo4jURI      string
	Neo4jUser     string
	Neo4jPassword string
	Neo4jDatabase string
	// Neo4jLogStatements logs every statement sent to Neo4j, with its parameters.
	Neo4jLogStatements bool
	Search             string
	MeiliURL           string
	MeiliKey           string
	MeiliIndex         string
	RedisURL           string
	JWTSecret          string
	JWTIssuer          string
	JWTAudience        string
	JWKSURL            string
	Introspection      bool
	Limits             limits
	// InviteURL is the base of invitation links: a code's link is it followed by the code.
	InviteURL string
	// DeviceKey keys the hashes kept of device ids (X-Device-Id).
	DeviceKey string
	// Burst is when a referrer's referees arrive in a burst (the BURST flag).
	Burst community.BurstRule
	// RewardsEvery is how often the reward job grants due rewards and announces the
	// ledger's changes.
	RewardsEvery time.Duration
	// TrustedProxies are the gateways and load balancers whose X-Forwarded-For names the
	// caller's address (comma-separated addresses or CIDR prefixes).
	TrustedProxies string
	// envErrs are environment variables whose values could not be read.
	envErrs []error
}

// limits are the limits of requests and of the server's work for them: the handler's, and
// the shutdown's; a zero field means its default (see defaultLimits).
type limits struct {
	resolvers.HandlerLimits
	ShutdownTimeout time.Duration
}

// defaultLimits are the limits a server has unless configured otherwise.
var defaultLimits = limits{HandlerLimits: resolvers.DefaultHandlerLimits(), ShutdownTimeout: 15 * time.Second}

// limitField is one of the limits, with its flag, environment variable and meaning: it
// points at an int or a duration of a limits value.
type limitField struct {
	flag, env, usage string
	n                *int
	d                *time.Duration
}

// fields lists the limits of l: the one list that flags, checks and defaults go through.
func (l *limits) fields() []limitField {
	return []limitField{
		{"max-body-bytes", "QUANZI_MAX_BODY_BYTES", "largest request body, in bytes", &l.MaxBodyBytes, nil},
		{"max-tokens", "QUANZI_MAX_TOKENS", "most lexical tokens in a query", &l.MaxTokens, nil},
		{"max-fields", "QUANZI_MAX_FIELDS", "most fields in a query once its fragments are expanded, aliases included", &l.MaxFields, nil},
		{"max-depth", "QUANZI_MAX_DEPTH", "deepest nesting of fields", &l.MaxDepth, nil},
		{"max-complexity", "QUANZI_MAX_COMPLEXITY", "highest complexity of an operation", &l.MaxComplexity, nil},
		{"max-validation-errors", "QUANZI_MAX_VALIDATION_ERRORS", "most validation errors reported for a query", &l.MaxValidationErrors, nil},
		{"request-timeout", "QUANZI_REQUEST_TIMEOUT", "deadline of one request", nil, &l.RequestTimeout},
		{"max-in-flight", "QUANZI_MAX_IN_FLIGHT", "most requests served at once; more are answered 503", &l.MaxInFlight, nil},
		{"caller-in-flight", "QUANZI_CALLER_IN_FLIGHT", "most requests of one caller run at once; more wait their turn", &l.CallerInFlight, nil},
		{"caller-queue", "QUANZI_CALLER_QUEUE", "most requests of one caller waiting their turn; more are answered 429", &l.CallerQueue, nil},
		{"shutdown-timeout", "QUANZI_SHUTDOWN_TIMEOUT", "longest graceful shutdown", nil, &l.ShutdownTimeout},
		{"query-cache-bytes", "QUANZI_QUERY_CACHE_BYTES", "memory for parsed queries, in bytes", &l.QueryCacheBytes, nil},
		{"apq-cache-bytes", "QUANZI_APQ_CACHE_BYTES", "memory for automatic persisted queries, in bytes", &l.APQCacheBytes, nil},
		{"apq-max-query-bytes", "QUANZI_APQ_MAX_QUERY_BYTES", "largest query registered as a persisted query, in bytes", &l.APQMaxQueryBytes, nil},
	}
}

// check refuses negative limits (a zero is the default, set by orDefaults).
func (l limits) check() error {
	for _, f := range l.fields() {
		if f.n != nil && *f.n < 0 || f.d != nil && *f.d < 0 {
			return fmt.Errorf("-%s must not be negative (0 keeps the default)", f.flag)
		}
	}
	return nil
}

// orDefaults returns l with each zero field set to its default.
func (l limits) orDefaults() limits {
	d := defaultLimits
	defaults := d.fields()
	for i, f := range l.fields() {
		switch {
		case f.n != nil && *f.n == 0:
			*f.n = *defaults[i].n
		case f.d != nil && *f.d == 0:
			*f.d = *defaults[i].d
		}
	}
	return l
}

func (c config) production() bool { return c.Env == "production" }

// proxies parses TrustedProxies.
func (c config) proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(c.TrustedProxies, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil {
				return nil, fmt.Errorf("QUANZI_TRUSTED_PROXIES: %q is neither an address nor a CIDR prefix", item)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// configFlags declares the flags of cfg, each defaulting to its environment variable.
func configFlags(fs *flag.FlagSet, cfg *config, getenv func(string) string) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&cfg.Addr, "addr", env("QUANZI_ADDR", ":8080"), "listen address (QUANZI_ADDR)")
	fs.StringVar(&cfg.DataDir, "data-dir", env("QUANZI_DATA_DIR", "./data"), "embedded store and index files (QUANZI_DATA_DIR)")
	fs.StringVar(&cfg.Env, "env", env("QUANZI_ENV", "development"), "development or production (QUANZI_ENV)")
	fs.StringVar(&cfg.Store, "store", env("QUANZI_STORE", "embedded"), "graph store: embedded or neo4j (QUANZI_STORE)")
	fs.StringVar(&cfg.Neo4jURI, "neo4j-uri", env("NEO4J_URI", ""), "Neo4j URI, bolt:// or neo4j:// (NEO4J_URI)")
	fs.StringVar(&cfg.Neo4jUser, "neo4j-user", env("NEO4J_USER", ""), "Neo4j user; empty for no auth (NEO4J_USER)")
	fs.StringVar(&cfg.Neo4jPassword, "neo4j-password", env("NEO4J_PASSWORD", ""), "Neo4j password (NEO4J_PASSWORD)")
	fs.StringVar(&cfg.Neo4jDatabase, "neo4j-database", env("NEO4J_DATABASE", ""), "Neo4j database; empty for the default (NEO4J_DATABASE)")
	fs.BoolVar(&cfg.Neo4jLogStatements, "neo4j-log-statements", env("QUANZI_NEO4J_LOG_STATEMENTS", "") == "true", "log every Neo4j statement with its parameters, for profiling; never in production (QUANZI_NEO4J_LOG_STATEMENTS)")
	fs.StringVar(&cfg.Search, "search", env("QUANZI_SEARCH", "embedded"), "search engine: embedded or meilisearch (QUANZI_SEARCH)")
	fs.StringVar(&cfg.MeiliURL, "meili-url", env("MEILI_URL", ""), "Meilisearch URL (MEILI_URL)")
	fs.StringVar(&cfg.MeiliKey, "meili-key", env("MEILI_KEY", ""), "Meilisearch key (MEILI_KEY)")
	fs.StringVar(&cfg.MeiliIndex, "meili-index", env("QUANZI_MEILI_INDEX", meiliindex.DefaultIndex), "Meilisearch index of the posts (QUANZI_MEILI_INDEX)")
	fs.StringVar(&cfg.RedisURL, "redis-url", env("REDIS_URL", ""), "Redis URL; empty keeps cache and limits in process (REDIS_URL)")
	fs.StringVar(&cfg.JWTSecret, "jwt-secret", env("QUANZI_JWT_SECRET", ""), "HS256 secret of bearer tokens (QUANZI_JWT_SECRET)")
	fs.StringVar(&cfg.JWTIssuer, "jwt-issuer", env("QUANZI_JWT_ISSUER", ""), "iss that bearer tokens must carry; empty checks none (QUANZI_JWT_ISSUER)")
	fs.StringVar(&cfg.JWTAudience, "jwt-audience", env("QUANZI_JWT_AUDIENCE", ""), "aud that bearer tokens must name; empty checks none (QUANZI_JWT_AUDIENCE)")
	fs.StringVar(&cfg.JWKSURL, "jwks-url", env("QUANZI_JWKS_URL", ""), "RS256 key set of the identity provider (QUANZI_JWKS_URL)")
	fs.StringVar(&cfg.InviteURL, "invite-url", env("QUANZI_INVITE_URL", community.DefaultInviteBaseURL), "base of invitation links, followed by the code: the landing page (QUANZI_INVITE_URL)")
	fs.StringVar(&cfg.DeviceKey, "device-key", env("QUANZI_DEVICE_KEY", ""), "HMAC key of the hashes kept of device ids (X-Device-Id) instead of the ids (QUANZI_DEVICE_KEY)")
	cfg.Burst = community.DefaultBurst
	if v := getenv("QUANZI_BURST_LIMIT"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			cfg.envErrs = append(cfg.envErrs, fmt.Errorf("QUANZI_BURST_LIMIT must be a positive whole number, not %q", v))
		} else {
			cfg.Burst.Limit = n
		}
	}
	if v := getenv("QUANZI_BURST_WINDOW"); v != "" {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			cfg.envErrs = append(cfg.envErrs, fmt.Errorf("QUANZI_BURST_WINDOW must be a positive duration such as 60m, not %q", v))
		} else {
			cfg.Burst.Window = d
		}
	}
	fs.IntVar(&cfg.Burst.Limit, "burst-limit", cfg.Burst.Limit, "a referral is flagged BURST when its referrer's referees of the campaign within the burst window are more than this (QUANZI_BURST_LIMIT)")
	fs.DurationVar(&cfg.Burst.Window, "burst-window", cfg.Burst.Window, "the window of the BURST flag (QUANZI_BURST_WINDOW)")
	cfg.RewardsEvery = time.Minute
	if v := getenv("QUANZI_REWARDS_EVERY"); v != "" {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			cfg.envErrs = append(cfg.envErrs, fmt.Errorf("QUANZI_REWARDS_EVERY must be a positive duration such as 1m, not %q", v))
		} else {
			cfg.RewardsEvery = d
		}
	}
	fs.DurationVar(&cfg.RewardsEvery, "rewards-every", cfg.RewardsEvery, "how often the reward job grants due rewards and announces the ledger's changes (QUANZI_REWARDS_EVERY)")
	fs.BoolVar(&cfg.Introspection, "introspection", env("QUANZI_INTROSPECTION", "") == "true", "allow introspection in production (QUANZI_INTROSPECTION)")

	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", env("QUANZI_TRUSTED_PROXIES", ""), "addresses or CIDR prefixes of proxies whose X-Forwarded-For names the caller (QUANZI_TRUSTED_PROXIES)")

	cfg.Limits = defaultLimits
	for _, f := range cfg.Limits.fields() {
		if v := getenv(f.env); v != "" {
			if err := setLimit(f, v); err != nil {
				cfg.envErrs = append(cfg.envErrs, err)
			}
		}
		if f.n != nil {
			fs.IntVar(f.n, f.flag, *f.n, f.usage+" ("+f.env+")")
		} else {
			fs.DurationVar(f.d, f.flag, *f.d, f.usage+" ("+f.env+")")
		}
	}
}

// setLimit sets a limit from the value of its environment variable: a positive whole
// number, or a positive duration such as 10s.
func setLimit(f limitField, v string) error {
	if f.n != nil {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%s must be a positive whole number, not %q", f.env, v)
		}
		*f.n = n
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%s must be a positive duration such as 10s, not %q", f.env, v)
	}
	*f.d = d
	return nil
}

// parseConfig reads the configuration of a command from its flags and environment;
// extra declares the command's own flags.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer, extra ...func(*flag.FlagSet)) (config, error) {
	var cfg config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFlags(fs, &cfg, getenv)
	for _, declare := range extra {
		declare(fs)
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate()
}

func (c *config) validate() error {
	if len(c.envErrs) > 0 {
		return errors.Join(c.envErrs...)
	}
	if err := c.Limits.check(); err != nil {
		return err
	}
	if _, err := c.proxies(); err != nil {
		return err
	}
	switch c.Env {
	case "development", "production":
	default:
		return fmt.Errorf("QUANZI_ENV must be development or production, not %q", c.Env)
	}
	switch c.Store {
	case "embedded":
	case "neo4j":
		if c.Neo4jURI == "" {
			return errors.New("QUANZI_STORE=neo4j needs NEO4J_URI")
		}
	default:
		return fmt.Errorf("QUANZI_STORE must be embedded or neo4j, not %q", c.Store)
	}
	switch c.Search {
	case "embedded":
	case "meilisearch":
		if c.MeiliURL == "" {
			return errors.New("QUANZI_SEARCH=meilisearch needs MEILI_URL")
		}
		if !meiliIndexName.MatchString(c.MeiliIndex) {
			return fmt.Errorf("QUANZI_MEILI_INDEX must be 1 to 400 letters, digits, - or _, not %q", c.MeiliIndex)
		}
	default:
		return fmt.Errorf("QUANZI_SEARCH must be embedded or meilisearch, not %q", c.Search)
	}
	if c.JWKSURL != "" {
		return errors.New("QUANZI_JWKS_URL: RS256 key sets are not supported by this version yet; use QUANZI_JWT_SECRET")
	}
	if c.JWTSecret == "" || c.JWTSecret == jwtauth.DevelopmentSecret {
		if c.production() {
			return errors.New("production needs QUANZI_JWT_SECRET: the development secret is refused")
		}
		c.JWTSecret = jwtauth.DevelopmentSecret
	}
	if c.production() && c.Neo4jLogStatements {
		return errors.New("QUANZI_NEO4J_LOG_STATEMENTS would log members' data: it is refused in production")
	}
	if c.production() && len(c.JWTSecret) < 32 {
		return errors.New("QUANZI_JWT_SECRET must be at least 32 bytes in production")
	}
	if c.DeviceKey == "" || c.DeviceKey == community.DevelopmentDeviceKey {
		if c.production() {
			return errors.New("production needs QUANZI_DEVICE_KEY: the development key of device hashes is refused")
		}
		c.DeviceKey = community.DevelopmentDeviceKey
	}
	if c.production() && len(c.DeviceKey) < 32 {
		return errors.New("QUANZI_DEVICE_KEY must be at least 32 bytes in production")
	}
	if c.Burst.Limit < 1 || c.Burst.Window <= 0 || c.Burst.Window > 7*24*time.Hour {
		return errors.New("-burst-limit must be at least 1, and -burst-window more than 0 and at most 168h")
	}
	if c.RewardsEvery <= 0 {
		return errors.New("-rewards-every must be a positive duration such as 1m")
	}
	return nil
}

// openStore opens the configured graph store; close releases it.
func openStore(ctx context.Context, cfg config, log *slog.Logger) (store community.Store, close func(), err error) {
	switch cfg.Store {
	case "neo4j":
		nc := neo4jstore.Config{URI: cfg.Neo4jURI, Username: cfg.Neo4jUser, Password: cfg.Neo4jPassword, Database: cfg.Neo4jDatabase, Logger: log}
		if cfg.Neo4jLogStatements {
			nc.Observe = func(cypher string, params map[string]any) {
				log.Info("neo4j statement", "cypher", cypher, "params", params)
			}
		}
		s, err := neo4jstore.Open(ctx, nc)
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close(context.Background()) }, nil
	default:
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, nil, fmt.Errorf("data dir: %w", err)
		}
		s, err := embedded.Open(embedded.Config{Path: filepath.Join(cfg.DataDir, "graph.db"), Logger: log})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	}
}

func serve(ctx context.Context, cfg config, stderr io.Writer) error {
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	lim := cfg.Limits.orDefaults()
	b, err := openBackends(ctx, cfg, log)
	if err != nil {
		return err
	}
	store, leases, idx := b.store, b.leases, b.index
	svc := community.New(store, community.Config{CursorKey: cursorKey(cfg.JWTSecret), InviteBaseURL: cfg.InviteURL,
		DeviceKey: []byte(cfg.DeviceKey), Burst: cfg.Burst})
	verifier := newVerifier(cfg)
	holder := instanceName()
	relay := search.NewRelay(store, idx, leases, search.RelayConfig{Holder: holder, Logger: log})
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	ops := search.NewOps(relayCtx, store, idx, leases, relay, holder, log)
	sweep := community.NewIdempotencySweep(store, leases, community.SweepConfig{Holder: holder, Logger: log})
	grants := community.NewRewardGrants(store, leases, community.RewardGrantsConfig{Holder: holder, Every: cfg.RewardsEvery, Logger: log})
	var jobs sync.WaitGroup
	jobs.Go(func() { relay.Run(relayCtx) })
	jobs.Go(func() { sweep.Run(relayCtx) })
	jobs.Go(func() { grants.Run(relayCtx) })
	// The Chinese segmenter's dictionary takes a second or two to load: load it now, so
	// that the first Chinese search does not wait for it.
	go search.Warm()
	ops.RebuildIfOutdated()
	// stop ends the background jobs and closes the backends.
	stop := func() {
		stopRelay()
		jobs.Wait()
		ops.Wait()
		b.close()
	}
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Requests live in a context of their own, which shutdown cancels once its grace is
	// over, so that no request outlives it.
	requests, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	srv := &http.Server{
		Handler: resolvers.NewHandler(resolvers.Deps{
			Services: svc, Search: search.NewService(idx, svc.Posts), SearchOps: ops, Verifier: verifier, Log: log, Ready: b.checks,
		}, handlerOptions(cfg)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      lim.RequestTimeout + 10*time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return requests },
	}
	log.Info("listening", "addr", ln.Addr().String(), "store", cfg.Store, "search", cfg.Search, "env", cfg.Env)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
		serveErr = fmt.Errorf("serve: %w", serveErr)
	case <-ctx.Done():
	}
	shutdown(log, srv, cancelRequests, stop, lim.ShutdownTimeout)
	stopped = true
	return serveErr
}

// shutdown stops srv within timeout, whatever is in flight: requests get three quarters of
// it to finish, and those still running then are cancelled and their connections closed;
// the rest of the time goes to stop (background jobs and backends), which is left behind
// if it does not end in time — the process is exiting, and every acknowledged write is in
// the store already.
func shutdown(log *slog.Logger, srv *http.Server, cancelRequests func(), stop func(), timeout time.Duration) {
	log.Info("shutting down", "timeout", timeout.String())
	deadline := time.Now().Add(timeout)
	graceCtx, cancel := context.WithDeadline(context.Background(), time.Now().Add(timeout*3/4))
	defer cancel()
	if err := srv.Shutdown(graceCtx); err != nil {
		log.Warn("requests still in flight when the shutdown grace ended: cancelled", "err", err)
		cancelRequests()
		srv.Close()
	}
	cancelRequests()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		stop()
	}()
	select {
	case <-stopped:
		log.Info("shut down")
	case <-time.After(time.Until(deadline)):
		log.Warn("background jobs or backends had not stopped at the shutdown deadline")
	}
}

// backends are the servers (or their embedded stand-ins) a command works with.
type backends struct {
	store  community.Store
	leases community.Leases
	index  search.Index
	// checks are what /readyz reports on: each configured backend.
	checks []resolvers.ReadyCheck
	// closers release them, last opened first.
	closers []func()
}

func (b *backends) close() {
	for _, c := range slices.Backward(b.closers) {
		c()
	}
}

// openBackends opens the configured store, leases and search index; on an error it
// releases what it had opened.
func openBackends(ctx context.Context, cfg config, log *slog.Logger) (*backends, error) {
	b := &backends{}
	store, closeStore, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	b.store, b.closers = store, append(b.closers, closeStore)
	b.checks = append(b.checks, resolvers.ReadyCheck{Name: "store", Ping: store.Ping})
	leases, closeLeases, pingRedis, err := openLeases(ctx, cfg, log)
	if err != nil {
		b.close()
		return nil, err
	}
	b.leases, b.closers = leases, append(b.closers, closeLeases)
	idx, err := openIndex(ctx, cfg, log)
	if err != nil {
		b.close()
		return nil, err
	}
	b.index, b.closers = idx, append(b.closers, func() { idx.Close() })
	b.checks = append(b.checks, resolvers.ReadyCheck{Name: "search", Ping: idx.Ping})
	if pingRedis != nil {
		b.checks = append(b.checks, resolvers.ReadyCheck{Name: "redis", Ping: pingRedis})
	}
	return b, nil
}

// openLeases returns the leases background jobs take: in Redis when REDIS_URL is set (so
// that of many instances one runs each job), with a ping of that Redis, else in process.
func openLeases(ctx context.Context, cfg config, log *slog.Logger) (community.Leases, func(), func(context.Context) error, error) {
	if cfg.RedisURL == "" {
		log.Info("no REDIS_URL: leases are in process, for a single instance")
		return &community.LocalLeases{}, func() {}, nil, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	client := redis.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		client.Close()
		return nil, nil, nil, fmt.Errorf("redis at %s: %w", opts.Addr, err)
	}
	log.Info("redis connected", "addr", opts.Addr)
	ping := func(ctx context.Context) error { return client.Ping(ctx).Err() }
	return redislease.New(client, "quanzi:lease:"), func() { client.Close() }, ping, nil
}

// meiliIndexName is what Meilisearch accepts as an index uid.
var meiliIndexName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,400}$`)

// openIndex opens the configured search index.
func openIndex(ctx context.Context, cfg config, log *slog.Logger) (search.Index, error) {
	if cfg.Search == "meilisearch" {
		return meiliindex.Open(ctx, meiliindex.Config{URL: cfg.MeiliURL, Key: cfg.MeiliKey, Index: cfg.MeiliIndex, Logger: log})
	}
	return bleveindex.Open(bleveindex.Config{Dir: filepath.Join(cfg.DataDir, "search"), Logger: log})
}

// instanceName names this process in leases: host, process id and a random suffix.
func instanceName() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// cursorKey derives the key that signs page cursors from the token secret, so that every
// instance sharing the secret accepts the others' cursors, and cursors outlive restarts.
func cursorKey(secret string) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("quanzi page cursors"))
	return mac.Sum(nil)
}

// handlerOptions are the settings of the API's handler that cfg configures.
func handlerOptions(cfg config) resolvers.Options {
	proxies, _ := cfg.proxies() // validated with the configuration
	return resolvers.Options{
		HandlerLimits:  cfg.Limits.orDefaults().HandlerLimits,
		Production:     cfg.production(),
		Introspection:  cfg.Introspection,
		TrustedProxies: proxies,
	}
}

// newMinter returns a function that signs development tokens as cfg's verifier expects
// them: with its secret, issuer and audience.
func newMinter(cfg config) func(jwtauth.Claims, time.Duration) (string, error) {
	return func(c jwtauth.Claims, ttl time.Duration) (string, error) {
		c.Issuer = cfg.JWTIssuer
		if cfg.JWTAudience != "" {
			c.Audience = []string{cfg.JWTAudience}
		}
		return jwtauth.Mint([]byte(cfg.JWTSecret), c, ttl)
	}
}

// newVerifier returns the verifier of bearer tokens that cfg configures.
func newVerifier(cfg config) *jwtauth.Verifier {
	return jwtauth.New([]byte(cfg.JWTSecret), nil, jwtauth.Issuer(cfg.JWTIssuer), jwtauth.Audience(cfg.JWTAudience))
}

// mintToken prints a development token signed with the configured secret, with the
// configured issuer and audience when they are set, so that the server accepts it.
func mintToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var member, identity, brand string
	var ttl time.Duration
	var roles multiFlag
	cfg, err := parseConfig("token", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&member, "member", "", "member id (the sub claim)")
		fs.StringVar(&identity, "identity", "", "verified identity PROVIDER:externalId, e.g. WECHAT:openid-123")
		fs.StringVar(&brand, "brand", "", "brand id of brand staff")
		fs.DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token is valid")
		fs.Var(&roles, "role", "role claim, repeatable: ADMIN, COMMUNITY_MANAGER, BRAND_ADMIN, BRAND_STAFF")
	})
	if err != nil {
		return err
	}
	claims := jwtauth.Claims{Roles: roles, Brand: brand}
	claims.Subject = member
	if identity != "" {
		provider, ext, ok := strings.Cut(identity, ":")
		if !ok {
			return errors.New("-identity must be PROVIDER:externalId")
		}
		claims.Identity = &jwtauth.IdentityClaim{Provider: strings.ToUpper(provider), ExternalID: ext}
	}
	if claims.Subject == "" && claims.Identity == nil && len(roles) == 0 {
		return errors.New("give -member, -identity or -role")
	}
	token, err := newMinter(cfg)(claims, ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// reindex rebuilds the search index from the store: a new index is built beside the live
// one, which serves searches until the switch. The servers' relays stand aside meanwhile
// (through the leases in Redis, which a shared store therefore needs), and deliver what was
// written during the rebuild once the new index is live.
func reindex(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var alone bool
	cfg, err := parseConfig("reindex", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&alone, "alone", false, "no server runs against this store (needed for a shared store without REDIS_URL)")
	})
	if err != nil {
		return err
	}
	if cfg.Store == "neo4j" && cfg.RedisURL == "" && !alone {
		// Without Redis the leases are this process's only: a server's relay would not
		// stand aside, and could deliver changes to the old index that the new one misses.
		return errors.New("reindex against Neo4j needs REDIS_URL, so that running servers' relays stand aside; with no server running, pass -alone")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := openBackends(ctx, cfg, log)
	if err != nil {
		if cfg.Store == "embedded" && errors.Is(err, bolt.ErrTimeout) {
			return fmt.Errorf("%w: a running server holds %s; stop it first, or rebuild through it with the rebuildSearchIndex mutation", err, cfg.DataDir)
		}
		return err
	}
	defer b.close()
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("indexing posts"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("posts"),
		progressbar.OptionThrottle(200*time.Millisecond),
		// No spinner ticking on its own goroutine: the bar is drawn as posts are indexed.
		progressbar.OptionSetSpinnerChangeInterval(0))
	start := time.Now()
	n, err := search.Rebuild(ctx, b.store, b.index, b.leases, search.RebuildConfig{
		Holder:   "reindex-" + instanceName(),
		Progress: func(done int) { bar.Set(done) },
	})
	bar.Finish()
	fmt.Fprintln(stderr)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	fmt.Fprintf(stderr, "reindexed %d posts in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
