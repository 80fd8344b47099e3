package meiliindex

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"quanzi/community"
	"quanzi/search"
)

// Chinese substrings. Meilisearch segments Chinese into words and matches a query word
// against whole words (or, for the last query word, their prefixes), so 处理 is not found
// inside a post whose 待处理 the segmenter kept as one word. Posts therefore carry, beside
// their text, the overlapping bigrams of every run of Han characters ("待处 处理") and its
// single characters ("待 处 理"), and a query's Han run becomes a phrase of its own
// bigrams ("处理" for 处理, "车友 友会" for 车友会): phrase words must be adjacent, so the
// phrase matches exactly the posts that hold the run as a substring, however the
// segmenter cut them. A one-character run stays a plain word and matches the single
// characters. Posts and queries go through the same segmenter, so a bigram it splits
// further is split alike on both sides.

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

// maxQueryTerms is how many words and phrases Meilisearch takes from a query: it ignores
// the rest, so a longer query is refused rather than run as if it were shorter.
const maxQueryTerms = 10

// queryText turns what a caller typed into Meilisearch's q, and returns the Han runs it
// turned into phrases, so that the snippets can mark them. The caller's text is taken as
// plain words: double quotes (phrase syntax) and a leading minus (negation) are dropped,
// so that typed text never changes how the query is parsed and every engine reads it
// alike; a repeated word is kept once. BAD_USER_INPUT for more than maxQueryTerms.
func queryText(text string) (string, []string, error) {
	fields := strings.FieldsFunc(search.Clean(text), func(r rune) bool {
		return unicode.IsSpace(r) || r == '"'
	})
	var parts, runs []string
	for _, field := range fields {
		for _, seg := range scriptSegments(field) {
			if r, _ := utf8.DecodeRuneInString(seg); isHan(r) {
				if bg := bigrams(seg); len(bg) > 0 {
					parts = appendNew(parts, `"`+strings.Join(bg, " ")+`"`)
					runs = appendNew(runs, seg)
				} else {
					parts = appendNew(parts, seg)
				}
				continue
			}
			if seg = strings.TrimLeft(seg, "-"); seg != "" {
				parts = appendNew(parts, seg)
			}
		}
	}
	if len(parts) > maxQueryTerms {
		return "", nil, community.Errorf(community.CodeBadUserInput, "search text has more than %d words", maxQueryTerms)
	}
	return strings.Join(parts, " "), runs, nil
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

// markRuns marks every occurrence of the runs in a snippet, keeping the marks it already
// holds: a run that overlaps marked text joins its mark, marks that merely touch stay
// apart. Meilisearch marks the words its segmenter matched, which misses a run found
// inside a longer word through the bigrams: this marks it too.
func markRuns(snippet string, runs []string) string {
	if len(runs) == 0 || snippet == "" {
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
	for _, run := range runs {
		for from := 0; ; {
			i := strings.Index(text[from:], run)
			if i < 0 {
				break
			}
			start, end := from+i, from+i+len(run)
			from = end
			// The run and every mark it overlaps become one mark.
			spans++
			joined := map[int]bool{}
			for k := start; k < end; k++ {
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

// Window of a body snippet cut here, in characters around the first matched run: about as
// much Chinese text as Meilisearch's crop of cropLength words holds.
const (
	cropBefore = 20
	cropAfter  = 60
)

// cropAround returns a window of text around the first occurrence of any run, with
// cropMarker where it was cut, and false when text holds none. Meilisearch centres its
// crop on the words it matched; a run found only through the bigrams is not one of them,
// so its crop may miss the run altogether.
func cropAround(text string, runs []string) (string, bool) {
	at := -1
	for _, run := range runs {
		if i := strings.Index(text, run); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	if at < 0 {
		return "", false
	}
	before := []rune(text[:at])
	after := []rune(text[at:])
	var b strings.Builder
	if len(before) > cropBefore {
		b.WriteString(cropMarker)
		before = before[len(before)-cropBefore:]
	}
	b.WriteString(string(before))
	if len(after) > cropAfter {
		b.WriteString(string(after[:cropAfter]))
		b.WriteString(cropMarker)
	} else {
		b.WriteString(string(after))
	}
	return b.String(), true
}
