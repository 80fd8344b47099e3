package meiliindex

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"

	"quanzi/community"
	"quanzi/search"
)

// Chinese substrings. Meilisearch segments Chinese into words and matches a query word
// against whole words (prefix search is off: see settings), so 处理 is not found
// inside a post whose 待处理 the segmenter kept as one word. Posts therefore carry, beside
// their text, the overlapping bigrams of every run of Han characters ("待处 处理") and its
// single characters ("待 处 理"), and each word of a query's Han run (search.Words)
// becomes a phrase of its own bigrams ("处理" for 处理, "车友 友会" for 车友会): phrase
// words must be adjacent, so the phrase matches the posts that hold the word as a
// substring, however Meilisearch's segmenter cut them (for a word of four characters or
// more Meilisearch may piece the phrase together, and hits are checked: see checked.go).
// A word of one character stays a plain word and matches the single characters. Posts and
// queries go through the same segmenter, so a bigram it splits further is split alike on
// both sides.

// runSeparator separates the bigrams of one run from its characters and from other runs.
// A full stop is a hard separator for Meilisearch's tokenizer, which puts the words on
// either side far apart, so a phrase cannot match across two runs that are not adjacent
// in the text, nor across bigrams and characters.
const runSeparator = " . "

// grams returns, for every Han run in texts, its bigrams and then its characters, each
// space-separated. Each text is kept apart, so runs of two texts (two tags, say) never
// join.
func grams(texts ...string) string {
	var parts []string
	for _, t := range texts {
		for _, run := range hanRuns(search.Clean(t)) {
			if bg := bigrams(run); len(bg) > 0 {
				parts = append(parts, strings.Join(bg, " "))
			}
			parts = append(parts, strings.Join(strings.Split(run, ""), " "))
		}
	}
	return strings.Join(parts, runSeparator)
}

// bigrams returns the overlapping two-character bigrams of one run; a run of one character
// has none.
func bigrams(run string) []string {
	rs := []rune(run)
	if len(rs) < 2 {
		return nil
	}
	out := make([]string, 0, len(rs)-1)
	for i := 0; i+1 < len(rs); i++ {
		out = append(out, string(rs[i:i+2]))
	}
	return out
}

// isHan reports whether r is a Han character.
func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// hanRuns returns the maximal runs of Han characters in s, in order.
func hanRuns(s string) []string {
	var runs []string
	for _, seg := range scriptSegments(s) {
		if r, _ := utf8.DecodeRuneInString(seg); isHan(r) {
			runs = append(runs, seg)
		}
	}
	return runs
}

// scriptSegments cuts s into alternating segments of Han and of other characters.
func scriptSegments(s string) []string {
	var segs []string
	start, han := 0, false
	for i, r := range s {
		if h := isHan(r); i > start && h != han {
			segs = append(segs, s[start:i])
			start = i
		}
		if i == start {
			han = isHan(r)
		}
	}
	if start < len(s) {
		segs = append(segs, s[start:])
	}
	return segs
}

// English inflections. Meilisearch matches words as they are written: it does not stem
// English, so "charging" would not find "charged", nor "batteries" "battery". Posts
// therefore carry, beside their text, the Snowball English stems of their Latin-script
// words ("Charged overnight" → "charg overnight"), made by the stemmer the embedded engine
// uses, and a query's Latin words are sent as their stems, so that with every word
// required each must match a stem of the post, or a stem or a word of it a typo or two
// away.
//
// Meilisearch counts typos on the words it is sent, here the stems, which are shorter
// than what was typed and closer to unrelated words: "charg" (charging) is one letter
// from "chart", where "charging" is four. So the first typo is allowed from six letters
// of the stem (oneTypo), not five: "charg" and "chart" must each match exactly, while
// the misspellings still find their words. "batery" is sent as "bateri", one letter from
// the stem "batteri"; "helath" as it is, a swap from "health"; "insurence" and
// "maintenence" as "insur" and "mainten", the stems of insurance and maintenance;
// "warrenty" as "warrenti", one letter from "warranti"; "renovaton", nine letters left as
// they are, is within the two typos of twoTypos of "renovation", "renovations" and
// "renovated". What a misspelling may miss is the forms of its word that are further from
// it than its typos allow: "chargng", left as it is, is one letter from the word
// "charging" but two from "charged", "charges" and the stem "charg", so it finds only
// "charging", where the embedded engine, which corrects a word before it stems it, finds
// every form.

