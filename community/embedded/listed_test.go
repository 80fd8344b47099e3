package embedded

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

// TestFileWrittenBefore opens a file written before posts kept their listed flag and
// before shares were kept no older than their posts: its posts are listed as their status
// says (an empty status is PUBLISHED), its older shares stand at their posts' creation,
// and the next write of a post stores its flag.
func TestFileWrittenBefore(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	at := func(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "graph.db")
	s, err := Open(Config{Path: path})
	must(err)
	var ids []string
	for _, h := range []string{"reader", "author", "sharer"} {
		m := community.Member{ID: community.NewID(), Handle: h, DisplayName: h, JoinedAt: base}
		must(s.CreateMember(ctx, m, community.Identity{Provider: community.ProviderWeChat, ExternalID: "o-" + h, LinkedAt: base}))
		ids = append(ids, m.ID)
	}
	reader, author, sharer := ids[0], ids[1], ids[2]
	club := community.Club{ID: community.NewID(), Slug: "ev-talk", Name: "电车", Kind: community.KindForum,
		Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen, CreatedAt: base}
	must(s.CreateClub(ctx, club, nil))
	must(s.Follow(ctx, reader, author, base))
	must(s.Follow(ctx, reader, sharer, base))
	statuses := []community.PostStatus{community.PostPublished, community.PostDeleted, ""}
	posts := make([]community.Post, len(statuses))
	for i := range posts {
		posts[i] = community.Post{ID: community.NewID(), ClubID: club.ID, AuthorID: author, Title: "标题", Body: "正文",
			CreatedAt: at(10 * (i + 1)), Status: community.PostPublished}
		must(errOf(s.CreatePost(ctx, posts[i])))
	}
	must(s.Close())

	// Rewrite the posts as files of before kept them, with no flag, and store a share older
	// than its post.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	must(err)
	early := community.Share{ID: community.NewID(), PostID: posts[0].ID, MemberID: sharer, Channel: community.ShareInApp, At: at(5)}
	must(db.Update(func(tx *bolt.Tx) error {
		for i, p := range posts {
			var doc map[string]any
			if err := json.Unmarshal(tx.Bucket(bucketPosts).Get([]byte(p.ID)), &doc); err != nil {
				return err
			}
			if _, ok := doc["Listed"]; !ok {
				t.Fatalf("a stored post has no Listed field: %v", doc)
			}
			delete(doc, "Listed")
			doc["Status"] = statuses[i]
			if err := putJSON(tx, bucketPosts, []byte(p.ID), doc); err != nil {
				return err
			}
		}
		return putJSON(tx, bucketShares, []byte(early.ID), early)
	}))
	must(db.Close())

	s, err = Open(Config{Path: path})
	must(err)
	defer s.Close()
	found, err := s.PostsByID(ctx, []string{posts[0].ID, posts[1].ID, posts[2].ID})
	must(err)
	gotStatus := map[string]community.PostStatus{}
	for id, p := range found {
		gotStatus[id] = p.Status
	}
	wantStatus := map[string]community.PostStatus{posts[0].ID: community.PostPublished, posts[1].ID: community.PostDeleted, posts[2].ID: ""}
	if diff := cmp.Diff(wantStatus, gotStatus); diff != "" {
		t.Errorf("statuses read back (-want +got):\n%s", diff)
	}
	listed := func() []string {
		t.Helper()
		page, _, err := community.ClubPostsOf(ctx, s, club.ID, community.PostQuery{Sort: community.SortNew, First: 10}, nil)
		must(err)
		var out []string
		for _, p := range page {
			out = append(out, p.ID)
		}
		return out
	}
	if diff := cmp.Diff([]string{posts[2].ID, posts[0].ID}, listed()); diff != "" {
		t.Errorf("listed posts (-want +got):\n%s", diff)
	}
	feed, _, err := s.Feed(ctx, reader, 10, nil, at(100))
	must(err)
	wantFeed := []community.FeedItem{
		{PostID: posts[2].ID, At: at(30)},
		{PostID: posts[0].ID, At: at(10), SharedBy: sharer}, // the share stands at the post's creation
	}
	if diff := cmp.Diff(wantFeed, feed); diff != "" {
		t.Errorf("feed (-want +got):\n%s", diff)
	}
	_, err = s.EditPost(ctx, posts[1].ID, community.PostInput{Title: "改", Body: "改"}, at(40))
	if community.ErrorCode(err) != community.CodeNotFound {
		t.Errorf("editing a deleted post of before: %v, want NOT_FOUND", err)
	}

	// A write of a post stores its flag (and PUBLISHED for its empty status).
	_, err = s.EditPost(ctx, posts[2].ID, community.PostInput{Title: "改", Body: "改"}, at(40))
	must(err)
	must(s.db.View(func(tx *bolt.Tx) error {
		var d postDoc
		if err := getJSON(tx, bucketPosts, posts[2].ID, &d); err != nil {
			return err
		}
		if d.Listed == nil || !*d.Listed || d.Status != community.PostPublished {
			t.Errorf("an edited post of before is stored with status %q, listed %v", d.Status, d.Listed)
		}
		return nil
	}))
}
