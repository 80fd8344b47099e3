// Command peer compares Quanzi on Neo4j with the generic alternative, the Neo4j GraphQL
// Library on GraphQL Yoga (this folder's Node project, pinned in package-lock.json), over
// the same Neo4j and the same data, and Quanzi on its embedded store seeded alike.
//
// It seeds the graph with Quanzi's own seed command when the graph is empty (and the
// embedded store in the work dir once), starts the servers, picks the members nearest to
// the given follower counts, checks that all servers answer two queries alike, then
// measures each (query, member, server) with concurrent clients for a fixed time, turning
// the servers' order, over several rounds, and prints a markdown table: requests per
// second, p50 and p99 latency, and CPU per request of the server process and of the Neo4j
// process (utime+stime from /proc). Where taskset is available, the servers and Neo4j run
// on CPU 0 and the load generator on CPU 1.
//
// With -profile (after measuring) or -profile-only (instead), it starts Quanzi on Neo4j and
// the peer again, logging the statements they send, captures those of one request of each
// query for each member, runs each again with PROFILE and prints their database hits (see
// profile.go).
//
// Run it from the repository root, with a Neo4j of its own (the seed writes to it):
//
//	NEO4J_URI=bolt://127.0.0.1:7687 go run ./bench/peer
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "peer benchmark:", err)
		os.Exit(1)
	}
}

// options are the benchmark's flags.
type options struct {
	neo4jURI     string
	neo4jPID     int
	members      int
	follows      int
	seed         int
	targets      string
	clients      int
	duration     time.Duration
	warmup       time.Duration
	rounds       int
	quanziPort   int
	peerPort     int
	embedded     bool
	embeddedPort int
	workDir      string
	checkOnly    bool
	profile      bool
	profileOnly  bool
	profileIdle  time.Duration
	quietWithin  time.Duration
}

func parseOptions() options {
	var o options
	flag.StringVar(&o.neo4jURI, "neo4j-uri", os.Getenv("NEO4J_URI"), "Neo4j both servers use (NEO4J_URI); the graph is seeded when empty")
	flag.IntVar(&o.neo4jPID, "neo4j-pid", 0, "process id of Neo4j, for its CPU time; 0 finds the process listening on the URI's port")
	flag.IntVar(&o.members, "members", 20000, "members of the seeded community")
	flag.IntVar(&o.follows, "follows", 200000, "follows of the seeded community")
	flag.IntVar(&o.seed, "seed", 7, "seed of the seeded community")
	flag.StringVar(&o.targets, "targets", "296,5381", "follower counts of the members to query; the nearest member is taken")
	flag.IntVar(&o.clients, "clients", 8, "concurrent clients, each a member of its own")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per (server, query, member) and round")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured load before each measurement")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; the servers alternate within and between rounds")
	flag.IntVar(&o.quanziPort, "quanzi-port", 18080, "port of Quanzi on Neo4j")
	flag.IntVar(&o.peerPort, "peer-port", 14000, "port of the peer")
	flag.BoolVar(&o.embedded, "embedded", true, "also measure Quanzi on its embedded store, seeded alike in the work dir")
	flag.IntVar(&o.embeddedPort, "embedded-port", 18081, "port of Quanzi on its embedded store")
	flag.StringVar(&o.workDir, "work-dir", filepath.Join(os.TempDir(), "quanzi-bench-peer"), "Quanzi's binary, data dirs and the servers' logs")
	flag.BoolVar(&o.checkOnly, "check-only", false, "check that the servers answer alike, and measure nothing")
	flag.BoolVar(&o.profile, "profile", false, "after measuring, PROFILE the statements each server on Neo4j sends for each query and member, and print their db hits")
	flag.BoolVar(&o.profileOnly, "profile-only", false, "PROFILE the statements as -profile does, and measure nothing")
	flag.DurationVar(&o.profileIdle, "profile-idle", 5*time.Second, "time the servers are watched idle before profiling: statements logged meanwhile are background work, left out")
	flag.DurationVar(&o.quietWithin, "quiet-within", 10*time.Minute, "longest wait for Quanzi to finish its start-up work (search index rebuild) before measuring")
	flag.Parse()
	return o
}

// Names of the servers, in the tables.
const (
	quanziNeo4j    = "Quanzi (Neo4j)"
	quanziEmbedded = "Quanzi (embedded)"
	peerName       = "peer"
)

// bench holds what the phases of a run share.
type bench struct {
	o        options
	root     string
	bin      string
	peerDir  string
	env      []string
	pinning  bool
	tokens   []string
	targets  []member
	neo4jPID int
	client   *http.Client
}

