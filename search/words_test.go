package search

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWords(t *testing.T) {
	for _, tt := range []struct {
		run  string
		want []string
	}{
		{"保养", []string{"保养"}},
		{"车友会", []string{"车友会"}},
		{"积分兑换", []string{"积分", "兑换"}},
		{"积分兑换礼品", []string{"积分", "兑换", "礼品"}},
		{"汽车保养经验", []string{"汽车", "保养", "经验"}},
		// Words of the community's topics stay whole.
		{"业主委员会", []string{"业主委员会"}},
		{"四轮定位", []string{"四轮定位"}},
		// A piece of one character joins a neighbour.
		{"体验官", []string{"体验官"}},
		{"换电", []string{"换电"}},
		{"蔚来换电", []string{"蔚来换电"}},
		{"小区充电桩安装", []string{"小区", "充电桩", "安装"}},
		// More than maxRunWords words: the run as it was typed.
		{"这次周末自驾路线风景非常漂亮", []string{"这次周末自驾路线风景非常漂亮"}},
	} {
		if diff := cmp.Diff(tt.want, Words(tt.run)); diff != "" {
			t.Errorf("Words(%q) (-want +got):\n%s", tt.run, diff)
		}
	}
}

func TestHanRuns(t *testing.T) {
	got := HanRuns("BYD海豹 续航，续航 ev车友会")
	if diff := cmp.Diff([]string{"海豹", "续航", "车友会"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTier(t *testing.T) {
	for _, tt := range []struct {
		name   string
		runs   []string
		fields []string
		want   int
	}{
		{"OwnWord", []string{"体验官"}, []string{"周末活动", "品牌招募体验官十名。"}, tierWord},
		{"Straddles", []string{"体验官"}, []string{"处境体验官方说明"}, tierStraddle},
		{"OwnWordInAnotherField", []string{"体验官"}, []string{"处境体验官方说明", "体验官"}, tierWord},
		{"WholeField", []string{"保养"}, []string{"比亚迪", "保养"}, tierWord},
		{"Adjacent", []string{"积分兑换"}, []string{"这里讲积分兑换的流程"}, tierWord},
		{"Apart", []string{"积分兑换"}, []string{"积分怎么兑换"}, tierApart},
		{"TwoRuns", []string{"积分兑换", "体验官"}, []string{"积分怎么兑换", "处境体验官方说明"}, tierApart + tierStraddle},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Tier(tt.runs, tt.fields...); got != tt.want {
				t.Errorf("Tier(%q, %q) = %d, want %d", tt.runs, tt.fields, got, tt.want)
			}
		})
	}
}

// BenchmarkTier ranks a window of 1,000 hits of 200 characters each, the most a search
// ranks, for a run that stands in each of them.
func BenchmarkTier(b *testing.B) {
	Warm()
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"车友会", "活动", "报名", "续航", "充电桩", "保养", "自驾游", "小区", "会员", "积分", "周末", "聚会", "经验", "分享", "体验官", "方案"}
	texts := make([]string, 1000)
	for i := range texts {
		var sb strings.Builder
		for sb.Len() < 600 {
			sb.WriteString(pieces[r.IntN(len(pieces))])
			if r.IntN(8) == 0 {
				sb.WriteString("，")
			}
		}
		texts[i] = sb.String()
	}
	runs := []string{"车友会活动"}
	for b.Loop() {
		for _, t := range texts {
			Tier(runs, t)
		}
	}
}
