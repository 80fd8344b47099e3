package community

import (
	"slices"
	"testing"
)

func TestSubscriptions(t *testing.T) {
	if err := OutboxSubscriptions.Validate(); err != nil {
		t.Fatalf("the domain's table: %v", err)
	}
	domain, err := Subscriptions(nil).ByKind()
	if err != nil {
		t.Fatalf("the default table: %v", err)
	}
	if got := domain[EventClub]; !slices.Equal(got, []Consumer{ConsumerSearch}) {
		t.Errorf("consumers of club events = %v, want the search index alone", got)
	}
	subs := Subscriptions{
		{Consumer: ConsumerSearch, Kinds: []EventKind{EventPost, EventClub}},
		{Consumer: "rewards", Kinds: []EventKind{EventPost}},
	}
	byKind, err := subs.ByKind()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind EventKind
		want []Consumer
	}{
		{EventPost, []Consumer{ConsumerSearch, "rewards"}},
		{EventClub, []Consumer{ConsumerSearch}},
		{"member", nil},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			if got := byKind[tc.kind]; !slices.Equal(got, tc.want) {
				t.Errorf("consumers of %s = %v, want %v", tc.kind, got, tc.want)
			}
		})
	}

	for name, bad := range map[string]Subscriptions{
		"empty name":     {{Consumer: "", Kinds: []EventKind{EventPost}}},
		"separator":      {{Consumer: "search:v2", Kinds: []EventKind{EventPost}}},
		"NUL":            {{Consumer: "search\x00", Kinds: []EventKind{EventPost}}},
		"upper case":     {{Consumer: "Rewards", Kinds: []EventKind{EventPost}}},
		"listed twice":   {{Consumer: "rewards", Kinds: []EventKind{EventPost}}, {Consumer: "rewards", Kinds: []EventKind{EventClub}}},
		"space in name":  {{Consumer: "web hooks", Kinds: []EventKind{EventPost}}},
		"non-ASCII name": {{Consumer: "奖励", Kinds: []EventKind{EventPost}}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := bad.Validate(); err == nil {
				t.Errorf("Validate accepted %+v", bad)
			}
			if _, err := bad.ByKind(); err == nil {
				t.Errorf("ByKind accepted %+v", bad)
			}
		})
	}
	if err := (Subscriptions{{Consumer: "web-hooks_2", Kinds: []EventKind{EventPost}}}).Validate(); err != nil {
		t.Errorf("Validate refused a good name: %v", err)
	}
}
