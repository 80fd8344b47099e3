package resolvers_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSearchCountsAfterClubTurnsPrivate turns a club private and checks searchPosts'
// totals and facets at once — before the relay has re-indexed the club's posts — and
// after: at no moment do they count for an outsider what the outsider may no longer see,
// while the club's members and its brand's staff still find its posts.
func TestSearchCountsAfterClubTurnsPrivate(t *testing.T) {
	a := newAPI(t)
	byd := a.createBrand("byd-auto", "比亚迪")
	bydAdmin := staffToken(t, byd, "BRAND_ADMIN")
	owners := a.createClub(bydAdmin, map[string]any{"slug": "byd-owners", "name": "比亚迪车友会", "kind": "OWNER_CLUB", "visibility": "PUBLIC", "joinPolicy": "OPEN", "brandId": byd})
	forum, cm := a.evTalk()
	_, insiderTok := a.register("li_hua", "李华")
	_, outsiderTok := a.register("wang_fang", "王芳")
	a.join(insiderTok, owners)
	a.join(insiderTok, forum)
	for i := range 3 {
		a.publish(insiderTok, owners, fmt.Sprintf("冬季续航 %d", i), "冬季续航实测，电池保温很重要。", "续航", "车主")
	}
	a.publish(insiderTok, forum, "冬季续航讨论", "大家的冬季续航如何？", "续航")
	a.deliver()

	type counts struct {
		Total int
		Clubs map[string]int
		Tags  map[string]int
		Hits  int
	}
	read := func(token string) counts {
		t.Helper()
		r := a.search(token, "续航", map[string]any{"n": 1})
		c := counts{Total: r.TotalCount, Clubs: map[string]int{}, Tags: map[string]int{}, Hits: len(r.Edges)}
		for _, f := range r.Facets.Clubs {
			c.Clubs[f.Club.Slug] = f.Count
		}
		for _, f := range r.Facets.Tags {
			c.Tags[f.Tag] = f.Count
		}
		return c
	}
	everything := counts{Total: 4, Clubs: map[string]int{"byd-owners": 3, "ev-talk": 1}, Tags: map[string]int{"续航": 4, "车主": 3}, Hits: 1}
	forumOnly := counts{Total: 1, Clubs: map[string]int{"ev-talk": 1}, Tags: map[string]int{"续航": 1}, Hits: 1}
	readers := []struct {
		name, token string
		// before is what the reader counts while the club is public; after, once private.
		before, after counts
	}{
		{"outsider", outsiderTok, everything, forumOnly},
		{"newcomer", identityToken(t, "WECHAT", "openid-newcomer"), everything, forumOnly},
		{"club member", insiderTok, everything, everything},
		{"the brand's staff", staffToken(t, byd, "BRAND_STAFF"), counts{Total: 3, Clubs: map[string]int{"byd-owners": 3}, Tags: map[string]int{"续航": 3, "车主": 3}, Hits: 1}, counts{Total: 3, Clubs: map[string]int{"byd-owners": 3}, Tags: map[string]int{"续航": 3, "车主": 3}, Hits: 1}},
		{"community manager", cm, everything, everything},
	}
	check := func(stage string, want func(i int) counts) {
		t.Helper()
		for i, r := range readers {
			t.Run(stage+"/"+r.name, func(t *testing.T) {
				if diff := cmp.Diff(want(i), read(r.token)); diff != "" {
					t.Errorf("search counts (-want +got):\n%s", diff)
				}
			})
		}
	}
	check("public", func(i int) counts { return readers[i].before })

	a.ok(bydAdmin, `mutation($in: ID!) { updateClub(input: {clubId: $in, visibility: PRIVATE}) { club { visibility } } }`, map[string]any{"in": owners}, nil)
	var status struct{ SearchIndexStatus struct{ PendingChanges int } }
	a.ok(cm, `{ searchIndexStatus { pendingChanges } }`, nil, &status)
	if status.SearchIndexStatus.PendingChanges == 0 {
		t.Fatal("the change of visibility was delivered already: the test would prove nothing")
	}
	check("private, not yet re-indexed", func(i int) counts { return readers[i].after })

	a.deliver()
	check("private, re-indexed", func(i int) counts { return readers[i].after })

	// Public again: outsiders count the club's posts once more when the relay has delivered.
	a.ok(bydAdmin, `mutation($in: ID!) { updateClub(input: {clubId: $in, visibility: PUBLIC}) { club { visibility } } }`, map[string]any{"in": owners}, nil)
	a.deliver()
	check("public again", func(i int) counts { return readers[i].before })
}
