package search

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-ego/gse"
)

// Chinese queries of several words. Chinese is written without spaces, and members type
// several words run together as they would type them apart in English: 积分兑换 for
// 积分 兑换. Every engine therefore cuts each run of Han characters of a query into its
// words (Words), requires every word, each unbroken within one field as any Chinese word
// is, and ranks first the posts that hold the whole run unbroken as a word of its own,
// then those that hold it unbroken but straddling two words (体验官 in 处境体验官方), then
// the rest (Tier), within the engine's first RankWindow hits. The index stays made of character pairs: a post holding the run
// unbroken holds each of its words, so a search finds every post it found before.
//
// The words come from gse, a pure-Go dictionary segmenter, with its embedded simplified
// Chinese dictionary and a few words of the community's topics it lacks (domainWords). Its
// dictionary takes about 1.5 s and 130 MB to load: it is loaded once, at the first
// Chinese query (or at Warm).

// domainWords are words of the community's topics that the segmenter's general
// dictionary would cut: a query typing one of them asks for the word itself, unbroken.
var domainWords = []string{
	"业主委员会", "业委会", "四轮定位", "行车记录仪", "充电桩", "换电站", "扫地机器人", "空气净化器",
}

// maxRunWords is how many words a run is cut into at most: a longer run, a sentence
// pasted whole, is searched unbroken as it was typed.
const maxRunWords = 4

// domainFreq is the dictionary frequency of domainWords, enough for the segmenter to keep
// them whole against the words they hold.
const domainFreq = 1000

var segmenter = sync.OnceValue(func() *gse.Segmenter {
	seg := new(gse.Segmenter)
	seg.SkipLog = true
	// The dictionary is embedded in the package: loading reads no file and no network,
	// and fails only if the embedded data were broken, a build fault.
	if err := seg.LoadDictEmbed("zh_s"); err != nil {
		panic("search: load the segmenter's dictionary: " + err.Error())
	}
	for _, w := range domainWords {
		if err := seg.AddToken(w, domainFreq, "n"); err != nil {
			panic("search: add a word to the segmenter's dictionary: " + err.Error())
		}
	}
	return seg
})

// Warm loads the segmenter's dictionary now, so that the first Chinese query does not
// wait for it. It is safe to call from any goroutine, any number of times.
func Warm() { segmenter() }

// cut returns the dictionary words of a run of Han characters, in order.
func cut(run string) []string {
	return segmenter().Cut(run, false)
}

// Words returns the words a query's run of Han characters stands for, in order: the run
// itself when it is one word, or when it is cut into more than maxRunWords. A piece of
// one character joins the word before it (or after it, at the start), so that every word
// is matched as a phrase of character pairs: 充电桩, cut 充电 桩, stays 充电桩, and a run
// of single characters (蔚来换电, which the dictionary does not know) stays whole.
func Words(run string) []string {
	if utf8.RuneCountInString(run) <= 2 {
		return []string{run}
	}
	var words []string
	pending := ""
	for _, piece := range cut(run) {
		switch {
		case utf8.RuneCountInString(piece) > 1:
			words = append(words, pending+piece)
			pending = ""
		case len(words) > 0:
			words[len(words)-1] += piece
		default:
			pending += piece
		}
	}
	if pending != "" {
		words = append(words, pending)
	}
	if len(words) > maxRunWords {
		return []string{run}
	}
	return words
}