// wordSpan is a word of a text: its bytes [start, end) and its folded form (lowercased,
// full-width letters and digits made ASCII, ’ made ').
type wordSpan struct {
	start, end int
	word       string
}

// foldRune lowercases r, folds a full-width ASCII variant (ＥＶ) to ASCII, as the embedded
// engine does, and makes ’ the apostrophe the stemmer knows (member’s → member).
func foldRune(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFEE0
	}
	if r == '’' {
		r = '\''
	}
	return unicode.ToLower(r)
}

// isWordRune reports whether r, folded, belongs to a word of a script written with
// spaces: a letter, digit or combining mark other than Han. Everything else separates
// words.
func isWordRune(r rune) bool {
	return !isHan(r) && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r))
}

// wordSpans returns the words of s in order: maximal runs of word runes, an apostrophe
// between two of them included (don't, member's), as Unicode word boundaries have them.
// Han characters are not words here; hanRuns has them.
func wordSpans(s string) []wordSpan {
	var out []wordSpan
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start >= 0 {
			out = append(out, wordSpan{start: start, end: end, word: b.String()})
			b.Reset()
			start = -1
		}
	}
	for i, r := range s {
		f := foldRune(r)
		if isWordRune(f) {
			if start < 0 {
				start = i
			}
			b.WriteRune(f)
			continue
		}
		if f == '\'' && start >= 0 {
			if next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):]); isWordRune(foldRune(next)) {
				b.WriteRune(f)
				continue
			}
		}
		flush(i)
	}
	flush(len(s))
	return out
}

// isLatinWord reports whether a folded word holds a Latin letter: such words are stemmed;
// numbers and words of other scripts are kept as they are.
func isLatinWord(w string) bool {
	for _, r := range w {
		if unicode.Is(unicode.Latin, r) {
			return true
		}
	}
	return false
}

// stem returns the Snowball English stem of a folded Latin word.
func stem(word string) string {
	env := snowballstem.NewEnv(word)
	english.Stem(env)
	if s := env.Current(); s != "" {
		return s
	}
	return word
}

// stems returns the stems of the Latin words of texts, space-separated. Each text is kept
// apart by runSeparator, so the words of two texts (two tags, say) are not adjacent.
func stems(texts ...string) string {
	var parts []string
	for _, t := range texts {
		var ws []string
		for _, w := range wordSpans(search.Clean(t)) {
			if isLatinWord(w.word) {
				ws = append(ws, stem(w.word))
			}
		}
		if len(ws) > 0 {
			parts = append(parts, strings.Join(ws, " "))
		}
	}
	return strings.Join(parts, runSeparator)
}

// Typo tolerance, as the index settings give it to Meilisearch: one typo in a word sent
// of oneTypo letters or more, two from twoTypos. English words are sent as stems (see
// above).
const (
	oneTypo  = 6
	twoTypos = 9
)

// typosAllowed is how many typos Meilisearch tolerates in a word it is sent.
func typosAllowed(term string) int {
	switch n := utf8.RuneCountInString(term); {
	case n >= twoTypos:
		return 2
	case n >= oneTypo:
		return 1
	}
	return 0
}

// typos counts the typos between a word sent and a word of a post as Meilisearch does:
// insertions, deletions, substitutions and swaps of adjacent letters count one each, and
// a word whose first letter differs counts one more.
func typos(term, word string) int {
	a, b := []rune(term), []rune(word)
	if len(a) == 0 || len(b) == 0 {
		return max(len(a), len(b))
	}
	// d[i][j] is the distance between a[:i] and b[:j] (restricted Damerau-Levenshtein).
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	n := d[len(a)][len(b)]
	if a[0] != b[0] {
		n++
	}
	return n
}

