package meiliindex

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"quanzi/search"
)

// roundTripWords make up the posts of roundTripPosts.
var roundTripWords = strings.Fields("车友会 自驾 露营 充电桩 续航 业主 物业 电梯 咖啡 手冲 宝宝 辅食 面霜 换季 周末 活动 经验 分享 推荐 问题")

// roundTripPosts are n small visible posts whose bodies all say 保养, so that a search for
// it finds them all; ids are post-00000, post-00001, …
func roundTripPosts(n int) []search.Document {
	r := rand.New(rand.NewPCG(11, 0))
	word := func() string { return roundTripWords[r.IntN(len(roundTripWords))] }
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := make([]search.Document, n)
	for i := range docs {
		var body strings.Builder
		for j := range 12 {
			if j == 5 {
				body.WriteString("保养")
			}
			body.WriteString(word())
		}
		docs[i] = search.Document{
			ID: fmt.Sprintf("post-%05d", i), Version: 1,
			ClubID: fmt.Sprintf("club-%d", i%20), AuthorID: fmt.Sprintf("member-%d", i%300),
			Title:     word() + word() + "的" + word(),
			Body:      body.String(),
			Tags:      []string{word()},
			CreatedAt: start.Add(time.Duration(i) * time.Minute),
			Visible:   true,
		}
	}
	return docs
}

// fill writes docs to ix in batches.
func fill(tb testing.TB, ix *Index, docs []search.Document) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i := 0; i < len(docs); i += 1000 {
		if err := ix.Apply(ctx, docs[i:min(i+1000, len(docs))]); err != nil {
			tb.Fatal(err)
		}
	}
}

// roundTrip is what a response was like on the wire.
type roundTrip struct {
	method, path   string
	acceptEncoding string
	// contentEncoding and uncompressed say whether the server compressed the body: the
	// transport removes the Content-Encoding of a body it decompressed itself, and marks
	// the response Uncompressed.
	contentEncoding string
	uncompressed    bool
	// bodyBytes is the size of the body as the client read it.
	bodyBytes int64
}

// recorder is a transport that notes each round trip of the transport it wraps.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []*roundTrip
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	rt := &roundTrip{
		method: req.Method, path: req.URL.Path,
		acceptEncoding:  req.Header.Get("Accept-Encoding"),
		contentEncoding: resp.Header.Get("Content-Encoding"),
		uncompressed:    resp.Uncompressed,
	}
	r.mu.Lock()
	r.seen = append(r.seen, rt)
	r.mu.Unlock()
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &rt.bodyBytes}
	return resp, nil
}

// countingBody counts the bytes read from a body.
type countingBody struct {
	io.ReadCloser
	n *int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	*b.n += int64(n)
	return n, err
}

// TestResponsesUncompressed checks, through a real round trip, that Meilisearch sends the
// adapter its large responses uncompressed: compressed, each took about 44 ms on loopback
// instead of about 1 ms (see newHTTPClient).
func TestResponsesUncompressed(t *testing.T) {
	ix := openTemp(t)
	docs := roundTripPosts(200)
	fill(t, ix, docs)

	rec := &recorder{next: ix.httpClient.Transport}
	ix.httpClient.Transport = rec
	ctx := context.Background()
	res, err := ix.Search(ctx, search.Query{Text: "保养", Scope: search.Scope{All: true}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 100 {
		t.Fatalf("search found %d hits, want 100", len(res.Hits))
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	versions, err := ix.Versions(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(ids) {
		t.Fatalf("read %d versions, want %d", len(versions), len(ids))
	}

	// A Chinese search ranked by relevance is two requests: the window's hits with their
	// text, then the page's snippets (see checked.go).
	if len(rec.seen) != 3 {
		t.Fatalf("%d round trips, want 3 (a search's window and page, and a read of versions)", len(rec.seen))
	}
	for _, rt := range rec.seen {
		// Large enough that Meilisearch would compress it if asked to.
		if rt.bodyBytes < 4<<10 {
			t.Errorf("%s %s: a body of %d bytes; the test needs one of several KB", rt.method, rt.path, rt.bodyBytes)
		}
		if rt.acceptEncoding != "" || rt.contentEncoding != "" || rt.uncompressed {
			t.Errorf("%s %s: compressed response (Accept-Encoding %q, Content-Encoding %q, decompressed by the transport: %t)",
				rt.method, rt.path, rt.acceptEncoding, rt.contentEncoding, rt.uncompressed)
		}
	}
}

// BenchmarkRoundTrip times the adapter's requests whose responses are large, against the
// server in MEILI_URL with a few thousand small posts: a search returning 100 hits, one
// returning 20, and a read of the stored versions of 200 posts, as the relay does before
// each write. With compressed responses each took about 44 ms.
func BenchmarkRoundTrip(b *testing.B) {
	ix := openTemp(b)
	docs := roundTripPosts(3000)
	fill(b, ix, docs)
	ctx := context.Background()
	search.Warm() // the segmenter's dictionary loads once, outside the timings

	for _, limit := range []int{100, 20} {
		b.Run(fmt.Sprintf("search %d hits", limit), func(b *testing.B) {
			q := search.Query{Text: "保养", Scope: search.Scope{All: true}, Limit: limit}
			for b.Loop() {
				res, err := ix.Search(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Hits) != limit {
					b.Fatalf("%d hits, want %d", len(res.Hits), limit)
				}
			}
		})
	}
	b.Run("versions of 200 posts", func(b *testing.B) {
		ids := make([]string, 200)
		for i := range ids {
			ids[i] = docs[i*len(docs)/len(ids)].ID
		}
		for b.Loop() {
			v, err := ix.Versions(ctx, ids)
			if err != nil {
				b.Fatal(err)
			}
			if len(v) != len(ids) {
				b.Fatalf("%d versions, want %d", len(v), len(ids))
			}
		}
	})
}
