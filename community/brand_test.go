package community

import "testing"

func TestAmounts(t *testing.T) {
	good := map[string]int64{"199": 19900, "199.5": 19950, "199.50": 19950, "0.01": 1, " 12.30 ": 1230}
	for in, want := range good {
		got, err := ParseAmount(in)
		if err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", in, got, err, want)
		}
		if back, _ := ParseAmount(FormatAmount(got)); back != got {
			t.Errorf("FormatAmount(%d) = %q does not read back", got, FormatAmount(got))
		}
	}
	for _, in := range []string{"", "-1", "1.234", "1.", ".5", "1e3", "一百", "12,30", "9999999999999"} {
		if _, err := ParseAmount(in); ErrorCode(err) != CodeBadUserInput {
			t.Errorf("ParseAmount(%q) = %v, want BAD_USER_INPUT", in, err)
		}
	}
	if got := FormatAmount(19905); got != "199.05" {
		t.Errorf("FormatAmount(19905) = %q", got)
	}
}

func TestTierFor(t *testing.T) {
	b := Brand{Tiers: DefaultTiers}
	for points, want := range map[int]string{0: "普通", 999: "普通", 1000: "银卡", 4999: "银卡", 5000: "金卡", 90000: "金卡"} {
		if got := b.TierFor(points); got != want {
			t.Errorf("TierFor(%d) = %q, want %q", points, got, want)
		}
	}
	lo, hi, err := b.pointsRange("银卡")
	if err != nil || lo != 1000 || hi != 5000 {
		t.Errorf("pointsRange(银卡) = %d, %d, %v", lo, hi, err)
	}
	if _, _, err := b.pointsRange("钻石"); ErrorCode(err) != CodeBadUserInput {
		t.Errorf("pointsRange of an unknown tier: %v", err)
	}
}

func TestNewIDIncreases(t *testing.T) {
	prev := NewID()
	for range 10000 {
		id := NewID()
		if id <= prev || !validID(id) || id[14] != '7' {
			t.Fatalf("NewID gave %s after %s", id, prev)
		}
		prev = id
	}
}
