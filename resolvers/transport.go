package resolvers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/sync/semaphore"

	"quanzi/community"
)

// Codes of refusals made before a request reaches GraphQL, each with its HTTP status.
const (
	// CodeBadRequest: the HTTP request is not a GraphQL request this server takes (method,
	// content type, body too large, body or parameters not JSON).
	CodeBadRequest = "BAD_REQUEST"
	// CodeServiceUnavailable: the server is at its limit of requests in flight; retry after
	// the Retry-After header's seconds.
	CodeServiceUnavailable = "SERVICE_UNAVAILABLE"
	// CodeTimeout: the request did not finish within its deadline.
	CodeTimeout = "TIMEOUT"
)

// WriteError answers a request with one GraphQL error of a code, as JSON, with an HTTP
// status: every refusal of the API has this shape.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message":    message,
		"extensions": map[string]any{"code": code},
	}}})
}

// Guard is HTTP middleware in front of the GraphQL endpoint: it refuses what no transport
// takes — a method other than GET, POST and OPTIONS, a POST whose content type is not
// JSON, a request to upgrade the connection — with a coded GraphQL error instead of
// gqlgen's plain-text one.
func Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			WriteError(w, http.StatusBadRequest, CodeBadRequest, "this endpoint does not upgrade connections: send queries with GET or POST")
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodOptions:
		case http.MethodPost:
			if !isJSON(r.Header.Get("Content-Type")) {
				WriteError(w, http.StatusUnsupportedMediaType, CodeBadRequest, "a POST request must have Content-Type: application/json")
				return
			}
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			WriteError(w, http.StatusMethodNotAllowed, CodeBadRequest, fmt.Sprintf("method %s is not allowed: send queries with GET or POST and mutations with POST", r.Method))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isJSON(contentType string) bool {
	media, _, err := mime.ParseMediaType(contentType)
	return err == nil && (media == "application/json" || media == "application/graphql-response+json")
}

// retryAfter is the Retry-After of refusals for load: a second.
const retryAfter = "1"

// retryLater refuses a request for load: the status and code with Retry-After, and a
// message saying who is over what.
func retryLater(w http.ResponseWriter, status int, code, who string) {
	w.Header().Set("Retry-After", retryAfter)
	WriteError(w, status, code, who+": retry after "+retryAfter+" s")
}

// Shed is HTTP middleware that serves at most max requests at once and answers the others
// at once with 503 and Retry-After, so that a burst is refused rather than queued without
// bound. max < 1 serves everything.
func Shed(max int, log *slog.Logger, next http.Handler) http.Handler {
	if max < 1 {
		return next
	}
	inFlight := semaphore.NewWeighted(int64(max))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !inFlight.TryAcquire(1) {
			log.InfoContext(r.Context(), "shed a request", "request_id", RequestID(r.Context()), "in_flight", max)
			retryLater(w, http.StatusServiceUnavailable, CodeServiceUnavailable, "the server is busy")
			return
		}
		defer inFlight.Release(1)
		next.ServeHTTP(w, r)
	})
}

// Deadline is HTTP middleware that ends a request's context after d, so that the work it
// started stops; the caller going away ends it too. d <= 0 sets no deadline.
func Deadline(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, deadlineKey{}, d)))
	})
}

type deadlineKey struct{}

// POST is the GraphQL-over-HTTP POST transport: a JSON body of query, operationName,
// variables and extensions. Unlike gqlgen's, it answers a body over the size limit with
// 413, and an undecodable body with 400 and a message that echoes none of it.
type POST struct{ Log *slog.Logger }

var _ graphql.Transport = POST{}

// Supports implements graphql.Transport.
func (POST) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && r.Header.Get("Upgrade") == "" && isJSON(r.Header.Get("Content-Type"))
}

