package community

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
)

// Fraud signals: a referral is flagged, with its reasons, when its referrer and referee
// were seen with the same device, or when the referrer's referees of the campaign arrive
// in a burst. Flags are for people to review rewards by; they never refuse a redemption.
//
// Devices: a client may name the device it runs on (the X-Device-Id header) when a member
// registers or redeems a code. The server never keeps the id itself, only a keyed hash of
// it (HMAC-SHA256 under a server secret), so that a leak of the store does not give away
// devices, and ids cannot be matched against a list without the key.

// DeviceField is the field a bad device id is reported on: the header it comes in.
const DeviceField = "X-Device-Id"

// Device ids.
const (
	// MinDeviceIDLen and MaxDeviceIDLen bound a device id, in bytes: a shorter one would
	// be shared by chance by devices that are not the same.
	MinDeviceIDLen = 8
	MaxDeviceIDLen = 128
	// MaxDevicesKept is how many device hashes a member keeps: the most recent ones.
	MaxDevicesKept = 5
	// DevelopmentDeviceKey is the key of device hashes when none is configured; a
	// production server refuses it.
	DevelopmentDeviceKey = "quanzi-development-device-key-not-for-production"
)

// BurstRule says when a referrer's referees arrive in a burst: more than Limit referrals of
// one campaign within Window, the new one included.
type BurstRule struct {
	Limit  int
	Window time.Duration
}

// DefaultBurst is the burst rule unless configured otherwise: more than 10 referees of a
// campaign in 60 minutes.
var DefaultBurst = BurstRule{Limit: 10, Window: time.Hour}

// orDefault returns the rule, or DefaultBurst for a rule that is not set.
func (b BurstRule) orDefault() BurstRule {
	if b.Limit < 1 || b.Window <= 0 {
		return DefaultBurst
	}
	return b
}

type deviceKey struct{}

// WithDevice returns a context that carries the device id a request named (the raw
// X-Device-Id header), for the writes that keep it.
func WithDevice(ctx context.Context, deviceID string) context.Context {
	return context.WithValue(ctx, deviceKey{}, deviceID)
}

// deviceFrom returns the device id in ctx, or "".
func deviceFrom(ctx context.Context) string {
	id, _ := ctx.Value(deviceKey{}).(string)
	return id
}

// ValidateDeviceID returns BAD_USER_INPUT on DeviceField unless id is MinDeviceIDLen to
// MaxDeviceIDLen of A-Z, a-z, 0-9 and . _ : + / = - (which covers UUIDs, hex and base64
// ids). Ids are compared exactly, case included.
func ValidateDeviceID(id string) error {
	if len(id) < MinDeviceIDLen || len(id) > MaxDeviceIDLen {
		return fieldError(DeviceField, "a device id is %d to %d characters", MinDeviceIDLen, MaxDeviceIDLen)
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.' || c == '_' || c == ':' || c == '+' || c == '/' || c == '=' || c == '-':
		default:
			return fieldError(DeviceField, "a device id is made of A-Z, a-z, 0-9 and . _ : + / = -")
		}
	}
	return nil
}

// HashDevice returns the keyed hash of a device id that the store keeps in its place: the
// hex of its HMAC-SHA256 under key.
func HashDevice(key []byte, id string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	return hex.EncodeToString(mac.Sum(nil))
}

// device returns the keyed hash of the device id the request named, or "" when it named
// none; BAD_USER_INPUT on DeviceField for an id that ValidateDeviceID refuses.
func (s *core) device(ctx context.Context) (string, error) {
	id := deviceFrom(ctx)
	if id == "" {
		return "", nil
	}
	if err := ValidateDeviceID(id); err != nil {
		return "", err
	}
	return HashDevice(s.deviceKey, id), nil
}

// KeepDevice returns the device hashes a member keeps once seen with hash: hash first,
// then the others of kept, most recent first, at most MaxDevicesKept. A store writes it in
// place of kept; kept is not changed.
func KeepDevice(kept []string, hash string) []string {
	if hash == "" {
		return slices.Clone(kept)
	}
	out := make([]string, 0, MaxDevicesKept)
	out = append(out, hash)
	for _, h := range kept {
		if len(out) == MaxDevicesKept {
			break
		}
		if h != hash {
			out = append(out, h)
		}
	}
	return out
}

// FlagReferral is the rule of fraud signals, decided on the facts a store read under the
// locks of a redemption that CheckRedemption allowed: the flags the new referral carries,
// in the order of the constants, nil for none. FlagSharedDevice when a device of the
// referee (the redemption's, or one the referee was seen with before) is one the referrer
// was seen with; FlagBurst when the referrer's referrals of the campaign within the burst
// window, this one included, are more than the rule's limit.
func FlagReferral(r Redemption, f RedemptionFacts) []ReferralFlag {
	var flags []ReferralFlag
	mine := slices.Clone(f.MemberDevices)
	if r.Device != "" {
		mine = append(mine, r.Device)
	}
	if slices.ContainsFunc(mine, func(h string) bool { return slices.Contains(f.ReferrerDevices, h) }) {
		flags = append(flags, FlagSharedDevice)
	}
	if f.RecentReferrals+1 > r.Burst.orDefault().Limit {
		flags = append(flags, FlagBurst)
	}
	return flags
}

// BurstSince is when the burst window of a redemption begins: a store counts the
// referrer's referrals of the campaign at or after it (RedemptionFacts.RecentReferrals).
func (r Redemption) BurstSince() time.Time {
	return r.At.Add(-r.Burst.orDefault().Window)
}

// CanReadReferralFlags is the rule for reading a referral's flags, brandID being the brand
// of its campaign: ADMIN, COMMUNITY_MANAGER and the brand's staff, who review rewards. The
// member and the referrer are not told: a flag is a reason to look, not a verdict, and
// naming it would teach how to avoid it.
func CanReadReferralFlags(a Actor, brandID string) bool {
	return a.AuthError == nil && (a.isPlatformStaff() || a.IsStaffOf(brandID))
}

// hideFlags clears the flags of each referral whose flags the caller may not read;
// brandOf maps a campaign id to its brand (needed only for brand staff).
func hideFlags(a Actor, refs []*Referral, brandOf map[string]string) {
	for _, r := range refs {
		if r != nil && !CanReadReferralFlags(a, brandOf[r.CampaignID]) {
			r.Flags = nil
		}
	}
}

// KeptDevices is what a member stored with device hashes keeps of them, most recent
// first: the first MaxDevicesKept distinct ones; nil for none.
func KeptDevices(hashes []string) []string {
	var kept []string
	for _, h := range slices.Backward(hashes) {
		kept = KeepDevice(kept, h)
	}
	if len(kept) == 0 {
		return nil
	}
	return kept
}
