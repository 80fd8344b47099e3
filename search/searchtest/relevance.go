package searchtest

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"quanzi/search"
)

// The relevance set is a corpus of community posts and a list of queries labelled with the
// posts a member who typed them would want back. It has three files:
//
//   - relevance_posts.json: the labelled posts, written by hand (ids zh-…, en-…, and mx-…
//     for posts mixing Chinese and English);
//   - relevance_distractors.json: posts that no query should find (ids dist-zh-…, dist-en-…):
//     they share characters with the Chinese query words (会员, 朋友, 协会 against 车友会;
//     处方, 理财 against 处理; 保险, 营养 against 保养) or letters and prefixes with the
//     English ones (charity, chart against charging; bath, battle against battery), or are
//     about something else altogether;
//   - relevance_queries.json: about fifty Chinese and forty English queries of one to three
//     words, each with the one to six posts it should find. Some Chinese queries type two or
//     three words together (积分兑换, 二手家具转让) and list them (Words); some are found in
//     tags only (断舍离, carpool); some have near-misses among the posts, the word pieced
//     together across title and body (四轮定检 / 轮定位置) or across two words of a run
//     (行车记录本 / 开车记录仪表).
//
// A post is labelled for a query when it is about the query's words and its title, body or
// tags hold each of them: a Chinese word as it is, even inside a longer run of characters (处理
// in 待处理, 保养 in 汽车保养经验, 车友会 in 车友会活动); an English word in any inflection
// (charging finds "charged" and "charges"), and, for a misspelt query ("batery"), the word
// it stands for (its Intended field). Tags count as text: every engine searches them, so a
// post whose only 保养 is its tag is labelled for 保养. relevance_test.go holds these rules
// against the files and keeps the labels complete: a post that holds every word of a query
// in its title, body or tags is labelled for it (a Chinese word within one of them; for a
// query typed together, each of its Words), and no distractor holds any query's word (for
// a query typed together, all its Words: 积分 alone is common enough).
//
//go:embed testdata/relevance_posts.json testdata/relevance_distractors.json testdata/relevance_queries.json
var relevanceFiles embed.FS

// Languages of the labelled queries.
const (
	RelevanceChinese = "zh"
	RelevanceEnglish = "en"
)

// relevanceDepth is how many hits recall is measured over.
const relevanceDepth = 10

// relevanceBatch is how many documents Relevance applies at a time.
const relevanceBatch = 100

// RelevanceQuery is a labelled query of the relevance set.
type RelevanceQuery struct {
	// Lang is RelevanceChinese or RelevanceEnglish.
	Lang string `json:"lang"`
	// Text is what the member types; words are separated by spaces, or, in Chinese,
	// typed together (积分兑换).
	Text string `json:"text"`
	// Words are the words a Chinese Text typed together stands for, as search.Words cuts
	// it (积分 and 兑换), or nil when each word of Text is one word.
	Words []string `json:"words,omitempty"`
	// Intended is what a misspelt Text stands for ("batery" → "battery"), or "".
	Intended string `json:"intended,omitempty"`
	// Expected holds the ids of the posts the query should find, in no order.
	Expected []string `json:"expected"`
}

// RelevanceResult is what an index returned for one labelled query, and how it scored.
type RelevanceResult struct {
	Query RelevanceQuery
	// Hits holds the ids of the hits, best first: the top 10, or more when the query
	// expects more posts.
	Hits []string
	// RPrecision is the share of expected posts among the top k hits, k being the number
	// of expected posts.
	RPrecision float64
	// RecallAt10 is the share of the expected posts found among the top 10 hits.
	RecallAt10 float64
}

// RelevanceScore is the mean of the scores of a group of queries.
type RelevanceScore struct {
	Queries    int
	RPrecision float64
	RecallAt10 float64
}

// RelevanceReport is how well an index ranked the labelled queries of the relevance set.
type RelevanceReport struct {
	// Chinese, English and Overall average the Chinese queries, the English queries and all.
	Chinese, English, Overall RelevanceScore
	// Results holds one row per labelled query, in the order of the set.
	Results []RelevanceResult
}

