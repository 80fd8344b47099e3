package meiliindex

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/search"
)

// Shorthands for the snippet markers in expected strings.
const (
	ms = search.MarkStart
	me = search.MarkEnd
)

func TestBigrams(t *testing.T) {
	tests := []struct {
		run  string
		want []string
	}{
		{"", nil},
		{"车", nil},
		{"处理", []string{"处理"}},
		{"车友会", []string{"车友", "友会"}},
		{"𠀀𠀁𠀂", []string{"𠀀𠀁", "𠀁𠀂"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, bigrams(tt.run)); diff != "" {
			t.Errorf("bigrams(%q) mismatch (-want +got):\n%s", tt.run, diff)
		}
	}
}

func TestGrams(t *testing.T) {
	tests := []struct {
		name  string
		texts []string
		want  string
	}{
		{"empty", []string{""}, ""},
		{"no text", nil, ""},
		{"one bigram", []string{"处理"}, "处理 . 处 理"},
		{"substring inside a word", []string{"待处理"}, "待处 处理 . 待 处 理"},
		{"mixed with Latin", []string{"BMW车友会"}, "车友 友会 . 车 友 会"},
		{"runs split by punctuation", []string{"车友，欢迎"}, "车友 . 车 友 . 欢迎 . 欢 迎"},
		{"runs split by spaces", []string{"车友 会员"}, "车友 . 车 友 . 会员 . 会 员"},
		{"one-character runs", []string{"车 and 人"}, "车 . 人"},
		{"English only", []string{"Weekend drive to the lake"}, ""},
		{"texts kept apart", []string{"新能源", "SUV", "电车"}, "新能 能源 . 新 能 源 . 电车 . 电 车"},
		{"markers removed first", []string{"处" + ms + "理" + me}, "处理 . 处 理"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, grams(tt.texts...)); diff != "" {
				t.Errorf("grams(%q) mismatch (-want +got):\n%s", tt.texts, diff)
			}
		})
	}
}

