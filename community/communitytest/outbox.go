package communitytest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

// testOutboxStore runs the suite's part about the outbox, post versions, scans, club
// membership lists and member search.
func testOutboxStore(t *testing.T, newStore NewStore) {
	t.Run("OutboxPostEvents", func(t *testing.T) { testOutboxPostEvents(t, newStore(t)) })
	t.Run("OutboxAck", func(t *testing.T) { testOutboxAck(t, newStore(t)) })
	t.Run("OutboxClubEvents", func(t *testing.T) { testOutboxClubEvents(t, newStore(t)) })
	t.Run("PendingClubs", func(t *testing.T) { testPendingClubs(t, newStore(t)) })
	t.Run("OutboxBulk", func(t *testing.T) { testOutboxBulk(t, newStore(t)) })
	t.Run("OutboxConcurrent", func(t *testing.T) { testOutboxConcurrent(t, newStore(t)) })
	t.Run("ScanPosts", func(t *testing.T) { testScanPosts(t, newStore(t)) })
	t.Run("JoinedClubIDs", func(t *testing.T) { testJoinedClubIDs(t, newStore(t)) })
	t.Run("SearchMembers", func(t *testing.T) { testSearchMembers(t, newStore(t)) })
}

// pending reads every pending event.
func pending(t *testing.T, s community.Store) []community.OutboxEvent {
	t.Helper()
	evs, err := s.PendingEvents(context.Background(), community.ConsumerSearch, 10_000)
	must(t, err)
	return evs
}

// eventKeys names pending events by kind and entity, in queue order.
func eventKeys(evs []community.OutboxEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e.Kind) + ":" + e.EntityID
	}
	return out
}

func checkEvents(t *testing.T, s community.Store, want ...string) []community.OutboxEvent {
	t.Helper()
	evs := pending(t, s)
	if diff := cmp.Diff(want, eventKeys(evs), equateEmpty); diff != "" {
		t.Fatalf("pending events (-want +got):\n%s", diff)
	}
	for _, e := range evs {
		if e.Token == "" || e.At.IsZero() {
			t.Fatalf("event %+v lacks a token or a time", e)
		}
	}
	return evs
}

// ackAll acknowledges every pending event.
func ackAll(t *testing.T, s community.Store) {
	t.Helper()
	must(t, s.AckEvents(context.Background(), community.ConsumerSearch, pending(t, s)))
	checkEvents(t, s)
}

// version reads a post's version.
func version(t *testing.T, s community.Store, postID string) int64 {
	t.Helper()
	got, err := s.PostsByID(context.Background(), []string{postID})
	must(t, err)
	p, ok := got[postID]
	if !ok {
		t.Fatalf("post %s not found", postID)
	}
	return p.Version
}

