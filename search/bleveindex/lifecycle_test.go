package bleveindex_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/search"
	"quanzi/search/bleveindex"
)

func doc(id, word string) search.Document {
	return search.Document{
		ID: id, Version: 1, ClubID: "club", AuthorID: "author", Title: "About " + word, Body: word,
		CreatedAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), Visible: true,
	}
}

func mustApply(t *testing.T, a interface {
	Apply(context.Context, []search.Document) error
}, docs ...search.Document) {
	t.Helper()
	if err := a.Apply(context.Background(), docs); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func hitIDs(t *testing.T, idx search.Index, text string) []string {
	t.Helper()
	res, err := idx.Search(context.Background(), search.Query{Text: text, Limit: 100})
	if err != nil {
		t.Fatalf("Search(%q): %v", text, err)
	}
	ids := []string{}
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	slices.Sort(ids)
	return ids
}

// indexDirs lists the index directories and the pointer file's content.
func indexDirs(t *testing.T, dir string) (dirs []string, pointer string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "posts-") {
			dirs = append(dirs, e.Name())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "CURRENT"))
	if err != nil {
		t.Fatal(err)
	}
	return dirs, strings.TrimSpace(string(b))
}

func TestReopenKeepsDocuments(t *testing.T) {
	dir := t.TempDir()
	idx, err := bleveindex.Open(bleveindex.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, idx, doc("a", "apple"), doc("b", "banana"))
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idx.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := idx.Search(context.Background(), search.Query{Limit: 1}); err == nil {
		t.Errorf("Search after Close succeeded")
	}
	if err := idx.Ping(context.Background()); err == nil {
		t.Errorf("Ping after Close succeeded")
	}

	idx = open(t, dir)
	if diff := cmp.Diff([]string{"a"}, hitIDs(t, idx, "apple")); diff != "" {
		t.Errorf("after reopening (-want +got):\n%s", diff)
	}
	got, err := idx.Versions(context.Background(), []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int64{"a": 1, "b": 1}, got); diff != "" {
		t.Errorf("Versions (-want +got):\n%s", diff)
	}
}

func TestSwitchedIndexIsOpenedAgain(t *testing.T) {
	dir := t.TempDir()
	idx, err := bleveindex.Open(bleveindex.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, idx, doc("old", "apple"))
	before, _ := indexDirs(t, dir)
	b, err := idx.Rebuild(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, b, doc("new", "banana"))
	if dirs, _ := indexDirs(t, dir); len(dirs) != 2 {
		t.Errorf("during the build: directories %v, want the live one and the build", dirs)
	}
	if err := b.Switch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Switch(context.Background()); err == nil {
		t.Errorf("second Switch succeeded")
	}
	if err := b.Discard(context.Background()); err != nil {
		t.Errorf("Discard after Switch: %v", err)
	}
	dirs, pointer := indexDirs(t, dir)
	if len(dirs) != 1 || dirs[0] != pointer || slices.Contains(before, pointer) {
		t.Errorf("after the switch: directories %v, pointer %q, before %v", dirs, pointer, before)
	}
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}

	idx = open(t, dir)
	if diff := cmp.Diff([]string{"new"}, hitIDs(t, idx, "")); diff != "" {
		t.Errorf("after reopening (-want +got):\n%s", diff)
	}
}

func TestDiscardRemovesTheBuild(t *testing.T) {
	dir := t.TempDir()
	idx := open(t, dir)
	mustApply(t, idx, doc("old", "apple"))
	before, pointer := indexDirs(t, dir)
	b, err := idx.Rebuild(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, b, doc("new", "banana"))
	if err := b.Discard(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(context.Background(), []search.Document{doc("late", "cherry")}); err == nil {
		t.Errorf("Apply after Discard succeeded")
	}
	if err := b.Switch(context.Background()); err == nil {
		t.Errorf("Switch after Discard succeeded")
	}
	after, pointerAfter := indexDirs(t, dir)
	if diff := cmp.Diff(before, after); diff != "" || pointer != pointerAfter {
		t.Errorf("directories (-before +after):\n%s\npointer %q then %q", diff, pointer, pointerAfter)
	}
}

func TestCloseDropsBuilds(t *testing.T) {
	dir := t.TempDir()
	idx, err := bleveindex.Open(bleveindex.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b, err := idx.Rebuild(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, b, doc("new", "banana"))
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	if dirs, _ := indexDirs(t, dir); len(dirs) != 1 {
		t.Errorf("after Close: directories %v, want the live one only", dirs)
	}
	if err := b.Switch(context.Background()); err == nil {
		t.Errorf("Switch after Close succeeded")
	}
	if _, err := idx.Rebuild(context.Background()); err == nil {
		t.Errorf("Rebuild after Close succeeded")
	}
}

func TestOpenRemovesUnfinishedBuilds(t *testing.T) {
	dir := t.TempDir()
	idx, err := bleveindex.Open(bleveindex.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, idx, doc("a", "apple"))
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	_, live := indexDirs(t, dir)
	// What a crash in the middle of a rebuild and of a switch leaves behind.
	stray := filepath.Join(dir, "posts-1.bleve")
	if err := os.MkdirAll(filepath.Join(stray, "store"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "CURRENT.tmp-123"), []byte("posts-1.bleve\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}

	idx = open(t, dir)
	if diff := cmp.Diff([]string{"a"}, hitIDs(t, idx, "apple")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	dirs, pointer := indexDirs(t, dir)
	if diff := cmp.Diff([]string{live}, dirs); diff != "" || pointer != live {
		t.Errorf("directories (-want +got):\n%s\npointer %q, want %q", diff, pointer, live)
	}
	if _, err := os.Stat(filepath.Join(dir, "CURRENT.tmp-123")); !os.IsNotExist(err) {
		t.Errorf("temporary pointer file left: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is not the index's was removed: %v", err)
	}
}

func TestOpenRefusesABadPointer(t *testing.T) {
	if _, err := bleveindex.Open(bleveindex.Config{}); err == nil {
		t.Errorf("Open without a directory succeeded")
	}
	for name, content := range map[string]string{
		"Garbage":         "../../etc\n",
		"MissingIndexDir": "posts-42.bleve\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "CURRENT"), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if idx, err := bleveindex.Open(bleveindex.Config{Dir: dir}); err == nil {
				idx.Close()
				t.Errorf("Open with CURRENT %q succeeded", content)
			}
		})
	}
}