func TestWordSpans(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []wordSpan
	}{
		{"empty", "", nil},
		{"words and punctuation", "Hi, EV-car!", []wordSpan{{0, 2, "hi"}, {4, 6, "ev"}, {7, 10, "car"}}},
		{"digits join letters", "120km/h", []wordSpan{{0, 5, "120km"}, {6, 7, "h"}}},
		{"Han characters separate words", "BYD海豹Seal", []wordSpan{{0, 3, "byd"}, {9, 13, "seal"}}},
		{"full-width folded", "ＥＶ充电", []wordSpan{{0, 6, "ev"}}},
		{"apostrophe inside a word", "member’s 'quoted' don't", []wordSpan{{0, 10, "member's"}, {12, 18, "quoted"}, {20, 25, "don't"}}},
		{"accents kept", "Café naïve", []wordSpan{{0, 5, "café"}, {6, 12, "naïve"}}},
		{"other scripts are words", "Привет мир", []wordSpan{{0, 12, "привет"}, {13, 19, "мир"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, wordSpans(tt.text), cmp.AllowUnexported(wordSpan{})); diff != "" {
				t.Errorf("wordSpans(%q) mismatch (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestStem(t *testing.T) {
	// The forms the contract suite and the relevance set rely on, and the misspellings
	// they search for, as the embedded engine's stemmer makes them.
	tests := map[string]string{
		"charging": "charg", "charged": "charg", "charges": "charg", "charge": "charg", "chart": "chart",
		"battery": "batteri", "batteries": "batteri", "batery": "bateri",
		"health": "health", "helath": "helath", "chargng": "chargng",
		"insurance": "insur", "insurence": "insur",
		"maintenance": "mainten", "maintenence": "mainten",
		"renovation": "renov", "renovated": "renov", "renovaton": "renovaton",
		"warranty": "warranti", "warrenty": "warrenti",
		"odometer": "odomet", "odomoter": "odomot", "tyres": "tyre",
		"member's": "member", "ev": "ev", "120km": "120km",
	}
	for word, want := range tests {
		if got := stem(word); got != want {
			t.Errorf("stem(%q) = %q, want %q", word, got, want)
		}
	}
}

func TestStems(t *testing.T) {
	tests := []struct {
		name  string
		texts []string
		want  string
	}{
		{"empty", []string{""}, ""},
		{"no text", nil, ""},
		{"sentence", []string{"The car charged to 80 percent overnight."}, "the car charg to percent overnight"},
		{"title case", []string{"Spare Batteries"}, "spare batteri"},
		{"Chinese left out", []string{"比亚迪BYD海豹续航实测"}, "byd"},
		{"Chinese only", []string{"车友会周末聚会"}, ""},
		{"full-width", []string{"ＥＶ充电桩安装"}, "ev"},
		{"letters with digits kept", []string{"高速120km/h实测"}, "120km h"},
		{"texts kept apart", []string{"road trip", "新能源", "charging"}, "road trip . charg"},
		{"markers removed first", []string{"char" + ms + "ging" + me}, "charg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, stems(tt.texts...)); diff != "" {
				t.Errorf("stems(%q) mismatch (-want +got):\n%s", tt.texts, diff)
			}
		})
	}
}

func TestTypos(t *testing.T) {
	tests := []struct {
		term, word string
		want       int
	}{
		{"bateri", "batteri", 1},
		{"helath", "health", 1},
		{"chargng", "charging", 1},
		{"chargng", "charg", 2},
		{"charg", "chart", 1},
		{"renovaton", "renovated", 2},
		{"saturday", "caturday", 2},
		{"abc", "", 3},
		{"", "", 0},
	}
	for _, tt := range tests {
		if got := typos(tt.term, tt.word); got != tt.want {
			t.Errorf("typos(%q, %q) = %d, want %d", tt.term, tt.word, got, tt.want)
		}
	}
	for term, want := range map[string]int{"charg": 0, "chart": 0, "bateri": 1, "warrenti": 1, "renovaton": 2} {
		if got := typosAllowed(term); got != want {
			t.Errorf("typosAllowed(%q) = %d, want %d", term, got, want)
		}
	}
}

func TestMatchesStem(t *testing.T) {
	tests := []struct {
		word  string
		stems []string
		want  bool
	}{
		{"charged", []string{"charg"}, true},
		{"chart", []string{"charg"}, false},
		{"battery", []string{"bateri"}, true},
		{"batteries", []string{"bateri"}, true},
		{"charging", []string{"chargng"}, true},
		{"charged", []string{"chargng"}, false},
		{"health", []string{"helath"}, true},
		{"bike", []string{"bikr"}, false},
		{"renovated", []string{"renovaton"}, true},
		{"cold", []string{"charg", "cold"}, true},
		{"120", []string{"120"}, false},
		{"lake", nil, false},
	}
	for _, tt := range tests {
		if got := matchesStem(tt.word, tt.stems); got != tt.want {
			t.Errorf("matchesStem(%q, %q) = %v, want %v", tt.word, tt.stems, got, tt.want)
		}
	}
}

func TestQueryText(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		wantQ     string
		wantTerms terms
	}{
		{"empty", "", "", terms{}},
		{"blank", "  \t ", "", terms{}},
		{"English stemmed", "Charging  batteries", "charg batteri", terms{stems: []string{"charg", "batteri"}}},
		{"misspelling stemmed as typed", "batery renovaton", "bateri renovaton", terms{stems: []string{"bateri", "renovaton"}}},
		{"one bigram", "处理", `"处理"`, terms{runs: []string{"处理"}}},
		{"a longer run", "车友会", `"车友 友会"`, terms{runs: []string{"车友会"}}},
		{"mixed words", "BMW 车友会", `bmw "车友 友会"`, terms{runs: []string{"车友会"}, stems: []string{"bmw"}}},
		{"mixed in one word", "BMW车友会活动", `bmw "车友 友会" "活动"`, terms{runs: []string{"车友会", "活动"}, stems: []string{"bmw"}}},
		{"a run of several words", "积分兑换", `"积分" "兑换"`, terms{runs: []string{"积分", "兑换"}}},
		{"one-character run stays a word", "车 友", "车 友", terms{}},
		{"repeats kept once", "车友会 charging 车友会 charged", `"车友 友会" charg`, terms{runs: []string{"车友会"}, stems: []string{"charg"}}},
		{"typed quotes dropped", `say "hello world`, "say hello world", terms{stems: []string{"say", "hello", "world"}}},
		{"quotes around Chinese", `"车友会"活动`, `"车友 友会" "活动"`, terms{runs: []string{"车友会", "活动"}}},
		{"negation dropped", "-spam eggs --x", "spam egg x", terms{stems: []string{"spam", "egg", "x"}}},
		{"punctuation dropped", "battery, health!", "batteri health", terms{stems: []string{"batteri", "health"}}},
		{"full-width folded", "ＥＶ 充电桩", `ev "充电 电桩"`, terms{runs: []string{"充电桩"}, stems: []string{"ev"}}},
		{"numbers kept as typed", "500 km", "500 km", terms{stems: []string{"km"}}},
		{"other scripts kept", "Привет", "привет", terms{}},
		{"markers removed", "a" + ms + "b" + me, "ab", terms{stems: []string{"ab"}}},
		{"ten terms", "a b c d e f g h i 车友", `a b c d e f g h i "车友"`,
			terms{runs: []string{"车友"}, stems: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}}},
		{"ten terms after stemming", "a b c d e f g h i charged charging", "a b c d e f g h i charg",
			terms{stems: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "charg"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, got, err := queryText(tt.text)
			if err != nil {
				t.Fatalf("queryText(%q): %v", tt.text, err)
			}
			if diff := cmp.Diff(tt.wantQ, q); diff != "" {
				t.Errorf("queryText(%q) q mismatch (-want +got):\n%s", tt.text, diff)
			}
			if diff := cmp.Diff(tt.wantTerms, got, cmp.AllowUnexported(terms{})); diff != "" {
				t.Errorf("queryText(%q) terms mismatch (-want +got):\n%s", tt.text, diff)
			}
		})
	}
	t.Run("more than ten terms", func(t *testing.T) {
		_, _, err := queryText("a b c d e f g h i j 车友")
		if code := community.ErrorCode(err); code != community.CodeBadUserInput {
			t.Errorf("code = %q, want %q", code, community.CodeBadUserInput)
		}
	})
}

