package bleveindex

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/blevesearch/bleve/v2"

	"quanzi/search"
)

// TestOutdatedLayout opens an index that another layout made: it answers as it is, says it
// is outdated, and is not once a rebuild has replaced it.
func TestOutdatedLayout(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	doc := search.Document{ID: "p1", Version: 1, ClubID: "c", AuthorID: "a", Title: "保养", Visible: true}
	if err := x.Apply(ctx, []search.Document{doc}); err != nil {
		t.Fatal(err)
	}
	if x.Outdated() {
		t.Fatal("a new index is outdated")
	}
	name, err := x.readPointer()
	if err != nil {
		t.Fatal(err)
	}
	x.Close()

	// An older program made this index.
	idx, err := bleve.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.SetInternal(layoutKey, []byte("posts-1")); err != nil {
		t.Fatal(err)
	}
	idx.Close()

	x, err = Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if !x.Outdated() {
		t.Fatal("an index of another layout is not outdated")
	}
	if res, err := x.Search(ctx, search.Query{Text: "保养", Scope: search.Scope{All: true}, Limit: 10}); err != nil || len(res.Hits) != 1 {
		t.Fatalf("the outdated index does not answer: %+v, %v", res, err)
	}
	b, err := x.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(ctx, []search.Document{doc}); err != nil {
		t.Fatal(err)
	}
	if err := b.Switch(ctx); err != nil {
		t.Fatal(err)
	}
	if x.Outdated() {
		t.Error("the rebuilt index is outdated")
	}
}