// within reports whether word is at most k typos from term; words whose lengths differ
// by more are not compared.
func within(term, word string, k int) bool {
	d := utf8.RuneCountInString(term) - utf8.RuneCountInString(word)
	return max(d, -d) <= k && typos(term, word) <= k
}

// matchesStem reports whether a folded word of a post matches one of a query's stems as
// Meilisearch matches them: its stem equals the query stem, or its stem or the word
// itself is within the typos the query stem allows.
func matchesStem(word string, queryStems []string) bool {
	if len(queryStems) == 0 || !isLatinWord(word) {
		return false
	}
	s := stem(word)
	for _, q := range queryStems {
		if s == q {
			return true
		}
		if k := typosAllowed(q); k > 0 && (within(q, s, k) || within(q, word, k)) {
			return true
		}
	}
	return false
}

// maxQueryTerms is how many words and phrases Meilisearch takes from a query: it ignores
// the rest, so a longer query is refused rather than run as if it were shorter.
const maxQueryTerms = 10

// terms are what a query matches beyond the words Meilisearch marks in the snippets: the
// words of its Han runs, found through the bigram phrases, and the stems of its Latin
// words, found through the stem fields.
type terms struct {
	runs  []string // the words of the Han runs, of two characters or more
	stems []string
}

// empty reports whether there is nothing to mark.
func (t terms) empty() bool { return len(t.runs) == 0 && len(t.stems) == 0 }

// queryText turns what a caller typed into Meilisearch's q: each Han run is cut into its
// words (search.Words), each word of two characters or more becomes the phrase of its
// bigrams, each Latin word its stem, and any other word (a number, a word of another
// script) stays as it is, folded. It returns the words of the runs and the stems as
// terms, so that the snippets can mark them. The caller's text is taken as plain words:
// punctuation separates them, so double quotes (phrase syntax) and a leading minus
// (negation) are dropped, typed text never changes how the query is parsed, and every
// engine reads it alike; a repeated term is kept once. BAD_USER_INPUT for more than
// maxQueryTerms terms (a run counts as many terms as it has words).
func queryText(text string) (string, terms, error) {
	var parts []string
	var t terms
	for _, seg := range scriptSegments(search.Clean(text)) {
		if r, _ := utf8.DecodeRuneInString(seg); isHan(r) {
			// A run stands for its words, each required (see search.Words).
			for _, w := range search.Words(seg) {
				if bg := bigrams(w); len(bg) > 0 {
					parts = appendNew(parts, `"`+strings.Join(bg, " ")+`"`)
					t.runs = appendNew(t.runs, w)
				} else {
					parts = appendNew(parts, w)
				}
			}
			continue
		}
		for _, w := range wordSpans(seg) {
			if !isLatinWord(w.word) {
				parts = appendNew(parts, w.word)
				continue
			}
			s := stem(w.word)
			parts = appendNew(parts, s)
			t.stems = appendNew(t.stems, s)
		}
	}
	if len(parts) > maxQueryTerms {
		return "", terms{}, community.Errorf(community.CodeBadUserInput, "search text has more than %d words", maxQueryTerms)
	}
	return strings.Join(parts, " "), t, nil
}

