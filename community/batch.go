package community

// A dataloader hands a batch function many keys at once. The keys that one store call can
// serve together — the same page size, position, list kind or brand — form a group; a
// batch costs one store call per group, whatever the number of keys.

// eachGroup gathers the indexes of n keys by group, in the order each group first appears,
// and calls serve once per group. Keys for which group answers false (refused, or asking
// for nothing) are left out.
func eachGroup[G comparable](n int, group func(i int) (G, bool), serve func(g G, idx []int)) {
	index := map[G][]int{}
	var order []G
	for i := range n {
		g, ok := group(i)
		if !ok {
			continue
		}
		if _, seen := index[g]; !seen {
			order = append(order, g)
		}
		index[g] = append(index[g], i)
	}
	for _, g := range order {
		serve(g, index[g])
	}
}

// readByMember serves keys that each name a member, with one read per group of the
// members of that group's keys: out[i] is the value read for key i's member, or errs[i]
// the group's error. Keys that already have an error are left out, and so are those whose
// member id is malformed (they name no one).
func readByMember[K any, G comparable, V any](keys []K, out []V, errs []error,
	group func(K) G, member func(K) string, read func(g G, memberIDs []string) (map[string]V, error)) {
	eachGroup(len(keys), func(i int) (G, bool) { return group(keys[i]), errs[i] == nil && validID(member(keys[i])) }, func(g G, idx []int) {
		ids := make([]string, len(idx))
		for j, i := range idx {
			ids[j] = member(keys[i])
		}
		found, err := read(g, ids)
		for _, i := range idx {
			if err != nil {
				errs[i] = err
			} else {
				out[i] = found[member(keys[i])]
			}
		}
	})
}

// readIDs serves ids with one read of those that have no error yet and are well formed
// (others name no one, so they are not looked for): out[i] is the value read for ids[i],
// or errs[i] the read's error.
func readIDs[V any](ids []string, out []V, errs []error, read func(ids []string) (map[string]V, error)) {
	var fetch []string
	for i, id := range ids {
		if errs[i] == nil && validID(id) {
			fetch = append(fetch, id)
		}
	}
	if len(fetch) == 0 {
		return
	}
	found, err := read(fetch)
	for i, id := range ids {
		switch {
		case errs[i] != nil:
		case err != nil:
			errs[i] = err
		default:
			out[i] = found[id]
		}
	}
}
