package communitytest

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

// testBulk checks the bulk loaders: what they store reads back through the rest of the
// port, counted, and what refers to nothing is skipped.
func testBulk(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "bulk_a", "bulk_b", "bulk_c")
	club := community.Club{ID: community.NewID(), Slug: "bulk-club", Name: "批量", Kind: community.KindForum,
		Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen, CreatedAt: at(0)}
	must(t, s.CreateClub(ctx, club, nil))
	ghost := community.NewID()
	must(t, s.ImportClubMembers(ctx, []community.ClubMembership{
		{ClubID: club.ID, MemberID: ms[0].ID, Role: community.RoleMember, Since: at(1)},
		{ClubID: club.ID, MemberID: ms[1].ID, Role: community.RoleModerator, Since: at(2)},
		{ClubID: club.ID, MemberID: ms[0].ID, Role: community.RoleManager, Since: at(3)}, // again: skipped
		{ClubID: club.ID, MemberID: ghost, Role: community.RoleMember, Since: at(1)},     // unknown member
		{ClubID: community.NewID(), MemberID: ms[2].ID, Role: community.RoleMember, Since: at(1)},
	}))
	got, err := s.ClubMemberships(ctx, []community.ClubMemberKey{{ClubID: club.ID, MemberID: ms[0].ID}, {ClubID: club.ID, MemberID: ms[1].ID}, {ClubID: club.ID, MemberID: ms[2].ID}})
	must(t, err)
	want := map[community.ClubMemberKey]community.ClubMembership{
		{ClubID: club.ID, MemberID: ms[0].ID}: {ClubID: club.ID, MemberID: ms[0].ID, Role: community.RoleMember, Since: at(1)},
		{ClubID: club.ID, MemberID: ms[1].ID}: {ClubID: club.ID, MemberID: ms[1].ID, Role: community.RoleModerator, Since: at(2)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("imported memberships (-want +got):\n%s", diff)
	}
	// They are listed, in list order, among memberships stored one at a time: ms[2] joins
	// at the time of ms[0]'s imported membership.
	member, moderator := want[community.ClubMemberKey{ClubID: club.ID, MemberID: ms[0].ID}], want[community.ClubMemberKey{ClubID: club.ID, MemberID: ms[1].ID}]
	joined := community.ClubMembership{ClubID: club.ID, MemberID: ms[2].ID, Role: community.RoleModerator, Since: at(1)}
	must(t, s.JoinClub(ctx, joined))
	sameTime := []community.ClubMembership{member, joined}
	if joined.MemberID < member.MemberID {
		sameTime = []community.ClubMembership{joined, member}
	}
	for role, want := range map[community.ClubRole][]community.ClubMembership{
		"":                      append([]community.ClubMembership{moderator}, sameTime...),
		community.RoleModerator: {moderator, joined},
		community.RoleMember:    {member},
		community.RoleManager:   nil,
	} {
		pages, err := s.ClubMembers(ctx, role, 10, []community.ClubListRequest{{ClubID: club.ID}})
		checkRead(t, fmt.Sprintf("ClubMembers of role %q after an import", role), []community.ClubMemberPage{{Memberships: want}}, pages, err, equateEmpty)
	}

	posts := []community.Post{
		{ID: community.NewID(), ClubID: club.ID, AuthorID: ms[0].ID, Title: "批量一", Body: "正文", CreatedAt: at(10), Status: community.PostPublished,
			Reactions: map[community.ReactionKind]int{community.ReactionLike: 99}, CommentCount: 7},
		{ID: community.NewID(), ClubID: club.ID, AuthorID: ms[1].ID, Title: "Bulk two", Body: "body", Tags: []string{"ev"}, CreatedAt: at(11), Status: community.PostPublished},
		{ID: community.NewID(), ClubID: club.ID, AuthorID: ghost, Title: "skipped", Body: "b", CreatedAt: at(12), Status: community.PostPublished},
	}
	must(t, s.ImportPosts(ctx, posts))
	stored, err := s.PostsByID(ctx, []string{posts[0].ID, posts[1].ID, posts[2].ID})
	must(t, err)
	if len(stored) != 2 || stored[posts[0].ID].ReactionTotal() != 0 || stored[posts[0].ID].CommentCount != 0 || stored[posts[1].ID].Title != "Bulk two" {
		t.Errorf("imported posts = %+v", stored)
	}
	wantCode(t, s.ImportPosts(ctx, []community.Post{{ID: community.NewID(), ClubID: club.ID, AuthorID: ms[2].ID, Title: "x", Body: "y", CreatedAt: at(13), Status: community.PostPublished}, posts[1]}), community.CodeConflict)
	page, _, err := community.ClubPostsOf(ctx, s, club.ID, community.PostQuery{Sort: community.SortNew, First: 10}, nil)
	must(t, err)
	if len(page) != 2 {
		t.Errorf("a refused batch stored part of itself: %d posts listed", len(page))
	}

	must(t, s.ImportReactions(ctx, []community.Reaction{
		{MemberID: ms[0].ID, TargetID: posts[1].ID, Kind: community.ReactionLike, At: at(20)},
		{MemberID: ms[2].ID, TargetID: posts[1].ID, Kind: community.ReactionLike, At: at(21)},
		{MemberID: ms[2].ID, TargetID: posts[1].ID, Kind: community.ReactionLike, At: at(22)}, // again: skipped
		{MemberID: ms[2].ID, TargetID: posts[1].ID, Kind: community.ReactionFunny, At: at(22)},
		{MemberID: ghost, TargetID: posts[1].ID, Kind: community.ReactionLike, At: at(23)},
		{MemberID: ms[0].ID, TargetID: community.NewID(), Kind: community.ReactionLike, At: at(23)},
	}))
	stored, err = s.PostsByID(ctx, []string{posts[1].ID})
	must(t, err)
	if got := stored[posts[1].ID].Reactions; got[community.ReactionLike] != 2 || got[community.ReactionFunny] != 1 || stored[posts[1].ID].ReactionTotal() != 3 {
		t.Errorf("imported reactions counted %v", got)
	}
	mine, err := s.ViewerReactions(ctx, ms[2].ID, []string{posts[1].ID})
	must(t, err)
	if diff := cmp.Diff([]community.ReactionKind{community.ReactionLike, community.ReactionFunny}, mine[posts[1].ID]); diff != "" {
		t.Errorf("imported reactions of a member (-want +got):\n%s", diff)
	}
	// Reacting again through the port does not count an imported reaction twice.
	must(t, s.React(ctx, ms[0].ID, posts[1].ID, community.ReactionLike, at(30)))
	stored, err = s.PostsByID(ctx, []string{posts[1].ID})
	must(t, err)
	if n := stored[posts[1].ID].Reactions[community.ReactionLike]; n != 2 {
		t.Errorf("an imported reaction counted again: %d likes", n)
	}
}
