package meiliindex

import (
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

func TestQueryText(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		wantQ    string
		wantRuns []string
	}{
		{"empty", "", "", nil},
		{"blank", "  \t ", "", nil},
		{"English", "weekend  drive", "weekend drive", nil},
		{"one bigram", "处理", `"处理"`, []string{"处理"}},
		{"a longer run", "车友会", `"车友 友会"`, []string{"车友会"}},
		{"mixed words", "BMW 车友会", `BMW "车友 友会"`, []string{"车友会"}},
		{"mixed in one word", "BMW车友会活动", `BMW "车友 友会 会活 活动"`, []string{"车友会活动"}},
		{"one-character run stays a word", "车 友", "车 友", nil},
		{"repeats kept once", "车友会 drive 车友会 drive", `"车友 友会" drive`, []string{"车友会"}},
		{"typed quotes dropped", `say "hello world`, "say hello world", nil},
		{"quotes around Chinese", `"车友会"活动`, `"车友 友会" "活动"`, []string{"车友会", "活动"}},
		{"negation dropped", "-spam eggs --x", "spam eggs x", nil},
		{"markers removed", "a" + ms + "b" + me, "ab", nil},
		{"ten terms", "a b c d e f g h i 车友", `a b c d e f g h i "车友"`, []string{"车友"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, runs, err := queryText(tt.text)
			if err != nil {
				t.Fatalf("queryText(%q): %v", tt.text, err)
			}
			if diff := cmp.Diff(tt.wantQ, q); diff != "" {
				t.Errorf("queryText(%q) q mismatch (-want +got):\n%s", tt.text, diff)
			}
			if diff := cmp.Diff(tt.wantRuns, runs); diff != "" {
				t.Errorf("queryText(%q) runs mismatch (-want +got):\n%s", tt.text, diff)
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

func TestMarkRuns(t *testing.T) {
	tests := []struct {
		name    string
		snippet string
		runs    []string
		want    string
	}{
		{"no runs", "a " + ms + "b" + me, nil, "a " + ms + "b" + me},
		{"empty snippet", "", []string{"处理"}, ""},
		{"inside a word", "我们待处理的事项", []string{"处理"}, "我们待" + ms + "处理" + me + "的事项"},
		{"every occurrence", "处理了再处理", []string{"处理"}, ms + "处理" + me + "了再" + ms + "处理" + me},
		{"keeps engine marks", ms + "BMW" + me + " 车友会", []string{"车友"}, ms + "BMW" + me + " " + ms + "车友" + me + "会"},
		{"merges overlapping marks", ms + "车友" + me + "会", []string{"友会"}, ms + "车友会" + me},
		{"touching marks stay apart", ms + "BMW" + me + "车友会", []string{"车友会"}, ms + "BMW" + me + ms + "车友会" + me},
		{"joins the marks it spans", ms + "车" + me + ms + "友" + me + "会", []string{"车友"}, ms + "车友" + me + "会"},
		{"absent run", "周末自驾", []string{"处理"}, "周末自驾"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, markRuns(tt.snippet, tt.runs)); diff != "" {
				t.Errorf("markRuns(%q, %q) mismatch (-want +got):\n%s", tt.snippet, tt.runs, diff)
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
	tests := []struct {
		name   string
		text   string
		runs   []string
		want   string
		wantOK bool
	}{
		{"absent", "周末自驾", []string{"处理"}, "", false},
		{"short text whole", "我们待处理的事项", []string{"处理"}, "我们待处理的事项", true},
		{"cut on both sides", long(30) + "处理" + long(70), []string{"处理"},
			cropMarker + long(20) + "处理" + long(58) + cropMarker, true},
		{"first of several runs", "甲车友乙处理丙", []string{"处理", "车友"}, "甲车友乙处理丙", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cropAround(tt.text, tt.runs)
			if ok != tt.wantOK {
				t.Fatalf("cropAround ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("cropAround mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
