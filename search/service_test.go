package search_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"quanzi/community"
	"quanzi/search"
)

// TestSearchPagesReachTheWindow walks a query with more hits than search.MaxWindow, page
// by page: every page up to the window works, the last says no page follows, and the
// total counts every hit.
func TestSearchPagesReachTheWindow(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	const n = search.MaxWindow + 50
	posts := make([]community.Post, n)
	for i := range posts {
		posts[i] = w.newPost(i)
		posts[i].CreatedAt = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	}
	for i := 0; i < n; i += 500 {
		if err := w.store.ImportPosts(ctx, posts[i:min(i+500, n)]); err != nil {
			t.Fatal(err)
		}
	}
	relay := search.NewRelay(w.store, w.index, &community.LocalLeases{}, search.RelayConfig{})
	for {
		k, err := relay.DeliverOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			break
		}
	}
	svc := search.NewService(w.index, community.New(w.store, community.Config{}).Posts)
	staff := community.WithActor(ctx, community.Actor{Roles: []community.Role{community.RoleCommunityManager}})

	seen := map[string]bool{}
	in := search.PostSearch{Text: "充电桩", Sort: search.SortNewest, First: 50}
	for page := 0; ; page++ {
		got, err := svc.SearchPosts(staff, in)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if got.Total != n {
			t.Fatalf("page %d: total %d, want %d", page, got.Total, n)
		}
		for _, h := range got.Hits {
			if seen[h.Post.ID] {
				t.Fatalf("page %d repeats %s", page, h.Post.ID)
			}
			seen[h.Post.ID] = true
		}
		if !got.HasNextPage {
			break
		}
		if page > search.MaxWindow/50 {
			t.Fatal("the pages do not end")
		}
		in.After = got.EndCursor
	}
	if len(seen) != search.MaxWindow {
		t.Errorf("the walk saw %d hits, want the window's %d", len(seen), search.MaxWindow)
	}

	// A page whose hits the store no longer shows (deleted, not yet delivered) still has
	// its cursors, so that the walk goes on.
	for _, p := range posts[n-2:] {
		if _, err := w.store.DeletePost(ctx, p.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	got, err := svc.SearchPosts(staff, search.PostSearch{Text: "充电桩", Sort: search.SortNewest, First: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Hits) != 0 || !got.HasNextPage || got.EndCursor == "" {
		t.Fatalf("page of deleted posts: %d hits, next %v, end cursor %q", len(got.Hits), got.HasNextPage, got.EndCursor)
	}
	next, err := svc.SearchPosts(staff, search.PostSearch{Text: "充电桩", Sort: search.SortNewest, First: 1, After: got.EndCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Hits) != 1 || next.Hits[0].Post.ID != posts[n-3].ID {
		t.Errorf("the page after the deleted ones: %v", fmt.Sprint(next.Hits))
	}
}

// TestOpsRebuildConflicts starts a rebuild while another holds the rebuild lease: it waits,
// a second start is CONFLICT, and once the lease is free the first finishes.
func TestOpsRebuildConflicts(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for i := range 5 {
		if _, err := w.store.CreatePost(ctx, w.newPost(i)); err != nil {
			t.Fatal(err)
		}
	}
	leases := &community.LocalLeases{}
	base, stop := context.WithCancel(ctx)
	defer stop()
	ops := search.NewOps(base, w.store, w.index, leases, nil, "instance-a", nil)
	admin := community.WithActor(ctx, community.Actor{Roles: []community.Role{community.RoleAdmin}})
	manager := community.WithActor(ctx, community.Actor{Roles: []community.Role{community.RoleCommunityManager}})

	if ops.RebuildIfOutdated() {
		t.Fatal("a current index was rebuilt")
	}
	if _, err := ops.StartRebuild(manager); community.ErrorCode(err) != community.CodeForbidden {
		t.Fatalf("a community manager started a rebuild: %v", err)
	}
	if ok, _ := leases.Acquire(ctx, search.RebuildLease, "another-instance", time.Minute); !ok {
		t.Fatal("could not take the rebuild lease")
	}
	if _, err := ops.StartRebuild(admin); err != nil {
		t.Fatal(err)
	}
	if _, err := ops.StartRebuild(admin); community.ErrorCode(err) != community.CodeConflict {
		t.Fatalf("a second rebuild while one runs: %v", err)
	}
	st, err := ops.Status(manager)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rebuild == nil || !st.Rebuild.FinishedAt.IsZero() {
		t.Fatalf("status while the rebuild waits: %+v", st.Rebuild)
	}
	if err := leases.Release(ctx, search.RebuildLease, "another-instance"); err != nil {
		t.Fatal(err)
	}
	ops.Wait()
	if st, _ = ops.Status(manager); st.Rebuild.Failed || st.Rebuild.Indexed != 5 {
		t.Errorf("rebuild: %+v", st.Rebuild)
	}
}
