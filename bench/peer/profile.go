package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// The profile: what each server asks of Neo4j for one request. Both servers log the
// statements they send when told to (Quanzi with QUANZI_NEO4J_LOG_STATEMENTS=true, the peer
// with PEER_LOG_STATEMENTS=true), one JSON line each in their log file, written before the
// statement runs:
//
//	{"msg":"neo4j statement","cypher":"...","params":{...}}
//
// The benchmark sends each request alone and takes the statements logged while it was in
// flight, then runs each of them again with PROFILE, with the same parameters, and adds up
// the database hits of its plan.
//
// Quanzi also sends statements of its own while it serves (its outbox relay polls the
// store, every 2 s at most when idle), which can fall inside a request's window. They are
// told apart thus: a statement whose Cypher was logged outside every request window (in an
// idle window before the first request, longer than the relay's longest sleep, and in the
// gaps between requests) is background work and dropped; and each request is sent until
// two sends in a row give the same statements (the same Cypher texts, as a multiset), so
// background work never seen outside a window shows up as a difference and is not taken.

// statement is one statement a server sent to Neo4j, with its parameters.
type statement struct {
	cypher string
	params map[string]any
}

// statementLog reads the statements a server writes to its log file.
type statementLog struct {
	path string
}

// end is the current length of the log.
func (l statementLog) end() (int64, error) {
	fi, err := os.Stat(l.path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// between returns the statements logged from byte from up to byte to, a line boundary (a
// line is written whole, in one write, so the length of the log is one).
func (l statementLog) between(from, to int64) ([]statement, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []statement
	sc := bufio.NewScanner(io.NewSectionReader(f, from, to-from))
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		st, ok, err := parseStatement(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.path, err)
		}
		if ok {
			out = append(out, st)
		}
	}
	return out, sc.Err()
}

// parseStatement reads a statement from a log line; ok is false for the other lines.
func parseStatement(line []byte) (st statement, ok bool, err error) {
	if !bytes.Contains(line, []byte(`"neo4j statement"`)) {
		return statement{}, false, nil
	}
	var rec struct {
		Msg    string
		Cypher string
		Params json.RawMessage
	}
	if json.Unmarshal(line, &rec) != nil || rec.Msg != "neo4j statement" {
		return statement{}, false, nil
	}
	st.cypher = rec.Cypher
	st.params = map[string]any{}
	if len(rec.Params) > 0 && string(rec.Params) != "null" {
		dec := json.NewDecoder(bytes.NewReader(rec.Params))
		dec.UseNumber()
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			return statement{}, false, fmt.Errorf("parameters of a statement: %w", err)
		}
		for k, v := range raw {
			st.params[k] = replayable(v)
		}
	}
	return st, true, nil
}

// replayable turns a parameter value decoded from JSON back into what was sent: numbers
// written without a fraction or an exponent into integers, others into floats, and strings
// that are RFC 3339 times (Go's time.Time in JSON, DateTimes in the peer's log) into times,
// within maps and lists too. A string parameter that merely looks like a time would be
// turned into one: neither server sends such strings in the compared queries.
func replayable(v any) any {
	switch v := v.(type) {
	case json.Number:
		s := v.String()
		if !strings.ContainsAny(s, ".eE") {
			if n, err := v.Int64(); err == nil {
				return n
			}
		}
		f, _ := v.Float64()
		return f
	case string:
		if len(v) >= len("2006-01-02T15:04:05Z") && v[4] == '-' && v[10] == 'T' {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return t
			}
		}
		return v
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = replayable(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = replayable(x)
		}
		return out
	default:
		return v
	}
}

// profiled is a statement with what PROFILE says of it.
type profiled struct {
	statement
	dbHits int64
	rows   int64
}

// profileStatement runs a statement again with PROFILE, in a read transaction (the
// compared requests only read), and returns the database hits of its whole plan and the
// rows it returned.
func profileStatement(ctx context.Context, driver neo4j.DriverWithContext, st statement) (profiled, error) {
	session := driver.NewSession(ctx, neo4j.SessionConfig{AccessMode: neo4j.AccessModeRead})
	defer session.Close(ctx)
	return neo4j.ExecuteRead(ctx, session, func(tx neo4j.ManagedTransaction) (profiled, error) {
		res, err := tx.Run(ctx, "PROFILE "+st.cypher, st.params)
		if err != nil {
			return profiled{}, err
		}
		summary, err := res.Consume(ctx)
		if err != nil {
			return profiled{}, err
		}
		plan := summary.Profile()
		if plan == nil {
			return profiled{}, errors.New("no profile in the summary")
		}
		return profiled{statement: st, dbHits: dbHits(plan), rows: plan.Records()}, nil
	})
}