// Relevance measures how well idx ranks the relevance set. idx must be empty: Relevance
// applies every post of the set to it (visible, public, version 1, no brand), runs each
// labelled query over all clubs sorted by relevance, and scores the hits: R-precision and
// recall at 10 per query, and their means per language and overall. It logs the queries
// that scored below 1, with what came back, and returns the report. It fails the test only
// when the index cannot apply the posts or run a query (that query then scores 0); callers
// decide which scores are good enough.
func Relevance(t *testing.T, idx search.Index) RelevanceReport {
	t.Helper()
	set, err := relevanceSetOnce()
	if err != nil {
		t.Fatalf("searchtest: relevance set: %v", err)
	}
	ctx := t.Context()
	docs := set.documents()
	for start := 0; start < len(docs); start += relevanceBatch {
		end := min(start+relevanceBatch, len(docs))
		if err := idx.Apply(ctx, docs[start:end]); err != nil {
			t.Fatalf("searchtest: relevance: apply posts %d–%d: %v", start, end-1, err)
		}
	}

	var report RelevanceReport
	for _, q := range set.queries {
		row := RelevanceResult{Query: q.clone()}
		res, err := idx.Search(ctx, search.Query{
			Text:  q.Text,
			Scope: search.Scope{All: true},
			Sort:  search.SortRelevance,
			Limit: max(relevanceDepth, len(q.Expected)),
		})
		if err != nil {
			t.Errorf("searchtest: relevance: search %q: %v", q.Text, err)
		} else {
			for _, h := range res.Hits {
				row.Hits = append(row.Hits, h.ID)
			}
		}
		row.RPrecision, row.RecallAt10 = relevanceScores(q.Expected, row.Hits)
		report.Results = append(report.Results, row)
	}
	report.Chinese = relevanceMean(report.Results, RelevanceChinese)
	report.English = relevanceMean(report.Results, RelevanceEnglish)
	report.Overall = relevanceMean(report.Results, "")
	t.Log(report.table(set.titles()))
	return report
}

// RelevanceDocuments returns the posts of the relevance set, labelled ones and distractors,
// as Relevance applies them.
func RelevanceDocuments() []search.Document {
	set, err := relevanceSetOnce()
	if err != nil {
		panic(fmt.Sprintf("searchtest: relevance set: %v", err))
	}
	return set.documents()
}

// RelevanceQueries returns the labelled queries of the relevance set.
func RelevanceQueries() []RelevanceQuery {
	set, err := relevanceSetOnce()
	if err != nil {
		panic(fmt.Sprintf("searchtest: relevance set: %v", err))
	}
	qs := make([]RelevanceQuery, len(set.queries))
	for i, q := range set.queries {
		qs[i] = q.clone()
	}
	return qs
}

func (q RelevanceQuery) clone() RelevanceQuery {
	q.Expected = slices.Clone(q.Expected)
	q.Words = slices.Clone(q.Words)
	return q
}

// relevanceScores scores the hits of a query that expects the given posts: R-precision
// (expected posts among the first len(expected) hits, over len(expected)) and recall at
// 10 (expected posts among the first 10 hits, over len(expected)). A hit repeated counts once.
func relevanceScores(expected, hits []string) (rPrecision, recall float64) {
	k := len(expected)
	if k == 0 {
		return 0, 0
	}
	want := make(map[string]bool, k)
	for _, id := range expected {
		want[id] = true
	}
	var inK, inDepth int
	for i, id := range hits {
		if i >= max(k, relevanceDepth) {
			break
		}
		if !want[id] {
			continue
		}
		delete(want, id)
		if i < k {
			inK++
		}
		if i < relevanceDepth {
			inDepth++
		}
	}
	return float64(inK) / float64(k), float64(inDepth) / float64(k)
}

// relevanceMean averages the results of one language, or of all when lang is "".
func relevanceMean(results []RelevanceResult, lang string) RelevanceScore {
	var s RelevanceScore
	for _, r := range results {
		if lang != "" && r.Query.Lang != lang {
			continue
		}
		s.Queries++
		s.RPrecision += r.RPrecision
		s.RecallAt10 += r.RecallAt10
	}
	if s.Queries > 0 {
		s.RPrecision /= float64(s.Queries)
		s.RecallAt10 /= float64(s.Queries)
	}
	return s
}