func run(ctx context.Context) error {
	o := parseOptions()
	if o.neo4jURI == "" {
		return errors.New("set NEO4J_URI (or -neo4j-uri) to a Neo4j of the benchmark's own: the graph is seeded there")
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.workDir, 0o755); err != nil {
		return err
	}
	measuring := !o.checkOnly && !o.profileOnly
	profiling := !o.checkOnly && (o.profile || o.profileOnly)
	// The embedded store takes part in the answers' check and the measurement, not in the
	// profile: it sends no Cypher.
	withEmbedded := o.embedded && !o.profileOnly

	// Affinity: servers and Neo4j on CPU 0, the load generator on CPU 1.
	pinning := false
	if _, err := exec.LookPath("taskset"); err == nil && runtime.NumCPU() >= 2 {
		pinning = true
	}

	logf("building Quanzi")
	bin := filepath.Join(o.workDir, "quanzi")
	if err := runCmd(ctx, root, nil, "go", "build", "-o", bin, "."); err != nil {
		return fmt.Errorf("build Quanzi: %w", err)
	}
	peerDir := filepath.Join(root, "bench", "peer")
	if _, err := os.Stat(filepath.Join(peerDir, "node_modules", "@neo4j", "graphql")); err != nil {
		logf("installing the peer's pinned packages (npm ci)")
		if err := runCmd(ctx, root, nil, "npm", "ci", "--prefix", peerDir, "--no-audit", "--no-fund"); err != nil {
			return fmt.Errorf("npm ci: %w", err)
		}
	}

	env := []string{"QUANZI_STORE=neo4j", "NEO4J_URI=" + o.neo4jURI}
	driver, err := neo4j.NewDriverWithContext(o.neo4jURI, neo4jAuth())
	if err != nil {
		return err
	}
	defer driver.Close(context.WithoutCancel(ctx))
	if err := driver.VerifyConnectivity(ctx); err != nil {
		return fmt.Errorf("neo4j at %s: %w", o.neo4jURI, err)
	}
	if err := seedOnce(ctx, driver, bin, env, o); err != nil {
		return err
	}
	embeddedDir := filepath.Join(o.workDir, "embedded")
	if withEmbedded {
		if err := seedEmbeddedOnce(ctx, bin, embeddedDir, o); err != nil {
			return err
		}
	}
	targets, err := pickTargets(ctx, driver, o.targets)
	if err != nil {
		return err
	}
	tokens, err := mintTokens(ctx, driver, bin, env, o.clients)
	if err != nil {
		return err
	}

	neo4jPID := o.neo4jPID
	if neo4jPID == 0 {
		if neo4jPID, err = pidListeningOn(o.neo4jURI); err != nil {
			return fmt.Errorf("find the Neo4j process (give -neo4j-pid): %w", err)
		}
	}
	var notes []string
	if pinning {
		restore, err := pin(neo4jPID, "0")
		if err != nil {
			return fmt.Errorf("pin Neo4j to CPU 0: %w", err)
		}
		defer restore()
		if _, err := pin(os.Getpid(), "1"); err != nil {
			return fmt.Errorf("pin the load generator to CPU 1: %w", err)
		}
		runtime.GOMAXPROCS(1)
		notes = append(notes, "Quanzi, the peer and Neo4j pinned to CPU 0 (taskset), the load generator to CPU 1.")
	} else {
		notes = append(notes, "No CPU pinning: taskset is not available or the machine has one CPU; servers, Neo4j and the load generator share the CPUs.")
	}

	b := &bench{o: o, root: root, bin: bin, peerDir: peerDir, env: env, pinning: pinning, tokens: tokens, targets: targets, neo4jPID: neo4jPID,
		client: &http.Client{Transport: &http.Transport{MaxIdleConns: 4 * o.clients, MaxIdleConnsPerHost: 2 * o.clients, DisableCompression: true}, Timeout: 5 * time.Minute}}
	if !profiling || measuring {
		servers, stop, err := b.startServers(ctx, false, withEmbedded, embeddedDir)
		if err != nil {
			stop()
			return err
		}
		err = b.checkAnswers(ctx, servers)
		if err == nil && measuring {
			var results map[cellKey]*cell
			if results, err = b.measureAll(ctx, servers); err == nil {
				var names []string
				for _, s := range servers {
					names = append(names, s.name)
				}
				printTables(os.Stdout, o, targets, names, results, notes)
			}
		}
		stop()
		if err != nil {
			return err
		}
	}
	if profiling {
		return b.profile(ctx, driver)
	}
	return nil
}

