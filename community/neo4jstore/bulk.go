package neo4jstore

import (
	"cmp"
	"context"
	"maps"
	"slices"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// ImportClubMembers implements community.BulkStore: the whole batch is one statement in
// one transaction. Of several rows for one member of one club, the first is kept.
func (s *Store) ImportClubMembers(ctx context.Context, memberships []community.ClubMembership) error {
	if len(memberships) == 0 {
		return nil
	}
	type key struct{ club, member string }
	seen := make(map[key]bool, len(memberships))
	rows := make([]map[string]any, 0, len(memberships))
	for _, m := range memberships {
		k := key{m.ClubID, m.MemberID}
		if seen[k] {
			continue
		}
		seen[k] = true
		row := map[string]any{
			"clubId": m.ClubID, "memberId": m.MemberID,
			"role": string(m.Role), "since": m.Since.UTC(), "verified": m.Verified,
		}
		setMembershipKeys(row, m.ClubID, m.MemberID, m.Role, m.Since)
		rows = append(rows, row)
	}
	// Members in id order, so that the statement locks them in that order.
	slices.SortStableFunc(rows, func(a, b map[string]any) int {
		return cmp.Compare(a["memberId"].(string), b["memberId"].(string))
	})
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		return struct{}{}, exec(ctx, tx, cypherImportClubMembers, map[string]any{"rows": rows})
	})
	if err != nil {
		return fail(err, "store %d club memberships", len(memberships))
	}
	return nil
}

// ImportPosts implements community.BulkStore: the whole batch is one statement in one
// transaction, so a conflict anywhere stores none of it. Posts are stored as CreatePost
// stores them, with PUBLISHED for an empty status, but with every counter zero. An id
// taken by a post or a comment, or twice in the batch, is a CONFLICT whether or not its
// post would have been skipped.
func (s *Store) ImportPosts(ctx context.Context, posts []community.Post) error {
	if len(posts) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(posts))
	rows := make([]map[string]any, len(posts))
	for i, p := range posts {
		if seen[p.ID] {
			return community.Errorf(community.CodeConflict, "the batch has a post twice")
		}
		seen[p.ID] = true
		rows[i] = postRow(p) // the statement writes zero for its counters
	}
	params := s.stateParams(map[string]any{"rows": rows})
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		recs, err := collect(ctx, tx, cypherImportPosts, params)
		if err != nil || len(recs) == 0 {
			return struct{}{}, err
		}
		// The statement stored nothing then; returning an error rolls the transaction back
		// all the same.
		switch {
		case integer(get(recs[0], "takenByPost")) > 0:
			return struct{}{}, community.Errorf(community.CodeConflict, "the post exists already")
		case integer(get(recs[0], "takenByComment")) > 0:
			return struct{}{}, community.Errorf(community.CodeConflict, "the id of a post is taken by a comment")
		}
		return struct{}{}, nil
	})
	if err != nil {
		return fail(err, "store %d posts", len(posts))
	}
	return nil
}

// ImportReactions implements community.BulkStore: the whole batch is one statement in
// one transaction. Reactions are skipped where React would refuse them (unknown member or
// target, deleted post) and where React would find them stored; of several rows for one
// member's reaction of one kind to one target, the first is kept, here, because the
// statement counts every row it stores. BAD_USER_INPUT, and nothing stored, when a kind is
// unknown.
func (s *Store) ImportReactions(ctx context.Context, reactions []community.Reaction) error {
	if len(reactions) == 0 {
		return nil
	}
	type key struct {
		member, target string
		kind           community.ReactionKind
	}
	seen := make(map[key]bool, len(reactions))
	byTarget := make(map[string][]map[string]any)
	for _, r := range reactions {
		counter := reactionCounter(r.Kind)
		if counter == "" {
			return community.Errorf(community.CodeBadUserInput, "unknown reaction %q", r.Kind)
		}
		k := key{r.MemberID, r.TargetID, r.Kind}
		if seen[k] {
			continue
		}
		seen[k] = true
		byTarget[r.TargetID] = append(byTarget[r.TargetID], map[string]any{
			"memberId": r.MemberID, "kind": string(r.Kind), "counter": counter, "at": r.At.UTC(),
		})
	}
	// One row per target, in id order, so that the statement locks them in that order and
	// looks each one up once.
	rows := make([]map[string]any, 0, len(byTarget))
	for _, id := range slices.Sorted(maps.Keys(byTarget)) {
		rows = append(rows, map[string]any{"targetId": id, "reactions": byTarget[id]})
	}
	params := s.stateParams(map[string]any{"rows": rows})
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		return struct{}{}, exec(ctx, tx, cypherImportReactions, params)
	})
	if err != nil {
		return fail(err, "store %d reactions", len(reactions))
	}
	return nil
}