func TestMarkTerms(t *testing.T) {
	tests := []struct {
		name    string
		snippet string
		terms   terms
		want    string
	}{
		{"no terms", "a " + ms + "b" + me, terms{}, "a " + ms + "b" + me},
		{"empty snippet", "", terms{runs: []string{"处理"}}, ""},
		{"inside a word", "我们待处理的事项", terms{runs: []string{"处理"}}, "我们待" + ms + "处理" + me + "的事项"},
		{"every occurrence", "处理了再处理", terms{runs: []string{"处理"}}, ms + "处理" + me + "了再" + ms + "处理" + me},
		{"keeps engine marks", ms + "BMW" + me + " 车友会", terms{runs: []string{"车友"}}, ms + "BMW" + me + " " + ms + "车友" + me + "会"},
		{"merges overlapping marks", ms + "车友" + me + "会", terms{runs: []string{"友会"}}, ms + "车友会" + me},
		{"touching marks stay apart", ms + "BMW" + me + "车友会", terms{runs: []string{"车友会"}}, ms + "BMW" + me + ms + "车友会" + me},
		{"joins the marks it spans", ms + "车" + me + ms + "友" + me + "会", terms{runs: []string{"车友"}}, ms + "车友" + me + "会"},
		{"absent run", "周末自驾", terms{runs: []string{"处理"}}, "周末自驾"},
		{"forms of a stem", "Charged overnight; three charges a week.", terms{stems: []string{"charg"}},
			ms + "Charged" + me + " overnight; three " + ms + "charges" + me + " a week."},
		{"not a word a typo from the stem", "The chart of charging", terms{stems: []string{"charg"}},
			"The chart of " + ms + "charging" + me},
		{"a misspelling marks its word", "Battery health report", terms{stems: []string{"bateri", "helath"}},
			ms + "Battery" + me + " " + ms + "health" + me + " report"},
		{"a misspelling marks the word it is a typo from", "Charging tips", terms{stems: []string{"chargng"}},
			ms + "Charging" + me + " tips"},
		{"whole word joins a prefix mark", ms + "Charg" + me + "ing tips", terms{stems: []string{"charg"}},
			ms + "Charging" + me + " tips"},
		{"engine mark kept", ms + "Lake" + me + " shore", terms{stems: []string{"lake"}}, ms + "Lake" + me + " shore"},
		{"runs and stems", "BMW车友会 charging", terms{runs: []string{"车友会"}, stems: []string{"bmw", "charg"}},
			ms + "BMW" + me + ms + "车友会" + me + " " + ms + "charging" + me},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, markTerms(tt.snippet, tt.terms)); diff != "" {
				t.Errorf("markTerms(%q, %+v) mismatch (-want +got):\n%s", tt.snippet, tt.terms, diff)
			}
		})
	}
}