// table is the report as the log shows it: the means, then each query that scored below 1
// with the posts it missed and the hits it returned instead (titles of unexpected hits last).
func (r RelevanceReport) table(titles map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "relevance: R-precision / recall@10: zh %.3f / %.3f (%d queries), en %.3f / %.3f (%d), all %.3f / %.3f (%d)\n",
		r.Chinese.RPrecision, r.Chinese.RecallAt10, r.Chinese.Queries,
		r.English.RPrecision, r.English.RecallAt10, r.English.Queries,
		r.Overall.RPrecision, r.Overall.RecallAt10, r.Overall.Queries)
	var low []RelevanceResult
	for _, res := range r.Results {
		if res.RPrecision < 1 || res.RecallAt10 < 1 {
			low = append(low, res)
		}
	}
	if len(low) == 0 {
		b.WriteString("every query scored 1\n")
		return b.String()
	}
	fmt.Fprintf(&b, "%d queries below 1 (* marks an expected hit):\n", len(low))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "lang\tR-prec\tR@10\tquery\tmissed\thits")
	var unexpected []string
	for _, res := range low {
		want := make(map[string]bool)
		for _, id := range res.Query.Expected {
			want[id] = true
		}
		var hits []string
		for i, id := range res.Hits {
			if i >= relevanceDepth {
				break
			}
			if want[id] {
				hits = append(hits, "*"+id)
				continue
			}
			hits = append(hits, id)
			if i < len(res.Query.Expected) && !slices.Contains(unexpected, id) {
				unexpected = append(unexpected, id)
			}
		}
		var missed []string
		for _, id := range res.Query.Expected {
			if !slices.Contains(res.Hits[:min(relevanceDepth, len(res.Hits))], id) {
				missed = append(missed, id)
			}
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%s\t%s\t%s\n", res.Query.Lang, res.RPrecision, res.RecallAt10,
			res.Query.Text, strings.Join(missed, " "), strings.Join(hits, " "))
	}
	tw.Flush()
	if len(unexpected) > 0 {
		b.WriteString("unexpected hits ranked within k:\n")
		slices.Sort(unexpected)
		for _, id := range unexpected {
			fmt.Fprintf(&b, "  %s  %s\n", id, relevanceShorten(titles[id], 40))
		}
	}
	return b.String()
}

// relevanceShorten cuts s to at most n runes.
func relevanceShorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// relevancePost is a post of the relevance set as the files hold it.
type relevancePost struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Body       string    `json:"body"`
	Tags       []string  `json:"tags"`
	ClubID     string    `json:"clubId"`
	CreatedAt  time.Time `json:"createdAt"`
	Engagement int       `json:"engagement"`
}

// relevanceSet is the decoded relevance set.
type relevanceSet struct {
	posts       []relevancePost // labelled
	distractors []relevancePost
	queries     []RelevanceQuery
}

var relevanceSetOnce = sync.OnceValues(func() (relevanceSet, error) {
	var s relevanceSet
	for _, f := range []struct {
		name string
		into any
	}{
		{"testdata/relevance_posts.json", &s.posts},
		{"testdata/relevance_distractors.json", &s.distractors},
		{"testdata/relevance_queries.json", &s.queries},
	} {
		data, err := relevanceFiles.ReadFile(f.name)
		if err != nil {
			return relevanceSet{}, err
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(f.into); err != nil {
			return relevanceSet{}, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return s, nil
})

// all returns the labelled posts, then the distractors.
func (s relevanceSet) all() []relevancePost {
	return slices.Concat(s.posts, s.distractors)
}

// documents returns every post as a search document.
func (s relevanceSet) documents() []search.Document {
	all := s.all()
	docs := make([]search.Document, len(all))
	for i, p := range all {
		docs[i] = search.Document{
			ID:         p.ID,
			Version:    1,
			ClubID:     p.ClubID,
			Title:      p.Title,
			Body:       p.Body,
			Tags:       slices.Clone(p.Tags),
			CreatedAt:  p.CreatedAt,
			Engagement: p.Engagement,
			Visible:    true,
		}
	}
	return docs
}

// titles maps each post's id to its title.
func (s relevanceSet) titles() map[string]string {
	m := make(map[string]string)
	for _, p := range s.all() {
		m[p.ID] = p.Title
	}
	return m
}

// RelevanceBar is what every engine must reach on the relevance set, in each language:
// R-precision and recall at 10 both.
const RelevanceBar = 0.95

// HoldRelevance runs Relevance against idx, which must be empty, and fails the test when
// the Chinese or the English queries score below RelevanceBar in R-precision or recall at
// 10. Every engine's tests call it, so that all are held to the same bar.
func HoldRelevance(t *testing.T, idx search.Index) RelevanceReport {
	t.Helper()
	report := Relevance(t, idx)
	for _, s := range []struct {
		name  string
		score RelevanceScore
	}{{"Chinese", report.Chinese}, {"English", report.English}} {
		if s.score.RPrecision < RelevanceBar {
			t.Errorf("%s R-precision %.3f, want at least %.2f", s.name, s.score.RPrecision, RelevanceBar)
		}
		if s.score.RecallAt10 < RelevanceBar {
			t.Errorf("%s recall@10 %.3f, want at least %.2f", s.name, s.score.RecallAt10, RelevanceBar)
		}
	}
	return report
}
