package embedded_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"quanzi/community"
	"quanzi/community/embedded"
)

// BenchmarkHotPage reads a page of one post, sorted HOT, of a club where one member has
// posted 1,000 long posts (bodies of 20,000 characters) in the last week, through the
// service as a member of the club would:
//
//	go test -run '^$' -bench HotPage -benchmem ./community/embedded
func BenchmarkHotPage(b *testing.B) {
	ctx := context.Background()
	s, err := embedded.Open(embedded.Config{Path: filepath.Join(b.TempDir(), "graph.db"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC)
	author := community.Member{ID: community.NewID(), Handle: "li_hua", DisplayName: "李华", JoinedAt: now.Add(-30 * 24 * time.Hour)}
	if err := s.CreateMember(ctx, author, community.Identity{Provider: community.ProviderWeChat, ExternalID: "o-" + author.ID, LinkedAt: author.JoinedAt}); err != nil {
		b.Fatal(err)
	}
	club := newClub("ev-talk", "", 0)
	if err := s.CreateClub(ctx, club, &community.ClubMembership{ClubID: club.ID, MemberID: author.ID, Role: community.RoleMember, Since: club.CreatedAt}); err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("续航实测：高速一百二，空调二十二度。", 20_000/18)
	posts := make([]community.Post, 1000)
	for i := range posts {
		posts[i] = community.Post{
			ID: community.NewID(), ClubID: club.ID, AuthorID: author.ID, Title: fmt.Sprint("长测 ", i), Body: body,
			Tags: []string{"ev", "续航"}, CreatedAt: now.Add(-time.Duration(i) * 10 * time.Minute), Status: community.PostPublished,
		}
	}
	if err := s.ImportPosts(ctx, posts); err != nil {
		b.Fatal(err)
	}
	svc := community.New(s, community.Config{Now: func() time.Time { return now }}).Posts
	asMember := community.WithActor(ctx, community.Actor{MemberID: author.ID})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		page, err := svc.ClubPosts(asMember, club.ID, community.SortHot, community.WindowWeek, 1, "")
		if err != nil {
			b.Fatal(err)
		}
		if len(page.Posts) != 1 || !page.More {
			b.Fatalf("a HOT page of 1 has %d posts, more %v", len(page.Posts), page.More)
		}
	}
}