// startServers starts Quanzi on Neo4j and the peer, each logging the statements it sends
// when logStatements is set, and Quanzi on its embedded store in embeddedDir when
// withEmbedded is set, and waits until they serve and Quanzi's start-up work is done. stop
// stops those started, also after an error.
func (b *bench) startServers(ctx context.Context, logStatements, withEmbedded bool, embeddedDir string) (servers []*target, stop func(), err error) {
	var procs []*server
	stop = func() {
		for _, p := range procs {
			p.stop()
		}
	}
	suffix, quanziLog, peerLog := "", []string{}, []string{}
	if logStatements {
		suffix, quanziLog, peerLog = "-profile", []string{"QUANZI_NEO4J_LOG_STATEMENTS=true"}, []string{"PEER_LOG_STATEMENTS=true"}
	}
	quanzi, err := startServer("quanzi", b.pinning, b.root, slices.Concat(b.env, quanziLog, []string{
		fmt.Sprintf("QUANZI_ADDR=127.0.0.1:%d", b.o.quanziPort), "QUANZI_DATA_DIR=" + filepath.Join(b.o.workDir, "data")}),
		filepath.Join(b.o.workDir, "quanzi"+suffix+".log"), b.bin)
	if err != nil {
		return nil, stop, err
	}
	procs = append(procs, quanzi)
	peer, err := startServer("peer", b.pinning, b.peerDir, slices.Concat([]string{"NEO4J_URI=" + b.o.neo4jURI, fmt.Sprintf("PEER_PORT=%d", b.o.peerPort)}, peerLog),
		filepath.Join(b.o.workDir, "peer"+suffix+".log"), "node", "server.mjs")
	if err != nil {
		return nil, stop, err
	}
	procs = append(procs, peer)
	servers = []*target{
		{name: quanziNeo4j, url: fmt.Sprintf("http://127.0.0.1:%d/query", b.o.quanziPort), proc: quanzi, tokens: b.tokens, usesNeo4j: true},
		{name: peerName, url: fmt.Sprintf("http://127.0.0.1:%d/graphql", b.o.peerPort), proc: peer, usesNeo4j: true},
	}
	if withEmbedded {
		embedded, err := startServer("quanzi-embedded", b.pinning, b.root, []string{"QUANZI_STORE=embedded",
			fmt.Sprintf("QUANZI_ADDR=127.0.0.1:%d", b.o.embeddedPort), "QUANZI_DATA_DIR=" + embeddedDir},
			filepath.Join(b.o.workDir, "quanzi-embedded.log"), b.bin)
		if err != nil {
			return nil, stop, err
		}
		procs = append(procs, embedded)
		servers = append(servers, &target{name: quanziEmbedded, url: fmt.Sprintf("http://127.0.0.1:%d/query", b.o.embeddedPort), proc: embedded, tokens: b.tokens})
	}
	if err := waitReady(ctx, b.client, servers); err != nil {
		return nil, stop, err
	}
	logf("waiting for Quanzi's start-up work to end (its CPU quiet)")
	for _, s := range servers {
		if s.tokens != nil {
			if err := waitQuiet(ctx, s.proc.cmd.Process.Pid, b.o.quietWithin); err != nil {
				return nil, stop, err
			}
		}
	}
	return servers, stop, nil
}

