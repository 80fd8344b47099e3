package embedded

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

// The bulk loaders work as the single-row writes do, a batch at a time: under the write
// lock they check the batch against memory, write what is kept in one bbolt transaction,
// and then add it to memory with the same helpers as JoinClub, CreatePost and React.
// Rows are written in key order: consecutive puts then land in pages that bbolt has just
// read and turned into nodes, which takes about a third off its time in Put for a batch
// of reactions.

// ImportClubMembers implements community.BulkStore. A member's pending request to join a
// club it is imported into goes, as when it joins.
func (s *Store) ImportClubMembers(_ context.Context, batch []community.ClubMembership) error {
	defer s.writing()()
	type join struct {
		c   *club
		m   *community.ClubMembership
		key []byte
	}
	joins := make([]join, 0, len(batch))
	seen := map[community.ClubMemberKey]bool{}
	for _, m := range batch {
		c := s.clubs[m.ClubID]
		if c == nil || s.members[m.MemberID] == nil || c.members[m.MemberID] != nil {
			continue
		}
		k := community.ClubMemberKey{ClubID: m.ClubID, MemberID: m.MemberID}
		if seen[k] {
			continue
		}
		seen[k] = true
		m.Since = m.Since.UTC()
		joins = append(joins, join{c, &m, clubMemberKey(m.ClubID, m.MemberID)})
	}
	if len(joins) == 0 {
		return nil
	}
	slices.SortFunc(joins, func(a, b join) int { return bytes.Compare(a.key, b.key) })
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, j := range joins {
			if err := putMembership(tx, j.c, j.m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: import club members: %w", err)
	}
	// joins are sorted by club id, then member id: each club's memberships are a run.
	var ms []*community.ClubMembership
	for i, j := range joins {
		ms = append(ms, j.m)
		if i+1 == len(joins) || joins[i+1].c != j.c {
			s.addMembers(j.c, ms...)
			ms = nil
		}
	}
	return nil
}

// ImportPosts implements community.BulkStore. An id taken by a post or a comment, or
// twice in the batch, is a CONFLICT whether or not its post would have been skipped.
func (s *Store) ImportPosts(_ context.Context, batch []community.Post) error {
	defer s.writing()()
	seen := make(map[string]bool, len(batch))
	for _, p := range batch {
		switch {
		case s.idTaken(p.ID):
			return conflict("post %q exists already", p.ID)
		case seen[p.ID]:
			return conflict("post %q is in the batch twice", p.ID)
		}
		seen[p.ID] = true
	}
	type add struct {
		d postDoc
		c *club
		a *member
	}
	adds := make([]add, 0, len(batch))
	for _, p := range batch {
		c, a := s.clubs[p.ClubID], s.members[p.AuthorID]
		if c == nil || a == nil {
			continue
		}
		adds = append(adds, add{newPostDoc(p), c, a})
	}
	if len(adds) == 0 {
		return nil
	}
	first, err := s.takeTargets(len(adds))
	if err != nil {
		return err
	}
	slices.SortFunc(adds, func(a, b add) int { return strings.Compare(a.d.ID, b.d.ID) })
	nodes := make([]*postNode, len(adds))
	touched := make(postTouch, len(adds))
	for i, a := range adds {
		nodes[i] = newPostNode(a.d, a.c, a.a, first+uint32(i))
		touched[nodes[i]] = 1
	}
	var done func()
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, a := range adds {
			if err := putJSON(tx, bucketPosts, []byte(a.d.ID), a.d); err != nil {
				return err
			}
		}
		var err error
		done, err = s.touchPosts(tx, touched)
		return err
	})
	if err != nil {
		return fmt.Errorf("embedded: import posts: %w", err)
	}
	s.addPosts(nodes...)
	done()
	return nil
}

// ImportReactions implements community.BulkStore. As for React, a reaction to a deleted
// post, or to a comment of one, refers to nothing and is skipped. BAD_USER_INPUT, and
// nothing stored, when a reaction is of an unknown kind.
func (s *Store) ImportReactions(_ context.Context, batch []community.Reaction) error {
	for _, r := range batch {
		if kindIndex(r.Kind) < 0 {
			return community.Errorf(community.CodeBadUserInput, "unknown reaction %q", r.Kind)
		}
	}
	defer s.writing()()
	adds := make([]newReaction, 0, len(batch))
	// seen holds the batch's reactions kept so far, by member sequence number and entry.
	seen := make(map[uint64]bool, len(batch))
	touched := postTouch{}
	for _, r := range batch {
		m := s.members[r.MemberID]
		if m == nil {
			continue
		}
		seq, counts := s.reactionTarget(r.TargetID)
		if counts == nil {
			continue
		}
		nr := newReaction{m: m, entry: reactionEntry(seq, kindIndex(r.Kind)), counts: counts}
		k := uint64(m.seq)<<32 | uint64(nr.entry)
		if seen[k] || s.reacted(nr) {
			continue
		}
		seen[k] = true
		nr.key, nr.at = reactionKey(r.TargetID, r.MemberID, r.Kind), nanos(r.At)
		adds = append(adds, nr)
		if p := s.posts[r.TargetID]; p != nil {
			touched[p]++
		}
	}
	if len(adds) == 0 {
		return nil
	}
	slices.SortFunc(adds, func(a, b newReaction) int { return bytes.Compare(a.key, b.key) })
	var done func()
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReactions)
		for _, r := range adds {
			if err := r.put(b); err != nil {
				return err
			}
		}
		var err error
		done, err = s.touchPosts(tx, touched)
		return err
	})
	if err != nil {
		return fmt.Errorf("embedded: import reactions: %w", err)
	}
	done()
	s.addReactions(adds...)
	return nil
}

// mergeSorted adds vs to list, both sorted by cmp, and returns the list. It merges in
// place from the back, so adding to a long list costs one pass over it however many
// values come, and nothing when they all come after it; one value is an insertion.
func mergeSorted[T any](list, vs []T, cmp func(T, T) int) []T {
	switch {
	case len(vs) == 0:
		return list
	case len(vs) == 1:
		return insertSorted(list, vs[0], cmp)
	case len(list) == 0 || cmp(list[len(list)-1], vs[0]) <= 0:
		return append(list, vs...)
	}
	i, j := len(list)-1, len(vs)-1
	list = slices.Grow(list, len(vs))[:len(list)+len(vs)]
	for k := len(list) - 1; j >= 0; k-- {
		if i >= 0 && cmp(list[i], vs[j]) > 0 {
			list[k] = list[i]
			i--
		} else {
			list[k] = vs[j]
			j--
		}
	}
	return list
}