func TestCropAround(t *testing.T) {
	long := func(n int) string {
		r := make([]rune, n)
		for i := range r {
			r[i] = '字'
		}
		return string(r)
	}
	road := strings.Repeat("The road goes on. ", 4)
	tests := []struct {
		name   string
		text   string
		terms  terms
		want   string
		wantOK bool
	}{
		{"absent", "周末自驾", terms{runs: []string{"处理"}}, "", false},
		{"short text whole", "我们待处理的事项", terms{runs: []string{"处理"}}, "我们待处理的事项", true},
		{"cut on both sides", long(30) + "处理" + long(70), terms{runs: []string{"处理"}},
			cropMarker + long(20) + "处理" + long(58) + cropMarker, true},
		{"first of several runs", "甲车友乙处理丙", terms{runs: []string{"处理", "车友"}}, "甲车友乙处理丙", true},
		{"first of a run and a stem", "甲 charged 乙处理丙", terms{runs: []string{"处理"}, stems: []string{"charg"}},
			"甲 charged 乙处理丙", true},
		{"first of a stem and a run", long(30) + "处理 charged", terms{runs: []string{"处理"}, stems: []string{"charg"}},
			cropMarker + long(20) + "处理 charged", true},
		{"English cut between words", road + "Then we charged the car. " + road, terms{stems: []string{"charg"}},
			cropMarker + "goes on. Then we charged the car. The road goes on. The road goes on. The" + cropMarker, true},
		{"absent stem", road, terms{stems: []string{"charg"}}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cropAround(tt.text, tt.terms)
			if ok != tt.wantOK {
				t.Fatalf("cropAround ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("cropAround mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTermsHeldBy(t *testing.T) {
	qt := terms{runs: []string{"四轮定位", "车友会"}}
	for _, tt := range []struct {
		name  string
		texts []string
		want  bool
	}{
		{"BothInOneField", []string{"车友会做了四轮定位", ""}, true},
		{"EachInItsField", []string{"车友会", "四轮定位"}, true},
		{"InATag", []string{"车友会活动", "", "四轮定位", "保养"}, true},
		{"PiecedAcrossFields", []string{"车友会 四轮定检", "轮定位置在哪"}, false},
		{"PiecedAcrossSentence", []string{"车友会四轮，轮定位"}, false},
		{"OneMissing", []string{"四轮定位"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := qt.heldBy(tt.texts...); got != tt.want {
				t.Errorf("heldBy(%q) = %v, want %v", tt.texts, got, tt.want)
			}
		})
	}
	if (terms{runs: []string{"车友会"}}).pieced() || !qt.pieced() {
		t.Error("pieced: a run of three characters is checked exactly, one of four is not")
	}
}