// checkAnswers fails unless the servers answer each query for each member alike: a
// benchmark of different answers measures nothing.
func (b *bench) checkAnswers(ctx context.Context, servers []*target) error {
	for _, m := range b.targets {
		for _, q := range queries {
			if err := checkSame(ctx, b.client, servers, q, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// measureAll measures each (query, member, server) in every round; the order of the
// servers turns from cell to cell and round to round.
func (b *bench) measureAll(ctx context.Context, servers []*target) (map[cellKey]*cell, error) {
	results := map[cellKey]*cell{}
	for round := range b.o.rounds {
		for qi, q := range queries {
			for mi, m := range b.targets {
				turn := (round + qi*len(b.targets) + mi) % len(servers)
				order := slices.Concat(servers[turn:], servers[:turn])
				for _, s := range order {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					key := cellKey{q.name, m.handle, s.name}
					c := results[key]
					if c == nil {
						c = &cell{}
						results[key] = c
					}
					logf("round %d/%d: %s %s on %s", round+1, b.o.rounds, q.name, m.handle, s.name)
					if err := measure(ctx, b.client, s, q, m, b.neo4jPID, b.o, c); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return results, nil
}

// profile starts Quanzi on Neo4j and the peer anew, logging the statements they send,
// checks their answers again, then captures the statements of each request and prints
// their PROFILE. The full statements go to profile-statements.txt in the work dir.
func (b *bench) profile(ctx context.Context, driver neo4j.DriverWithContext) error {
	servers, stop, err := b.startServers(ctx, true, false, "")
	defer stop()
	if err != nil {
		return err
	}
	if err := b.checkAnswers(ctx, servers); err != nil {
		return err
	}
	logf("watching the servers' statements for %s idle, to tell their background work", b.o.profileIdle)
	profilers := make([]*profiler, len(servers))
	done := make(chan error, len(servers))
	for i, s := range servers {
		go func() {
			var err error
			profilers[i], err = newProfiler(ctx, statementLog{s.proc.logPath}, b.o.profileIdle)
			done <- err
		}()
	}
	for range servers {
		if err := <-done; err != nil {
			return err
		}
	}
	results, err := profileRequests(ctx, b.client, driver, servers, profilers, b.targets)
	if err != nil {
		return err
	}
	var names []string
	background := map[string][]string{}
	for i, s := range servers {
		names = append(names, s.name)
		bg := slices.Sorted(maps.Keys(profilers[i].background))
		short := shortNames(bg)
		for _, c := range bg {
			background[s.name] = append(background[s.name], "`"+short[c]+"`")
		}
	}
	path := filepath.Join(b.o.workDir, "profile-statements.txt")
	if err := writeStatements(path, names, b.targets, results); err != nil {
		return err
	}
	printProfile(os.Stdout, names, b.targets, results, background)
	fmt.Printf("\nEach statement whole, with its parameters: %s\n", path)
	return nil
}

// repoRoot is the directory of the quanzi module above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module quanzi\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the quanzi repository")
		}
		dir = parent
	}
}

func neo4jAuth() neo4j.AuthToken {
	if u := os.Getenv("NEO4J_USER"); u != "" {
		return neo4j.BasicAuth(u, os.Getenv("NEO4J_PASSWORD"), "")
	}
	return neo4j.NoAuth()
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

// runCmd runs a command to its end, its output on stderr.
func runCmd(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), env...)
	return cmd.Run()
}

func readOne(ctx context.Context, driver neo4j.DriverWithContext, cypher string, params map[string]any) (*neo4j.Record, error) {
	res, err := neo4j.ExecuteQuery(ctx, driver, cypher, params, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithReadersRouting())
	if err != nil {
		return nil, err
	}
	if len(res.Records) == 0 {
		return nil, errors.New("no record")
	}
	return res.Records[0], nil
}

// seedOnce seeds an empty graph with Quanzi's seed command, and refuses a graph of another
// size: the figures are only comparable on the same data.
func seedOnce(ctx context.Context, driver neo4j.DriverWithContext, bin string, env []string, o options) error {
	rec, err := readOne(ctx, driver, `MATCH (m:Member) RETURN count(m) AS n`, nil)
	if err != nil {
		return err
	}
	n, _ := rec.Get("n")
	if n.(int64) == 0 {
		logf("seeding: quanzi seed -members %d -follows %d -seed %d", o.members, o.follows, o.seed)
		err := runCmd(ctx, "", env, bin, "seed", "-members", strconv.Itoa(o.members), "-follows", strconv.Itoa(o.follows), "-seed", strconv.Itoa(o.seed))
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	} else if n.(int64) != int64(o.members) {
		return fmt.Errorf("the graph holds %d members, not %d: give the benchmark an empty Neo4j (or one it seeded)", n, o.members)
	}
	rec, err = readOne(ctx, driver, `MATCH (:Member)-[f:FOLLOWS]->(:Member) RETURN count(f) AS n`, nil)
	if err != nil {
		return err
	}
	nf, _ := rec.Get("n")
	logf("graph: %d members, %d follows", o.members, nf)
	return nil
}

// seedEmbeddedOnce seeds Quanzi's embedded store in dir with the seed flags of the Neo4j
// graph, unless a seed with those flags finished there already (its marker file says so);
// a dir seeded otherwise, or not to the end, is emptied first.
func seedEmbeddedOnce(ctx context.Context, bin, dir string, o options) error {
	args := []string{"seed", "-members", strconv.Itoa(o.members), "-follows", strconv.Itoa(o.follows), "-seed", strconv.Itoa(o.seed)}
	marker, want := filepath.Join(dir, "seeded-with"), strings.Join(args, " ")
	if got, err := os.ReadFile(marker); err == nil && string(got) == want {
		logf("embedded store in %s: seeded already (%s)", dir, want)
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	logf("seeding the embedded store in %s: quanzi %s", dir, want)
	if err := runCmd(ctx, "", []string{"QUANZI_STORE=embedded", "QUANZI_DATA_DIR=" + dir}, bin, args...); err != nil {
		return fmt.Errorf("seed the embedded store: %w", err)
	}
	return os.WriteFile(marker, []byte(want), 0o644)
}

// member is a member the queries start from.
type member struct {
	id, handle string
	followers  int
	wanted     int
}

func pickTargets(ctx context.Context, driver neo4j.DriverWithContext, list string) ([]member, error) {
	var out []member
	for s := range strings.SplitSeq(list, ",") {
		want, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("-targets: %w", err)
		}
		rec, err := readOne(ctx, driver, `
MATCH (m:Member)
WITH m, COUNT { (m)<-[:FOLLOWS]-() } AS n
RETURN m.id AS id, m.handle AS handle, n ORDER BY abs(n - $want), m.id LIMIT 1`, map[string]any{"want": want})
		if err != nil {
			return nil, err
		}
		id, _ := rec.Get("id")
		handle, _ := rec.Get("handle")
		n, _ := rec.Get("n")
		m := member{id: id.(string), handle: handle.(string), followers: int(n.(int64)), wanted: want}
		// Results are kept by member: two targets that fall on one member would be summed
		// into one row.
		if slices.ContainsFunc(out, func(o member) bool { return o.id == m.id }) {
			return nil, fmt.Errorf("-targets: %d and another target both fall on %s (%d followers)", want, m.handle, m.followers)
		}
		if m.followers != want {
			logf("no member has %d followers: taking %s with %d, the nearest", want, m.handle, m.followers)
		} else {
			logf("member with %d followers: %s", want, m.handle)
		}
		out = append(out, m)
	}
	return out, nil
}

// mintTokens mints a token for each client, each for a member of its own: Quanzi limits
// how many requests of one caller run at once, and the clients stand for several users.
func mintTokens(ctx context.Context, driver neo4j.DriverWithContext, bin string, env []string, n int) ([]string, error) {
	res, err := neo4j.ExecuteQuery(ctx, driver, `MATCH (m:Member) RETURN m.id AS id ORDER BY m.id LIMIT $n`,
		map[string]any{"n": n}, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithReadersRouting())
	if err != nil {
		return nil, err
	}
	var tokens []string
	for _, r := range res.Records {
		id, _ := r.Get("id")
		cmd := exec.CommandContext(ctx, bin, "token", "-member", id.(string))
		cmd.Env, cmd.Stderr = append(os.Environ(), env...), os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("quanzi token: %w", err)
		}
		tokens = append(tokens, strings.TrimSpace(string(out)))
	}
	if len(tokens) < n {
		return nil, fmt.Errorf("%d members for %d clients", len(tokens), n)
	}
	return tokens, nil
}

// pidListeningOn finds the process listening on the port of a bolt URI, by the socket's
// inode in /proc/net/tcp{,6} and the processes' open files.
func pidListeningOn(uri string) (int, error) {
	rest := uri[strings.Index(uri, "://")+3:]
	_, port, err := net.SplitHostPort(strings.TrimSuffix(strings.SplitN(rest, "/", 2)[0], "/"))
	if err != nil {
		port = "7687"
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return 0, err
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			if v, err := strconv.ParseInt(hexPort, 16, 32); err == nil && int(v) == p {
				inodes["socket:["+f[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("nothing listens on port %d", p)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range procs {
		if link, err := os.Readlink(fd); err == nil && inodes[link] {
			return strconv.Atoi(strings.Split(fd, "/")[2])
		}
	}
	return 0, fmt.Errorf("no readable process holds the socket on port %d", p)
}

// pin sets the CPU affinity of all threads of a process, and returns what restores the
// affinity it had.
func pin(pid int, cpus string) (restore func(), err error) {
	out, err := exec.Command("taskset", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return nil, err
	}
	mask := strings.TrimSpace(string(out[bytes.LastIndexByte(out, ':')+1:]))
	if err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(pid)).Run(); err != nil {
		return nil, err
	}
	return func() { exec.Command("taskset", "-a", "-p", mask, strconv.Itoa(pid)).Run() }, nil
}

// server is a server process the benchmark started.
type server struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
}

func startServer(name string, pinned bool, dir string, env []string, logPath, bin string, args ...string) (*server, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	if pinned {
		args = append([]string{"-c", "0", bin}, args...)
		bin = "taskset"
	}
	// taskset execs the server: the process id is the server's.
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logFile, logFile
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); logFile.Close(); close(s.done) }()
	logf("started %s (pid %d), log in %s", name, cmd.Process.Pid, logPath)
	return s, nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// target is a server under measurement.
type target struct {
	name   string
	url    string
	proc   *server
	tokens []string // Quanzi's, on either store; none for the peer
	// usesNeo4j is whether the server's requests cost Neo4j CPU.
	usesNeo4j bool
}

func waitReady(ctx context.Context, client *http.Client, servers []*target) error {
	deadline := time.Now().Add(2 * time.Minute)
	for _, s := range servers {
		for {
			_, err := post(ctx, client, s, 0, `{__typename}`, nil)
			if err == nil {
				break
			}
			select {
			case <-s.proc.done:
				return fmt.Errorf("%s exited at start: see its log", s.name)
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not ready in 2 minutes: %w", s.name, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	return nil
}

// waitQuiet waits until a process uses less than 5 % of a CPU over two seconds.
func waitQuiet(ctx context.Context, pid int, within time.Duration) error {
	deadline := time.Now().Add(within)
	quiet := 0
	for quiet < 2 {
		before, err := cpuSeconds(pid)
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		after, err := cpuSeconds(pid)
		if err != nil {
			return err
		}
		if after-before < 0.05 {
			quiet++
		} else {
			quiet = 0
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d still busy after %s", pid, within)
		}
	}
	return nil
}

var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
}()

// cpuSeconds is the user and system CPU time of a process so far (all its threads).
func cpuSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses and may hold anything.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	// utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (utime + stime) / clockTicks, nil
}

// query is one of the compared queries, in each server's schema.
type query struct {
	name, title    string
	quanzi, peer   string
	nodesPerAnswer func(m member) string
}

// The peer orders follow lists as Quanzi does: newest follow first, then by id.
const peerOrder = `sort: [{edge: {since: DESC}}, {node: {id: ASC}}]`

var queries = []query{
	{
		name:  "(a)",
		title: "member by handle, follower count, first 50 followers each with their count",
		quanzi: `query A($handle: String!) {
  memberByHandle(handle: $handle) {
    handle followerCount
    followers(first: 50) { edges { node { handle followerCount } } }
  }
}`,
		peer: `query A($handleKey: String!) {
  members(where: {handleKey: {eq: $handleKey}}, limit: 1) {
    handle
    followersConnection(first: 50, ` + peerOrder + `) {
      totalCount
      edges { node { handle followersConnection { totalCount } } }
    }
  }
}`,
	},
	{
		name:  "(b)",
		title: "first 10 followers → each one's first 10 following → each one's first 5 followers",
		quanzi: `query B($handle: String!) {
  memberByHandle(handle: $handle) {
    handle
    followers(first: 10) { edges { node { handle
      following(first: 10) { edges { node { handle
        followers(first: 5) { edges { node { handle } } }
      } } }
    } } }
  }
}`,
		peer: `query B($handleKey: String!) {
  members(where: {handleKey: {eq: $handleKey}}, limit: 1) {
    handle
    followersConnection(first: 10, ` + peerOrder + `) { edges { node { handle
      followingConnection(first: 10, ` + peerOrder + `) { edges { node { handle
        followersConnection(first: 5, ` + peerOrder + `) { edges { node { handle } } }
      } } }
    } } }
  }
}`,
	},
}

// variables are a query's variables for a member on a server: the peer finds the member
// by handleKey (the handle in lower case, unique and indexed), as Quanzi does.
func (s *target) variables(m member) map[string]any {
	if s.tokens != nil {
		return map[string]any{"handle": m.handle}
	}
	return map[string]any{"handleKey": strings.ToLower(m.handle)}
}

func (s *target) text(q query) string {
	if s.tokens != nil {
		return q.quanzi
	}
	return q.peer
}

// post sends one GraphQL request as client i and returns the response body; an HTTP
// status other than 200 or a response with errors is an error.
func post(ctx context.Context, client *http.Client, s *target, i int, text string, vars map[string]any) ([]byte, error) {
	body, err := json.Marshal(map[string]any{"query": text, "variables": vars})
	if err != nil {
		return nil, err
	}
	return postBody(ctx, client, s, i, body)
}

func postBody(ctx context.Context, client *http.Client, s *target, i int, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.tokens != nil {
		req.Header.Set("Authorization", "Bearer "+s.tokens[i%len(s.tokens)])
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d: %.300s", s.name, resp.StatusCode, data)
	}
	if bytes.Contains(data, []byte(`"errors"`)) {
		return nil, fmt.Errorf("%s: %.500s", s.name, data)
	}
	return data, nil
}

// tree is an answer reduced to what both servers share: handles, follower counts where the
// query asks for them, and the members of the list below, in order.
type tree struct {
	Handle   string
	Count    *int `json:",omitempty"`
	Children []tree
}

// quanziNode and peerNode are the members of the answers of each server.
type quanziNode struct {
	Handle        string
	FollowerCount *int
	Followers     *struct{ Edges []struct{ Node quanziNode } }
	Following     *struct{ Edges []struct{ Node quanziNode } }
}

type peerConnection struct {
	TotalCount *int
	Edges      []struct{ Node peerNode }
}

type peerNode struct {
	Handle              string
	FollowersConnection *peerConnection
	FollowingConnection *peerConnection
}

func (n quanziNode) tree() tree {
	t := tree{Handle: n.Handle, Count: n.FollowerCount}
	for _, c := range []*struct{ Edges []struct{ Node quanziNode } }{n.Followers, n.Following} {
		if c != nil {
			for _, e := range c.Edges {
				t.Children = append(t.Children, e.Node.tree())
			}
		}
	}
	return t
}

func (n peerNode) tree() tree {
	t := tree{Handle: n.Handle}
	if n.FollowersConnection != nil {
		t.Count = n.FollowersConnection.TotalCount
	}
	for _, c := range []*peerConnection{n.FollowersConnection, n.FollowingConnection} {
		if c != nil {
			for _, e := range c.Edges {
				t.Children = append(t.Children, e.Node.tree())
			}
		}
	}
	return t
}

func normalize(s *target, data []byte) (tree, error) {
	if s.tokens != nil {
		var r struct {
			Data struct{ MemberByHandle *quanziNode }
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return tree{}, err
		}
		if r.Data.MemberByHandle == nil {
			return tree{}, errors.New("Quanzi: no such member")
		}
		return r.Data.MemberByHandle.tree(), nil
	}
	var r struct {
		Data struct{ Members []peerNode }
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return tree{}, err
	}
	if len(r.Data.Members) != 1 {
		return tree{}, fmt.Errorf("peer: %d members", len(r.Data.Members))
	}
	return r.Data.Members[0].tree(), nil
}

func (t tree) size() int {
	n := 1
	for _, c := range t.Children {
		n += c.size()
	}
	return n
}

// checkSame fails unless all servers give the same answer, field by field.
func checkSame(ctx context.Context, client *http.Client, servers []*target, q query, m member) error {
	var trees []tree
	for _, s := range servers {
		data, err := post(ctx, client, s, 0, s.text(q), s.variables(m))
		if err != nil {
			return fmt.Errorf("%s %s: %w", q.name, m.handle, err)
		}
		t, err := normalize(s, data)
		if err != nil {
			return fmt.Errorf("%s %s: %w", q.name, m.handle, err)
		}
		trees = append(trees, t)
	}
	for i := 1; i < len(trees); i++ {
		if diff := cmp.Diff(trees[0], trees[i]); diff != "" {
			return fmt.Errorf("%s %s: the answers differ (-%s +%s):\n%s", q.name, m.handle, servers[0].name, servers[i].name, diff)
		}
	}
	if q.name == "(a)" && (trees[0].Count == nil || *trees[0].Count != m.followers) {
		return fmt.Errorf("%s %s: follower count %v, the graph says %d", q.name, m.handle, trees[0].Count, m.followers)
	}
	logf("same answers from %d servers: %s %s (%d members in the tree)", len(servers), q.name, m.handle, trees[0].size())
	return nil
}

type cellKey struct{ query, member, server string }

// cell sums the measurements of a (query, member, server) over the rounds.
type cell struct {
	requests  int // answered without errors
	failed    int // answered with an HTTP status other than 200 or with errors
	seconds   float64
	latencies []time.Duration
	serverCPU float64
	neo4jCPU  float64
}

// measure loads a server with o.clients clients, unmeasured for o.warmup and then for
// o.duration, and adds what it measured to c. Each phase stops sending at its end and waits
// for the requests in flight: a request cut off would leave its work running in the server
// and in Neo4j, to be counted in the next measurement.
func measure(ctx context.Context, client *http.Client, s *target, q query, m member, neo4jPID int, o options, c *cell) error {
	body, err := json.Marshal(map[string]any{"query": s.text(q), "variables": s.variables(m)})
	if err != nil {
		return err
	}
	load := func(d time.Duration) (lat []time.Duration, failed int, firstErr error) {
		end := time.Now().Add(d)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range o.clients {
			wg.Go(func() {
				var mine []time.Duration
				bad := 0
				var mineErr error
				for ctx.Err() == nil && time.Now().Before(end) {
					start := time.Now()
					if _, err := postBody(ctx, client, s, i, body); err != nil {
						bad++
						if mineErr == nil {
							mineErr = err
						}
						continue
					}
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				lat, failed = append(lat, mine...), failed+bad
				if firstErr == nil {
					firstErr = mineErr
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		return lat, failed, firstErr
	}
	if _, failed, err := load(o.warmup); failed > 0 {
		logf("%s: %d requests failed in the warm-up, the first: %v", s.name, failed, err)
	}
	server0, err := cpuSeconds(s.proc.cmd.Process.Pid)
	if err != nil {
		return err
	}
	// Neo4j's CPU counts only for servers that use it: the embedded store's requests cost it
	// nothing (it idles meanwhile, but for the other Quanzi's relay polling the outbox).
	cpuOfNeo4j := func() (float64, error) {
		if !s.usesNeo4j {
			return 0, nil
		}
		return cpuSeconds(neo4jPID)
	}
	neo0, err := cpuOfNeo4j()
	if err != nil {
		return err
	}
	start := time.Now()
	lat, failed, firstErr := load(o.duration)
	elapsed := time.Since(start).Seconds()
	if err := ctx.Err(); err != nil {
		return err
	}
	server1, _ := cpuSeconds(s.proc.cmd.Process.Pid)
	neo1, _ := cpuOfNeo4j()
	if failed > 0 {
		logf("%s: %d requests failed, the first: %v", s.name, failed, firstErr)
	}
	c.requests += len(lat)
	c.failed += failed
	c.seconds += elapsed
	c.latencies = append(c.latencies, lat...)
	c.serverCPU += server1 - server0
	c.neo4jCPU += neo1 - neo0
	return nil
}

func (c *cell) perSecond() float64 { return float64(c.requests) / c.seconds }
func (c *cell) msPerRequest(cpu float64) float64 {
	return 1000 * cpu / float64(c.requests)
}
func (c *cell) perCPUSecond() float64 { return float64(c.requests) / (c.serverCPU + c.neo4jCPU) }

func (c *cell) percentile(p float64) float64 {
	if len(c.latencies) == 0 {
		return math.NaN()
	}
	slices.Sort(c.latencies)
	i := min(len(c.latencies)-1, int(math.Ceil(p*float64(len(c.latencies))))-1)
	return float64(c.latencies[max(0, i)].Microseconds()) / 1000
}

func printTables(w io.Writer, o options, targets []member, servers []string, results map[cellKey]*cell, notes []string) {
	b := bufio.NewWriter(w)
	defer b.Flush()
	fmt.Fprintf(b, "\nSame Neo4j, same data (seed -members %d -follows %d -seed %d), same answers checked field by field; "+
		"%d concurrent clients, %s per (server, query, member) after %s of warm-up, %d alternating rounds.\n",
		o.members, o.follows, o.seed, o.clients, o.duration, o.warmup, o.rounds)
	if slices.Contains(servers, quanziEmbedded) {
		fmt.Fprintln(b, "Quanzi (embedded) runs on its embedded store, seeded alike: it uses no Neo4j, so its CPU is the server's alone.")
	}
	for _, n := range notes {
		fmt.Fprintln(b, n)
	}
	for _, m := range targets {
		if m.followers != m.wanted {
			fmt.Fprintf(b, "No member has %d followers: %s, with %d, stands in.\n", m.wanted, m.handle, m.followers)
		}
	}
	fmt.Fprintln(b)
	for _, q := range queries {
		fmt.Fprintf(b, "%s %s\n", q.name, q.title)
	}
	fmt.Fprintln(b)
	fmt.Fprintln(b, "| query | member (followers) | server | requests | failed | req/s | p50 ms | p99 ms | server CPU ms/req | Neo4j CPU ms/req | req per CPU-s (server+Neo4j) |")
	fmt.Fprintln(b, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, q := range queries {
		for _, m := range targets {
			for _, s := range servers {
				c := results[cellKey{q.name, m.handle, s}]
				neo := "—"
				if s != quanziEmbedded {
					neo = fmt.Sprintf("%.2f", c.msPerRequest(c.neo4jCPU))
				}
				fmt.Fprintf(b, "| %s | %s (%d) | %s | %d | %d | %.1f | %.2f | %.2f | %.2f | %s | %.1f |\n",
					q.name, m.handle, m.followers, s, c.requests, c.failed, c.perSecond(), c.percentile(0.50), c.percentile(0.99),
					c.msPerRequest(c.serverCPU), neo, c.perCPUSecond())
			}
		}
	}
	fmt.Fprintln(b)
	fmt.Fprintln(b, "| query | member | Quanzi on Neo4j / peer, req per server+Neo4j CPU-s | req/s ratio | p50 ratio | p99 ratio | Quanzi server ms/req | Quanzi Neo4j ms/req | peer server ms/req | peer Neo4j ms/req |")
	fmt.Fprintln(b, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, q := range queries {
		for _, m := range targets {
			qz, pr := results[cellKey{q.name, m.handle, quanziNeo4j}], results[cellKey{q.name, m.handle, peerName}]
			fmt.Fprintf(b, "| %s | %d followers | **%.2f** | %.2f | %.2f | %.2f | %.1f | %.1f | %.1f | %.1f |\n",
				q.name, m.followers, qz.perCPUSecond()/pr.perCPUSecond(), qz.perSecond()/pr.perSecond(),
				qz.percentile(0.50)/pr.percentile(0.50), qz.percentile(0.99)/pr.percentile(0.99),
				qz.msPerRequest(qz.serverCPU), qz.msPerRequest(qz.neo4jCPU), pr.msPerRequest(pr.serverCPU), pr.msPerRequest(pr.neo4jCPU))
		}
	}
	if !slices.Contains(servers, quanziEmbedded) {
		return
	}
	fmt.Fprintln(b)
	fmt.Fprintln(b, "| query | member | Quanzi embedded / peer, req per CPU-s (server / server+Neo4j) | req/s ratio | p50 ratio | p99 ratio | Quanzi embedded / Quanzi on Neo4j, req per CPU-s | Quanzi embedded server ms/req |")
	fmt.Fprintln(b, "|---|---|---:|---:|---:|---:|---:|---:|")
	for _, q := range queries {
		for _, m := range targets {
			em := results[cellKey{q.name, m.handle, quanziEmbedded}]
			qz, pr := results[cellKey{q.name, m.handle, quanziNeo4j}], results[cellKey{q.name, m.handle, peerName}]
			fmt.Fprintf(b, "| %s | %d followers | **%.2f** | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
				q.name, m.followers, em.perCPUSecond()/pr.perCPUSecond(), em.perSecond()/pr.perSecond(),
				em.percentile(0.50)/pr.percentile(0.50), em.percentile(0.99)/pr.percentile(0.99),
				em.perCPUSecond()/qz.perCPUSecond(), em.msPerRequest(em.serverCPU))
		}
	}
}