func dbHits(p neo4j.ProfiledPlan) int64 {
	n := p.DbHits()
	for _, c := range p.Children() {
		n += dbHits(c)
	}
	return n
}

// profiler captures the statements of requests to one server.
type profiler struct {
	log statementLog
	// seen is how far the log has been read.
	seen int64
	// background holds the Cypher of the statements logged outside requests.
	background map[string]bool
}

// newProfiler watches a server's log for idle, and takes every statement logged meanwhile
// for background work.
func newProfiler(ctx context.Context, log statementLog, idle time.Duration) (*profiler, error) {
	p := &profiler{log: log, background: map[string]bool{}}
	var err error
	if p.seen, err = log.end(); err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(idle):
	}
	return p, p.learnBackground()
}

// learnBackground takes the statements logged since the last read for background work.
func (p *profiler) learnBackground() error {
	end, err := p.log.end()
	if err != nil {
		return err
	}
	sts, err := p.log.between(p.seen, end)
	if err != nil {
		return err
	}
	for _, st := range sts {
		p.background[st.cypher] = true
	}
	p.seen = end
	return nil
}

// capture sends a request once unmeasured (the peer asks Neo4j for its version on its
// first request), then until two sends in a row give the same statements, at most tries
// times, and returns those of the last.
func (p *profiler) capture(ctx context.Context, client *http.Client, s *target, q query, m member, tries int) ([]statement, error) {
	if _, err := post(ctx, client, s, 0, s.text(q), s.variables(m)); err != nil {
		return nil, err
	}
	end, err := p.log.end()
	if err != nil {
		return nil, err
	}
	p.seen = end
	var last []statement
	for range tries {
		if err := p.learnBackground(); err != nil {
			return nil, err
		}
		if _, err := post(ctx, client, s, 0, s.text(q), s.variables(m)); err != nil {
			return nil, err
		}
		end, err := p.log.end()
		if err != nil {
			return nil, err
		}
		all, err := p.log.between(p.seen, end)
		if err != nil {
			return nil, err
		}
		p.seen = end
		var mine []statement
		for _, st := range all {
			if !p.background[st.cypher] {
				mine = append(mine, st)
			}
		}
		if last != nil && slices.Equal(cyphers(last), cyphers(mine)) {
			return mine, nil
		}
		last = mine
	}
	return nil, fmt.Errorf("%s %s on %s: the statements differ from send to send in %d sends", q.name, m.handle, s.name, tries)
}

// cyphers are the Cypher texts of statements, sorted.
func cyphers(sts []statement) []string {
	out := make([]string, len(sts))
	for i, st := range sts {
		out[i] = st.cypher
	}
	slices.Sort(out)
	return out
}

// profileKey names a profiled request.
type profileKey struct{ query, member, server string }

// profileRequests captures and profiles each query for each member on each server, in
// turn.
func profileRequests(ctx context.Context, client *http.Client, driver neo4j.DriverWithContext, servers []*target, profilers []*profiler, targets []member) (map[profileKey][]profiled, error) {
	out := map[profileKey][]profiled{}
	for _, q := range queries {
		for _, m := range targets {
			for i, s := range servers {
				sts, err := profilers[i].capture(ctx, client, s, q, m, 5)
				if err != nil {
					return nil, err
				}
				var done []profiled
				for _, st := range sts {
					pr, err := profileStatement(ctx, driver, st)
					if err != nil {
						return nil, fmt.Errorf("profile a statement of %s %s on %s: %w\n%s", q.name, m.handle, s.name, err, st.cypher)
					}
					done = append(done, pr)
				}
				logf("profiled %s %s on %s: %d statements", q.name, m.handle, s.name, len(done))
				out[profileKey{q.name, m.handle, s.name}] = done
			}
		}
	}
	return out, nil
}

