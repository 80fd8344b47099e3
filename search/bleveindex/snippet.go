package bleveindex

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/highlight"
	"github.com/blevesearch/bleve/v2/search/highlight/highlighter/simple"
	index "github.com/blevesearch/bleve_index_api"

	port "quanzi/search"
)

// snippetHighlighter is the name the snippet highlighter is registered under.
const snippetHighlighter = "quanzi_snippet_v1"

// The body snippet: about snippetRunes characters, starting up to leadRunes before the first
// match so that the match is read in its sentence.
const (
	snippetRunes = 160
	leadRunes    = 40
	// A snippet that would stop this close to the end of the body takes the rest too.
	tailRunes = 20
)

// ellipsis marks where a snippet was cut from its body.
const ellipsis = "…"

// snippets highlights a whole title or a cropped body.
type snippets struct {
	title, body *simple.Highlighter
}

func newSnippets(map[string]any, *registry.Cache) (highlight.Highlighter, error) {
	return &snippets{
		title: simple.NewHighlighter(wholeFragmenter{}, markFormatter{}, ellipsis),
		body:  simple.NewHighlighter(cropFragmenter{}, markFormatter{}, ellipsis),
	}, nil
}

func (s *snippets) Fragmenter() highlight.Fragmenter               { return s.body.Fragmenter() }
func (s *snippets) SetFragmenter(f highlight.Fragmenter)           { s.body.SetFragmenter(f) }
func (s *snippets) FragmentFormatter() highlight.FragmentFormatter { return s.body.FragmentFormatter() }
func (s *snippets) SetFragmentFormatter(f highlight.FragmentFormatter) {
	s.body.SetFragmentFormatter(f)
}
func (s *snippets) Separator() string       { return s.body.Separator() }
func (s *snippets) SetSeparator(sep string) { s.body.SetSeparator(sep) }

func (s *snippets) BestFragmentInField(dm *search.DocumentMatch, doc index.Document, field string) string {
	if f := s.BestFragmentsInField(dm, doc, field, 1); len(f) > 0 {
		return f[0]
	}
	return ""
}

func (s *snippets) BestFragmentsInField(dm *search.DocumentMatch, doc index.Document, field string, num int) []string {
	if field == fieldTitle {
		return s.title.BestFragmentsInField(dm, doc, field, num)
	}
	return s.body.BestFragmentsInField(dm, doc, field, num)
}

// wholeFragmenter makes one fragment of the whole text.
type wholeFragmenter struct{}

func (wholeFragmenter) Fragment(orig []byte, _ highlight.TermLocations) []*highlight.Fragment {
	return []*highlight.Fragment{{Orig: orig, Start: 0, End: len(orig)}}
}

// cropFragmenter makes one fragment of about snippetRunes characters around the first
// match, or at the start of the text when nothing in it matched.
type cropFragmenter struct{}

func (cropFragmenter) Fragment(orig []byte, locs highlight.TermLocations) []*highlight.Fragment {
	first := -1
	for _, l := range locs { // ordered by start
		if l != nil && l.Start >= 0 && l.End <= len(orig) && l.Start < l.End {
			first = l.Start
			break
		}
	}
	start, end := cropAround(string(orig), first)
	return []*highlight.Fragment{{Orig: orig, Start: start, End: end}}
}

// cropAround returns the byte range of the snippet of text around the match starting at
// byte first (or the start of the text when first is negative).
func cropAround(text string, first int) (start, end int) {
	if utf8.RuneCountInString(text) <= snippetRunes+tailRunes {
		return 0, len(text)
	}
	if first > 0 && utf8.RuneCountInString(text[:first]) > snippetRunes-leadRunes {
		start = leadStart(text, first)
	}
	end = start
	for n := 0; n < snippetRunes && end < len(text); n++ {
		_, size := utf8.DecodeRuneInString(text[end:])
		end += size
	}
	if utf8.RuneCountInString(text[end:]) <= tailRunes {
		return start, len(text)
	}
	// Do not cut a Latin word in two: end before it, unless it is the whole snippet.
	for n, e := 0, end; n < tailRunes && e > start; n++ {
		r, size := utf8.DecodeLastRuneInString(text[:e])
		if !inWord(r) {
			if n > 0 {
				end = e
			}
			break
		}
		e -= size
	}
	for end > start {
		r, size := utf8.DecodeLastRuneInString(text[:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= size
	}
	return start, end
}

// inWord reports whether r belongs to a word written with spaces between words: a cut
// next to it may split the word.
func inWord(r rune) bool {
	return (unicode.IsLetter(r) || unicode.IsDigit(r)) && !unicode.Is(unicode.Han, r)
}

// leadStart goes back from a match at most leadRunes characters, stopping early after the
// end of a sentence, and skips the spaces it lands on.
func leadStart(text string, match int) int {
	start := match
	for n := 0; n < leadRunes && start > 0; n++ {
		r, size := utf8.DecodeLastRuneInString(text[:start])
		if strings.ContainsRune("。！？!?.\n；;", r) {
			break
		}
		start -= size
	}
	// Do not start inside a Latin word: go back to its start.
	for n := 0; n < tailRunes && start > 0; n++ {
		r, size := utf8.DecodeLastRuneInString(text[:start])
		if next, _ := utf8.DecodeRuneInString(text[start:]); !inWord(r) || !inWord(next) {
			break
		}
		start -= size
	}
	for start < match {
		r, size := utf8.DecodeRuneInString(text[start:])
		if !unicode.IsSpace(r) {
			break
		}
		start += size
	}
	return start
}

// markFormatter writes a fragment with every match inside it between port.MarkStart and
// port.MarkEnd; overlapping and touching matches (the bigrams of one Chinese word) are
// marked as one.
type markFormatter struct{}

func (markFormatter) Format(f *highlight.Fragment, locs highlight.TermLocations) string {
	var b strings.Builder
	b.Grow(f.End - f.Start + 16)
	at := f.Start
	for _, span := range markSpans(f, locs) {
		b.Write(f.Orig[at:span[0]])
		b.WriteString(port.MarkStart)
		b.Write(f.Orig[span[0]:span[1]])
		b.WriteString(port.MarkEnd)
		at = span[1]
	}
	b.Write(f.Orig[at:f.End])
	return b.String()
}

// markSpans returns the merged byte ranges of the matches wholly inside a fragment.
func markSpans(f *highlight.Fragment, locs highlight.TermLocations) [][2]int {
	var spans [][2]int
	for _, l := range locs { // ordered by start
		if l == nil || l.Start < f.Start || l.End > f.End || l.Start >= l.End ||
			!utf8.RuneStart(f.Orig[l.Start]) || (l.End < len(f.Orig) && !utf8.RuneStart(f.Orig[l.End])) {
			continue
		}
		if n := len(spans); n > 0 && l.Start <= spans[n-1][1] {
			spans[n-1][1] = max(spans[n-1][1], l.End)
			continue
		}
		spans = append(spans, [2]int{l.Start, l.End})
	}
	return spans
}