func testOutboxPostEvents(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "mei_lin", "wang_qiang")
	club := newClub("byd-owners", "", 0)
	createClubs(t, s, club)
	checkEvents(t, s)

	p := newPost(club.ID, ms[0].ID, 1)
	must(t, errOf(s.CreatePost(ctx, p)))
	first := checkEvents(t, s, "post:"+p.ID)
	if v := version(t, s, p.ID); v != 1 {
		t.Fatalf("a new post's version = %d, want 1", v)
	}

	// Each write raises the version by one and renews the one pending event of the post,
	// which keeps its place and time.
	last := int64(1)
	step := func(name string, write func() error) {
		t.Helper()
		must(t, write())
		evs := checkEvents(t, s, "post:"+p.ID)
		if evs[0].Token == first[0].Token {
			t.Errorf("%s: the event's token was not renewed", name)
		}
		if !evs[0].At.Equal(first[0].At) {
			t.Errorf("%s: the event's time moved from %v to %v", name, first[0].At, evs[0].At)
		}
		first = evs
		v := version(t, s, p.ID)
		if v != last+1 {
			t.Errorf("%s: version = %d, want %d", name, v, last+1)
		}
		last = v
	}
	step("edit", func() error {
		_, err := s.EditPost(ctx, p.ID, community.PostInput{Title: "改了标题", Body: "新的正文", Tags: []string{"保养"}}, at(2))
		return err
	})
	step("react", func() error { return s.React(ctx, ms[1].ID, p.ID, community.ReactionLike, at(3)) })
	step("unreact", func() error { return s.Unreact(ctx, ms[1].ID, p.ID, community.ReactionLike) })
	c := newComment(p.ID, "", ms[1].ID, 4)
	step("comment", func() error { return s.AddComment(ctx, c) })
	step("delete comment", func() error {
		_, err := s.DeleteComment(ctx, c.ID, at(5))
		return err
	})
	step("share", func() error {
		return s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: ms[1].ID, Channel: community.ShareWeChat, At: at(6)})
	})
	step("delete", func() error {
		_, err := s.DeletePost(ctx, p.ID, at(7))
		return err
	})

	// Deleting again changes nothing: no event, same version.
	ackAll(t, s)
	_, err := s.DeletePost(ctx, p.ID, at(8))
	must(t, err)
	checkEvents(t, s)
	if v := version(t, s, p.ID); v != last {
		t.Errorf("deleting again moved the version from %d to %d", last, v)
	}

	// Writes that fail write no event.
	wantCode(t, errOf(s.CreatePost(ctx, newPost(community.NewID(), ms[0].ID, 9))), community.CodeNotFound)
	_, err = s.EditPost(ctx, community.NewID(), community.PostInput{Title: "x", Body: "y"}, at(9))
	wantCode(t, err, community.CodeNotFound)
	checkEvents(t, s)

	// Events queue oldest first; a renewed event keeps its place.
	q := []community.Post{newPost(club.ID, ms[0].ID, 10), newPost(club.ID, ms[0].ID, 11), newPost(club.ID, ms[0].ID, 12)}
	for _, p := range q {
		must(t, errOf(s.CreatePost(ctx, p)))
	}
	must(t, s.React(ctx, ms[1].ID, q[0].ID, community.ReactionFunny, at(13)))
	evs := checkEvents(t, s, "post:"+q[0].ID, "post:"+q[1].ID, "post:"+q[2].ID)
	firstTwo, err := s.PendingEvents(ctx, community.ConsumerSearch, 2)
	checkRead(t, "PendingEvents(2)", evs[:2], firstTwo, err)
	b, err := s.OutboxBacklog(ctx, community.ConsumerSearch)
	must(t, err)
	if b.Pending != 3 || !b.Oldest.Equal(evs[0].At) {
		t.Errorf("backlog = %+v, want 3 pending, the oldest at %v", b, evs[0].At)
	}
}

func testOutboxAck(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "zhang_wei", "chen_jing")
	club := newClub("ev-talk", "", 0)
	createClubs(t, s, club)
	p1, p2 := newPost(club.ID, ms[0].ID, 1), newPost(club.ID, ms[0].ID, 2)
	must(t, errOf(s.CreatePost(ctx, p1)))
	must(t, errOf(s.CreatePost(ctx, p2)))
	read := checkEvents(t, s, "post:"+p1.ID, "post:"+p2.ID)

	// p1 is written again after the relay read it: acknowledging what was read removes p2's
	// event and keeps p1's, now with the newer token.
	must(t, s.React(ctx, ms[1].ID, p1.ID, community.ReactionLike, at(3)))
	must(t, s.AckEvents(ctx, community.ConsumerSearch, read))
	again := checkEvents(t, s, "post:"+p1.ID)
	if again[0].Token == read[0].Token {
		t.Fatalf("the renewed event kept its token %q", again[0].Token)
	}

	// Acknowledging twice, or events that are gone, changes nothing.
	must(t, s.AckEvents(ctx, community.ConsumerSearch, read))
	must(t, s.AckEvents(ctx, community.ConsumerSearch, []community.OutboxEvent{{Kind: community.EventPost, EntityID: community.NewID(), Token: "gone"}}))
	must(t, s.AckEvents(ctx, community.ConsumerSearch, nil))
	checkEvents(t, s, "post:"+p1.ID)
	must(t, s.AckEvents(ctx, community.ConsumerSearch, again))
	checkEvents(t, s)
	b, err := s.OutboxBacklog(ctx, community.ConsumerSearch)
	must(t, err)
	if b.Pending != 0 || !b.Oldest.IsZero() {
		t.Errorf("backlog after every ack = %+v, want none", b)
	}

	// A post written after its event was acknowledged gets a new event at the back.
	p3 := newPost(club.ID, ms[0].ID, 4)
	must(t, errOf(s.CreatePost(ctx, p3)))
	must(t, s.React(ctx, ms[1].ID, p1.ID, community.ReactionFunny, at(5)))
	checkEvents(t, s, "post:"+p3.ID, "post:"+p1.ID)
}