// meaningfulLines are a statement's lines without blank lines, comments and query options
// (the peer starts each statement with CYPHER 5), trimmed.
func meaningfulLines(cypher string) []string {
	var out []string
	for line := range strings.Lines(cypher) {
		line = strings.Join(strings.Fields(line), " ")
		// A line of query options only, such as CYPHER 5, holds no pattern.
		if line == "" || strings.HasPrefix(line, "//") || strings.HasPrefix(strings.ToUpper(line), "CYPHER ") && !strings.Contains(line, "(") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// shortNames names each distinct statement by its first meaningful line, or by as many of
// its first lines as tell it from the others, cut at 120 characters.
func shortNames(all []string) map[string]string {
	distinct := slices.Compact(slices.Sorted(slices.Values(all)))
	lines := make([][]string, len(distinct))
	for i, c := range distinct {
		lines[i] = meaningfulLines(c)
	}
	// shared tells whether another statement starts with the same k lines as statement i.
	shared := func(i, k int) bool {
		for j := range distinct {
			if j != i && len(lines[j]) >= k && slices.Equal(lines[j][:k], lines[i][:k]) {
				return true
			}
		}
		return false
	}
	names := map[string]string{}
	for i, c := range distinct {
		k := min(1, len(lines[i]))
		for k < len(lines[i]) && shared(i, k) {
			k++
		}
		name := strings.Join(lines[i][:k], " ")
		if r := []rune(name); len(r) > 120 {
			name = string(r[:119]) + "…"
		}
		names[c] = name
	}
	return names
}

// printProfile prints a table of statements and total database hits per request, then one
// of database hits per statement.
func printProfile(w io.Writer, servers []string, targets []member, results map[profileKey][]profiled, background map[string][]string) {
	b := bufio.NewWriter(w)
	defer b.Flush()
	var all []string
	for _, sts := range results {
		for _, st := range sts {
			all = append(all, st.cypher)
		}
	}
	names := shortNames(all)
	fmt.Fprintln(b, "\nPROFILE of the statements each server sends Neo4j for one request, each run again with its parameters in a read transaction on the same Neo4j (db hits: the sum over the plan's operators; rows: what the statement returned).")
	for _, s := range servers {
		if bg := background[s]; len(bg) > 0 {
			fmt.Fprintf(b, "Left out as %s's background work (logged outside requests): %s.\n", s, strings.Join(bg, "; "))
		}
	}
	fmt.Fprintln(b)
	fmt.Fprintln(b, "| query | member (followers) | server | statements | total db hits | db hits per statement |")
	fmt.Fprintln(b, "|---|---|---|---:|---:|---|")
	for _, q := range queries {
		for _, m := range targets {
			for _, s := range servers {
				sts, ok := results[profileKey{q.name, m.handle, s}]
				if !ok {
					continue
				}
				var total int64
				var each []string
				for _, st := range sts {
					total += st.dbHits
					each = append(each, fmt.Sprint(st.dbHits))
				}
				fmt.Fprintf(b, "| %s | %s (%d) | %s | %d | %d | %s |\n", q.name, m.handle, m.followers, s, len(sts), total, strings.Join(each, " + "))
			}
		}
	}
	fmt.Fprintln(b)
	fmt.Fprintln(b, "| query | member | server | # | statement | rows | db hits |")
	fmt.Fprintln(b, "|---|---|---|---:|---|---:|---:|")
	for _, q := range queries {
		for _, m := range targets {
			for _, s := range servers {
				for i, st := range results[profileKey{q.name, m.handle, s}] {
					fmt.Fprintf(b, "| %s | %s | %s | %d | `%s` | %d | %d |\n", q.name, m.handle, s, i+1, names[st.cypher], st.rows, st.dbHits)
				}
			}
		}
	}
}

// writeStatements writes every profiled statement whole, with its parameters and figures,
// for reading beside the tables.
func writeStatements(path string, servers []string, targets []member, results map[profileKey][]profiled) error {
	var b bytes.Buffer
	for _, q := range queries {
		for _, m := range targets {
			for _, s := range servers {
				for i, st := range results[profileKey{q.name, m.handle, s}] {
					params, err := json.Marshal(st.params)
					if err != nil {
						return err
					}
					fmt.Fprintf(&b, "=== %s %s on %s, statement %d: %d db hits, %d rows\n%s\n--- params: %s\n\n",
						q.name, m.handle, s, i+1, st.dbHits, st.rows, strings.TrimSpace(st.cypher), params)
				}
			}
		}
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
