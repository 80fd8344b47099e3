package searchtest

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"quanzi/search"
)

// words is the corpus of the language tests: posts that contain a word, and posts that
// contain its characters or a near spelling without containing the word.
func words() []search.Document {
	docs := []search.Document{
		// Chinese.
		post("zh-club", "车友会周末聚会", "本周六车友会组织自驾游，欢迎新朋友。"),
		post("zh-club-event", "活动通知", "车友会活动报名开始了，名额有限。"),
		post("zh-member", "会员福利", "会员专享优惠，推荐朋友还有礼品。"),
		post("zh-car-friends", "汽车朋友会员日", "每月一次的会员日，汽车爱好者都可以来。"),
		post("zh-apart", "老车友的消息", "老车友说这个周末有个朋友会来参观。"),
		post("zh-care", "汽车保养经验", "分享一下汽车保养经验：机油每五千公里换一次。"),
		post("zh-todo", "投诉待处理", "还有三条投诉待处理，请客服尽快跟进。"),
		post("zh-rx", "医生开的处方", "按处方吃药，注意休息。"),
		post("zh-finance", "理财课程", "周三晚上的理财课程改到线上。"),
		post("zh-rx-finance", "处方和理财", "处方药的费用能不能用理财收益支付？"),
		// Mixed Chinese and English.
		post("mix-seal", "BYD 海豹 长测", "海豹的续航表现很稳定，冬天也有500公里。"),
		post("mix-seal-inside", "BYD 海豹 内饰", "海豹的内饰用料不错，座椅舒服。"),
		post("mix-nospace", "比亚迪BYD海豹续航实测", "高速120km/h实测续航。"),
		post("mix-dolphin", "BYD 海豚 续航", "海豚的城市续航很好。"),
		post("mix-ev", "ＥＶ充电桩安装", "小区装了新的EV充电桩。"),
		// English.
		post("en-charged", "Charged overnight at home", "The car charged to 80 percent overnight."),
		post("en-charges", "Public charger prices", "Three charges a week keep the pack healthy."),
		post("en-charging", "Charging tips", "Charging in the cold takes longer."),
		post("en-battery", "Battery health report", "The battery kept 95 percent of its capacity."),
		post("en-batteries", "Spare batteries", "Bring spare batteries for the remote key."),
		post("en-health", "Health checkup for members", "Free checkup at the clinic."),
		post("en-bike", "Bike trip", "A short ride by the river."),
		post("en-tesla", "TESLA Model Y delivery", "Picked up the new tesla today."),
		post("en-chart", "Sales chart", "The chart shows monthly sales."),
		// Ranking.
		post("rank-title", "Winter range test", "We drove three hundred kilometres."),
		post("rank-body", "Weekend notes", "Some words about the weekend, the winter, and other things we saw on the way."),
		post("rank-exact", "Odometer reading", "The odometer shows the distance."),
		post("rank-typo", "Dashboard photo", "The odomoter in the photo is blurry."),
		post("rank-all", "Winter tyres and snow chains", "Winter tyres help; snow chains help more."),
		post("rank-one", "Summer tyres", "Summer tyres are quiet on dry roads."),
	}
	twin := func(id string, hour int) search.Document {
		d := post(id, "Identical twin post", "Twins share every word.")
		d.CreatedAt = hoursAfter(hour)
		return d
	}
	docs = append(docs, twin("twin-a", 1), twin("twin-b", 2), twin("twin-c", 2))
	tagged := func(id, title, body string, tags ...string) search.Document {
		d := post(id, title, body)
		d.Tags = tags
		return d
	}
	docs = append(docs,
		// Tags: a member names the topic there, and a search finds it there too.
		tagged("tag-zh", "周末去了趟4S店", "顺便检查了刹车，换了机油。", "保养", "比亚迪"),
		tagged("tag-en", "Saturday at the garage", "Oil changed, filters checked.", "maintenance", "diy"),
		tagged("tag-en-title", "Maintenance checklist", "What to look at every spring.", "checklist"),
		// One field: a Chinese word is found where it stands unbroken in the title, the body
		// or one tag, never pieced together from parts of two fields or two sentences.
		post("one-committee", "业主委员会换届", "本届业主委员会任期满了，下周投票。"),
		post("one-committee-split", "业主群的通知", "业主委员们，主委员会议改到周五。"),
		post("one-alignment", "做了一次四轮定位", "高速跑偏，四轮定位之后好多了。"),
		post("one-alignment-split", "四轮定检", "轮定位置在哪？"),
		tagged("one-dashcam", "行车记录仪推荐", "停车监控很重要。", "配件"),
		tagged("one-tags-split", "周末随手记", "天气不错，出门转了转。", "行车记录", "车记录仪"),
		post("one-robot", "扫地机器人用了一年", "扫地机器人的滤网要常换。"),
		post("one-title-body-split", "扫地机器", "地机器人好用吗？"),
		// Words typed together: 积分兑换 is 积分 and 兑换.
		post("words-adjacent", "会员问答", "这里讲积分兑换的流程，礼品每月更新。"),
		post("words-apart", "积分怎么兑换？", "积分能兑换什么礼品？"),
		post("words-one-only", "积分规则", "积分每年清零。"),
		post("words-own", "周末活动", "品牌招募体验官十名，欢迎报名。"),
		post("words-straddle", "处境体验官方说明", "详见附件。"),
		post("words-piece-apart", "充电站旁边的木桩", "木桩挡住了车位。"),
	)
	docs = append(docs, longPosts()...)
	return docs
}