func testOutboxClubEvents(t *testing.T, s community.Store) {
	ctx := context.Background()
	club := newClub("cuihu-garden", "", 0)
	createClubs(t, s, club)
	checkEvents(t, s)

	name := "翠湖花园业主"
	_, err := s.UpdateClub(ctx, club.ID, community.UpdateClubInput{Name: &name})
	must(t, err)
	checkEvents(t, s)

	private := community.VisibilityPrivate
	_, err = s.UpdateClub(ctx, club.ID, community.UpdateClubInput{Visibility: &private})
	must(t, err)
	first := checkEvents(t, s, "club:"+club.ID)

	// Setting the visibility it already has is no change.
	must(t, s.AckEvents(ctx, community.ConsumerSearch, first))
	_, err = s.UpdateClub(ctx, club.ID, community.UpdateClubInput{Visibility: &private})
	must(t, err)
	checkEvents(t, s)

	public := community.VisibilityPublic
	_, err = s.UpdateClub(ctx, club.ID, community.UpdateClubInput{Visibility: &public})
	must(t, err)
	checkEvents(t, s, "club:"+club.ID)
	_, err = s.UpdateClub(ctx, community.NewID(), community.UpdateClubInput{Visibility: &private})
	wantCode(t, err, community.CodeNotFound)
	checkEvents(t, s, "club:"+club.ID)
}

// testPendingClubs checks that PendingClubs returns the clubs with a pending club event, as
// they are now, and none once the events are acknowledged; post events name no club.
func testPendingClubs(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "liu_yang")
	quiet, turned, back := newClub("quiet-club", "", 0), newClub("turned-club", "", 1), newClub("back-club", "", 2)
	createClubs(t, s, quiet, turned, back)
	must(t, errOf(s.CreatePost(ctx, newPost(quiet.ID, ms[0].ID, 3))))
	pendingClubs := func() []string {
		t.Helper()
		clubs, err := s.PendingClubs(ctx)
		must(t, err)
		out := []string{}
		for _, c := range clubs {
			out = append(out, c.Slug+":"+string(c.Visibility))
		}
		slices.Sort(out)
		return out
	}
	if diff := cmp.Diff([]string{}, pendingClubs()); diff != "" {
		t.Fatalf("before any change of visibility (-want +got):\n%s", diff)
	}
	private, public := community.VisibilityPrivate, community.VisibilityPublic
	for _, c := range []community.Club{turned, back} {
		_, err := s.UpdateClub(ctx, c.ID, community.UpdateClubInput{Visibility: &private})
		must(t, err)
	}
	_, err := s.UpdateClub(ctx, back.ID, community.UpdateClubInput{Visibility: &public})
	must(t, err)
	if diff := cmp.Diff([]string{"back-club:PUBLIC", "turned-club:PRIVATE"}, pendingClubs()); diff != "" {
		t.Errorf("after changes of visibility (-want +got):\n%s", diff)
	}
	ackAll(t, s)
	if diff := cmp.Diff([]string{}, pendingClubs()); diff != "" {
		t.Errorf("after delivery (-want +got):\n%s", diff)
	}
}

