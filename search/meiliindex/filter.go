package meiliindex

import (
	"strconv"
	"strings"

	"quanzi/community"
	"quanzi/search"
)

// quote returns s as a double-quoted string value of Meilisearch's filter expression
// syntax: a double quote and a backslash inside are escaped with a backslash (escaping the
// backslash itself is required since Meilisearch v1.4). Every string that reaches a filter
// goes through quote, so no value can close its quotes and add a condition.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// anyOf is the condition that attr equals one of values. Meilisearch compares strings
// without regard to case; ids and normalised tags are compared as they are stored.
func anyOf(attr string, values []string) string { return attr + " IN " + valueList(values) }

// noneOf is the condition that attr holds none of values (compared as anyOf compares).
func noneOf(attr string, values []string) string { return attr + " NOT IN " + valueList(values) }

// valueList is values quoted, as a filter's array.
func valueList(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = quote(v)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// filterOf is the filter expression of a query: visible posts only, within the caller's
// scope, narrowed by the query's filter.
func filterOf(f search.Filter, s search.Scope) string {
	conds := []string{"visible = true"}
	if !s.All {
		public := "private = false"
		if len(s.HiddenClubIDs) > 0 {
			// Indexed as public, but private now: not public to this caller.
			public = "(" + public + " AND " + noneOf("clubId", s.HiddenClubIDs) + ")"
		}
		alts := []string{public}
		if len(s.ClubIDs) > 0 {
			alts = append(alts, anyOf("clubId", s.ClubIDs))
		}
		if len(s.BrandIDs) > 0 {
			alts = append(alts, anyOf("brandId", s.BrandIDs))
		}
		if len(alts) == 1 {
			conds = append(conds, alts[0])
		} else {
			conds = append(conds, "("+strings.Join(alts, " OR ")+")")
		}
	}
	if len(f.ClubIDs) > 0 {
		conds = append(conds, anyOf("clubId", f.ClubIDs))
	}
	if len(f.BrandIDs) > 0 {
		conds = append(conds, anyOf("brandId", f.BrandIDs))
	}
	if len(f.Tags) > 0 {
		conds = append(conds, anyOf("tags", f.Tags))
	}
	if f.AuthorID != "" {
		conds = append(conds, "authorId = "+quote(f.AuthorID))
	}
	if !f.From.IsZero() {
		conds = append(conds, "created >= "+strconv.FormatInt(f.From.UnixMilli(), 10))
	}
	if !f.To.IsZero() {
		conds = append(conds, "created < "+strconv.FormatInt(f.To.UnixMilli(), 10))
	}
	return strings.Join(conds, " AND ")
}

// idsFilter is the filter that selects documents by id, for reading stored versions.
func idsFilter(ids []string) string { return anyOf("id", ids) }

// sortOf is Meilisearch's sort parameter for an order of hits. Relevance sends none: the
// index's ranking rules order the hits, ending with newest first and then id, the port's
// tie-break. BAD_USER_INPUT for an order the port does not define.
func sortOf(s search.Sort) ([]string, error) {
	switch s {
	case search.SortRelevance, "":
		return nil, nil
	case search.SortNewest:
		return []string{"created:desc", "id:asc"}, nil
	case search.SortMostEngaged:
		return []string{"engagement:desc", "created:desc", "id:asc"}, nil
	}
	return nil, community.Errorf(community.CodeBadUserInput, "unknown sort order %q", s)
}
