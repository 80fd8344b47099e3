package bleveindex

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	port "quanzi/search"
)

// Build is a new index being filled beside the live one, in its own directory.
type Build struct {
	x *Index

	// mu serialises Apply, Switch and Discard; done is set by the first Switch or Discard.
	mu    sync.Mutex
	shard *shard
	done  bool
}

var errBuildDone = errors.New("bleveindex: the build was already switched in or discarded")

// Rebuild starts a new, empty index beside the live one.
func (x *Index) Rebuild(ctx context.Context) (port.Build, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil, errClosed
	}
	s, err := x.createShard()
	if err != nil {
		return nil, err
	}
	b := &Build{x: x, shard: s}
	x.builds[b] = struct{}{}
	return b, nil
}

// Apply writes documents to the new index, as Index.Apply does to the live one.
func (b *Build) Apply(ctx context.Context, docs []port.Document) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return errBuildDone
	}
	return b.shard.apply(ctx, docs)
}

// Switch makes the new index the live one: searches see the old index or the new one,
// never a mix; the old directory is removed once no search uses it.
func (b *Build) Switch(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return errBuildDone
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	x := b.x
	x.writeMu.Lock()
	defer x.writeMu.Unlock()

	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return errClosed
	}
	if err := x.writePointer(b.shard.name); err != nil {
		x.mu.Unlock()
		return err
	}
	old := x.live
	x.live = b.shard
	x.outdated = false
	delete(x.builds, b)
	b.done = true
	x.mu.Unlock()

	// No search holds the old index any more: each ran under x.mu.
	if err := old.idx.Close(); err != nil {
		return fmt.Errorf("bleveindex: switch: close the old index: %w", err)
	}
	if err := os.RemoveAll(filepath.Join(x.dir, old.name)); err != nil {
		return fmt.Errorf("bleveindex: switch: remove the old index: %w", err)
	}
	return nil
}

// Discard drops the new index; the live one is left as it was.
func (b *Build) Discard(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return nil
	}
	b.x.mu.Lock()
	if b.x.builds != nil {
		delete(b.x.builds, b)
	}
	b.x.mu.Unlock()
	return b.drop()
}

// drop closes and removes the new index; the caller holds b.mu.
func (b *Build) drop() error {
	if b.done {
		return nil
	}
	b.done = true
	err := b.shard.idx.Close()
	if rerr := os.RemoveAll(filepath.Join(b.x.dir, b.shard.name)); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("bleveindex: discard the build: %w", err)
	}
	return nil
}