func testOutboxBulk(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "liu_yang", "zhao_min")
	club := newClub("byd-owners", "", 0)
	createClubs(t, s, club)
	posts := []community.Post{newPost(club.ID, ms[0].ID, 1), newPost(club.ID, ms[0].ID, 2), newPost(club.ID, ms[1].ID, 3)}
	must(t, s.ImportPosts(ctx, posts))
	var want []string
	for _, p := range posts {
		want = append(want, "post:"+p.ID)
	}
	slices.Sort(want)
	got := eventKeys(pending(t, s))
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events after ImportPosts (-want +got):\n%s", diff)
	}
	for _, p := range posts {
		if v := version(t, s, p.ID); v != 1 {
			t.Errorf("imported post %s has version %d, want 1", p.ID, v)
		}
	}
	ackAll(t, s)

	must(t, s.ImportReactions(ctx, []community.Reaction{
		{MemberID: ms[1].ID, TargetID: posts[0].ID, Kind: community.ReactionLike, At: at(4)},
		{MemberID: ms[0].ID, TargetID: posts[0].ID, Kind: community.ReactionSupport, At: at(4)},
		{MemberID: ms[0].ID, TargetID: posts[2].ID, Kind: community.ReactionLike, At: at(4)},
	}))
	want = []string{"post:" + posts[0].ID, "post:" + posts[2].ID}
	slices.Sort(want)
	got = eventKeys(pending(t, s))
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events after ImportReactions (-want +got):\n%s", diff)
	}
	if v := version(t, s, posts[1].ID); v != 1 {
		t.Errorf("a post no reaction touched has version %d, want 1", v)
	}
	if v := version(t, s, posts[0].ID); v < 2 {
		t.Errorf("a post with two new reactions has version %d, want more than 1", v)
	}
}

// testOutboxConcurrent writes one post from many goroutines at once: every write gets its
// own version, and the post keeps one pending event.
func testOutboxConcurrent(t *testing.T, s community.Store) {
	ctx := context.Background()
	const n = 8
	ms := createWithFans(t, s, "author", n)
	club := newClub("nio-owners", "", 0)
	createClubs(t, s, club)
	p := newPost(club.ID, ms[0].ID, 0)
	must(t, errOf(s.CreatePost(ctx, p)))
	for _, err := range concurrently(n, func(i int) error {
		return s.React(ctx, ms[1+i].ID, p.ID, community.ReactionLike, at(i))
	}) {
		must(t, err)
	}
	if v := version(t, s, p.ID); v != 1+n {
		t.Errorf("version after %d concurrent reactions = %d, want %d", n, v, 1+n)
	}
	checkEvents(t, s, "post:"+p.ID)
}

func testScanPosts(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "sun_li")
	club := newClub("ev-talk", "", 0)
	createClubs(t, s, club)
	var ids []string
	for i := range 7 {
		p := newPost(club.ID, ms[0].ID, i)
		must(t, errOf(s.CreatePost(ctx, p)))
		ids = append(ids, p.ID)
	}
	_, err := s.DeletePost(ctx, ids[3], at(10))
	must(t, err)
	slices.Sort(ids)
	var got []string
	after := ""
	for {
		page, err := s.ScanPosts(ctx, after, 3)
		must(t, err)
		if len(page) > 3 {
			t.Fatalf("ScanPosts(limit 3) returned %d posts", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, p := range page {
			got = append(got, p.ID)
			if p.Version < 1 {
				t.Errorf("scanned post %s has version %d", p.ID, p.Version)
			}
		}
		after = page[len(page)-1].ID
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("scanned ids (-want +got):\n%s", diff)
	}
	all, err := s.ScanPosts(ctx, "", 100)
	must(t, err)
	deleted := 0
	for _, p := range all {
		if p.Status == community.PostDeleted {
			deleted++
		}
	}
	if deleted != 1 {
		t.Errorf("scan saw %d deleted posts, want 1", deleted)
	}
}

func testJoinedClubIDs(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "he_jun", "xu_fang")
	a, b, c := newClub("a-club", "", 0), newClub("b-club", "", 0), newClub("c-club", "", 0)
	createClubs(t, s, a, b, c)
	must(t, s.JoinClub(ctx, clubMember(a.ID, ms[0].ID, 1)))
	must(t, s.JoinClub(ctx, clubMember(c.ID, ms[0].ID, 2)))
	must(t, s.JoinClub(ctx, clubMember(b.ID, ms[1].ID, 2)))
	must(t, s.SetClubRole(ctx, c.ID, ms[0].ID, community.RoleModerator))
	for _, tc := range []struct {
		name, memberID string
		want           []string
	}{
		{"two clubs", ms[0].ID, []string{a.ID, c.ID}},
		{"one club", ms[1].ID, []string{b.ID}},
		{"unknown member", community.NewID(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.JoinedClubIDs(ctx, tc.memberID)
			must(t, err)
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
				t.Errorf("JoinedClubIDs (-want +got):\n%s", diff)
			}
		})
	}
	must(t, s.LeaveClub(ctx, a.ID, ms[0].ID))
	got, err := s.JoinedClubIDs(ctx, ms[0].ID)
	checkRead(t, "JoinedClubIDs after leaving", []string{c.ID}, got, err)
}

