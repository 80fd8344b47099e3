package bleveindex_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"quanzi/search"
)

// Words of the synthetic posts: what car-owner clubs write, Chinese and English mixed.
var (
	zhWords = strings.Fields(`车友会 活动 报名 续航 充电桩 保养 自驾游 试驾 座椅 内饰 油耗 电池 冬天 高速
		小区 会员 积分 优惠 周末 聚会 经验 分享 提车 作业 轮胎 刹车 空调 导航 车机 升级 售后 服务
		门店 预约 体验 新车 二手车 价格 配置 动力 底盘 噪音 舒适 空间 后备箱 儿童 安全 座舱 智能`)
	enWords = strings.Fields(`BYD Tesla NIO Model Y Seal Dolphin ET5 charging battery range OTA update winter
		tyres km kWh fast charger home wallbox software navigation review delivery service
		warranty highway efficiency consumption heat pump road trip weekend meetup club`)
	punct = []string{"，", "。", "！", "：", " ", " ", "、"}
)

// vocabulary is the words of the synthetic posts, most frequent first: the named words,
// then 6,000 made-up Chinese words of two or three characters and 2,000 English ones.
var vocabulary = func() []string {
	r := rand.New(rand.NewPCG(5, 6))
	chars := []rune("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞")
	var out []string
	out = append(out, zhWords...)
	out = append(out, enWords...)
	for range 6000 {
		n := 2 + r.IntN(2)
		w := make([]rune, n)
		for i := range w {
			w[i] = chars[r.IntN(len(chars))]
		}
		out = append(out, string(w))
	}
	letters := "abcdefghijklmnopqrstuvwxyz"
	for range 2000 {
		w := make([]byte, 3+r.IntN(8))
		for i := range w {
			w[i] = letters[r.IntN(len(letters))]
		}
		out = append(out, string(w))
	}
	return out
}()

// text makes n words of mixed text, the words drawn with Zipf's law as in real text.
func text(r *rand.Rand, n int) string {
	zipf := rand.NewZipf(r, 1.1, 8, uint64(len(vocabulary)-1))
	var b strings.Builder
	for range n {
		w := vocabulary[zipf.Uint64()]
		if w[0] < utf8.RuneSelf { // Latin: between spaces
			b.WriteByte(' ')
			b.WriteString(w)
			b.WriteByte(' ')
		} else {
			b.WriteString(w)
		}
		if r.IntN(6) == 0 {
			b.WriteString(punct[r.IntN(len(punct))])
		}
	}
	return strings.TrimSpace(b.String())
}

// documents makes n posts numbered from first: a title of 4 to 10 words and a body of
// 40 to 200, over 50 clubs and 200 authors.
func documents(r *rand.Rand, first, n int) []search.Document {
	docs := make([]search.Document, n)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range docs {
		id := first + i
		docs[i] = search.Document{
			ID: fmt.Sprintf("post-%07d", id), Version: 1,
			ClubID: fmt.Sprintf("club-%02d", r.IntN(50)), BrandID: fmt.Sprintf("brand-%d", r.IntN(5)),
			AuthorID: fmt.Sprintf("member-%03d", r.IntN(200)),
			Title:    text(r, 4+r.IntN(7)), Body: text(r, 40+r.IntN(160)),
			Tags:      []string{zhWords[r.IntN(10)], strings.ToLower(enWords[r.IntN(10)])},
			CreatedAt: t0.Add(time.Duration(id) * time.Minute), Engagement: r.IntN(500),
			Visible: r.IntN(20) != 0, Private: r.IntN(10) == 0,
		}
	}
	return docs
}

// BenchmarkApply measures indexing in batches of 500 new posts.
func BenchmarkApply(b *testing.B) {
	idx := open(b, b.TempDir())
	r := rand.New(rand.NewPCG(1, 2))
	const batch = 500
	ctx := context.Background()
	n := 0
	for b.Loop() {
		b.StopTimer()
		docs := documents(r, n, batch)
		b.StartTimer()
		if err := idx.Apply(ctx, docs); err != nil {
			b.Fatal(err)
		}
		n += batch
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkSearch measures queries against 20,000 posts; hits is how many each finds,
// which is what a query costs: every hit is scored, sorted and counted in the facets.
func BenchmarkSearch(b *testing.B) {
	idx := open(b, b.TempDir())
	r := rand.New(rand.NewPCG(3, 4))
	ctx := context.Background()
	for i := 0; i < 20000; i += 1000 {
		if err := idx.Apply(ctx, documents(r, i, 1000)); err != nil {
			b.Fatal(err)
		}
	}
	search.Warm() // the segmenter's dictionary loads once, outside the timings
	for _, q := range []search.Query{
		{Text: "车友会 活动"},
		{Text: "BYD 续航 冬天"},
		{Text: "charging", Sort: search.SortNewest},
		{Text: "battry"},
		{Text: "保养", Filter: search.Filter{ClubIDs: []string{"club-01", "club-02"}}, Scope: search.Scope{BrandIDs: []string{"brand-1"}}},
		{Text: "", Sort: search.SortMostEngaged},
		{Text: "车"},
	} {
		q.Limit = 20
		b.Run(fmt.Sprintf("%q/%s", q.Text, q.Sort), func(b *testing.B) {
			var total int
			for b.Loop() {
				res, err := idx.Search(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				total = res.Total
			}
			b.ReportMetric(float64(total), "hits")
		})
	}
}