// findCase is a query, the posts it must find, and posts it must not.
type findCase struct {
	name, text string
	finds      []string
	not        []string
}

var chineseCases = []findCase{
	{"WordInsideLongerRun", "车友会", []string{"zh-club", "zh-club-event"},
		[]string{"zh-member", "zh-car-friends", "zh-apart"}},
	{"TwoCharacterWord", "保养", []string{"zh-care"}, []string{"zh-todo"}},
	{"WordAfterPrefix", "处理", []string{"zh-todo"}, []string{"zh-rx", "zh-finance", "zh-rx-finance"}},
	{"Phrase", "汽车保养经验", []string{"zh-care"}, []string{"zh-car-friends"}},
	{"TwoWords", "会员 优惠", []string{"zh-member"}, []string{"zh-car-friends", "zh-club"}},
	{"FullWidthPunctuation", "车友会，活动", []string{"zh-club-event"}, []string{"zh-club"}},
	{"Absent", "电池", nil, []string{"zh-club", "zh-care", "en-battery"}},
}

var tagCases = []findCase{
	{"ChineseTagOnly", "保养", []string{"zh-care", "tag-zh"}, []string{"zh-todo"}},
	{"ChineseTagAndBody", "保养 机油", []string{"zh-care", "tag-zh"}, nil},
	{"EnglishTagOnly", "maintenance", []string{"tag-en", "tag-en-title"}, []string{"en-battery"}},
	{"EnglishTagAndBody", "maintenance filters", []string{"tag-en"}, []string{"tag-en-title"}},
}

var oneFieldCases = []findCase{
	{"AcrossSentences", "业主委员会", []string{"one-committee"}, []string{"one-committee-split"}},
	{"AcrossTitleAndBody", "四轮定位", []string{"one-alignment"}, []string{"one-alignment-split"}},
	{"AcrossTags", "行车记录仪", []string{"one-dashcam"}, []string{"one-tags-split"}},
	{"AcrossTitleAndBodyLong", "扫地机器人", []string{"one-robot"}, []string{"one-title-body-split"}},
	// Typed apart, they are two words, each found in its own place.
	{"TwoWordsTypedApart", "四轮 定位", []string{"one-alignment", "one-alignment-split"}, nil},
}

var wordsCases = []findCase{
	{"TypedTogether", "积分兑换", []string{"words-adjacent", "words-apart"}, []string{"words-one-only"}},
	{"ThreeTypedTogether", "积分兑换礼品", []string{"words-adjacent", "words-apart"}, []string{"words-one-only"}},
	{"RunInsideLongerRun", "体验官", []string{"words-own", "words-straddle"}, nil},
	// 充电桩 is cut 充电 桩; the piece of one character joins its neighbour.
	{"OneCharacterPieceJoined", "充电桩", []string{"mix-ev"}, []string{"words-piece-apart"}},
}

