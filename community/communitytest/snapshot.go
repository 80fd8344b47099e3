package communitytest

import (
	"context"
	"fmt"
	"testing"

	"quanzi/community"
)

// Populate writes a small graph through every kind of write the Store has (creates, an
// update, a link and an unlink, follows and an unfollow) and returns the ids of its members.
func Populate(t *testing.T, s community.Store) []string {
	t.Helper()
	ctx := context.Background()
	var handles []string
	for i := range 6 {
		handles = append(handles, fmt.Sprintf("owner_%d", i))
	}
	ms := create(t, s, handles...)
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	name, handle := "车主 王芳", "wang_fang"
	_, err := s.UpdateMember(ctx, ids[0], community.UpdateProfileInput{DisplayName: &name, Handle: &handle})
	must(t, err)
	must(t, s.LinkIdentity(ctx, ids[0], community.Identity{Provider: community.ProviderWeibo, ExternalID: "wb-8", LinkedAt: at(1)}))
	must(t, s.LinkIdentity(ctx, ids[1], community.Identity{Provider: community.ProviderPhone, ExternalID: "+8613900000001", LinkedAt: at(1)}))
	must(t, s.UnlinkIdentity(ctx, ids[1], community.ProviderWeChat))
	for i := range ids {
		for j := range ids {
			if i != j && (i+j)%2 == 1 {
				must(t, s.Follow(ctx, ids[i], ids[j], at(10*i+j)))
			}
		}
	}
	must(t, s.Unfollow(ctx, ids[1], ids[0]))
	return ids
}

// Graph is what a store answers about a set of members: for comparing one store's state
// before and after a restart.
type Graph struct {
	Members    map[string]community.Member
	Identities map[string][]community.Identity
	Followers  map[string][]community.FollowEdge
	Following  map[string][]community.FollowEdge
}

// Snapshot reads the members with the given ids and everything about them.
func Snapshot(t *testing.T, s community.Store, ids []string) Graph {
	t.Helper()
	ctx := context.Background()
	g := Graph{Followers: map[string][]community.FollowEdge{}, Following: map[string][]community.FollowEdge{}}
	var err error
	g.Members, err = s.MembersByID(ctx, ids)
	must(t, err)
	g.Identities, err = s.IdentitiesOf(ctx, ids)
	must(t, err)
	for _, id := range ids {
		p, err := list(s, community.ListFollowers, id, pageReq{First: community.MaxPageSize})
		must(t, err)
		g.Followers[id] = p.Edges
		p, err = list(s, community.ListFollowing, id, pageReq{First: community.MaxPageSize})
		must(t, err)
		g.Following[id] = p.Edges
	}
	return g
}
