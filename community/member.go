package community

import (
	"regexp"
	"strings"
	"time"
)

// Member is a person in the community.
type Member struct {
	ID          string
	Handle      string
	DisplayName string
	Bio         string
	AvatarURL   string
	JoinedAt    time.Time
}

// IdentityProvider names the external account system an identity comes from.
type IdentityProvider string

// The identity providers a member can sign in with.
const (
	ProviderWeChat IdentityProvider = "WECHAT"
	ProviderWeibo  IdentityProvider = "WEIBO"
	ProviderTmall  IdentityProvider = "TMALL"
	ProviderDouyin IdentityProvider = "DOUYIN"
	ProviderPhone  IdentityProvider = "PHONE"
	ProviderEmail  IdentityProvider = "EMAIL"
)

// IdentityProviders lists every provider, in schema order.
var IdentityProviders = []IdentityProvider{ProviderWeChat, ProviderWeibo, ProviderTmall, ProviderDouyin, ProviderPhone, ProviderEmail}

// Valid reports whether p is one of IdentityProviders.
func (p IdentityProvider) Valid() bool {
	for _, q := range IdentityProviders {
		if p == q {
			return true
		}
	}
	return false
}

// Identity is a verified external account bound to a member; (Provider, ExternalID) is
// unique across the community, and a member has at most one identity per provider.
type Identity struct {
	Provider   IdentityProvider
	ExternalID string
	LinkedAt   time.Time
}

// Same reports whether o is the same external account as i.
func (i Identity) Same(o Identity) bool {
	return i.Provider == o.Provider && i.ExternalID == o.ExternalID
}

// Validate checks the provider and the external id of an identity claim.
func (i Identity) Validate() error {
	if !i.Provider.Valid() {
		return fieldError("provider", "unknown identity provider %q", i.Provider)
	}
	return identityIDText.check(i.ExternalID)
}

var handlePattern = regexp.MustCompile(`^[a-z0-9_]{3,30}$`)

// HandleKey is the form of a handle that uniqueness is checked on: handles are unique
// case-insensitively.
func HandleKey(handle string) string { return strings.ToLower(handle) }

// Profile limits.
const (
	MaxDisplayName = 50
	MaxBio         = 500
	MaxAvatarURL   = 500
	// MaxIdentityID is the longest external id of an identity.
	MaxIdentityID = 200
)

// RegisterMemberInput is what a verified person gives to become a member.
type RegisterMemberInput struct {
	Handle      string
	DisplayName string
	Bio         string
	AvatarURL   string
	// InviteCode is an invitation code to redeem on joining, or "" for none.
	InviteCode string
}

// Normalize trims the display name, bio and avatar URL and folds the handle to lower case.
func (in *RegisterMemberInput) Normalize() {
	in.Handle = HandleKey(strings.TrimSpace(in.Handle))
	in.DisplayName = displayNameText.normalize(in.DisplayName)
	in.Bio = bioText.normalize(in.Bio)
	in.AvatarURL = avatarURLText.normalize(in.AvatarURL)
}

// Validate checks a normalized input against the profile rules.
func (in RegisterMemberInput) Validate() error {
	if err := validateHandle(in.Handle); err != nil {
		return err
	}
	if err := displayNameText.check(in.DisplayName); err != nil {
		return err
	}
	if err := bioText.check(in.Bio); err != nil {
		return err
	}
	return validateAvatarURL(in.AvatarURL)
}

// UpdateProfileInput changes the fields that are set; nil leaves a field as it is.
type UpdateProfileInput struct {
	Handle      *string
	DisplayName *string
	Bio         *string
	AvatarURL   *string
}

// Normalize trims the set fields, folds the handle to lower case and the bio's line ends
// to newlines.
func (in *UpdateProfileInput) Normalize() {
	if in.Handle != nil {
		*in.Handle = HandleKey(strings.TrimSpace(*in.Handle))
	}
	if in.DisplayName != nil {
		*in.DisplayName = displayNameText.normalize(*in.DisplayName)
	}
	if in.Bio != nil {
		*in.Bio = bioText.normalize(*in.Bio)
	}
	if in.AvatarURL != nil {
		*in.AvatarURL = avatarURLText.normalize(*in.AvatarURL)
	}
}

// Validate checks the set fields of a normalized input.
func (in UpdateProfileInput) Validate() error {
	if in.Handle == nil && in.DisplayName == nil && in.Bio == nil && in.AvatarURL == nil {
		return fieldError("input", "nothing to update")
	}
	if in.Handle != nil {
		if err := validateHandle(*in.Handle); err != nil {
			return err
		}
	}
	if in.DisplayName != nil {
		if err := displayNameText.check(*in.DisplayName); err != nil {
			return err
		}
	}
	if in.Bio != nil {
		if err := bioText.check(*in.Bio); err != nil {
			return err
		}
	}
	if in.AvatarURL != nil {
		return validateAvatarURL(*in.AvatarURL)
	}
	return nil
}

// Apply returns m with the set fields of in.
func (in UpdateProfileInput) Apply(m Member) Member {
	if in.Handle != nil {
		m.Handle = *in.Handle
	}
	if in.DisplayName != nil {
		m.DisplayName = *in.DisplayName
	}
	if in.Bio != nil {
		m.Bio = *in.Bio
	}
	if in.AvatarURL != nil {
		m.AvatarURL = *in.AvatarURL
	}
	return m
}

func validateHandle(h string) error {
	if !handlePattern.MatchString(h) {
		return fieldError("handle", "handle must be 3 to 30 characters of a-z, 0-9 and _")
	}
	return nil
}

func validateAvatarURL(s string) error {
	if err := avatarURLText.check(s); err != nil || s == "" {
		return err
	}
	if !(strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) || strings.ContainsAny(s, " \"<>") {
		return fieldError("avatarUrl", "avatar URL must be an http(s) URL of at most %d characters", MaxAvatarURL)
	}
	return nil
}

// IsEntity marks Member as an entity of the federated graph: other services may extend it
// and refer to it by id. (The federation runtime requires the method; it does nothing.)
func (Member) IsEntity() {}
