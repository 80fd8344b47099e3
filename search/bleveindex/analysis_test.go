package bleveindex

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/google/go-cmp/cmp"
)

func terms(a analysis.Analyzer, text string) []string {
	var out []string
	for _, t := range a.Analyze([]byte(text)) {
		out = append(out, string(t.Term))
	}
	return out
}

func TestTextAnalysis(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"ChineseBigrams", "车友会活动", []string{"车友", "友会", "会活", "活动"}},
		{"LoneCharacter", "车", []string{"车"}},
		{"PunctuationBreaksRuns", "车友，会员", []string{"车友", "会员"}},
		{"EnglishStemmed", "Charging batteries CHARGED", []string{"charg", "batteri", "charg"}},
		{"MixedWithoutSpaces", "BYD海豹续航600km", []string{"byd", "海豹", "豹续", "续航", "600km"}},
		{"FullWidthLatin", "ＥＶ充电桩", []string{"ev", "充电", "电桩"}},
		{"Numbers", "2024年", []string{"2024", "年"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, terms(textAnalysis, tc.text)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTypoTokenizer(t *testing.T) {
	text := "The ＢＡＴＴＥＲＹ of model3 车友会 charging, café déjà-vu"
	var got []string
	for _, tok := range typoAnalysis.Analyze([]byte(text)) {
		got = append(got, string(tok.Term))
		// Offsets point at the word in the text.
		if w := string(foldWord([]byte(text[tok.Start:tok.End]))); w != string(tok.Term) {
			t.Errorf("token %q at %d:%d reads %q", tok.Term, tok.Start, tok.End, w)
		}
	}
	want := []string{"battery", "model", "charging", "café", "déjà"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestQueryUnits(t *testing.T) {
	got := queryUnits("BYD 海豹续航  byd 车, 海豹续航 Charging")
	want := []unit{
		{word: "byd"},
		// A Han run stands for its words, each required.
		{han: []string{"海", "豹"}},
		{han: []string{"续", "航"}},
		{han: []string{"车"}},
		{word: "charging"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(unit{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCropAround(t *testing.T) {
	short := "短文一句。"
	if s, e := cropAround(short, 3); s != 0 || e != len(short) {
		t.Errorf("short text cropped to %d:%d", s, e)
	}

	long := strings.Repeat("Some words. ", 50) + "Here is the match. " + strings.Repeat("more ", 100)
	match := strings.Index(long, "match")
	s, e := cropAround(long, match)
	snippet := long[s:e]
	if !strings.Contains(snippet, "match") {
		t.Fatalf("snippet %q lost the match", snippet)
	}
	if n := utf8.RuneCountInString(snippet); n > snippetRunes || n < snippetRunes/2 {
		t.Errorf("snippet of %d runes: %q", n, snippet)
	}
	if !strings.HasPrefix(snippet, "Here is") {
		t.Errorf("snippet %q does not start at the sentence of the match", snippet)
	}
	if strings.HasSuffix(snippet, " ") || !strings.HasSuffix(snippet, "more") {
		t.Errorf("snippet %q cuts a word or ends in a space", snippet)
	}

	if s, e := cropAround(long, -1); s != 0 || utf8.RuneCountInString(long[s:e]) > snippetRunes {
		t.Errorf("no match: cropped to %d:%d", s, e)
	}

	zh := strings.Repeat("天气不错", 100) + "续航里程" + strings.Repeat("天气不错", 100)
	m := strings.Index(zh, "续航")
	s, e = cropAround(zh, m)
	if !strings.Contains(zh[s:e], "续航里程") || !utf8.ValidString(zh[s:e]) {
		t.Errorf("Chinese snippet %q", zh[s:e])
	}
	if n := utf8.RuneCountInString(zh[:m]) - utf8.RuneCountInString(zh[:s]); n > leadRunes {
		t.Errorf("snippet starts %d runes before the match, want at most %d", n, leadRunes)
	}
}

func TestSortKeysKeepOrder(t *testing.T) {
	for _, pair := range [][2]int64{{-5, 3}, {-1, 0}, {0, 1}, {9, 10}, {255, 256}, {-1 << 62, 1 << 62}} {
		if a, b := sortKey(pair[0]), sortKey(pair[1]); a >= b {
			t.Errorf("sortKey(%d) = %s, not before sortKey(%d) = %s", pair[0], a, pair[1], b)
		}
	}
	early := time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
	late := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	if !(timeKey(early) < timeKey(now) && timeKey(now) < timeKey(late)) {
		t.Errorf("time keys out of order: %s %s %s", timeKey(early), timeKey(now), timeKey(late))
	}
}