var mixedCases = []findCase{
	{"ChineseAndLatin", "BYD 海豹 续航", []string{"mix-seal", "mix-nospace"},
		[]string{"mix-seal-inside", "mix-dolphin"}},
	{"WithoutSpaces", "BYD海豹", []string{"mix-seal", "mix-seal-inside", "mix-nospace"}, []string{"mix-dolphin"}},
	{"LatinThenChinese", "byd 续航", []string{"mix-seal", "mix-nospace", "mix-dolphin"}, []string{"mix-seal-inside"}},
	{"FullWidthLatin", "EV 充电桩", []string{"mix-ev"}, nil},
	{"FullWidthQuery", "ＥＶ", []string{"mix-ev"}, nil},
}

var englishCases = []findCase{
	{"Stemming", "charging", []string{"en-charged", "en-charges", "en-charging"}, []string{"en-chart"}},
	{"StemmingFromPast", "charged", []string{"en-charged", "en-charges", "en-charging"}, nil},
	{"Plural", "batteries", []string{"en-battery", "en-batteries"}, nil},
	{"Singular", "battery", []string{"en-battery", "en-batteries"}, nil},
	{"TypoInLongWord", "chargng", []string{"en-charging"}, []string{"en-chart"}},
	{"TypoDroppedLetter", "batery", []string{"en-battery"}, nil},
	{"TypoSwappedLetter", "helath", []string{"en-battery", "en-health"}, nil},
	{"NoTypoInShortWord", "bikr", nil, []string{"en-bike"}},
	{"ShortWordIsNotAnother", "hike", nil, []string{"en-bike"}},
	{"ShortWordItself", "bike", []string{"en-bike"}, nil},
	{"UpperCaseQuery", "CHARGING", []string{"en-charging"}, nil},
	{"UpperCaseText", "tesla", []string{"en-tesla"}, nil},
	{"MixedCase", "TeSlA", []string{"en-tesla"}, nil},
	{"EveryWordRequired", "battery health", []string{"en-battery"}, []string{"en-health", "en-batteries"}},
	{"EveryWordRequiredAcrossFields", "checkup clinic", []string{"en-health"}, nil},
	{"PunctuationIgnored", "battery, health!", []string{"en-battery"}, []string{"en-health"}},
}

func testFinds(t *testing.T, idx search.Index, cases []findCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, idx, search.Query{Text: tc.text})
			// Of the posts the case names, exactly those it finds are found.
			named := append(append([]string{}, tc.finds...), tc.not...)
			got := []string{}
			for _, id := range found(res) {
				if slices.Contains(named, id) {
					got = append(got, id)
				}
			}
			if diff := cmp.Diff(sorted(tc.finds...), got); diff != "" {
				t.Errorf("Search(%q) (-want +got):\n%s\nall hits: %v", tc.text, diff, ids(res))
			}
		})
	}
}

