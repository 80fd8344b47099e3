package community

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTextRules checks the rules of both kinds of text, on inputs written to get past them.
func TestTextRules(t *testing.T) {
	line, long := displayNameText, postBodyText
	cases := []struct {
		name string
		f    textField
		in   string
		ok   bool
	}{
		// What a community writes, in any script.
		{"line: Chinese", line, "李华", true},
		{"line: Japanese", line, "さくら・田中", true},
		{"line: Korean", line, "김민준", true},
		{"line: Arabic", line, "محمد علي", true},
		{"line: Hindi, with its combining vowel signs", line, "नमस्ते", true},
		{"line: Thai", line, "สมชาย", true},
		{"line: Vietnamese, decomposed", line, "Nguye\u0302\u0303n", true},
		{"line: mixed Chinese and Latin", line, "王芳 Wang Fang (EV)", true},
		{"line: ideographic space inside", line, "李　华", true},
		{"line: emoji", line, "🚗 车友", true},
		{"line: emoji with variation selector", line, "❤️ 蔚来", true},
		{"line: keycap emoji", line, "1️⃣号车主", true},
		{"line: emoji family joined by ZWJ", line, "👨‍👩‍👧", true},
		{"line: emoji with skin tone joined by ZWJ", line, "🧑🏽‍💻 程序员", true},
		{"line: emoji flag joined after a variation selector", line, "🏳️‍🌈", true},
		{"line: subdivision flag of tag characters", line, "🏴󠁧󠁢󠁳󠁣󠁴󠁿", true},
		{"line: a single character", line, "华", true},
		{"line: longest", line, strings.Repeat("华", MaxDisplayName), true},

		{"line: right-to-left override", line, "\u202egnp.exe", false},
		{"line: left-to-right embedding", line, "\u202a李华", false},
		{"line: pop directional formatting", line, "李\u202c华", false},
		{"line: left-to-right isolate", line, "\u2066李华\u2069", false},
		{"line: first strong isolate", line, "\u2068李华", false},
		{"line: right-to-left isolate", line, "李华\u2067", false},
		{"line: zero width spaces only", line, "\u200b\u200b", false},
		{"line: zero width space inside", line, "李\u200b华", false},
		{"line: zero width joiner between letters", line, "ad\u200dmin", false},
		{"line: zero width joiner after an emoji, before a letter", line, "👨\u200da", false},
		{"line: zero width joiner at the end", line, "👨\u200d", false},
		{"line: zero width non-joiner", line, "a\u200cb", false},
		{"line: word joiner", line, "a\u2060b", false},
		{"line: byte order mark", line, "\ufeff李华", false},
		{"line: soft hyphen", line, "ad\u00admin", false},
		{"line: left-to-right mark", line, "a\u200eb", false},
		{"line: Arabic letter mark", line, "\u061cمحمد", false},
		{"line: tag characters without a flag", line, "a\U000E0041\U000E007F", false},
		{"line: NUL", line, "李\x00华", false},
		{"line: ESC sequence", line, "\x1b[31m李华", false},
		{"line: bell", line, "李华\a", false},
		{"line: DEL", line, "李\x7f华", false},
		{"line: next line U+0085", line, "李\u0085华", false},
		{"line: C1 control U+0080", line, "李\u0080华", false},
		{"line: C1 CSI U+009B", line, "\u009b31m李华", false},
		{"line: newline", line, "第一行\n第二行", false},
		{"line: carriage return", line, "李\r华", false},
		{"line: tab", line, "李\t华", false},
		{"line: line separator", line, "李\u2028华", false},
		{"line: paragraph separator", line, "李\u2029华", false},
		{"line: lone combining mark", line, "\u0301", false},
		{"line: combining marks only", line, "\u0301\u0308\u0327", false},
		{"line: starts with a combining mark", line, "\u0301李华", false},
		{"line: variation selector only", line, "\ufe0f", false},
		{"line: ideographic variation selector only", line, "\U000E0100", false},
		{"line: combining grapheme joiner only", line, "\u034f", false},
		{"line: Hangul filler only", line, "\u3164\u3164", false},
		{"line: halfwidth Hangul filler only", line, "\uffa0", false},
		{"line: braille blank only", line, "\u2800", false},
		{"line: noncharacter U+FFFF", line, "李\uffff", false},
		{"line: noncharacter U+FDD0", line, "\ufdd0李", false},
		{"line: invalid UTF-8", line, "李\xff华", false},
		{"line: a lone surrogate's bytes", line, "\xed\xa0\x80", false},
		{"line: empty", line, "", false},
		{"line: spaces only", line, "   ", false},
		{"line: ideographic spaces only", line, "\u3000\u3000", false},
		{"line: too long", line, strings.Repeat("华", MaxDisplayName+1), false},

		{"long: Chinese paragraphs", long, "第一段\n\n第二段：每5000公里换机油。", true},
		{"long: newlines kept", long, "第一行\n第二行\n第三行", true},
		{"long: tab", long, "参数\t数值", true},
		{"long: Markdown", long, "**粗体** _斜体_\n- 列表\n```go\nfmt.Println(\"你好\")\n```", true},
		{"long: emoji family joined by ZWJ", long, "周末 👨‍👩‍👧 自驾游", true},
		{"long: left-to-right mark in Arabic text", long, "السيارة\u200e EV", true},
		{"long: zero width space between words", long, "李\u200b华", true},
		{"long: line separator", long, "李\u2028华", true},
		{"long: Japanese", long, "今日はいい天気ですね。", true},

		{"long: right-to-left override", long, "点这里 \u202egnp.exe", false},
		{"long: left-to-right isolate", long, "a\u2066b", false},
		{"long: right-to-left embedding", long, "a\u202bb", false},
		{"long: NUL", long, "正文\x00", false},
		{"long: ESC sequence", long, "正文\x1b[2J", false},
		{"long: backspace", long, "正文\b\b", false},
		{"long: DEL", long, "正\x7f文", false},
		{"long: next line U+0085", long, "正\u0085文", false},
		{"long: C1 control U+0080", long, "正\u0080文", false},
		{"long: C1 control U+009F", long, "正\u009f文", false},
		{"long: vertical tab", long, "正\v文", false},
		{"long: form feed", long, "正\f文", false},
		{"long: zero width spaces only", long, "\u200b\u200b\u200b", false},
		{"long: byte order mark only", long, "\ufeff", false},
		{"long: combining marks only", long, "\u0301\u0301", false},
		{"long: variation selectors only", long, "\ufe0f\ufe0e", false},
		{"long: Hangul fillers and newlines", long, "\u3164\n\u3164", false},
		{"long: noncharacter", long, "正文\ufffe", false},
		{"long: invalid UTF-8", long, "正\xc3文", false},
		{"long: empty", long, "", false},
		{"long: too long", long, strings.Repeat("字", MaxPostBody+1), false},

		{"optional long: empty", bioText, "", true},
		{"optional long: zero width space only", bioText, "\u200b", false},
		{"optional line: empty", avatarURLText, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.check(tc.f.normalize(tc.in))
			if tc.ok {
				if err != nil {
					t.Fatalf("check(%+q) = %v, want it kept", tc.in, err)
				}
				return
			}
			if ErrorCode(err) != CodeBadUserInput {
				t.Fatalf("check(%+q) = %v, want BAD_USER_INPUT", tc.in, err)
			}
			if got := err.(*Error).Field; got != tc.f.field {
				t.Errorf("check(%+q) names field %q, want %q", tc.in, got, tc.f.field)
			}
		})
	}
}

