package communitytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

// testIdempotencyStore runs the contract of community.IdempotencyStore, the refusal of
// taken ids that idempotent creates rely on, and the services' idempotent creates over the
// store, each part on a fresh store.
func testIdempotencyStore(t *testing.T, newStore NewStore) {
	t.Run("IdempotencyKeys", func(t *testing.T) { testIdempotencyKeys(t, newStore(t)) })
	t.Run("IdempotencyKeysConcurrent", func(t *testing.T) { testIdempotencyKeysConcurrent(t, newStore(t)) })
	t.Run("TakenIDs", func(t *testing.T) { testTakenIDs(t, newStore(t)) })
	t.Run("IdempotentCreates", func(t *testing.T) { testIdempotentCreates(t, newStore(t)) })
	t.Run("IdempotencySweep", func(t *testing.T) { testIdempotencySweep(t, newStore(t)) })
}

// atOnce runs f(0) … f(n-1) at the same time and returns what each returned, by i.
func atOnce[T any](n int, f func(i int) (T, error)) ([]T, []error) {
	out := make([]T, n)
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			out[i], errs[i] = f(i)
		}()
	}
	start.Done()
	done.Wait()
	return out, errs
}

// errorCodes counts errors by code ("" for nil).
func errorCodes(errs []error) map[community.Code]int {
	out := map[community.Code]int{}
	for _, err := range errs {
		out[community.ErrorCode(err)]++
	}
	return out
}

// reservation is a reservation proposed at minute n of the suite's clock.
func reservation(scope, key string, n int) community.IdempotencyRecord {
	return community.IdempotencyRecord{Scope: scope, Key: key, EntityID: community.NewID(), Fingerprint: fmt.Sprintf("fingerprint-%d", n), At: at(n)}
}

func testIdempotencyKeys(t *testing.T, s community.Store) {
	ctx := context.Background()
	first := reservation("createPost/member-1", "retry-1", 0)
	replacement := reservation("createPost/member-1", "retry-1", 7)
	// Each case reserves after the ones before it, at the minute of its proposal, with
	// keys remembered for a day unless it says otherwise.
	cases := []struct {
		name          string
		proposed      community.IdempotencyRecord
		expiredBefore time.Time // zero: a day before the proposal
		want          community.IdempotencyRecord
	}{
		{"new key", first, time.Time{}, first},
		{"same key again", reservation("createPost/member-1", "retry-1", 1), time.Time{}, first},
		{"another key of the scope", reservation("createPost/member-1", "retry-2", 2), time.Time{}, community.IdempotencyRecord{}},
		{"same key, another mutation", reservation("addComment/member-1", "retry-1", 3), time.Time{}, community.IdempotencyRecord{}},
		{"same key, another caller", reservation("createPost/member-2", "retry-1", 4), time.Time{}, community.IdempotencyRecord{}},
		{"keys are compared exactly", reservation("createPost/member-1", "RETRY-1", 5), time.Time{}, community.IdempotencyRecord{}},
		{"made at expiredBefore: kept", reservation("createPost/member-1", "retry-1", 6), first.At, first},
		{"made before expiredBefore: replaced", replacement, first.At.Add(time.Second), replacement},
		{"the replacement holds", reservation("createPost/member-1", "retry-1", 8), time.Time{}, replacement},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.expiredBefore.IsZero() {
				tc.expiredBefore = tc.proposed.At.Add(-community.IdempotencyTTL)
			}
			if tc.want == (community.IdempotencyRecord{}) {
				tc.want = tc.proposed // recorded
			}
			got, err := s.ReserveIdempotencyKey(ctx, tc.proposed, tc.expiredBefore)
			checkRead(t, "reservation", tc.want, got, err)
		})
	}
}

