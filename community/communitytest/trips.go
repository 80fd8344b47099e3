package communitytest

import (
	"context"
	"testing"

	"quanzi/community"
)

// testRoundTrips checks that the store counts its round trips where they happen: each call
// of a Store method is one round trip, counted under that method's name, whatever the size
// of its batch, including a method that serves itself through another.
func testRoundTrips(t *testing.T, s community.Store) {
	counted, ok := s.(interface{ RoundTrips() *community.RoundTrips })
	if !ok {
		t.Fatalf("%T does not count its round trips (RoundTrips)", s)
	}
	trips := counted.RoundTrips().ByMethod()
	ctx := context.Background()
	unknown := []string{"01a23c7b-0000-7000-8000-000000000001", "01a23c7b-0000-7000-8000-000000000002"}
	for _, tc := range []struct {
		op   string
		call func() error
	}{
		{"CreateMember", func() error {
			m := community.Member{ID: "01a23c7b-0000-7000-8000-0000000000aa", Handle: "li_na", DisplayName: "李娜", JoinedAt: base}
			return s.CreateMember(ctx, m, community.Identity{Provider: community.ProviderWeChat, ExternalID: "openid-li-na", LinkedAt: base})
		}},
		{"MembersByID", func() error { _, err := s.MembersByID(ctx, unknown); return err }},
		{"FollowLists", func() error {
			_, err := s.FollowLists(ctx, community.ListFollowers, 5, []community.ListRequest{{MemberID: unknown[0]}, {MemberID: unknown[1]}})
			return err
		}},
		{"ClubMembers", func() error {
			_, err := s.ClubMembers(ctx, "", 5, []community.ClubListRequest{{ClubID: unknown[0]}, {ClubID: unknown[1]}})
			return err
		}},
		{"ConsentsOf", func() error { _, err := s.ConsentsOf(ctx, unknown); return err }},
		{"PostsByID", func() error { _, err := s.PostsByID(ctx, unknown); return err }},
		{"Targets", func() error { _, err := s.Targets(ctx, unknown); return err }},
		{"ClubPosts", func() error {
			_, _, err := community.ClubPostsOf(ctx, s, unknown[0], community.PostQuery{Sort: community.SortNew, First: 5}, nil)
			return err
		}},
		{"ReferralCampaignsByID", func() error { _, err := s.ReferralCampaignsByID(ctx, unknown); return err }},
		{"ReferralCampaigns", func() error { _, err := s.ReferralCampaigns(ctx, unknown[0], 5, nil); return err }},
		{"PendingEvents", func() error { _, err := s.PendingEvents(ctx, community.ConsumerSearch, 10); return err }},
		{"Ping", func() error { return s.Ping(ctx) }},
	} {
		t.Run(tc.op, func(t *testing.T) {
			total, own := trips.Total(), trips.Of(tc.op)
			if err := tc.call(); err != nil {
				t.Fatal(err)
			}
			if n := trips.Total() - total; n != 1 {
				t.Errorf("%s counted %d round trips, want 1", tc.op, n)
			}
			if n := trips.Of(tc.op) - own; n != 1 {
				t.Errorf("%s counted %d round trips under its own name, want 1", tc.op, n)
			}
		})
	}
}