// Do implements graphql.Transport.
func (t POST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	body, err := readBody(r)
	if err != nil {
		refuseBody(w, err)
		return
	}
	var params graphql.RawParams
	if msg := decodeBody(body, &params); msg != "" {
		WriteError(w, http.StatusBadRequest, CodeBadRequest, msg)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	run(w, r, exec, &params, false, t.Log)
}

// maxOperationName is the longest operationName taken: errors name it.
const maxOperationName = 256

// requestBody is the JSON body of a POST, decoded into fields whose types say what is
// wrong when a client sends something else.
type requestBody struct {
	Query         *string         `json:"query"`
	OperationName *string         `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
}

// decodeBody decodes a POST body into params and returns "" or what is wrong with it, in
// words that echo none of the body.
func decodeBody(body []byte, params *graphql.RawParams) string {
	var b requestBody
	// Unmarshal reads the body in place (a decoder would copy it first); variables and
	// extensions, which need numbers kept exact, are decoded apart.
	if err := json.Unmarshal(body, &b); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return fmt.Sprintf("the request body is not valid JSON (at byte %d)", syntax.Offset)
		case errors.As(err, &typ) && typ.Field != "":
			return fmt.Sprintf("the request body's %q must be a string", typ.Field)
		default:
			return "the request body must be a JSON object with query, operationName, variables and extensions"
		}
	}
	if b.Query != nil {
		params.Query = *b.Query
	}
	if b.OperationName != nil {
		params.OperationName = *b.OperationName
	}
	if len(params.OperationName) > maxOperationName {
		return fmt.Sprintf("operationName is longer than %d bytes", maxOperationName)
	}
	if msg := decodeObject("variables", b.Variables, &params.Variables); msg != "" {
		return msg
	}
	return decodeObject("extensions", b.Extensions, &params.Extensions)
}

// decodeObject decodes raw, when present and not null, into a JSON object.
func decodeObject(name string, raw []byte, into *map[string]any) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] != '{' || decodeJSON(raw, into) != nil {
		return fmt.Sprintf("%s must be a JSON object", name)
	}
	return ""
}

func decodeJSON(data []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return &json.SyntaxError{Offset: dec.InputOffset()}
	}
	return nil
}

// GET is the GraphQL-over-HTTP GET transport, for queries only: parameters query,
// operationName, and JSON variables and extensions (automatic persisted queries use it).
type GET struct{ Log *slog.Logger }

var _ graphql.Transport = GET{}

// Supports implements graphql.Transport.
func (GET) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == ""
}

// Do implements graphql.Transport.
func (t GET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		WriteError(w, http.StatusBadRequest, CodeBadRequest, "the URL's query string could not be decoded")
		return
	}
	params := graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName"), Headers: r.Header}
	if len(params.OperationName) > maxOperationName {
		WriteError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("operationName is longer than %d bytes", maxOperationName))
		return
	}
	params.ReadTime.Start = graphql.Now()
	if msg := decodeObject("variables", []byte(q.Get("variables")), &params.Variables); msg != "" {
		WriteError(w, http.StatusBadRequest, CodeBadRequest, msg)
		return
	}
	if msg := decodeObject("extensions", []byte(q.Get("extensions")), &params.Extensions); msg != "" {
		WriteError(w, http.StatusBadRequest, CodeBadRequest, msg)
		return
	}
	params.ReadTime.End = graphql.Now()
	run(w, r, exec, &params, true, t.Log)
}

// run executes one operation and writes its response: 422 for a document that does not
// parse or validate, 405 for a mutation sent with GET (onlyQueries), 504 when a query's
// deadline passed before it finished or a mutation's before it began, nothing when the
// caller has gone.
func run(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, params *graphql.RawParams, onlyQueries bool, log *slog.Logger) {
	ctx := r.Context()
	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		status := http.StatusOK
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			status = http.StatusUnprocessableEntity
		}
		writeResponse(w, status, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	if onlyQueries && oc.Operation.Operation != ast.Query {
		w.Header().Set("Allow", "POST")
		WriteError(w, http.StatusMethodNotAllowed, CodeBadRequest, "a GET request may only run a query: send mutations with POST")
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	// gqlgen runs nothing, and answers nil, for a request whose context ended before it
	// began; one whose context ends while it runs is answered with what it did.
	resp := responses(ctx)
	switch err := r.Context().Err(); {
	case errors.Is(err, context.DeadlineExceeded):
		d, _ := r.Context().Value(deadlineKey{}).(time.Duration)
		log.InfoContext(ctx, "request deadline passed", "request_id", RequestID(ctx), "deadline", d.String())
		if resp != nil && oc.Operation.Operation == ast.Mutation {
			break // a mutation's answer says what it wrote, so that its client does not retry a write made
		}
		WriteError(w, http.StatusGatewayTimeout, CodeTimeout, fmt.Sprintf("the request did not finish within its deadline of %s", d))
		return
	case err != nil:
		log.InfoContext(ctx, "caller went away", "request_id", RequestID(ctx))
		return
	}
	writeResponse(w, http.StatusOK, resp)
}

func writeResponse(w http.ResponseWriter, status int, resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "INTERNAL", "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// ReadBody is HTTP middleware that reads a request's whole body, up to maxBytes, before
// the request holds any place in the server: a client that sends its body slowly waits for
// itself, not in the count of requests in flight or its caller's turns. At most perAddress
// bodies from one address (see ClientAddress) are read at once; beyond that, and for a body
// over the limit or one that cannot be read, the request is refused with a coded error.
func ReadBody(maxBytes int64, perAddress int, proxies []netip.Prefix, log *slog.Logger, next http.Handler) http.Handler {
	readers := newGates(perAddress, 0)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		key := addressKey(ClientAddress(r, proxies))
		c, ok := readers.enter(key)
		if !ok {
			log.InfoContext(r.Context(), "refused a body over its address's share", "request_id", RequestID(r.Context()), "address", key)
			retryLater(w, http.StatusTooManyRequests, string(community.CodeRateLimited), "too many requests at once from this address")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
		readers.leave(key, c)
		if err != nil {
			refuseBody(w, err)
			return
		}
		r.Body = readBytes{bytes.NewReader(body), body}
		next.ServeHTTP(w, r)
	})
}

// PerCaller is HTTP middleware that runs at most max requests of one caller at once: the
// caller's further requests wait their turn (within their deadline), up to queue of them,
// and beyond that are answered 429 RATE_LIMITED with Retry-After. So that one caller
// sending request after request cannot take every core from the others, whatever each
// request costs. A caller is the member of the token, else the identity or the roles it
// carries, else, with no token, the address the request came from (see ClientAddress). It
// goes after Authenticate. max < 1 lets every request run.
func PerCaller(max, queue int, proxies []netip.Prefix, log *slog.Logger, next http.Handler) http.Handler {
	if max < 1 {
		return next
	}
	callers := newGates(max, queue)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := callerKey(r, proxies)
		c, ok := callers.enter(key)
		if !ok {
			log.InfoContext(r.Context(), "refused a caller over its share", "request_id", RequestID(r.Context()), "caller", key)
			retryLater(w, http.StatusTooManyRequests, string(community.CodeRateLimited), "too many requests at once from this caller")
			return
		}
		defer callers.leave(key, c)
		select {
		case c.turns <- struct{}{}:
		case <-r.Context().Done():
			WriteError(w, http.StatusGatewayTimeout, CodeTimeout, "the request's deadline passed while it waited for its turn")
			return
		}
		defer func() { <-c.turns }()
		next.ServeHTTP(w, r)
	})
}

// gates keeps, by key, the requests that hold or wait for one of max turns.
type gates struct {
	mu         sync.Mutex
	max, queue int
	byKey      map[string]*caller
}

// caller is the requests of one key: those running hold a turn; users counts those
// running and waiting.
type caller struct {
	turns chan struct{}
	users int
}

func newGates(max, queue int) *gates {
	return &gates{max: max, queue: queue, byKey: map[string]*caller{}}
}

// enter counts a request of key in, unless key has max+queue already.
func (g *gates) enter(key string) (*caller, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.byKey[key]
	if c == nil {
		c = &caller{turns: make(chan struct{}, g.max)}
		g.byKey[key] = c
	}
	if c.users >= g.max+g.queue {
		return nil, false
	}
	c.users++
	return c, true
}

// leave counts a request of key out.
func (g *gates) leave(key string, c *caller) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c.users--; c.users == 0 {
		delete(g.byKey, key)
	}
}

// readBytes is a request body read already, whose bytes the transport takes as they are.
type readBytes struct {
	*bytes.Reader
	data []byte
}

func (readBytes) Close() error { return nil }

// refuseBody answers a request whose body could not be read: 413 when it is over the
// limit, else 400.
func refuseBody(w http.ResponseWriter, err error) {
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		WriteError(w, http.StatusRequestEntityTooLarge, CodeBadRequest, fmt.Sprintf("the request body is over the limit of %d bytes", tooLarge.Limit))
		return
	}
	WriteError(w, http.StatusBadRequest, CodeBadRequest, "the request body could not be read")
}

// readBody returns the body of r: the bytes read already, or all there is to read.
func readBody(r *http.Request) ([]byte, error) {
	if b, ok := r.Body.(readBytes); ok {
		return b.data, nil
	}
	return io.ReadAll(r.Body)
}

// callerKey names the caller of a request, for PerCaller.
func callerKey(r *http.Request, proxies []netip.Prefix) string {
	a := community.ActorFrom(r.Context())
	switch {
	case a.MemberID != "":
		return "member " + a.MemberID
	case a.Identity != nil:
		return "identity " + string(a.Identity.Provider) + " " + a.Identity.ExternalID
	case len(a.Roles) > 0:
		return fmt.Sprint("roles ", a.Roles, " ", a.BrandID)
	}
	return addressKey(ClientAddress(r, proxies))
}

// addressKey names the caller behind an address: an IPv6 address by its /64, which one
// host or household usually holds whole.
func addressKey(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return "address " + p.String()
	}
	return "address " + a.String()
}

// ClientAddress returns the address a request came from: its connection's peer, unless
// that is one of the trusted proxies (a gateway or load balancer in front of the server),
// in which case the nearest address in X-Forwarded-For that is not a trusted proxy. A peer
// that is not trusted cannot name another address.
func ClientAddress(r *http.Request, proxies []netip.Prefix) netip.Addr {
	addr, _ := parseAddress(r.RemoteAddr)
	if !trusted(addr, proxies) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for _, hop := range slices.Backward(hops) {
		a, ok := parseAddress(strings.TrimSpace(hop))
		if !ok {
			break // a forged or garbled entry: the last trusted hop is the client
		}
		if addr = a; !trusted(addr, proxies) {
			break
		}
	}
	return addr
}

// parseAddress reads an address, with or without a port (some proxies write one).
func parseAddress(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	return a.Unmap(), err == nil
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	return slices.ContainsFunc(proxies, func(p netip.Prefix) bool { return p.Contains(a) })
}