// appendNew appends s to list unless list holds it already.
func appendNew(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// matches returns the byte ranges of text that a query's terms match: every occurrence
// of its runs, then every word that matches one of its stems (see matchesStem).
func (t terms) matches(text string) [][2]int {
	var out [][2]int
	for _, run := range t.runs {
		for from := 0; ; {
			i := strings.Index(text[from:], run)
			if i < 0 {
				break
			}
			out = append(out, [2]int{from + i, from + i + len(run)})
			from += i + len(run)
		}
	}
	if len(t.stems) > 0 {
		for _, w := range wordSpans(text) {
			if matchesStem(w.word, t.stems) {
				out = append(out, [2]int{w.start, w.end})
			}
		}
	}
	return out
}

// first returns the byte range of the first match of the terms in text, and false when
// there is none. Unlike matches, it stems the words of text only up to that match.
func (t terms) first(text string) ([2]int, bool) {
	m, ok := [2]int{}, false
	for _, run := range t.runs {
		if i := strings.Index(text, run); i >= 0 && (!ok || i < m[0]) {
			m, ok = [2]int{i, i + len(run)}, true
		}
	}
	if len(t.stems) > 0 {
		limit := len(text)
		if ok {
			limit = m[0]
		}
		for _, w := range wordSpans(text[:limit]) {
			if matchesStem(w.word, t.stems) {
				return [2]int{w.start, w.end}, true
			}
		}
	}
	return m, ok
}

// markTerms marks what the terms match in a snippet, keeping the marks it already holds:
// a match that overlaps marked text joins its mark, marks that merely touch stay apart.
// Meilisearch marks the words it matched in the text itself, which misses a run found
// inside a longer word through the bigrams, and a word found through its stem ("charged"
// for the stem "charg", two letters short of it); this marks them too.
func markTerms(snippet string, t terms) string {
	if t.empty() || snippet == "" {
		return snippet
	}
	// span[i] numbers the mark that byte i of the plain text lies in; 0 is unmarked.
	var plain strings.Builder
	var span []int
	cur, spans := 0, 0
	for _, r := range snippet {
		switch string(r) {
		case search.MarkStart:
			spans++
			cur = spans
			continue
		case search.MarkEnd:
			cur = 0
			continue
		}
		plain.WriteRune(r)
		for range utf8.RuneLen(r) {
			span = append(span, cur)
		}
	}
	text := plain.String()
	for _, m := range t.matches(text) {
		// The match and every mark it overlaps become one mark.
		spans++
		joined := map[int]bool{}
		for k := m[0]; k < m[1]; k++ {
			if span[k] != 0 {
				joined[span[k]] = true
			}
			span[k] = spans
		}
		for k := range span {
			if joined[span[k]] {
				span[k] = spans
			}
		}
	}
	var b strings.Builder
	prev := 0
	for i, r := range text {
		if span[i] != prev {
			if prev != 0 {
				b.WriteString(search.MarkEnd)
			}
			if span[i] != 0 {
				b.WriteString(search.MarkStart)
			}
			prev = span[i]
		}
		b.WriteRune(r)
	}
	if prev != 0 {
		b.WriteString(search.MarkEnd)
	}
	return b.String()
}

// cropMarker is what Meilisearch puts where it cut a cropped text (its default), reused
// where this package crops.
const cropMarker = "…"

// Window of a body snippet cut here, in characters around the first match: about as much
// Chinese text as Meilisearch's crop of cropLength words holds.
const (
	cropBefore = 20
	cropAfter  = 60
)

// cropAround returns a window of text around the first match of the terms, with
// cropMarker where it was cut, and false when text holds none. Meilisearch centres its
// crop on the words it matched in the text; a run or a word found only through the
// bigram or stem fields is not one of them, so its crop may miss the match altogether.
// The window does not begin or end inside a word.
func cropAround(text string, t terms) (string, bool) {
	m, ok := t.first(text)
	if !ok {
		return "", false
	}
	at, end := m[0], m[1]
	before := []rune(text[:at])
	after := []rune(text[at:])
	var b strings.Builder
	if len(before) > cropBefore {
		b.WriteString(cropMarker)
		cut := len(before) - cropBefore
		for cut < len(before) && isWordRune(foldRune(before[cut-1])) && isWordRune(foldRune(before[cut])) {
			cut++
		}
		before = []rune(strings.TrimLeftFunc(string(before[cut:]), unicode.IsSpace))
	}
	b.WriteString(string(before))
	if len(after) > cropAfter {
		cut, least := cropAfter, utf8.RuneCountInString(text[at:end])
		for cut > least && isWordRune(foldRune(after[cut-1])) && isWordRune(foldRune(after[cut])) {
			cut--
		}
		b.WriteString(strings.TrimRightFunc(string(after[:cut]), unicode.IsSpace))
		b.WriteString(cropMarker)
	} else {
		b.WriteString(string(after))
	}
	return b.String(), true
}