// TestTextNormalize checks that long text keeps its lines, whatever ended them, and that
// both kinds are trimmed.
func TestTextNormalize(t *testing.T) {
	cases := []struct {
		name string
		f    textField
		in   string
		want string
	}{
		{"line: trimmed", titleText, " \u3000 汽车保养经验 \n", "汽车保养经验"},
		{"line: carriage return kept, to be refused", titleText, "a\r\nb", "a\r\nb"},
		{"long: CRLF", postBodyText, "第一行\r\n第二行\r\n", "第一行\n第二行"},
		{"long: lone CR", postBodyText, "第一行\r第二行", "第一行\n第二行"},
		{"long: tabs and newlines inside kept", postBodyText, "\n\ta\tb\n\nc\n", "a\tb\n\nc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.f.normalize(tc.in)); diff != "" {
				t.Errorf("normalize(%+q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// TestValidatorsUseTheTextRules checks that every text input of the domain is checked by
// the text rules: a right-to-left override is refused in each, on its own field.
func TestValidatorsUseTheTextRules(t *testing.T) {
	const rlo = "\u202egnp.exe"
	str := func(s string) *string { return &s }
	cases := []struct {
		name  string
		check func() error
		field string
	}{
		{"register: display name", func() error {
			return RegisterMemberInput{Handle: "li_hua", DisplayName: rlo}.Validate()
		}, "displayName"},
		{"register: bio", func() error {
			return RegisterMemberInput{Handle: "li_hua", DisplayName: "李华", Bio: rlo}.Validate()
		}, "bio"},
		{"register: avatar URL", func() error {
			return RegisterMemberInput{Handle: "li_hua", DisplayName: "李华", AvatarURL: "https://example.com/\u202e.png"}.Validate()
		}, "avatarUrl"},
		{"update profile: display name", func() error { return UpdateProfileInput{DisplayName: str(rlo)}.Validate() }, "displayName"},
		{"update profile: bio", func() error { return UpdateProfileInput{Bio: str(rlo)}.Validate() }, "bio"},
		{"identity: external id", func() error {
			return Identity{Provider: ProviderWeChat, ExternalID: "openid-" + rlo}.Validate()
		}, "externalId"},
		{"tiers: name", func() error { return validateTiers([]Tier{{Name: rlo}}) }, "tiers"},
		{"update club: name", func() error { return UpdateClubInput{Name: str(rlo)}.validate() }, "name"},
		{"update club: description", func() error { return UpdateClubInput{Description: str(rlo)}.validate() }, "description"},
		{"post: title", func() error { return PostInput{Title: rlo, Body: "正文"}.validate() }, "title"},
		{"post: body", func() error { return PostInput{Title: "标题", Body: rlo}.validate() }, "body"},
		{"post: tag", func() error { return PostInput{Title: "标题", Body: "正文", Tags: []string{"ev", rlo}}.validate() }, "tags"},
		{"comment: body", func() error { _, err := commentBody(rlo); return err }, "body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check()
			if ErrorCode(err) != CodeBadUserInput {
				t.Fatalf("got %v, want BAD_USER_INPUT", err)
			}
			if got := err.(*Error).Field; got != tc.field {
				t.Errorf("field = %q, want %q", got, tc.field)
			}
		})
	}
}

// TestTitleAndBodyLines checks the difference of the two kinds on a post: a newline is
// refused in its title and kept in its body.
func TestTitleAndBodyLines(t *testing.T) {
	in := PostInput{Title: "汽车\n保养", Body: "正文"}
	in.normalize()
	if err := in.validate(); ErrorCode(err) != CodeBadUserInput || err.(*Error).Field != "title" {
		t.Errorf("a title with a newline: %v, want BAD_USER_INPUT on title", err)
	}
	in = PostInput{Title: "汽车保养", Body: "第一行\r\n第二行", Tags: []string{" ＥＶ "}}
	in.normalize()
	if err := in.validate(); err != nil {
		t.Fatalf("a body with lines: %v", err)
	}
	if diff := cmp.Diff(PostInput{Title: "汽车保养", Body: "第一行\n第二行", Tags: []string{"ev"}}, in); diff != "" {
		t.Errorf("normalized post (-want +got):\n%s", diff)
	}
}

// TestPointsBounds checks that points stay inside GraphQL's Int: the largest purchase, the
// most points, and the highest tier threshold.
func TestPointsBounds(t *testing.T) {
	if p := (Purchase{Amount: MaxPurchaseAmount}).Points(); p <= 0 || p > MaxPoints {
		t.Errorf("the largest purchase earns %d points, want 1 to %d", p, MaxPoints)
	}
	if MaxPoints+MaxPurchaseAmount/100 > math.MaxInt32 {
		t.Errorf("MaxPoints %d and a largest purchase overflow a 32-bit Int", MaxPoints)
	}
	cases := []struct {
		name  string
		tiers []Tier
		ok    bool
	}{
		{"highest threshold at the limit", []Tier{{"普通", 0}, {"黑金", MaxPoints}}, true},
		{"threshold above the limit", []Tier{{"普通", 0}, {"黑金", MaxPoints + 1}}, false},
		{"threshold of a 32-bit Int", []Tier{{"普通", 0}, {"黑金", math.MaxInt32}}, false},
		{"tier name with a zero width space", []Tier{{"普通\u200b", 0}}, false},
		{"tier name of a zero width space only", []Tier{{"\u200b", 0}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := validateTiers(tc.tiers)
			if tc.ok && err != nil {
				t.Fatalf("validateTiers: %v", err)
			}
			if !tc.ok && ErrorCode(err) != CodeBadUserInput {
				t.Fatalf("validateTiers = %v, want BAD_USER_INPUT", err)
			}
		})
	}
}
