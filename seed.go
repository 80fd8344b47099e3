package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"quanzi/community"
	"quanzi/community/jwtauth"
	"quanzi/community/synthetic"
)

// seed fills the configured store: with no size flags, a small demo community a newcomer
// can explore, whose members' tokens it prints; with -members, a deterministic synthetic
// community at scale.
func seed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var members, follows, posts *int
	var seedValue *uint64
	cfg, err := parseConfig("seed", args, getenv, stderr, func(fs *flag.FlagSet) {
		members = fs.Int("members", 0, "build a synthetic community of this many members instead of the demo")
		follows = fs.Int("follows", -1, "follows in the synthetic community (default: ten per member)")
		posts = fs.Int("posts", 0, "posts in the synthetic community, in one club per 500 members, with five reactions each")
		seedValue = fs.Uint64("seed", 1, "seed of the synthetic community: the same seed builds the same community")
	})
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, closeStore, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeStore()
	if *members > 0 {
		if *follows < 0 {
			*follows = 10 * *members
		}
		content := synthetic.ContentSpec{Clubs: max(1, *members/500), Posts: *posts, Reactions: 5 * *posts, Seed: *seedValue,
			Now: time.Now().UTC().Truncate(24 * time.Hour)}
		return seedSynthetic(ctx, store, synthetic.Spec{Members: *members, Follows: *follows, Seed: *seedValue}, content, stderr)
	}
	return seedDemo(ctx, store, community.Config{DeviceKey: []byte(cfg.DeviceKey), Burst: cfg.Burst}, newMinter(cfg), stdout)
}