// HanRuns returns the runs of Han characters in a query's text, in order, each once.
func HanRuns(text string) []string {
	var runs []string
	start := -1
	flush := func(end int) {
		if start >= 0 {
			if run := text[start:end]; !slices.Contains(runs, run) {
				runs = append(runs, run)
			}
			start = -1
		}
	}
	for i, r := range text {
		if unicode.Is(unicode.Han, r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(text))
	return runs
}

// RankedRuns are the Han runs a query's hits are ranked by (Tier): those of its text when
// it is sorted by relevance, none otherwise.
func RankedRuns(q Query) []string {
	if q.Sort != SortRelevance && q.Sort != "" {
		return nil
	}
	return HanRuns(Clean(q.Text))
}

// RankWindow is how many of an engine's best hits a relevance search reorders by Tier:
// the first five pages of twenty. Meilisearch takes longer the more hits it returns with
// their text (on 3,000 matching posts, a search of 20 hits took 3 ms alone, 11 ms with a
// window of 100 read first, about 20 ms with 200 and 25 ms or more with all 1,000), and
// a member rarely pages further. Hits past it keep the engine's order.
const RankWindow = 100

// The tiers of Tier, best first.
const (
	tierWord     = 0 // the run stands unbroken as a word of its own
	tierStraddle = 1 // the run stands unbroken, straddling words
	tierApart    = 2 // the run's words stand apart
)

// Tier ranks a post for a query's Han runs by the fields it has (title, body, each tag):
// the sum over the runs of 0 when the run stands unbroken in a field as a word of its
// own, its ends on the field's word boundaries; 1 when it stands unbroken only straddling
// words (体验官 in 处境体验官方, cut 处境 体验 官方); 2 when it does not stand unbroken in
// any field, only its words do. Lower ranks first; engines order posts of one tier as
// they rank them.
func Tier(runs []string, fields ...string) int {
	sum := 0
	for _, run := range runs {
		best := tierApart
		for _, f := range fields {
			if best == tierWord {
				break
			}
			for from := 0; ; {
				i := strings.Index(f[from:], run)
				if i < 0 {
					break
				}
				at := from + i
				if onBoundaries(f, at, at+len(run)) {
					best = tierWord
					break
				}
				best = tierStraddle
				from = at + len(run)
			}
		}
		sum += best
	}
	return sum
}

// ByTier returns the order of an engine's n hits, by their indexes, for a query's Han
// runs: the first RankWindow ranked by Tier of the fields texts(i) gives for hit i, in the
// engine's order within a tier, and the rest in the engine's order.
func ByTier(n int, runs []string, texts func(i int) []string) []int {
	order := make([]int, n)
	tiers := make([]int, min(n, RankWindow))
	for i := range order {
		order[i] = i
		if i < len(tiers) && len(runs) > 0 {
			tiers[i] = Tier(runs, texts(i)...)
		}
	}
	slices.SortStableFunc(order[:len(tiers)], func(a, b int) int { return tiers[a] - tiers[b] })
	return order
}

// boundaryContext is how many characters around a match the segmenter reads to find
// the word boundaries at its ends: more than the longest words it knows, so that it cuts
// there as it would cut the whole run, while a long run costs no more than a short one.
const boundaryContext = 8

// onBoundaries reports whether text[start:end], Han characters, begins and ends on word
// boundaries of the run of Han characters around it, as the segmenter cuts that run (the
// part of it within boundaryContext characters of the match).
func onBoundaries(text string, start, end int) bool {
	runStart, runEnd := start, end
	for n := 0; runStart > 0 && n < boundaryContext; n++ {
		r, size := utf8.DecodeLastRuneInString(text[:runStart])
		if !unicode.Is(unicode.Han, r) {
			break
		}
		runStart -= size
	}
	for n := 0; runEnd < len(text) && n < boundaryContext; n++ {
		r, size := utf8.DecodeRuneInString(text[runEnd:])
		if !unicode.Is(unicode.Han, r) {
			break
		}
		runEnd += size
	}
	if runStart == start && runEnd == end {
		return true
	}
	startOK, endOK := start == runStart, end == runEnd
	at := runStart
	for _, w := range cut(text[runStart:runEnd]) {
		at += len(w)
		if at == start {
			startOK = true
		}
		if at == end {
			endOK = true
		}
		if at >= end {
			break
		}
	}
	return startOK && endOK
}