// testIdempotencySweep checks that sweeping deletes the reservations made before its time,
// a batch at a time, and keeps the others, which hold as before.
func testIdempotencySweep(t *testing.T, s community.Store) {
	ctx := context.Background()
	var old, kept []community.IdempotencyRecord
	for i := range 5 {
		old = append(old, reservation("createPost/member-1", fmt.Sprintf("old-%d", i), i))
	}
	for i := range 3 {
		kept = append(kept, reservation("addComment/member-2", fmt.Sprintf("kept-%d", i), 10+i))
	}
	for _, rec := range append(slices.Clone(old), kept...) {
		got, err := s.ReserveIdempotencyKey(ctx, rec, time.Time{})
		checkRead(t, "reservation", rec, got, err)
	}
	// Batches of 2 of the 5 made before minute 10, then none.
	var swept []int
	for range 4 {
		n, err := s.SweepIdempotencyKeys(ctx, at(10), 2)
		must(t, err)
		swept = append(swept, n)
	}
	if !slices.Equal(swept, []int{2, 2, 1, 0}) {
		t.Errorf("swept %v, want [2 2 1 0]", swept)
	}
	// A swept key is free: a new reservation of it holds, however recent the old one
	// would have been. A kept key still holds its first reservation.
	for _, rec := range old {
		again := rec
		again.EntityID, again.At = community.NewID(), at(20)
		got, err := s.ReserveIdempotencyKey(ctx, again, time.Time{})
		checkRead(t, "reservation of a swept key", again, got, err)
	}
	for _, rec := range kept {
		again := rec
		again.EntityID, again.At = community.NewID(), at(20)
		got, err := s.ReserveIdempotencyKey(ctx, again, time.Time{})
		checkRead(t, "reservation of a kept key", rec, got, err)
	}

	// The sweep job deletes, in batches, what is older than IdempotencyTTL at its clock:
	// a day after minute 21, the five reservations of minute 20 and the three kept ones.
	sweep := community.NewIdempotencySweep(s, &community.LocalLeases{}, community.SweepConfig{
		Batch: 2, Now: func() time.Time { return at(21).Add(community.IdempotencyTTL) },
	})
	n, err := sweep.SweepOnce(ctx)
	must(t, err)
	if n != 5+3 {
		t.Errorf("the sweep job deleted %d reservations, want 8", n)
	}
	if n, err := s.SweepIdempotencyKeys(ctx, at(100).Add(community.IdempotencyTTL), 100); err != nil || n != 0 {
		t.Errorf("after the sweep job, %d reservations left (%v), want none", n, err)
	}
}

func testIdempotencyKeysConcurrent(t *testing.T, s community.Store) {
	ctx := context.Background()
	const n = 8
	cases := []struct {
		name string
		// before is reserved first, when set: an expired reservation of the key.
		before *community.IdempotencyRecord
	}{
		{"new key", nil},
		{"expired key", &community.IdempotencyRecord{Scope: "sharePost/member-1", Key: "expired", EntityID: community.NewID(), Fingerprint: "old", At: at(0)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			scope, key := "sharePost/member-1", "at-once"
			if tc.before != nil {
				scope, key = tc.before.Scope, tc.before.Key
				_, err := s.ReserveIdempotencyKey(ctx, *tc.before, tc.before.At.Add(-community.IdempotencyTTL))
				must(t, err)
			}
			proposed := make([]community.IdempotencyRecord, n)
			for i := range proposed {
				proposed[i] = reservation(scope, key, 60*24+10+i)
			}
			held, errs := atOnce(n, func(i int) (community.IdempotencyRecord, error) {
				return s.ReserveIdempotencyKey(ctx, proposed[i], proposed[i].At.Add(-community.IdempotencyTTL))
			})
			for _, err := range errs {
				must(t, err)
			}
			winner := -1
			for i, p := range proposed {
				if p == held[0] {
					winner = i
				}
			}
			if winner < 0 {
				t.Fatalf("the reservation that holds, %+v, is none of those proposed", held[0])
			}
			for i, h := range held {
				if diff := cmp.Diff(proposed[winner], h); diff != "" {
					t.Errorf("reservation %d (-held by the first +got):\n%s", i, diff)
				}
			}
		})
	}
}

