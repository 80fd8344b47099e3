package bleveindex

import (
	"regexp"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search/query"

	"quanzi/community"
	port "quanzi/search"
)

// maxQueryWords bounds how many words and Chinese runs one search may hold: each is a
// clause of the query, and no one types more.
const maxQueryWords = 32

// Boosts of a match by where it is: a word in the title says more than one in the tags,
// which say more than one in the body (the order of Meilisearch's attribute rule), and a
// word found only by typo tolerance says less than the word itself.
const (
	titleBoost = 2.0
	tagBoost   = 1.5
	bodyBoost  = 1.0
	typoBoost  = 0.1
)

// typos returns the words of the index within one edit of a word.
type typos func(word string) ([]string, error)

// maxTypoWords bounds how many indexed words one query word may stand for.
const maxTypoWords = 32

// textQuery turns what a caller typed into a query that every word of it must satisfy,
// in the title, a tag or the body; nil when the text holds no word (it then matches every
// post).
//
// A run of Chinese characters stands for its words (search.Words: 积分兑换 for 积分 and
// 兑换), each matched as a phrase of its bigrams, so 车友会 finds 车友会活动 (车友 then
// 友会) but not 朋友会员 (友会 alone). A single character matches the bigrams it begins
// or ends. Every other word matches its stem; from five letters on,
// also the stems of the indexed words one edit away, so "renovaton" finds "renovated".
func textQuery(text string, near typos) (query.Query, error) {
	units := queryUnits(port.Clean(text))
	if len(units) == 0 {
		return nil, nil
	}
	if len(units) > maxQueryWords {
		return nil, community.Errorf(community.CodeBadUserInput, "search text has more than %d words", maxQueryWords)
	}
	conj := make([]query.Query, 0, len(units))
	for _, u := range units {
		var typoStems []string
		if u.typoTolerant() {
			words, err := near(u.word)
			if err != nil {
				return nil, err
			}
			own := stem(u.word)
			for _, w := range words {
				if s := stem(w); s != own && !slices.Contains(typoStems, s) {
					typoStems = append(typoStems, s)
				}
			}
		}
		var alts []query.Query
		for _, f := range []struct {
			name  string
			boost float64
		}{{fieldTitle, titleBoost}, {fieldTagText, tagBoost}, {fieldBody, bodyBoost}} {
			alts = append(alts, u.queries(f.name, f.boost)...)
			for _, s := range typoStems {
				alts = append(alts, withBoost(termQuery(f.name, s), f.boost*typoBoost))
			}
		}
		conj = append(conj, query.NewDisjunctionQuery(alts))
	}
	if len(conj) == 1 {
		return conj[0], nil
	}
	return query.NewConjunctionQuery(conj), nil
}

// unit is one thing a search requires: a run of Chinese characters or another word.
type unit struct {
	han  []string // the characters of a Chinese run
	word string   // a lowercased word
}

// queryUnits splits text into its words and Chinese runs, without repeats.
func queryUnits(text string) []unit {
	var units []unit
	seen := map[string]bool{}
	add := func(u unit, key string) {
		if !seen[key] {
			seen[key] = true
			units = append(units, u)
		}
	}
	var run []string
	runKey, runEnd := "", -1
	flush := func() {
		if len(run) > 0 {
			// A run of Han characters stands for its words, each required (see
			// search.Words); other scripts written without spaces stay whole.
			words := []string{runKey}
			if allHan(runKey) {
				words = port.Words(runKey)
			}
			for _, w := range words {
				var chars []string
				for _, r := range w {
					chars = append(chars, string(r))
				}
				add(unit{han: chars}, "\x00"+w)
			}
		}
		run, runKey = nil, ""
	}
	for _, t := range queryWords.Analyze([]byte(text)) {
		if t.Type != analysis.Ideographic {
			flush()
			add(unit{word: string(t.Term)}, string(t.Term))
			continue
		}
		// The tokenizer gives one token per character; adjacent ones form a run.
		if t.Start != runEnd {
			flush()
		}
		for _, r := range string(t.Term) {
			run = append(run, string(r))
		}
		runKey += string(t.Term)
		runEnd = t.End
	}
	flush()
	return units
}

// allHan reports whether s is made of Han characters only.
func allHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}

