package bleveindex

import (
	"bytes"
	"fmt"
	"math"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
)

// The analyzers, registered with Bleve under these names so that an index opened from disk
// finds them again. Changing what one of them emits changes what an index on disk means:
// change layout too, so that an index made before is rebuilt at start (keep the old
// analyzer registered until then, or the old index cannot be opened to answer meanwhile).
const (
	// textAnalyzer makes the searchable terms of titles and bodies: Chinese as bigrams of
	// adjacent characters, every other word lowercased and stemmed.
	textAnalyzer = "quanzi_text_v1"
	// typoAnalyzer makes the dictionary typo tolerance looks words up in: Latin-script
	// words of four letters or more, lowercased but not stemmed, since a stem is often a
	// typo away from no word at all ("chargng" is one edit from "charging" but two from
	// "charg"). The words found there are stemmed and searched for as any other word.
	typoAnalyzer = "quanzi_typo_v1"
)

// minTypoRunes is the length from which a query word tolerates one typo, as Meilisearch's
// default does. Shorter words have too many one-edit neighbours ("bike", "like", "hike").
const minTypoRunes = 5

// The analyzers themselves, also used directly to take a query apart.
var (
	// queryWords splits and folds text without making bigrams or stems: the query builder
	// groups its Chinese characters into runs itself.
	queryWords = &analysis.DefaultAnalyzer{
		Tokenizer:    unicodetok.NewUnicodeTokenizer(),
		TokenFilters: []analysis.TokenFilter{widthFilter{}, lowercase.NewLowerCaseFilter()},
	}
	textAnalysis = &analysis.DefaultAnalyzer{
		Tokenizer: unicodetok.NewUnicodeTokenizer(),
		TokenFilters: []analysis.TokenFilter{
			widthFilter{}, lowercase.NewLowerCaseFilter(), cjk.NewCJKBigramFilter(false), stemFilter{},
		},
	}
	typoAnalysis = &analysis.DefaultAnalyzer{Tokenizer: typoTokenizer{}}
)

func init() {
	// Registration fails only for a duplicate name, a programming error.
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(registry.RegisterAnalyzer(textAnalyzer, func(map[string]any, *registry.Cache) (analysis.Analyzer, error) {
		return textAnalysis, nil
	}))
	must(registry.RegisterAnalyzer(typoAnalyzer, func(map[string]any, *registry.Cache) (analysis.Analyzer, error) {
		return typoAnalysis, nil
	}))
	must(registry.RegisterHighlighter(snippetHighlighter, newSnippets))
}

// stemFilter stems Latin-script words with the Snowball English stemmer and leaves every
// other token (Chinese bigrams, numbers) as it is.
type stemFilter struct{}

func (stemFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		if t.Type == analysis.AlphaNumeric && !t.KeyWord && hasLetter(t.Term) {
			t.Term = []byte(stem(string(t.Term)))
		}
	}
	return in
}

// stem returns the Snowball English stem of a lowercased word.
func stem(word string) string {
	env := snowballstem.NewEnv(word)
	english.Stem(env)
	return env.Current()
}

// typoTokenizer emits the words a typo-tolerant query may match: runs of letters of
// scripts written with spaces between words, four letters or more (a five-letter query
// word with one letter missing has four), lowercased, full-width forms folded. It scans
// the text once and allocates only for the words it keeps, for the typo fields hold a
// second copy of every title and body.
type typoTokenizer struct{}

func (typoTokenizer) Tokenize(text []byte) analysis.TokenStream {
	var out analysis.TokenStream
	start, runes := -1, 0
	emit := func(end int) {
		if start >= 0 && runes >= minTypoRunes-1 {
			out = append(out, &analysis.Token{
				Term: foldWord(text[start:end]), Start: start, End: end,
				Position: len(out) + 1, Type: analysis.AlphaNumeric,
			})
		}
		start, runes = -1, 0
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		if r >= 0xFF21 && r <= 0xFF5A { // full-width Latin
			r -= 0xFEE0
		}
		if unicode.IsLetter(r) && !isCJK(r) {
			if start < 0 {
				start = i
			}
			runes++
		} else {
			emit(i)
		}
		i += size
	}
	emit(len(text))
	return out
}

// foldWord lowercases a word and folds its full-width letters.
func foldWord(w []byte) []byte {
	out := make([]byte, 0, len(w))
	for _, r := range string(w) {
		if r >= 0xFF21 && r <= 0xFF5A {
			r -= 0xFEE0
		}
		out = utf8.AppendRune(out, unicode.ToLower(r))
	}
	return out
}

// isCJK reports whether r is written without spaces between words.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// widthFilter folds full-width Latin and half-width Katakana as Bleve's cjk_width does, but
// leaves alone, without copying, the tokens that hold neither: nearly all of them.
type widthFilter struct{}