// testTakenIDs checks that every create an idempotency key replays refuses a taken id with
// CONFLICT and changes nothing then: not the entity, not its post's counters or version,
// not the outbox; and that of creates of one id at the same time exactly one succeeds.
func testTakenIDs(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "li_hua", "wang_fang", "zhang_wei")
	club := newClub("ev-talk", "", 0)
	createClubs(t, s, club)
	post := newPost(club.ID, ms[0].ID, 1)
	must(t, errOf(s.CreatePost(ctx, post)))
	comment := newComment(post.ID, "", ms[1].ID, 2)
	must(t, s.AddComment(ctx, comment))
	share := community.Share{ID: community.NewID(), PostID: post.ID, MemberID: ms[1].ID, Channel: community.ShareWeChat, At: at(3)}
	must(t, s.SharePost(ctx, share))

	// stored is what the refused creates must leave as it is.
	type stored struct {
		Posts    map[string]community.Post
		Comments map[string]community.Comment
		Members  map[string]community.Member
		Events   []community.OutboxEvent
	}
	read := func(t *testing.T, postIDs, commentIDs, memberIDs []string) stored {
		t.Helper()
		var st stored
		var err error
		st.Posts, err = s.PostsByID(ctx, postIDs)
		must(t, err)
		st.Comments, err = s.CommentsByID(ctx, commentIDs)
		must(t, err)
		st.Members, err = s.MembersByID(ctx, memberIDs)
		must(t, err)
		st.Events = pending(t, s)
		return st
	}

	t.Run("refused", func(t *testing.T) {
		otherPost := newPost(club.ID, ms[2].ID, 4)
		must(t, errOf(s.CreatePost(ctx, otherPost)))
		cases := []struct {
			name   string
			create func() error
		}{
			{"post", func() error {
				p := newPost(club.ID, ms[2].ID, 5)
				p.ID = post.ID
				return errOf(s.CreatePost(ctx, p))
			}},
			{"comment, on its post", func() error {
				c := newComment(post.ID, "", ms[2].ID, 5)
				c.ID = comment.ID
				return s.AddComment(ctx, c)
			}},
			{"comment, on another post", func() error {
				c := newComment(otherPost.ID, "", ms[2].ID, 5)
				c.ID = comment.ID
				return s.AddComment(ctx, c)
			}},
			{"share, same post and channel", func() error {
				return s.SharePost(ctx, community.Share{ID: share.ID, PostID: post.ID, MemberID: ms[1].ID, Channel: community.ShareWeChat, At: at(5)})
			}},
			{"share, another post, member and channel", func() error {
				return s.SharePost(ctx, community.Share{ID: share.ID, PostID: otherPost.ID, MemberID: ms[2].ID, Channel: community.ShareInApp, At: at(5)})
			}},
			{"member", func() error {
				m := newMember("zhao_lei")
				m.ID = ms[0].ID
				return s.CreateMember(ctx, m, wechat("openid-zhao_lei"))
			}},
		}
		postIDs, commentIDs, memberIDs := []string{post.ID, otherPost.ID}, []string{comment.ID}, []string{ms[0].ID}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := read(t, postIDs, commentIDs, memberIDs)
				wantCode(t, tc.create(), community.CodeConflict)
				if diff := cmp.Diff(before, read(t, postIDs, commentIDs, memberIDs)); diff != "" {
					t.Errorf("a refused create changed the store (-before +after):\n%s", diff)
				}
			})
		}
		// The refused member's handle and identity are still free.
		if _, err := s.MemberByHandle(ctx, "zhao_lei"); community.ErrorCode(err) != community.CodeNotFound {
			t.Errorf("the refused member's handle was stored: %v", err)
		}
		must(t, s.CreateMember(ctx, newMember("zhao_lei"), wechat("openid-zhao_lei")))
	})

	t.Run("at once", func(t *testing.T) {
		const n = 8
		target := newPost(club.ID, ms[0].ID, 10)
		must(t, errOf(s.CreatePost(ctx, target)))
		ackAll(t, s)
		postID, commentID, shareID, memberID := community.NewID(), community.NewID(), community.NewID(), community.NewID()
		cases := []struct {
			name   string
			create func(i int) error
			// check reads how many entities were made.
			check func(t *testing.T) int
		}{
			{"post", func(i int) error {
				p := newPost(club.ID, ms[i%3].ID, 20+i)
				p.ID = postID
				return errOf(s.CreatePost(ctx, p))
			}, func(t *testing.T) int {
				got, _, err := community.ClubPostsOf(ctx, s, club.ID, community.PostQuery{Sort: community.SortNew, First: community.MaxPageSize}, nil)
				must(t, err)
				made := 0
				for _, p := range got {
					if p.ID == postID {
						made++
					}
				}
				return made
			}},
			{"comment", func(i int) error {
				c := newComment(target.ID, "", ms[i%3].ID, 20+i)
				c.ID = commentID
				return s.AddComment(ctx, c)
			}, func(t *testing.T) int {
				got, err := s.PostsByID(ctx, []string{target.ID})
				must(t, err)
				return got[target.ID].CommentCount
			}},
			{"share", func(i int) error {
				return s.SharePost(ctx, community.Share{ID: shareID, PostID: target.ID, MemberID: ms[i%3].ID, Channel: community.ShareLink, At: at(20 + i)})
			}, func(t *testing.T) int {
				got, err := s.PostsByID(ctx, []string{target.ID})
				must(t, err)
				return got[target.ID].SharesByChannel[community.ShareLink]
			}},
			{"member", func(i int) error {
				m := newMember(fmt.Sprintf("racer_%d", i))
				m.ID = memberID
				return s.CreateMember(ctx, m, wechat(fmt.Sprintf("openid-racer-%d", i)))
			}, func(t *testing.T) int {
				got, err := s.MembersByID(ctx, []string{memberID})
				must(t, err)
				return len(got)
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, errs := atOnce(n, func(i int) (struct{}, error) { return struct{}{}, tc.create(i) })
				if diff := cmp.Diff(map[community.Code]int{"": 1, community.CodeConflict: n - 1}, errorCodes(errs)); diff != "" {
					t.Errorf("outcomes of %d creates of one id (-want +got):\n%s", n, diff)
				}
				if got := tc.check(t); got != 1 {
					t.Errorf("%d creates of one id made %d, want 1", n, got)
				}
			})
		}
		// Two events: the new post's, and the target's for its comment and share.
		checkEvents(t, s, eventOrder(t, s, postID, target.ID)...)
	})
}

