package searchtest

import (
	"context"
	"errors"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"

	"quanzi/community"
	"quanzi/search"
)

// relevanceClubs are the clubs of the relevance set's posts.
var relevanceClubs = []string{
	"club-byd-shenzhen", "club-nio-shanghai", "club-roadtrip-chengdu",
	"club-residents-hangzhou", "club-residents-beijing", "club-phone-fans",
	"club-coffee-lovers", "club-skincare", "club-parents",
}

var (
	relevanceLabelledID   = regexp.MustCompile(`^(zh|en|mx)-[0-9]{3}$`)
	relevanceDistractorID = regexp.MustCompile(`^dist-(zh|en)-[0-9]{3}$`)
)

// TestRelevanceSet checks the files of the relevance set: their shape, and that the labels
// follow the rules written above relevanceFiles.
func TestRelevanceSet(t *testing.T) {
	set, err := relevanceSetOnce()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("Posts", func(t *testing.T) {
		seen := make(map[string]bool)
		titles := make(map[string]string)
		check := func(p relevancePost, id *regexp.Regexp) {
			t.Helper()
			if !id.MatchString(p.ID) {
				t.Errorf("post id %q does not match %s", p.ID, id)
			}
			if seen[p.ID] {
				t.Errorf("post id %q is used twice", p.ID)
			}
			seen[p.ID] = true
			if other, ok := titles[p.Title]; ok {
				t.Errorf("%s and %s have the same title %q", other, p.ID, p.Title)
			}
			titles[p.Title] = p.ID
			if strings.TrimSpace(p.Title) == "" || strings.TrimSpace(p.Body) == "" {
				t.Errorf("%s: empty title or body", p.ID)
			}
			if search.Clean(p.Title+p.Body) != p.Title+p.Body {
				t.Errorf("%s: contains a snippet marker", p.ID)
			}
			if !slices.Contains(relevanceClubs, p.ClubID) {
				t.Errorf("%s: unknown club %q", p.ID, p.ClubID)
			}
			if p.CreatedAt.Year() != 2026 {
				t.Errorf("%s: created %v, want a time in 2026", p.ID, p.CreatedAt)
			}
			if p.Engagement < 0 {
				t.Errorf("%s: engagement %d", p.ID, p.Engagement)
			}
			for i, tag := range p.Tags {
				if tag == "" || community.NormalizeTag(tag) != tag || slices.Contains(p.Tags[:i], tag) {
					t.Errorf("%s: tag %q is empty, not normalised or repeated", p.ID, tag)
				}
			}
		}
		for _, p := range set.posts {
			check(p, relevanceLabelledID)
		}
		for _, p := range set.distractors {
			check(p, relevanceDistractorID)
		}
		if n := len(set.distractors); n < 300 {
			t.Errorf("%d distractors, want at least 300", n)
		}
	})

	labelled := make(map[string]bool)
	for _, p := range set.posts {
		labelled[p.ID] = true
	}

	t.Run("Queries", func(t *testing.T) {
		count := make(map[string]int)
		seen := make(map[string]bool)
		found := make(map[string]bool)
		for _, q := range set.queries {
			count[q.Lang]++
			key := q.Lang + " " + q.Text
			if seen[key] {
				t.Errorf("query %q is listed twice", key)
			}
			seen[key] = true
			if q.Lang != RelevanceChinese && q.Lang != RelevanceEnglish {
				t.Errorf("query %q: language %q", q.Text, q.Lang)
			}
			if n := len(strings.Fields(q.Text)); n < 1 || n > 3 {
				t.Errorf("query %q has %d words, want 1 to 3", q.Text, n)
			}
			if n := len(q.Expected); n < 1 || n > 6 {
				t.Errorf("query %q expects %d posts, want 1 to 6", q.Text, n)
			}
			for i, id := range q.Expected {
				if !labelled[id] {
					t.Errorf("query %q expects %q, which is not a labelled post", q.Text, id)
				}
				if slices.Contains(q.Expected[:i], id) {
					t.Errorf("query %q expects %q twice", q.Text, id)
				}
				found[id] = true
			}
		}
		for _, lang := range []string{RelevanceChinese, RelevanceEnglish} {
			if count[lang] < 30 {
				t.Errorf("%d queries in %s, want at least 30", count[lang], lang)
			}
		}
		for _, p := range set.posts {
			if !found[p.ID] {
				t.Errorf("labelled post %s is expected by no query: make it a distractor or label it", p.ID)
			}
		}
	})

	t.Run("Labels", func(t *testing.T) {
		all := set.all()
		for _, q := range set.queries {
			var want []string
			for _, p := range all {
				// A post that holds every word of the query loosely (English words by their
				// first five letters, which catches forms a stemmer may join) must be
				// labelled; a labelled post must hold every word strictly. Both look in
				// the title, the body and the tags, which every engine searches.
				if relevanceHasAll(q, p, true) && !slices.Contains(q.Expected, p.ID) {
					t.Errorf("query %q: %s holds its words but is not expected: %s", q.Text, p.ID, p.Title)
				}
				if relevanceHasAll(q, p, false) {
					want = append(want, p.ID)
				}
			}
			for _, id := range q.Expected {
				if !slices.Contains(want, id) {
					t.Errorf("query %q expects %s, which does not hold all of %q", q.Text, id, relevanceWords(q))
				}
			}
			for _, d := range set.distractors {
				if len(q.Words) > 0 {
					if relevanceHasAll(q, d, true) {
						t.Errorf("distractor %s holds every word of query %q: %s", d.ID, q.Text, d.Title)
					}
					continue
				}
				text := relevanceText(d)
				for _, w := range relevanceWords(q) {
					if relevanceHas(q.Lang, text, w, true) {
						t.Errorf("distractor %s holds %q, a word of query %q: %s", d.ID, w, q.Text, d.Title)
					}
				}
			}
		}
	})

	// The words of a Chinese query are those every engine cuts it into: each word of Text
	// one word, or, typed together, its Words.
	t.Run("ChineseWords", func(t *testing.T) {
		for _, q := range set.queries {
			if q.Lang != RelevanceChinese {
				if len(q.Words) > 0 {
					t.Errorf("query %q: only Chinese queries list their words", q.Text)
				}
				continue
			}
			var cut []string
			for _, f := range strings.Fields(q.Text) {
				cut = append(cut, search.Words(f)...)
			}
			want := q.Words
			if len(want) == 0 {
				want = strings.Fields(q.Text)
			} else if len(want) < 2 || len(strings.Fields(q.Text)) != 1 {
				t.Errorf("query %q: Words lists %q; a query typed together has one field and two words or more", q.Text, want)
			}
			if !slices.Equal(cut, want) {
				t.Errorf("query %q is cut into %q, but its words are %q", q.Text, cut, want)
			}
		}
	})

	t.Run("Misspellings", func(t *testing.T) {
		byText := make(map[string]RelevanceQuery)
		for _, q := range set.queries {
			byText[q.Lang+" "+q.Text] = q
		}
		all := set.all()
		for _, q := range set.queries {
			if q.Intended == "" {
				continue
			}
			typed, meant := strings.Fields(strings.ToLower(q.Text)), strings.Fields(strings.ToLower(q.Intended))
			if q.Lang != RelevanceEnglish || len(typed) != len(meant) {
				t.Errorf("query %q: intended %q must be English, word for word", q.Text, q.Intended)
				continue
			}
			for i, w := range typed {
				if w == meant[i] {
					continue
				}
				if d := relevanceDistance(w, meant[i]); d == 0 || d > relevanceTypos(w) {
					t.Errorf("query %q: %q is %d edits from %q; a typo of a %d-letter word allows %d",
						q.Text, w, d, meant[i], len(w), relevanceTypos(w))
				}
				// No other post may hold a word as close to the typo as the intended one
				// is, or a typo-tolerant engine could not tell them apart.
				for _, p := range all {
					if slices.Contains(q.Expected, p.ID) {
						continue
					}
					for _, tok := range relevanceTokens(relevanceText(p)) {
						if relevanceDistance(tok, w) <= relevanceTypos(w) {
							t.Errorf("query %q: %s holds %q, a typo away from %q", q.Text, p.ID, tok, w)
						}
					}
				}
			}
			if meant, ok := byText[q.Lang+" "+q.Intended]; ok && !slices.Equal(relevanceSorted(meant.Expected), relevanceSorted(q.Expected)) {
				t.Errorf("query %q expects %v, but %q expects %v", q.Text, q.Expected, q.Intended, meant.Expected)
			}
		}
	})
}

func relevanceSorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// relevanceWords are the words a query's posts must hold: its Words when it types them
// together, those of Intended when it is misspelt, lower-cased.
func relevanceWords(q RelevanceQuery) []string {
	if len(q.Words) > 0 {
		return slices.Clone(q.Words)
	}
	text := q.Text
	if q.Intended != "" {
		text = q.Intended
	}
	return strings.Fields(strings.ToLower(text))
}

// relevanceText is all the text of a post: title, body and tags.
func relevanceText(p relevancePost) string {
	return p.Title + "\n" + p.Body + "\n" + strings.Join(p.Tags, "\n")
}

// relevanceTokens are the Latin words and numbers of s, lower-cased.
func relevanceTokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

// relevanceSuffixes are the endings relevanceStem strips, longest first.
var relevanceSuffixes = []string{"ations", "ation", "ating", "ated", "ates", "ate", "ies", "ing", "ed", "es", "s", "e", "y"}

// relevanceStem is a rough English stem: w without one common ending, keeping at least four
// letters. charging, charged, charges → charg; batteries, battery → batter. It is meant
// for checking labels, not for searching.
func relevanceStem(w string) string {
	for _, suf := range relevanceSuffixes {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 4 {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

// relevancePrefix is the loose form of an English word: the first five letters of its stem.
func relevancePrefix(w string) string {
	s := relevanceStem(w)
	return s[:min(5, len(s))]
}

// relevanceHas reports whether text holds word: a Chinese word as a substring; an English
// word as a token with the same stem or, when loose, a token starting with its prefix.
func relevanceHas(lang, text, word string, loose bool) bool {
	if lang == RelevanceChinese {
		return strings.Contains(text, word)
	}
	stem, prefix := relevanceStem(word), relevancePrefix(word)
	for _, t := range relevanceTokens(text) {
		if loose && strings.HasPrefix(t, prefix) || !loose && relevanceStem(t) == stem {
			return true
		}
	}
	return false
}

// relevanceHasAll reports whether p holds every word of q, in its title, body or tags
// (a Chinese word within one of them: relevanceText keeps them apart by line).
func relevanceHasAll(q RelevanceQuery, p relevancePost, loose bool) bool {
	text := relevanceText(p)
	for _, w := range relevanceWords(q) {
		if !relevanceHas(q.Lang, text, w, loose) {
			return false
		}
	}
	return true
}

// relevanceDistance is the Levenshtein distance between a and b.
func relevanceDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev, cur := make([]int, len(rb)+1), make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// relevanceTypos is how many typos an engine tolerates in a word (Meilisearch's defaults):
// none below five letters, one up to eight, two from nine.
func relevanceTypos(word string) int {
	switch n := len([]rune(word)); {
	case n >= 9:
		return 2
	case n >= 5:
		return 1
	}
	return 0
}

func TestRelevanceScores(t *testing.T) {
	tests := []struct {
		name             string
		expected, hits   []string
		rPrecision, at10 float64
	}{
		{"AllFirst", []string{"a", "b"}, []string{"b", "a", "x"}, 1, 1},
		{"NoHits", []string{"a", "b"}, nil, 0, 0},
		{"HalfInK", []string{"a", "b"}, []string{"a", "x", "b"}, 0.5, 1},
		{"OneOfThreeInK", []string{"a", "b", "c"}, []string{"x", "y", "a", "b"}, 1.0 / 3, 2.0 / 3},
		{"BeyondTen", []string{"a", "b"}, []string{"a", "1", "2", "3", "4", "5", "6", "7", "8", "9", "b"}, 0.5, 0.5},
		{"RepeatedHitCountsOnce", []string{"a", "b"}, []string{"a", "a", "b"}, 0.5, 1},
		{"SixExpected", []string{"a", "b", "c", "d", "e", "f"}, []string{"a", "b", "x", "c", "d", "e", "y", "f"}, 5.0 / 6, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp, at10 := relevanceScores(tt.expected, tt.hits)
			if !relevanceNear(rp, tt.rPrecision) || !relevanceNear(at10, tt.at10) {
				t.Errorf("relevanceScores(%v, %v) = %.3f, %.3f; want %.3f, %.3f", tt.expected, tt.hits, rp, at10, tt.rPrecision, tt.at10)
			}
		})
	}

	t.Run("Means", func(t *testing.T) {
		results := []RelevanceResult{
			{Query: RelevanceQuery{Lang: RelevanceChinese}, RPrecision: 1, RecallAt10: 1},
			{Query: RelevanceQuery{Lang: RelevanceChinese}, RPrecision: 0.5, RecallAt10: 1},
			{Query: RelevanceQuery{Lang: RelevanceEnglish}, RPrecision: 0, RecallAt10: 0.5},
		}
		for _, tt := range []struct {
			lang string
			want RelevanceScore
		}{
			{RelevanceChinese, RelevanceScore{Queries: 2, RPrecision: 0.75, RecallAt10: 1}},
			{RelevanceEnglish, RelevanceScore{Queries: 1, RPrecision: 0, RecallAt10: 0.5}},
			{"", RelevanceScore{Queries: 3, RPrecision: 0.5, RecallAt10: 2.5 / 3}},
		} {
			got := relevanceMean(results, tt.lang)
			if got.Queries != tt.want.Queries || !relevanceNear(got.RPrecision, tt.want.RPrecision) || !relevanceNear(got.RecallAt10, tt.want.RecallAt10) {
				t.Errorf("relevanceMean(%q) = %+v, want %+v", tt.lang, got, tt.want)
			}
		}
		if got := relevanceMean(nil, ""); got != (RelevanceScore{}) {
			t.Errorf("relevanceMean(nil) = %+v, want zero", got)
		}
	})
}

func relevanceNear(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestRelevanceHarness runs Relevance against stand-in engines: one that knows the labels
// scores 1 everywhere; one that matches Chinese text character by character, as an analyzer
// without word or bigram tokens would, is misled by the distractors; one that matches pairs
// of characters, as Bleve's CJK analyzer does, is not.
func TestRelevanceHarness(t *testing.T) {
	t.Run("Oracle", func(t *testing.T) {
		labels := make(map[string][]string)
		for _, q := range RelevanceQueries() {
			labels[q.Text] = q.Expected
		}
		idx := &relevanceStandIn{rank: func(q search.Query, _ []search.Document) []string { return labels[q.Text] }}
		report := Relevance(t, idx)
		want := RelevanceScore{RPrecision: 1, RecallAt10: 1}
		for _, s := range []RelevanceScore{report.Chinese, report.English, report.Overall} {
			if s.RPrecision != want.RPrecision || s.RecallAt10 != want.RecallAt10 || s.Queries == 0 {
				t.Errorf("oracle scored %+v, want 1 and 1", s)
			}
		}
		if n := len(idx.docs); n != len(RelevanceDocuments()) {
			t.Errorf("Relevance applied %d documents, want %d", n, len(RelevanceDocuments()))
		}
		if got, want := len(report.Results), len(RelevanceQueries()); got != want {
			t.Errorf("%d results, want one per query (%d)", got, want)
		}
	})

	t.Run("Characters", func(t *testing.T) {
		report := Relevance(t, &relevanceStandIn{rank: relevanceBM25(relevanceCharacters)})
		if report.Chinese.RPrecision > 0.8 {
			t.Errorf("matching single characters scored R-precision %.3f on the Chinese queries; "+
				"the distractors should keep it below 0.8", report.Chinese.RPrecision)
		}
	})

	t.Run("Bigrams", func(t *testing.T) {
		report := Relevance(t, &relevanceStandIn{rank: relevanceBM25(relevanceBigrams)})
		if report.Chinese.RPrecision < 0.9 {
			t.Errorf("matching pairs of characters scored R-precision %.3f on the Chinese queries; "+
				"the labels should let it reach 0.9", report.Chinese.RPrecision)
		}
	})
}

// relevanceStandIn is an in-memory search.Index whose ranking is a function.
type relevanceStandIn struct {
	docs []search.Document
	rank func(q search.Query, docs []search.Document) []string
}

func (s *relevanceStandIn) Apply(_ context.Context, docs []search.Document) error {
	s.docs = append(s.docs, docs...)
	return nil
}

func (s *relevanceStandIn) Search(_ context.Context, q search.Query) (search.Result, error) {
	ids := s.rank(q, s.docs)
	res := search.Result{Total: len(ids), TotalExact: true}
	for _, id := range ids[:min(q.Limit, len(ids))] {
		res.Hits = append(res.Hits, search.Hit{ID: id})
	}
	return res, nil
}

func (s *relevanceStandIn) Versions(_ context.Context, ids []string) (map[string]int64, error) {
	m := make(map[string]int64)
	for _, d := range s.docs {
		if slices.Contains(ids, d.ID) {
			m[d.ID] = d.Version
		}
	}
	return m, nil
}

func (s *relevanceStandIn) Rebuild(context.Context) (search.Build, error) {
	return nil, errors.New("relevance stand-in: no rebuild")
}

func (s *relevanceStandIn) Ping(context.Context) error { return nil }
func (s *relevanceStandIn) Close() error               { return nil }

// relevanceBM25 returns a ranking by BM25 over the terms split returns, summed over the
// distinct terms of the query: an engine's OR query, with no phrases, fuzziness or boosts.
func relevanceBM25(split func(string) []string) func(search.Query, []search.Document) []string {
	// The documents' terms are counted once, when the first query comes.
	var (
		docTerms []map[string]int
		lengths  []int
		df       map[string]int
		total    int
	)
	return func(q search.Query, docs []search.Document) []string {
		if len(docTerms) != len(docs) {
			docTerms, lengths, df, total = make([]map[string]int, len(docs)), make([]int, len(docs)), make(map[string]int), 0
			for i, d := range docs {
				docTerms[i] = make(map[string]int)
				for _, term := range split(d.Title + "\n" + d.Body + "\n" + strings.Join(d.Tags, "\n")) {
					if docTerms[i][term] == 0 {
						df[term]++
					}
					docTerms[i][term]++
					lengths[i]++
				}
				total += lengths[i]
			}
		}
		terms := split(q.Text)
		slices.Sort(terms)
		terms = slices.Compact(terms)
		avg := float64(total) / float64(max(1, len(docs)))
		n := float64(len(docs))
		type scored struct {
			id    string
			score float64
		}
		var hits []scored
		for i, d := range docs {
			score := 0.0
			for _, term := range terms {
				f := float64(docTerms[i][term])
				if f == 0 {
					continue
				}
				idf := math.Log(1 + (n-float64(df[term])+0.5)/(float64(df[term])+0.5))
				score += idf * f * 2.2 / (f + 1.2*(0.25+0.75*float64(lengths[i])/avg))
			}
			if score > 0 {
				hits = append(hits, scored{d.ID, score})
			}
		}
		sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.id
		}
		return ids
	}
}

// relevanceCharacters splits text into single Chinese characters and lower-cased Latin words.
func relevanceCharacters(text string) []string {
	var terms []string
	for _, r := range strings.ToLower(text) {
		if unicode.Is(unicode.Han, r) {
			terms = append(terms, string(r))
		}
	}
	return append(terms, relevanceTokens(text)...)
}

// relevanceBigrams splits text into overlapping pairs of Chinese characters (a lone character
// stays whole) and stemmed Latin words.
func relevanceBigrams(text string) []string {
	var terms []string
	var run []rune
	flush := func() {
		if len(run) == 1 {
			terms = append(terms, string(run))
		}
		for i := 0; i+1 < len(run); i++ {
			terms = append(terms, string(run[i:i+2]))
		}
		run = run[:0]
	}
	for _, r := range text {
		if unicode.Is(unicode.Han, r) {
			run = append(run, r)
			continue
		}
		flush()
	}
	flush()
	for _, t := range relevanceTokens(text) {
		terms = append(terms, relevanceStem(t))
	}
	return terms
}

var _ search.Index = (*relevanceStandIn)(nil)