// testOneFieldCounts checks that the posts a word is not found in are left out of the
// total, the facets and the pages too, not only out of the hits.
func testOneFieldCounts(t *testing.T, idx search.Index) {
	res := run(t, idx, search.Query{Text: "行车记录仪"})
	want := search.Result{
		Hits:  []search.Hit{{ID: "one-dashcam"}},
		Total: 1,
		Clubs: []search.FacetCount{{Value: "club-default", Count: 1}},
		Tags:  []search.FacetCount{{Value: "配件", Count: 1}},
	}
	if diff := cmp.Diff(want, res, cmpopts.IgnoreFields(search.Result{}, "TotalExact"), cmpopts.IgnoreFields(search.Hit{}, "TitleSnippet", "BodySnippet"), equateEmpty); diff != "" {
		t.Errorf("Search(行车记录仪) (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		offset int
		want   []string
	}{{0, []string{"one-committee"}}, {1, nil}} {
		res := run(t, idx, search.Query{Text: "业主委员会", Offset: tc.offset, Limit: 1})
		if diff := cmp.Diff(tc.want, ids(res), equateEmpty); diff != "" || res.Total != 1 {
			t.Errorf("Search(业主委员会) at %d: total %d (want 1), hits (-want +got):\n%s", tc.offset, res.Total, diff)
		}
	}
}

// testRankedPages checks that the pages of a search ranked by the words of its runs follow
// one order: page after page, they make up the hits of one long page, with its total.
func testRankedPages(t *testing.T, idx search.Index) {
	for _, text := range []string{"积分兑换", "体验官", "四轮定位", "保养"} {
		all := run(t, idx, search.Query{Text: text})
		var paged []string
		for offset := 0; offset < len(all.Hits)+1; offset++ {
			res := run(t, idx, search.Query{Text: text, Offset: offset, Limit: 1})
			paged = append(paged, ids(res)...)
			if res.Total != all.Total {
				t.Errorf("Search(%q) at %d: total %d, want %d", text, offset, res.Total, all.Total)
			}
		}
		if diff := cmp.Diff(ids(all), paged); diff != "" {
			t.Errorf("Search(%q) one hit a page (-one page +pages):\n%s", text, diff)
		}
	}
}

func testRanking(t *testing.T, idx search.Index) {
	for _, tc := range []struct {
		name, text string
		// first must be found, and ranked before second when second is found too.
		first, second string
	}{
		{"TitleAboveBody", "winter", "rank-title", "rank-body"},
		{"ExactAboveTypo", "odometer", "rank-exact", "rank-typo"},
		{"AllWordsAboveOne", "winter tyres", "rank-all", "rank-one"},
		{"AllWordsAboveOneInTitle", "winter range", "rank-title", "rank-body"},
		// A run typed together: the posts holding it unbroken first, though the other
		// holds its words in the title.
		{"RunUnbrokenAboveWordsApart", "积分兑换", "words-adjacent", "words-apart"},
		// The run as a word of its own above the run straddling two words (体验 官方).
		{"OwnWordAboveStraddling", "体验官", "words-own", "words-straddle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(run(t, idx, search.Query{Text: tc.text}))
			i, j := slices.Index(got, tc.first), slices.Index(got, tc.second)
			if i < 0 || (j >= 0 && j < i) {
				t.Errorf("Search(%q) = %v, want %s found, and before %s", tc.text, got, tc.first, tc.second)
			}
		})
	}
	t.Run("TiesGoNewestFirstThenByID", func(t *testing.T) {
		got := ids(run(t, idx, search.Query{Text: "identical twin"}))
		if diff := cmp.Diff([]string{"twin-b", "twin-c", "twin-a"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// Long posts: the body runs to search's limit, and the match is in the middle.
const (
	longRepeat = "The road goes on and on past fields and towns. "
	longWord   = "milestone"
	zhRepeat   = "今天天气不错，我们沿着海边慢慢开。"
	zhWord     = "续航里程"
)

func longPosts() []search.Document {
	en := strings.Repeat(longRepeat, 200) + "Then the " + longWord + " rolled over. " + strings.Repeat(longRepeat, 200)
	zh := strings.Repeat(zhRepeat, 600) + "这次的" + zhWord + "很满意。" + strings.Repeat(zhRepeat, 600)
	return []search.Document{
		post("long-en", "A lengthy journey", en),
		post("long-zh", "长途自驾记录", zh),
	}
}

func mark(s string) string { return search.MarkStart + s + search.MarkEnd }

// joinMarks merges the marks of adjacent matches, which engines split differently: one
// marks 理财课程 whole, another 理财 and 课程 apart.
func joinMarks(h search.Hit) search.Hit {
	join := strings.NewReplacer(search.MarkEnd+search.MarkStart, "")
	h.TitleSnippet, h.BodySnippet = join.Replace(h.TitleSnippet), join.Replace(h.BodySnippet)
	return h
}

func testSnippets(t *testing.T, idx search.Index) {
	// Short posts: the whole title and body, the matched words marked.
	for _, tc := range []struct {
		name, text string
		want       search.Hit
	}{
		{"English", "battery", search.Hit{
			ID:           "en-battery",
			TitleSnippet: mark("Battery") + " health report",
			BodySnippet:  "The " + mark("battery") + " kept 95 percent of its capacity.",
		}},
		{"EnglishTwoWords", "cold charging", search.Hit{
			ID:           "en-charging",
			TitleSnippet: mark("Charging") + " tips",
			BodySnippet:  mark("Charging") + " in the " + mark("cold") + " takes longer.",
		}},
		{"Chinese", "车友会", search.Hit{
			ID:           "zh-club",
			TitleSnippet: mark("车友会") + "周末聚会",
			BodySnippet:  "本周六" + mark("车友会") + "组织自驾游，欢迎新朋友。",
		}},
		{"ChineseTitleOnly", "理财课程", search.Hit{
			ID:           "zh-finance",
			TitleSnippet: mark("理财课程"),
			BodySnippet:  "周三晚上的" + mark("理财课程") + "改到线上。",
		}},
		{"BodyOnly", "clinic", search.Hit{
			ID:           "en-health",
			TitleSnippet: "Health checkup for members",
			BodySnippet:  "Free checkup at the " + mark("clinic") + ".",
		}},
		{"TitleOnly", "report", search.Hit{
			ID:           "en-battery",
			TitleSnippet: "Battery health " + mark("report"),
			BodySnippet:  "The battery kept 95 percent of its capacity.",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, idx, search.Query{Text: tc.text})
			i := slices.IndexFunc(res.Hits, func(h search.Hit) bool { return h.ID == tc.want.ID })
			if i < 0 {
				t.Fatalf("Search(%q) = %v, want %s", tc.text, ids(res), tc.want.ID)
			}
			if diff := cmp.Diff(tc.want, joinMarks(res.Hits[i])); diff != "" {
				t.Errorf("Search(%q) (-want +got):\n%s", tc.text, diff)
			}
		})
	}

	t.Run("EmptyTextMarksNothing", func(t *testing.T) {
		res := run(t, idx, search.Query{Filter: search.Filter{}, Limit: 100})
		i := slices.IndexFunc(res.Hits, func(h search.Hit) bool { return h.ID == "zh-care" })
		if i < 0 {
			t.Fatalf("zh-care not among %v", ids(res))
		}
		want := search.Hit{ID: "zh-care", TitleSnippet: "汽车保养经验", BodySnippet: "分享一下汽车保养经验：机油每五千公里换一次。"}
		if diff := cmp.Diff(want, res.Hits[i]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	// Long posts: the body snippet is a crop around the match, not the whole body.
	for _, tc := range []struct {
		name, id, text, word string
	}{
		{"CroppedEnglish", "long-en", longWord, longWord},
		{"CroppedChinese", "long-zh", zhWord, zhWord},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, idx, search.Query{Text: tc.text})
			if diff := cmp.Diff([]string{tc.id}, ids(res)); diff != "" {
				t.Fatalf("Search(%q) (-want +got):\n%s", tc.text, diff)
			}
			body := joinMarks(res.Hits[0]).BodySnippet
			if !strings.Contains(body, mark(tc.word)) {
				t.Errorf("body snippet %q does not mark %q", body, tc.word)
			}
			if n := utf8.RuneCountInString(body); n < 20 || n > 400 {
				t.Errorf("body snippet has %d characters, want a crop of 20 to 400: %q", n, body)
			}
		})
	}
	t.Run("CroppedWithoutMatchInBody", func(t *testing.T) {
		res := run(t, idx, search.Query{Text: "lengthy journey"})
		i := slices.IndexFunc(res.Hits, func(h search.Hit) bool { return h.ID == "long-en" })
		if i < 0 {
			t.Fatalf("long-en not among %v", ids(res))
		}
		h := res.Hits[i]
		if want := "A " + mark("lengthy") + " " + mark("journey"); h.TitleSnippet != want {
			t.Errorf("title snippet %q, want %q", h.TitleSnippet, want)
		}
		if strings.Contains(h.BodySnippet, search.MarkStart) {
			t.Errorf("body snippet %q marks words, but nothing in the body matched", h.BodySnippet)
		}
		body := h.BodySnippet
		if n := utf8.RuneCountInString(body); n < 20 || n > 400 {
			t.Errorf("body snippet has %d characters, want a crop of 20 to 400: %q", n, body)
		}
		if !strings.HasPrefix(body, "The road goes on") {
			t.Errorf("body snippet %q, want the start of the body", body)
		}
	})
}