func testSearchMembers(t *testing.T, s community.Store) {
	ctx := context.Background()
	named := func(handle, display string) community.Member {
		m := newMember(handle)
		m.DisplayName = display
		return m
	}
	members := []community.Member{
		named("lihua", "李华"),
		named("li_na", "Nana"),
		named("lin_feng", "林峰"),
		named("zhou_li", "Li Zhou"),
		named("xiaoli", "小李 Lily"),
		named("wang_fang", "王芳"),
		named("li_hao", "李浩"),
	}
	for _, m := range members {
		must(t, s.CreateMember(ctx, m, wechat("openid-"+m.Handle)))
	}
	handles := func(ms []community.Member) []string {
		out := make([]string, len(ms))
		for i, m := range ms {
			out[i] = m.Handle
		}
		return out
	}
	for _, tc := range []struct {
		prefix string
		limit  int
		want   []string
	}{
		// handle matches by handle, then display-name matches by display name
		{"li", 10, []string{"li_hao", "li_na", "lihua", "lin_feng", "zhou_li"}},
		{"LI", 10, []string{"li_hao", "li_na", "lihua", "lin_feng", "zhou_li"}},
		{"li", 2, []string{"li_hao", "li_na"}},
		{"li_", 10, []string{"li_hao", "li_na"}},
		{"李", 10, []string{"lihua", "li_hao"}},
		{"李浩", 10, []string{"li_hao"}},
		{"小李", 10, []string{"xiaoli"}},
		{"wang", 10, []string{"wang_fang"}},
		{"nobody", 10, nil},
	} {
		t.Run(tc.prefix+"/"+fmt.Sprint(tc.limit), func(t *testing.T) {
			got, err := s.SearchMembers(ctx, tc.prefix, tc.limit)
			must(t, err)
			if diff := cmp.Diff(tc.want, handles(got), equateEmpty); diff != "" {
				t.Errorf("SearchMembers(%q, %d) (-want +got):\n%s", tc.prefix, tc.limit, diff)
			}
			for _, m := range got {
				if !strings.HasPrefix(strings.ToLower(m.Handle), strings.ToLower(tc.prefix)) &&
					!strings.HasPrefix(strings.ToLower(m.DisplayName), strings.ToLower(tc.prefix)) {
					t.Errorf("member %q (%q) does not start with %q", m.Handle, m.DisplayName, tc.prefix)
				}
			}
		})
	}
	// A renamed member is found by its new name only.
	newName := "Lily Wang"
	_, err := s.UpdateMember(ctx, members[4].ID, community.UpdateProfileInput{DisplayName: &newName})
	must(t, err)
	got, err := s.SearchMembers(ctx, "小李", 10)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("the old display name still finds %v", handles(got))
	}
}
