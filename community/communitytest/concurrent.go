package communitytest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

// concurrently is atOnce for calls that return an error alone.
func concurrently(k int, f func(i int) error) []error {
	_, errs := atOnce(k, func(i int) (struct{}, error) { return struct{}{}, f(i) })
	return errs
}

// createWithFans creates a member with the handle first and then n fans, fan_0 to
// fan_(n-1), and returns them in that order.
func createWithFans(t *testing.T, s community.Store, first string, n int) []community.Member {
	t.Helper()
	handles := []string{first}
	for i := range n {
		handles = append(handles, fmt.Sprintf("fan_%d", i))
	}
	return create(t, s, handles...)
}

// ConcurrentWrites checks that writes about one member that read before they write (link,
// unlink, update, follow) see each other's effects when they run at the same time.
func ConcurrentWrites(t *testing.T, s community.Store) {
	ctx := context.Background()
	m := community.Member{ID: community.NewID(), Handle: "li_hua", DisplayName: "李华"}
	must(t, s.CreateMember(ctx, m, community.Identity{Provider: community.ProviderWeChat, ExternalID: "o-1"}))

	t.Run("link one identity of a provider", func(t *testing.T) {
		const n = 8
		errs := make(chan error, n)
		for i := range n {
			go func() {
				errs <- s.LinkIdentity(ctx, m.ID, community.Identity{Provider: community.ProviderWeibo, ExternalID: fmt.Sprintf("wb-%d", i)})
			}()
		}
		linked := 0
		for range n {
			switch err := <-errs; community.ErrorCode(err) {
			case "":
				linked++
			case community.CodeConflict:
			default:
				t.Errorf("link: %v", err)
			}
		}
		if linked != 1 {
			t.Errorf("%d concurrent links of a provider succeeded, want 1", linked)
		}
	})
	t.Run("unlink all but the last identity", func(t *testing.T) {
		must(t, s.LinkIdentity(ctx, m.ID, community.Identity{Provider: community.ProviderPhone, ExternalID: "+8613800000000"}))
		providers := []community.IdentityProvider{community.ProviderWeChat, community.ProviderWeibo, community.ProviderPhone}
		errs := make(chan error, len(providers))
		for _, p := range providers {
			go func() { errs <- s.UnlinkIdentity(ctx, m.ID, p) }()
		}
		unlinked := 0
		for range providers {
			switch err := <-errs; community.ErrorCode(err) {
			case "":
				unlinked++
			case community.CodeBadUserInput:
			default:
				t.Errorf("unlink: %v", err)
			}
		}
		got, err := s.IdentitiesOf(ctx, []string{m.ID})
		must(t, err)
		if unlinked != 2 || len(got[m.ID]) != 1 {
			t.Errorf("%d of 3 concurrent unlinks succeeded, %d identities left; want 2 and 1", unlinked, len(got[m.ID]))
		}
	})
	t.Run("updates of different fields", func(t *testing.T) {
		for round := range 5 {
			name, bio, avatar := fmt.Sprintf("name %d", round), fmt.Sprintf("bio %d", round), fmt.Sprintf("https://img.example.com/%d.png", round)
			ins := []community.UpdateProfileInput{{DisplayName: &name}, {Bio: &bio}, {AvatarURL: &avatar}}
			errs := make(chan error, len(ins))
			for _, in := range ins {
				go func() {
					_, err := s.UpdateMember(ctx, m.ID, in)
					errs <- err
				}()
			}
			for range ins {
				must(t, <-errs)
			}
			got, err := s.MembersByID(ctx, []string{m.ID})
			must(t, err)
			want := m
			want.DisplayName, want.Bio, want.AvatarURL = name, bio, avatar
			if diff := cmp.Diff(want, got[m.ID]); diff != "" {
				t.Fatalf("after concurrent updates (-want +got):\n%s", diff)
			}
		}
	})
	t.Run("follow once", func(t *testing.T) {
		fan := community.Member{ID: community.NewID(), Handle: "fan_one", DisplayName: "Fan"}
		must(t, s.CreateMember(ctx, fan, community.Identity{Provider: community.ProviderWeChat, ExternalID: "o-fan"}))
		const n = 8
		errs := make(chan error, n)
		for i := range n {
			go func() { errs <- s.Follow(ctx, fan.ID, m.ID, time.Date(2026, 3, 1, 8, i, 0, 0, time.UTC)) }()
		}
		for range n {
			must(t, <-errs)
		}
		counts, err := s.FollowCounts(ctx, []string{m.ID})
		must(t, err)
		if got := counts[m.ID].Followers; got != 1 {
			t.Errorf("%d concurrent follows made %d follows, want 1", n, got)
		}
	})
}