// eventOrder returns the pending post events of the given posts, in queue order, as
// eventKeys names them.
func eventOrder(t *testing.T, s community.Store, postIDs ...string) []string {
	t.Helper()
	want := map[string]bool{}
	for _, id := range postIDs {
		want[string(community.EventPost)+":"+id] = true
	}
	var out []string
	for _, k := range eventKeys(pending(t, s)) {
		if want[k] {
			out = append(out, k)
		}
	}
	if len(out) != len(postIDs) {
		t.Fatalf("pending events %v, want one for each of %v", eventKeys(pending(t, s)), postIDs)
	}
	return out
}

// testIdempotentCreates runs the services' creates with idempotency keys over the store:
// retries, at once and later, make one entity and all answer it.
func testIdempotentCreates(t *testing.T, s community.Store) {
	ctx := context.Background()
	svc := community.New(s, community.Config{})
	ms := create(t, s, "li_hua", "wang_fang")
	club := newClub("ev-talk", "", 0)
	must(t, s.CreateClub(ctx, club, firstManager(club, ms[0].ID)))
	must(t, s.JoinClub(ctx, clubMember(club.ID, ms[1].ID, 1)))
	as := func(id string) context.Context {
		return community.WithActor(ctx, community.Actor{MemberID: id})
	}
	newcomer := func(openID string) context.Context {
		return community.WithActor(ctx, community.Actor{Identity: &community.Identity{Provider: community.ProviderWeChat, ExternalID: openID}})
	}
	target, err := svc.Posts.CreatePost(as(ms[0].ID), club.ID, community.PostInput{Title: "周末莫干山自驾", Body: "有人一起吗？"}, nil)
	must(t, err)
	postCount := func(t *testing.T) int {
		got, _, err := community.ClubPostsOf(ctx, s, club.ID, community.PostQuery{Sort: community.SortNew, First: community.MaxPageSize}, nil)
		must(t, err)
		return len(got)
	}
	targetPost := func(t *testing.T) community.Post {
		got, err := s.PostsByID(ctx, []string{target.ID})
		must(t, err)
		return got[target.ID]
	}
	key := func(k string) *string { return &k }

	// Each create is made under one key, "retry-1", by one caller: a key is the caller's
	// and the mutation's, so the same key serves all four.
	type create func(ctx context.Context, variant int, key *string) (string, error)
	cases := []struct {
		name string
		// as is the caller; variant 0 is the first input, any other another input.
		as     context.Context
		other  context.Context // another caller
		create create
		// count counts what the creates made.
		count func(t *testing.T) int
		// writes is how many times the creates of the caller write the target post.
		writes int64
	}{
		{"createPost", as(ms[1].ID), as(ms[0].ID), func(ctx context.Context, variant int, key *string) (string, error) {
			p, err := svc.Posts.CreatePost(ctx, club.ID, community.PostInput{Title: fmt.Sprintf("充电桩地图 %d", variant), Body: "山脚有两个快充。", Tags: []string{"EV"}}, key)
			return p.ID, err
		}, postCount, 0},
		{"addComment", as(ms[1].ID), as(ms[0].ID), func(ctx context.Context, variant int, key *string) (string, error) {
			c, err := svc.Posts.AddComment(ctx, target.ID, "", fmt.Sprintf("算我一个 %d", variant), key)
			return c.ID, err
		}, func(t *testing.T) int { return targetPost(t).CommentCount }, 1},
		{"sharePost", as(ms[1].ID), as(ms[0].ID), func(ctx context.Context, variant int, key *string) (string, error) {
			channel := community.ShareWeChat
			if variant != 0 {
				channel = community.ShareWeibo
			}
			_, err := svc.Posts.SharePost(ctx, target.ID, channel, key)
			return "", err // a share has no id of its own in the answer
		}, func(t *testing.T) int { return targetPost(t).ShareCount() }, 1},
		{"registerMember", newcomer("o-zhao"), newcomer("o-chen"), func(ctx context.Context, variant int, key *string) (string, error) {
			handle := map[string]string{"o-zhao": "zhao_lei", "o-chen": "chen_jing"}[community.ActorFrom(ctx).Identity.ExternalID]
			if variant != 0 {
				handle = fmt.Sprintf("%s_%d", handle, variant)
			}
			m, err := svc.Members.RegisterMember(ctx, community.RegisterMemberInput{Handle: handle, DisplayName: "赵磊"}, key)
			return m.ID, err
		}, func(t *testing.T) int {
			n := 0
			for _, h := range []string{"zhao_lei", "chen_jing"} {
				if _, err := s.MemberByHandle(ctx, h); err == nil {
					n++
				}
			}
			return n
		}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const n = 8
			before := tc.count(t)
			versionBefore := targetPost(t).Version

			t.Run("a bad key writes nothing", func(t *testing.T) {
				for _, bad := range []string{"", "has space", "斜/杠", fmt.Sprintf("%065d", 0)} {
					_, err := tc.create(tc.as, 0, key(bad))
					wantField(t, err, community.CodeBadUserInput, "idempotencyKey")
				}
				if got := tc.count(t); got != before {
					t.Errorf("bad keys made %d, want none", got-before)
				}
			})
			var first string
			t.Run("retries at once make one", func(t *testing.T) {
				ids, errs := atOnce(n, func(int) (string, error) { return tc.create(tc.as, 0, key("retry-1")) })
				for _, err := range errs {
					must(t, err)
				}
				for _, id := range ids {
					if id != ids[0] {
						t.Errorf("retries answered ids %v, want one", ids)
						break
					}
				}
				first = ids[0]
				if got := tc.count(t); got != before+1 {
					t.Errorf("%d retries made %d, want 1", n, got-before)
				}
			})
			t.Run("a later retry answers the first", func(t *testing.T) {
				id, err := tc.create(tc.as, 0, key("retry-1"))
				must(t, err)
				if id != first {
					t.Errorf("retry answered %q, want %q", id, first)
				}
				if got := tc.count(t); got != before+1 {
					t.Errorf("after a later retry: %d made, want 1", got-before)
				}
			})
			t.Run("another input is a conflict", func(t *testing.T) {
				_, err := tc.create(tc.as, 1, key("retry-1"))
				wantField(t, err, community.CodeConflict, "idempotencyKey")
				if got := tc.count(t); got != before+1 {
					t.Errorf("after a conflict: %d made, want 1", got-before)
				}
			})
			// A write of the target post raises its version and renews its event: the
			// retries wrote it once, as one create does.
			if got := targetPost(t).Version; got != versionBefore+tc.writes {
				t.Errorf("the target post's version went from %d to %d, want %d writes", versionBefore, got, tc.writes)
			}
			t.Run("another caller's key is another key", func(t *testing.T) {
				id, err := tc.create(tc.other, 0, key("retry-1"))
				must(t, err)
				if id == first && id != "" {
					t.Errorf("another caller's create answered the first caller's %q", id)
				}
				if got := tc.count(t); got != before+2 {
					t.Errorf("after another caller's create: %d made, want 2", got-before)
				}
			})
		})
	}

	t.Run("a key outlives a failed create", func(t *testing.T) {
		// The handle is taken when the key is first sent: the create fails after the key
		// was reserved. Once the handle is free, a retry under the key makes the member
		// with the reserved id.
		ctx := newcomer("o-sun")
		register := func() (community.Member, error) {
			return svc.Members.RegisterMember(ctx, community.RegisterMemberInput{Handle: "wang_fang", DisplayName: "孙悦"}, key("signup"))
		}
		_, err := register()
		wantCode(t, err, community.CodeConflict)
		_, err = register()
		wantCode(t, err, community.CodeConflict)
		renamed := "wang_fang_2"
		_, err = s.UpdateMember(context.Background(), ms[1].ID, community.UpdateProfileInput{Handle: &renamed})
		must(t, err)
		m, err := register()
		must(t, err)
		again, err := register()
		must(t, err)
		if diff := cmp.Diff(m, again); diff != "" {
			t.Errorf("retry after the create (-first +retry):\n%s", diff)
		}
	})

	t.Run("keys expire after a day", func(t *testing.T) {
		create := func(cfg community.Config) string {
			p, err := community.New(s, cfg).Posts.CreatePost(as(ms[1].ID), club.ID, community.PostInput{Title: "每日签到", Body: "打卡"}, key("daily"))
			must(t, err)
			return p.ID
		}
		now := time.Now()
		first := create(community.Config{Now: func() time.Time { return now }})
		within := create(community.Config{Now: func() time.Time { return now.Add(community.IdempotencyTTL - time.Minute) }})
		after := create(community.Config{Now: func() time.Time { return now.Add(community.IdempotencyTTL + time.Minute) }})
		if within != first {
			t.Errorf("a retry within a day made %q, want the first post %q", within, first)
		}
		if after == first {
			t.Errorf("a key older than a day still answered the first post")
		}
	})
}

// wantField checks that err is an *Error of the code about the input field.
func wantField(t *testing.T, err error, code community.Code, field string) {
	t.Helper()
	var e *community.Error
	if !errors.As(err, &e) || e.Code != code || e.Field != field {
		t.Fatalf("error = %v, want %s on %s", err, code, field)
	}
}