// queries returns the alternatives that satisfy the unit in one text field.
func (u unit) queries(field string, boost float64) []query.Query {
	switch {
	case len(u.han) == 1:
		c := u.han[0]
		// An isolated character is indexed alone, any other only inside bigrams.
		return []query.Query{
			withBoost(termQuery(field, c), boost),
			withBoost(prefixQuery(field, c), boost*0.8),
			withBoost(regexpQuery(field, "."+regexp.QuoteMeta(c)), boost*0.8),
		}
	case len(u.han) == 2:
		return []query.Query{withBoost(termQuery(field, u.han[0]+u.han[1]), boost)}
	case len(u.han) > 2:
		bigrams := make([]string, len(u.han)-1)
		for i := range bigrams {
			bigrams[i] = u.han[i] + u.han[i+1]
		}
		q := query.NewPhraseQuery(bigrams, field)
		q.SetBoost(boost)
		return []query.Query{q}
	}
	w := u.word
	if hasLetter([]byte(w)) {
		w = stem(w)
	}
	return []query.Query{withBoost(termQuery(field, w), boost)}
}

// typoTolerant reports whether the unit is a word long enough to be found with a typo.
func (u unit) typoTolerant() bool {
	return utf8.RuneCountInString(u.word) >= minTypoRunes && onlyLetters([]byte(u.word))
}

type boostable interface {
	query.Query
	SetBoost(float64)
}

func withBoost[Q boostable](q Q, b float64) Q {
	q.SetBoost(b)
	return q
}

func termQuery(field, term string) *query.TermQuery {
	q := query.NewTermQuery(term)
	q.SetField(field)
	return q
}

func prefixQuery(field, prefix string) *query.PrefixQuery {
	q := query.NewPrefixQuery(prefix)
	q.SetField(field)
	return q
}

func regexpQuery(field, re string) *query.RegexpQuery {
	q := query.NewRegexpQuery(re)
	q.SetField(field)
	return q
}

// filterQuery is what a post must satisfy, whatever the text: visible, within the scope,
// and within the filter.
func filterQuery(q port.Query) query.Query {
	visible := query.NewBoolFieldQuery(true)
	visible.SetField(fieldVisible)
	must := []query.Query{visible}

	if !q.Scope.All {
		indexedPublic := query.NewBoolFieldQuery(false)
		indexedPublic.SetField(fieldPrivate)
		var public query.Query = indexedPublic
		if hidden := q.Scope.HiddenClubIDs; len(hidden) > 0 {
			// Indexed as public, but private now: not public to this caller.
			public = query.NewBooleanQuery([]query.Query{indexedPublic}, nil, termsQuery(fieldClub, hidden))
		}
		alts := []query.Query{public}
		alts = append(alts, termsQuery(fieldClub, q.Scope.ClubIDs)...)
		alts = append(alts, termsQuery(fieldBrand, q.Scope.BrandIDs)...)
		must = append(must, anyOf(alts))
	}

	f := q.Filter
	for _, values := range []struct {
		field string
		terms []string
	}{{fieldClub, f.ClubIDs}, {fieldBrand, f.BrandIDs}, {fieldTags, f.Tags}} {
		if len(values.terms) > 0 {
			must = append(must, anyOf(termsQuery(values.field, values.terms)))
		}
	}
	if f.AuthorID != "" {
		must = append(must, termQuery(fieldAuthor, f.AuthorID))
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		var from, to *float64 // nil is unbounded
		if !f.From.IsZero() {
			from = msBound(f.From, false)
		}
		if !f.To.IsZero() {
			to = msBound(f.To, true)
		}
		inclusive, exclusive := true, false
		r := query.NewNumericRangeInclusiveQuery(from, to, &inclusive, &exclusive)
		r.SetField(fieldCreatedMS)
		must = append(must, r)
	}
	return query.NewConjunctionQuery(must)
}

func termsQuery(field string, terms []string) []query.Query {
	qs := make([]query.Query, 0, len(terms))
	for _, t := range terms {
		qs = append(qs, termQuery(field, t))
	}
	return qs
}

func anyOf(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewDisjunctionQuery(qs)
}

// msBound is a time bound in the Unix milliseconds of fieldCreatedMS, where documents keep
// their time rounded down to the millisecond: a lower bound rounds down and an upper one
// up, so that within the bound's millisecond the filter keeps posts rather than drop them.
func msBound(t time.Time, upper bool) *float64 {
	ms := t.UnixMilli()
	if upper && t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	v := float64(ms)
	return &v
}
