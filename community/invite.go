package community

import (
	"crypto/rand"
	"math/big"
	"strings"
	"time"
)

// Invite is a member's invitation code for a campaign: the code a newcomer redeems to be
// referred by the member. A member has at most one live invite per campaign.
type Invite struct {
	// Code is InviteCodeLength characters of InviteAlphabet; codes are matched
	// case-insensitively (see InviteCodeKey), and stored as issued, in upper case.
	Code       string
	CampaignID string
	// MemberID is the referrer: the member who shares the code.
	MemberID string
	Channel  ShareChannel
	// Uses counts the code's redemptions.
	Uses int
	// MaxUses is the most redemptions of the code; 0 for no limit.
	MaxUses int
	// ExpiresAt is when the code stops being redeemable: the campaign's end.
	ExpiresAt time.Time
	CreatedAt time.Time
}

// LiveAt reports whether the invite may still be redeemed at now, as far as the code
// itself goes: not expired and not used up. (Its campaign must be active too.)
func (i Invite) LiveAt(now time.Time) bool {
	return now.Before(i.ExpiresAt) && (i.MaxUses == 0 || i.Uses < i.MaxUses)
}

// Invitation codes.
const (
	// InviteAlphabet is what codes are made of: upper-case letters and digits without the
	// look-alikes 0 and O, 1, I and L, so that a code read off a poster is typed right.
	InviteAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	// InviteCodeLength is the length of a code: 31^10, about 8·10^14 codes, so that live
	// codes are too sparse to find by guessing.
	InviteCodeLength = 10
	// MaxInviteUses is the highest limit of a code's redemptions.
	MaxInviteUses = 100_000
)

// newInviteCode returns a new code drawn from a cryptographic source, each character
// uniformly from InviteAlphabet.
func newInviteCode() string {
	var b strings.Builder
	n := big.NewInt(int64(len(InviteAlphabet)))
	for range InviteCodeLength {
		i, err := rand.Int(rand.Reader, n)
		if err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		b.WriteByte(InviteAlphabet[i.Int64()])
	}
	return b.String()
}

// InviteCodeKey is the form of a code that codes are matched on: trimmed and in upper
// case; "" for anything that cannot be a code.
func InviteCodeKey(code string) string {
	k := strings.ToUpper(strings.TrimSpace(code))
	if len(k) != InviteCodeLength || strings.Trim(k, InviteAlphabet) != "" {
		return ""
	}
	return k
}

// InvitePreview is what the landing page of a code shows anyone: the campaign, the brand,
// the referrer's display name, and whether the code can still be redeemed. Nothing else
// about the referrer.
type InvitePreview struct {
	Code         string
	CampaignName string
	BrandID      string
	ReferrerName string
	Redeemable   bool
}

// InvitePoster is what a front end needs to draw a share poster with a QR code; the
// server draws no images.
type InvitePoster struct {
	URL          string
	DisplayName  string
	AvatarURL    string
	CampaignName string
}

// DefaultInviteBaseURL is the base of invitation links when none is configured: relative,
// for the front end to resolve against its own origin.
const DefaultInviteBaseURL = "/invite/"
