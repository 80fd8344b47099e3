package meiliindex

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/search"
)

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"c1", `"c1"`},
		{"新能源", `"新能源"`},
		{`a"b`, `"a\"b"`},
		{`a\`, `"a\\"`},
		{`\"`, `"\\\""`},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestFilterOf(t *testing.T) {
	from := time.UnixMilli(1700000000000)
	to := time.UnixMilli(1700086400000)
	tests := []struct {
		name   string
		filter search.Filter
		scope  search.Scope
		want   string
	}{
		{"everything", search.Filter{}, search.Scope{All: true}, "visible = true"},
		{"public only", search.Filter{}, search.Scope{}, "visible = true AND private = false"},
		{"scope with clubs and brands", search.Filter{},
			search.Scope{ClubIDs: []string{"c1", "c2"}, BrandIDs: []string{"b1"}},
			`visible = true AND (private = false OR clubId IN ["c1", "c2"] OR brandId IN ["b1"])`},
		{"scope with brands only", search.Filter{}, search.Scope{BrandIDs: []string{"b1"}},
			`visible = true AND (private = false OR brandId IN ["b1"])`},
		{"clubs turned private", search.Filter{}, search.Scope{HiddenClubIDs: []string{"c3", "c4"}},
			`visible = true AND (private = false AND clubId NOT IN ["c3", "c4"])`},
		{"clubs turned private, and the caller's", search.Filter{},
			search.Scope{ClubIDs: []string{"c1"}, BrandIDs: []string{"b1"}, HiddenClubIDs: []string{"c3"}},
			`visible = true AND ((private = false AND clubId NOT IN ["c3"]) OR clubId IN ["c1"] OR brandId IN ["b1"])`},
		{"every filter field",
			search.Filter{
				ClubIDs: []string{"c1", "c2"}, BrandIDs: []string{"b1"}, Tags: []string{"新能源", "suv"},
				AuthorID: "m1", From: from, To: to,
			},
			search.Scope{All: true},
			`visible = true AND clubId IN ["c1", "c2"] AND brandId IN ["b1"] AND tags IN ["新能源", "suv"]` +
				` AND authorId = "m1" AND created >= 1700000000000 AND created < 1700086400000`},
		{"from only", search.Filter{From: from}, search.Scope{All: true}, "visible = true AND created >= 1700000000000"},
		{"quotes cannot escape",
			search.Filter{AuthorID: `x" OR visible = false OR authorId = "y`, Tags: []string{`a\`}},
			search.Scope{},
			`visible = true AND private = false AND tags IN ["a\\"] AND authorId = "x\" OR visible = false OR authorId = \"y"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, filterOf(tt.filter, tt.scope)); diff != "" {
				t.Errorf("filterOf mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIDsFilter(t *testing.T) {
	got := idsFilter([]string{"0b9f5c1e-8a5e-4d0c-9a55-3c2f0e1b7a10", "5e0c7d2a-1f3b-4c6d-8e9f-a0b1c2d3e4f5"})
	want := `id IN ["0b9f5c1e-8a5e-4d0c-9a55-3c2f0e1b7a10", "5e0c7d2a-1f3b-4c6d-8e9f-a0b1c2d3e4f5"]`
	if got != want {
		t.Errorf("idsFilter = %s, want %s", got, want)
	}
}

func TestSortOf(t *testing.T) {
	tests := []struct {
		sort     search.Sort
		want     []string
		wantCode community.Code
	}{
		{search.SortRelevance, nil, ""},
		{"", nil, ""},
		{search.SortNewest, []string{"created:desc", "id:asc"}, ""},
		{search.SortMostEngaged, []string{"engagement:desc", "created:desc", "id:asc"}, ""},
		{"OLDEST", nil, community.CodeBadUserInput},
	}
	for _, tt := range tests {
		t.Run(string(tt.sort), func(t *testing.T) {
			got, err := sortOf(tt.sort)
			if code := community.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("sortOf(%q) code = %q, want %q", tt.sort, code, tt.wantCode)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sortOf(%q) mismatch (-want +got):\n%s", tt.sort, diff)
			}
		})
	}
}