func seedSynthetic(ctx context.Context, store community.Store, spec synthetic.Spec, content synthetic.ContentSpec, stderr io.Writer) error {
	bar := progressbar.NewOptions64(int64(spec.Members+spec.Follows+content.Posts+content.Reactions),
		progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("seeding"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	spec.Progress = func(m, f int) { bar.Set64(int64(m + f)) }
	start := time.Now()
	g, err := synthetic.Generate(ctx, store, spec)
	if err != nil {
		return err
	}
	// Club memberships are not counted on the bar: the bar goes on from members and follows.
	membersAndFollows := int64(spec.Members + spec.Follows)
	content.Progress = func(done int) { bar.Set64(membersAndFollows + int64(done)) }
	if content.Posts > 0 {
		if _, err := synthetic.GenerateContent(ctx, store, g, content); err != nil {
			return err
		}
	}
	bar.Finish()
	forest, err := seedReferralForest(ctx, store, g, spec.Seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "seeded %d members, up to %d follows, %d posts, up to %d reactions and %d referrals (seed %d) in %s\n",
		spec.Members, spec.Follows, content.Posts, content.Reactions, forest.Referred, spec.Seed, time.Since(start).Round(time.Millisecond))
	return nil
}

// seedReferralForest refers the synthetic members to each other through a campaign of a
// brand of their own: one tree of a tenth of the members, one of a thousandth, chains up to
// 30 deep, and the rest in trees of up to 40 members.
func seedReferralForest(ctx context.Context, store community.Store, g synthetic.Generated, seed uint64) (synthetic.Forest, error) {
	now := time.Now().UTC().Truncate(time.Second)
	brand := community.Brand{ID: community.NewID(), Slug: fmt.Sprintf("synthetic-%d-%d", seed, now.Unix()), Name: "合成品牌",
		Tiers: []community.Tier{{Name: "普通", Threshold: 0}}, CreatedAt: now}
	if err := store.CreateBrand(ctx, brand); err != nil {
		return synthetic.Forest{}, err
	}
	campaign := community.ReferralCampaign{ID: community.NewID(), BrandID: brand.ID, Name: "老带新", StartsAt: now.AddDate(-2, 0, 0),
		EndsAt: now.AddDate(1, 0, 0), RedeemWindowDays: 7, CreatedAt: now,
		Rules: []community.ReferralRule{{Level: 1, Kind: community.RewardPoints, Value: 100_00}}}
	if err := store.CreateReferralCampaign(ctx, campaign); err != nil {
		return synthetic.Forest{}, err
	}
	n := len(g.IDs)
	return synthetic.GenerateReferrals(ctx, store, g, synthetic.ReferralSpec{
		Trees: []int{n / 10, n / 1000}, MaxDepth: 30, MaxSmallTree: 40,
		Code: "SYNTHETIC", CampaignID: campaign.ID, Channel: community.ShareWeChat, Seed: seed,
	})
}

// demoMembers are the demo community's members: handle, display name, bio.
var demoMembers = [][3]string{
	{"li_hua", "李华", "比亚迪汉车主，周末自驾游"},
	{"wang_fang", "王芳", "新能源车爱好者，翠湖花园业主"},
	{"zhang_wei", "张伟", "十年老司机，保养经验分享"},
	{"chen_jing", "陈静", "蔚来ES6车主"},
	{"liu_yang", "刘洋", "翠湖花园业委会"},
	{"zhao_lei", "赵磊", "摄影、露营"},
	{"emma_chen", "Emma Chen", "EV road trips and camping"},
	{"david_wu", "David Wu", "Weekend mechanic, DIY maintenance"},
}

// demoNewcomers join the demo community with an invitation code, on registration: handle,
// display name, bio, and the member whose code they redeem.
var demoNewcomers = [][4]string{
	{"sun_li", "孙丽", "准车主，在看比亚迪海豹", "wang_fang"},
	{"zhou_min", "周敏", "ES6 试驾中", "david_wu"},
}

// demoNames are the handles and display names of every demo member, newcomers last.
func demoNames() [][2]string {
	var out [][2]string
	for _, m := range demoMembers {
		out = append(out, [2]string{m[0], m[1]})
	}
	for _, m := range demoNewcomers {
		out = append(out, [2]string{m[0], m[1]})
	}
	return out
}

// demoDevice is the device id a demo member uses: each their own, but sun_li signs up on
// wang_fang's phone, so that her referral carries the SHARED_DEVICE flag.
func demoDevice(handle string) string {
	if handle == "sun_li" {
		handle = "wang_fang"
	}
	return "demo-device-" + handle
}

// seedDemo builds the demo community through the service, as its users would, and prints
// tokens to explore it with. A community seeded already is left as it is. svcCfg configures
// the services as the server's are (its device key above all, so that the server knows the
// seeded members' devices again).
func seedDemo(ctx context.Context, store community.Store, svcCfg community.Config, mint func(jwtauth.Claims, time.Duration) (string, error), stdout io.Writer) error {
	svc := community.New(store, svcCfg)
	admin := community.WithActor(ctx, community.Actor{Roles: []community.Role{community.RoleAdmin}})
	byd, err := svc.Brands.BrandBySlug(admin, "byd-auto")
	if err != nil {
		return err
	}
	ids := map[string]string{}
	if byd != nil {
		for _, m := range demoNames() {
			found, err := svc.Members.MemberByHandle(admin, m[0])
			if err != nil {
				return err
			}
			if found != nil {
				ids[m[0]] = found.ID
			}
		}
		fmt.Fprintln(stdout, "The demo community is seeded already.")
		return printTokens(stdout, mint, ids, byd.ID)
	}
	// Each step runs unless an earlier one failed; the first failure ends the seed.
	var failure error
	step := func(f func() error) {
		if failure == nil {
			failure = f()
		}
	}
	ignore := func(_ any, err error) error { return err }
	var b1, b2 community.Brand
	step(func() (err error) {
		b1, err = svc.Brands.CreateBrand(admin, community.CreateBrandInput{Slug: "byd-auto", Name: "比亚迪", Description: "新能源汽车"})
		return err
	})
	step(func() (err error) {
		b2, err = svc.Brands.CreateBrand(admin, community.CreateBrandInput{Slug: "nio", Name: "蔚来", Description: "智能电动汽车"})
		return err
	})
	step(func() error { return ignore(svc.Brands.InvitePartner(admin, b1.ID, b2.ID)) })
	step(func() error { return svc.Brands.AcceptPartnership(admin, b2.ID, b1.ID) })

	as := func(id string) context.Context { return community.WithActor(ctx, community.Actor{MemberID: id}) }
	register := func(handle, name, bio, code string) {
		step(func() error {
			newcomer := community.WithActor(ctx, community.Actor{Identity: &community.Identity{Provider: community.ProviderWeChat, ExternalID: "demo-openid-" + handle}})
			in := community.RegisterMemberInput{Handle: handle, DisplayName: name, Bio: bio, InviteCode: code}
			member, err := svc.Members.RegisterMember(community.WithDevice(newcomer, demoDevice(handle)), in, nil)
			ids[handle] = member.ID
			return err
		})
	}
	for _, m := range demoMembers {
		register(m[0], m[1], m[2], "")
	}
	for _, f := range [][2]string{
		{"li_hua", "zhang_wei"}, {"wang_fang", "li_hua"}, {"wang_fang", "zhang_wei"}, {"chen_jing", "li_hua"},
		{"liu_yang", "wang_fang"}, {"zhao_lei", "li_hua"}, {"zhao_lei", "emma_chen"}, {"emma_chen", "david_wu"},
		{"david_wu", "zhang_wei"}, {"li_hua", "wang_fang"}, {"zhang_wei", "david_wu"}, {"chen_jing", "emma_chen"},
	} {
		step(func() error { return ignore(svc.Members.Follow(as(ids[f[0]]), ids[f[1]])) })
	}
	staff := community.WithActor(ctx, community.Actor{Roles: []community.Role{community.RoleBrandStaff}, BrandID: b1.ID})
	for i, h := range []string{"li_hua", "wang_fang", "zhang_wei"} {
		step(func() error { return ignore(svc.Brands.JoinBrand(as(ids[h]), b1.ID)) })
		step(func() error {
			return ignore(svc.Brands.ChangeConsent(as(ids[h]), b1.ID, []community.ConsentScope{community.ScopeProfile, community.ScopeActivity}, true))
		})
		step(func() error {
			return ignore(svc.Brands.RecordPurchase(staff, community.RecordPurchaseInput{MemberID: ids[h], BrandID: b1.ID, Amount: int64(189800+i*10000) * 100,
				Currency: "CNY", ExternalID: fmt.Sprintf("DEMO-%d", i+1), At: time.Now().Add(-time.Duration(30*(i+1)) * 24 * time.Hour)}))
		})
	}
	step(func() error { return ignore(svc.Brands.JoinBrand(as(ids["chen_jing"]), b2.ID)) })
	bydAdmin := community.WithActor(ctx, community.Actor{MemberID: ids["li_hua"], Roles: []community.Role{community.RoleBrandAdmin}, BrandID: b1.ID})
	manager := community.WithActor(ctx, community.Actor{MemberID: ids["liu_yang"], Roles: []community.Role{community.RoleCommunityManager}})
	var owners, forum, residents community.Club
	club := func(as context.Context, into *community.Club, in community.CreateClubInput) {
		step(func() (err error) {
			*into, err = svc.Clubs.CreateClub(as, in)
			return err
		})
	}
	club(bydAdmin, &owners, community.CreateClubInput{Slug: "byd-owners", Name: "比亚迪车友会", Description: "比亚迪车主的俱乐部：用车、保养、自驾",
		Kind: community.KindOwnerClub, Visibility: community.VisibilityPrivate, JoinPolicy: community.JoinVerifiedOwner, BrandID: b1.ID})
	club(manager, &forum, community.CreateClubInput{Slug: "ev-talk", Name: "新能源车论坛 EV Talk", Description: "Chinese and English welcome",
		Kind: community.KindForum, Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen})
	club(manager, &residents, community.CreateClubInput{Slug: "cuihu-garden", Name: "翠湖花园业主论坛", Description: "业主交流、物业、装修",
		Kind: community.KindOwnerClub, Visibility: community.VisibilityPrivate, JoinPolicy: community.JoinApproval})
	join := func(handle string, c *community.Club, message string) {
		step(func() error { return ignore(svc.Clubs.JoinClub(as(ids[handle]), c.ID, message)) })
	}
	for _, h := range []string{"wang_fang", "zhang_wei", "zhao_lei"} {
		join(h, &owners, "")
	}
	for _, m := range demoMembers {
		join(m[0], &forum, "")
	}
	join("wang_fang", &residents, "我住3栋")
	step(func() error { return svc.Clubs.DecideJoinRequest(manager, residents.ID, ids["wang_fang"], true) })
	join("chen_jing", &residents, "想了解小区情况")

	post := func(author string, c *community.Club, title, body string, tags ...string) (id string) {
		step(func() error {
			p, err := svc.Posts.CreatePost(as(ids[author]), c.ID, community.PostInput{Title: title, Body: body, Tags: tags}, nil)
			id = p.ID
			return err
		})
		return id
	}
	comment := func(author, postID, replyTo, body string) (id string) {
		step(func() error {
			c, err := svc.Posts.AddComment(as(ids[author]), postID, replyTo, body, nil)
			id = c.ID
			return err
		})
		return id
	}
	care := post("zhang_wei", &owners, "汽车保养经验：每5000公里换机油", "**机油**每5000公里换一次，记得同时换机滤。\n\n冬天出门前预热电池，续航会好很多。", "保养", "经验")
	trip := post("li_hua", &forum, "周末自驾游路线推荐：千岛湖", "从杭州出发两小时，沿湖公路风景很好。充电桩在景区东门。", "自驾", "充电")
	road := post("emma_chen", &forum, "Road trip with an EV: what I learned", "Plan charging stops every 200 km and keep 20% in reserve. 充电桩 apps help.", "ev", "road trip")
	post("david_wu", &forum, "DIY: replacing wiper blades", "Takes five minutes; buy the right length first.", "diy")
	notice := post("liu_yang", &residents, "待处理：地下车库充电桩申请", "业委会正在汇总申请，有需要的业主请回复楼栋号。", "物业", "充电")
	c1 := comment("wang_fang", care, "", "学到了，我的车刚好到5000公里")
	comment("zhang_wei", care, c1, "记得用原厂机滤")
	comment("chen_jing", trip, "", "千岛湖的充电桩好用吗？")
	comment("david_wu", road, "", "Great tips, thanks!")
	comment("wang_fang", notice, "", "3栋，需要一个")
	for _, r := range []struct{ who, target string }{{"wang_fang", care}, {"li_hua", care}, {"zhao_lei", trip}, {"emma_chen", trip}, {"zhang_wei", road}, {"chen_jing", road}} {
		step(func() error { return svc.Posts.React(as(ids[r.who]), r.target, community.ReactionLike, true) })
	}
	step(func() error { return svc.Posts.React(as(ids["david_wu"]), road, community.ReactionInsightful, true) })
	step(func() error { return ignore(svc.Posts.SharePost(as(ids["zhao_lei"]), trip, community.ShareInApp, nil)) })
	step(func() error {
		return ignore(svc.Posts.SharePost(as(ids["emma_chen"]), road, community.ShareWeChat, nil))
	})

	// Referral fission: a campaign of each brand, the members' codes, and chains built by
	// redeeming them as the members would, each on their own device.
	nioAdmin := community.WithActor(ctx, community.Actor{Roles: []community.Role{community.RoleBrandAdmin}, BrandID: b2.ID})
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	var spring, friends community.ReferralCampaign
	campaign := func(as context.Context, into *community.ReferralCampaign, brandID, name string, rules ...community.ReferralRuleInput) {
		step(func() (err error) {
			*into, err = svc.Referrals.CreateReferralCampaign(as, community.CreateCampaignInput{BrandID: brandID, Name: name,
				StartsAt: start, EndsAt: start.Add(90 * 24 * time.Hour), Rules: rules}, nil)
			return err
		})
	}
	firstOnly, hold := true, 7
	campaign(bydAdmin, &spring, b1.ID, "老车主推荐新车主·春季",
		community.ReferralRuleInput{Level: 1, Kind: community.RewardPoints, Value: "500", FirstPurchaseOnly: &firstOnly, HoldDays: &hold},
		community.ReferralRuleInput{Level: 2, Kind: community.RewardPoints, Value: "100", FirstPurchaseOnly: &firstOnly, HoldDays: &hold})
	// 蔚来's rewards have no hold, so that the seed's reward job grants them at once.
	campaign(nioAdmin, &friends, b2.ID, "蔚来好友推荐",
		community.ReferralRuleInput{Level: 1, Kind: community.RewardPoints, Value: "300"},
		community.ReferralRuleInput{Level: 2, Kind: community.RewardAmount, Value: "50.00"})
	codes := map[string]string{}
	invite := func(handle string, c *community.ReferralCampaign, channel community.ShareChannel) {
		step(func() error {
			inv, err := svc.Referrals.CreateInvite(as(ids[handle]), community.CreateInviteInput{CampaignID: c.ID, Channel: channel})
			codes[handle] = inv.Code
			return err
		})
	}
	redeem := func(handle, referrer string) {
		step(func() error {
			return ignore(svc.Referrals.RedeemInvite(community.WithDevice(as(ids[handle]), demoDevice(handle)), codes[referrer]))
		})
	}
	// 比亚迪's chain, four levels below li_hua: li_hua ← wang_fang ← zhang_wei ← zhao_lei ← liu_yang.
	chain := []string{"li_hua", "wang_fang", "zhang_wei", "zhao_lei", "liu_yang"}
	for i, h := range chain[:len(chain)-1] {
		invite(h, &spring, community.ShareMoments)
		redeem(chain[i+1], h)
	}
	// 蔚来's: chen_jing ← emma_chen ← david_wu.
	invite("chen_jing", &friends, community.ShareWeChat)
	redeem("emma_chen", "chen_jing")
	invite("emma_chen", &friends, community.ShareWeChat)
	redeem("david_wu", "emma_chen")
	// Newcomers join with a code: sun_li with wang_fang's, on wang_fang's phone; zhou_min
	// with david_wu's, a fourth level below chen_jing.
	invite("david_wu", &friends, community.ShareWeChat)
	for _, n := range demoNewcomers {
		register(n[0], n[1], n[2], codes[n[3]])
	}
	seedRewards(ctx, svc, store, step, ids, b1.ID, b2.ID)
	if failure != nil {
		return fmt.Errorf("seed the demo community: %w", failure)
	}
	fmt.Fprintln(stdout, "Seeded the demo community: brands 比亚迪 and 蔚来 (partners), clubs byd-owners, ev-talk and cuihu-garden with posts and comments, and these members.")
	fmt.Fprintf(stdout, "Referral campaigns: %s (比亚迪), chain li_hua ← wang_fang ← zhang_wei ← zhao_lei ← liu_yang, and sun_li joined with wang_fang's code on her phone (flagged SHARED_DEVICE); %s (蔚来), chain chen_jing ← emma_chen ← david_wu ← zhou_min.\n",
		spring.Name, friends.Name)
	fmt.Fprintln(stdout, "Rewards in every status: pending (zhao_lei's purchase from 比亚迪, held 7 days), granted (emma_chen's and zhou_min's from 蔚来), "+
		"reversed (liu_yang's, refunded while pending), clawed back (david_wu's, refunded after the grant), rejected and awaiting review (sun_li's, flagged SHARED_DEVICE).")
	fmt.Fprintf(stdout, "Invitation codes: li_hua %s, wang_fang %s, zhang_wei %s, zhao_lei %s (比亚迪); chen_jing %s, emma_chen %s, david_wu %s (蔚来).\n",
		codes["li_hua"], codes["wang_fang"], codes["zhang_wei"], codes["zhao_lei"], codes["chen_jing"], codes["emma_chen"], codes["david_wu"])
	return printTokens(stdout, mint, ids, b1.ID)
}

func printTokens(w io.Writer, mint func(jwtauth.Claims, time.Duration) (string, error), ids map[string]string, bydID string) error {
	fmt.Fprintln(w, "Tokens (valid 30 days) to put in GraphiQL's headers as {\"Authorization\": \"Bearer <token>\"}:")
	mintFor := func(name string, c jwtauth.Claims) error {
		tok, err := mint(c, 30*24*time.Hour)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %-28s %s\n", name, tok)
		return nil
	}
	for _, m := range demoNames() {
		if id, ok := ids[m[0]]; ok {
			c := jwtauth.Claims{}
			c.Subject = id
			if err := mintFor(m[0]+" ("+m[1]+")", c); err != nil {
				return err
			}
		}
	}
	if err := mintFor("ADMIN", jwtauth.Claims{Roles: []string{"ADMIN"}}); err != nil {
		return err
	}
	return mintFor("比亚迪 staff (BRAND_STAFF)", jwtauth.Claims{Roles: []string{"BRAND_STAFF"}, Brand: bydID})
}

// seedRewards gives the demo's referral campaigns rewards in every status, through the
// service as brand staff and the reward job would: purchases of referred members earn
// them, the job grants those that are due, refunds reverse a pending one and claw back a
// granted one, and a reviewer rejects one of the flagged rewards and leaves the other in
// the review queue.
func seedRewards(ctx context.Context, svc community.Services, store community.Store, step func(func() error), ids map[string]string, bydID, nioID string) {
	staffOf := func(brandID string) context.Context {
		return community.WithActor(ctx, community.Actor{Roles: []community.Role{community.RoleBrandStaff}, BrandID: brandID})
	}
	purchases := map[string]community.Purchase{}
	buy := func(handle, brandID string, amount int64) {
		step(func() (err error) {
			purchases[handle], err = svc.Brands.RecordPurchase(staffOf(brandID), community.RecordPurchaseInput{MemberID: ids[handle], BrandID: brandID,
				Amount: amount, Currency: "CNY", ExternalID: "DEMO-REF-" + strings.ToUpper(handle), At: time.Now().UTC()})
			return err
		})
	}
	refund := func(handle, brandID string) {
		step(func() error {
			_, err := svc.Brands.RefundPurchase(staffOf(brandID), brandID, purchases[handle].ID)
			return err
		})
	}
	// 比亚迪 holds its rewards for 7 days: zhao_lei's stay pending, liu_yang's are reversed
	// by the refund, sun_li's are flagged for review.
	buy("zhao_lei", bydID, 1898_00)
	buy("liu_yang", bydID, 1698_00)
	refund("liu_yang", bydID)
	buy("sun_li", bydID, 2098_00)
	// 蔚来's are due at once and the job grants them; then david_wu's refund claws back
	// the points it earned emma_chen, and the money it earned chen_jing.
	buy("emma_chen", nioID, 298_00)
	buy("david_wu", nioID, 398_00)
	buy("zhou_min", nioID, 498_00)
	grants := community.NewRewardGrants(store, nil, community.RewardGrantsConfig{Holder: "seed", Logger: slog.New(slog.DiscardHandler)})
	step(func() error {
		_, err := grants.RunOnce(ctx)
		return err
	})
	refund("david_wu", nioID)
	step(func() error {
		queue, err := svc.Referrals.ReviewQueue(staffOf(bydID), bydID, 10, "")
		if err != nil {
			return err
		}
		for _, r := range queue.ListedEdges() {
			if r.Level == 1 {
				_, err := svc.Referrals.ReviewReward(staffOf(bydID), community.ReviewRewardInput{RewardID: r.ID, Decision: community.ReviewReject,
					Note: "同一部手机注册：推荐人与新人是同一人"})
				return err
			}
		}
		return fmt.Errorf("the flagged reward of sun_li's purchase is not in the review queue")
	})
}