var cjkWidth = cjk.NewCJKWidthFilter()

func (widthFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for i, t := range in {
		// Both ranges (U+FF01…U+FF9F) encode with a leading 0xEF byte.
		if bytes.IndexByte(t.Term, 0xEF) >= 0 {
			cjkWidth.Filter(in[i : i+1])
		}
	}
	return in
}

func hasLetter(b []byte) bool {
	for _, r := range string(b) {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

func onlyLetters(b []byte) bool {
	for _, r := range string(b) {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// The fields of an indexed post. Title and body are stored (snippets are cut from them);
// tags are kept whole for filters and facets, and analysed as text (tagtext) for search,
// stored too: ranking reads the text of every field (search.Tier).
// The words of all three also go, unstemmed, into one dictionary for typo tolerance.
const (
	fieldTitle      = "title"
	fieldBody       = "body"
	fieldWords      = "words"
	fieldClub       = "club"
	fieldBrand      = "brand"
	fieldAuthor     = "author"
	fieldTags       = "tags"
	fieldTagText    = "tagtext"
	fieldCreated    = "created"
	fieldCreatedMS  = "created_ms"
	fieldEngagement = "engagement"
	fieldVisible    = "visible"
	fieldPrivate    = "private"
	fieldVersion    = "version"
)

// newMapping describes the documents bleveDocument makes. Nothing is mapped dynamically
// and nothing goes into Bleve's composite _all field.
func newMapping() *mapping.IndexMappingImpl {
	text := func(name string) []*mapping.FieldMapping {
		return []*mapping.FieldMapping{
			{Name: name, Type: "text", Analyzer: textAnalyzer, Store: true, Index: true, IncludeTermVectors: true},
			// Only the dictionary of this field is read: no positions, frequencies or norms.
			{Name: fieldWords, Type: "text", Analyzer: typoAnalyzer, Index: true, SkipFreqNorm: true},
		}
	}
	kw := func(docValues bool) *mapping.FieldMapping {
		return &mapping.FieldMapping{Type: "text", Analyzer: keyword.Name, Index: true, DocValues: docValues}
	}

	doc := mapping.NewDocumentStaticMapping()
	add := func(name string, fields ...*mapping.FieldMapping) {
		dm := mapping.NewDocumentStaticMapping()
		dm.Fields = fields
		doc.AddSubDocumentMapping(name, dm)
	}
	add(fieldTitle, text(fieldTitle)...)
	add(fieldBody, text(fieldBody)...)
	add(fieldClub, kw(true))
	add(fieldBrand, kw(false))
	add(fieldAuthor, kw(false))
	// Each tag is one element of an array: Bleve keeps the element of every position, and
	// a phrase matches within one element, so a Chinese run never spans two tags.
	tags := kw(true)
	tags.Name = fieldTags
	add(fieldTags, append([]*mapping.FieldMapping{tags}, text(fieldTagText)...)...)
	// Creation time and engagement are sortable keys (sortKey), not Bleve numbers: a number
	// is indexed as sixteen terms of decreasing precision, and sorting and range filters
	// would read all sixteen for every hit instead of one.
	add(fieldCreated, kw(true))
	// Range filters on the creation time read a Bleve number (Unix milliseconds) instead:
	// its terms of decreasing precision make a range a few hundred terms at most, where
	// the sort key would be one term per post in the range.
	add(fieldCreatedMS, &mapping.FieldMapping{Type: "number", Index: true})
	add(fieldEngagement, kw(true))
	add(fieldVisible, &mapping.FieldMapping{Type: "boolean", Index: true})
	add(fieldPrivate, &mapping.FieldMapping{Type: "boolean", Index: true})
	add(fieldVersion, &mapping.FieldMapping{Type: "text", Analyzer: keyword.Name, Store: true})
	// No composite _all field: queries name their fields.
	doc.AddSubDocumentMapping("_all", mapping.NewDocumentDisabledMapping())

	m := mapping.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = textAnalyzer
	m.IndexDynamic = false
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	return m
}

// sortKey encodes n as sixteen hex digits whose byte order is the numeric order of n.
func sortKey(n int64) string {
	return fmt.Sprintf("%016x", uint64(n)^(1<<63))
}

// The times sortKey can encode: int64 nanoseconds since 1970 reach from 1677 to 2262.
var (
	minKeyTime = time.Unix(0, math.MinInt64)
	maxKeyTime = time.Unix(0, math.MaxInt64)
)

// timeKey is the sortKey of a time, those beyond what nanoseconds reach clamped.
func timeKey(t time.Time) string {
	switch {
	case t.Before(minKeyTime):
		t = minKeyTime
	case t.After(maxKeyTime):
		t = maxKeyTime
	}
	return sortKey(t.UnixNano())
}
