package community

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The rules for text. Every text that members and staff give the community is one of two
// kinds, and is checked by the one textField below that names it:
//
//   - A line names or labels something and is shown on one line: display names, brand,
//     club and tier names, post titles, tags, external ids, avatar URLs. (Handles and slugs
//     are stricter still: patterns of a-z, 0-9 and a few marks.)
//   - Long text is what members write at length: bios, descriptions, post and comment
//     bodies, join request messages.
//
// Everywhere: the text is valid UTF-8, and holds no bidirectional embedding, override or
// isolate (U+202A–U+202E, U+2066–U+2069), which make text show in another order than it
// is stored ("\u202egnp.exe" shows as "exe.png"), and no noncharacter (U+FFFE, U+FDD0, …).
// Text that is not empty must show something: a letter, digit, punctuation mark or
// symbol, not only spaces, format characters, combining marks, variation selectors or
// blank fillers (ㅤ U+3164 and its kin).
//
// Lines: no control character at all (C0, DEL, C1: tabs and line breaks included), no
// line or paragraph separator, no invisible format character (Unicode category Cf: zero
// width space and joiners, word joiner, BOM, soft hyphen, left-to-right marks, …), and no
// combining mark at the start, where it would fall on whatever is shown before the line.
// One exception keeps emoji whole: a zero width joiner between two emoji (👨‍👩‍👧) and the
// tag characters of a subdivision flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿) are part of the emoji, not hidden text.
//
// Long text: no control character but newline and tab. Carriage returns are not refused
// but folded: normalize turns CRLF and a lone CR into a newline, so text pasted from any
// system keeps its lines. Format characters other than the bidirectional controls are
// kept: long text may quote any script, and left-to-right marks or joiners inside it
// deceive no one about who or what it names.
//
// Keys are what clients make up to name a request, not text for people: an idempotency
// key is 1 to MaxIdempotencyKey characters of ASCII letters, digits, '-', '_' and ':'
// (enough for a UUID, a ULID or "checkout:42"), taken exactly as sent: no trimming, no
// case folding.

// textField is one text input of the domain: the input field it comes from (which
// errors name), how messages speak of it, its length in characters, and its kind.
type textField struct {
	field    string
	what     string
	min, max int
	long     bool
	// alphabet, when set, is the only characters the text may hold; alphabetNames says
	// them in messages.
	alphabet      func(r rune) bool
	alphabetNames string
}

// The text inputs of the domain. Every validator checks its text through one of these.
var (
	displayNameText = textField{field: "displayName", what: "display name", min: 1, max: MaxDisplayName}
	bioText         = textField{field: "bio", what: "bio", max: MaxBio, long: true}
	avatarURLText   = textField{field: "avatarUrl", what: "avatar URL", max: MaxAvatarURL}
	identityIDText  = textField{field: "externalId", what: "external id", min: 1, max: MaxIdentityID}
	purchaseIDText  = textField{field: "externalId", what: "external id", min: 1, max: MaxExternalID}
	// nameText is the name of a brand or a club.
	nameText        = textField{field: "name", what: "name", min: 1, max: MaxName}
	descriptionText = textField{field: "description", what: "description", max: MaxDescription, long: true}
	tierNameText    = textField{field: "tiers", what: "a tier name", min: 1, max: MaxTierName}
	titleText       = textField{field: "title", what: "title", min: 1, max: MaxTitle}
	postBodyText    = textField{field: "body", what: "body", min: 1, max: MaxPostBody, long: true}
	tagText         = textField{field: "tags", what: "a tag", min: 1, max: MaxTag}
	commentBodyText = textField{field: "body", what: "a comment", min: 1, max: MaxCommentBody, long: true}
	joinMessageText = textField{field: "message", what: "message", max: MaxJoinMessage, long: true}
	// idempotencyKeyText is a client's idempotency key (see IdempotencyStore): checked as
	// sent, never normalized.
	idempotencyKeyText = textField{field: "idempotencyKey", what: "idempotency key", min: 1, max: MaxIdempotencyKey,
		alphabet: isKeyChar, alphabetNames: "ASCII letters, digits, '-', '_' and ':'"}
)

// MaxIdempotencyKey is the longest idempotency key.
const MaxIdempotencyKey = 64

// isKeyChar reports whether r may be part of a key.
func isKeyChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == ':'
}

// normalize trims the text and, in long text, makes every line end in a newline.
func (f textField) normalize(s string) string {
	if f.long {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return strings.TrimSpace(s)
}

// check returns BAD_USER_INPUT, on f's field, unless the normalized text s keeps the rules
// of its kind and its length.
func (f textField) check(s string) error {
	if !utf8.ValidString(s) {
		return f.refuse("is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n < f.min || n > f.max {
		if f.min == 0 {
			return f.refuse("must be at most %d characters", f.max)
		}
		return f.refuse("must be %d to %d characters", f.min, f.max)
	}
	if s == "" {
		return nil
	}
	if f.alphabet != nil && strings.IndexFunc(s, func(r rune) bool { return !f.alphabet(r) }) >= 0 {
		return f.refuse("must be made of %s only", f.alphabetNames)
	}
	prev := rune(-1)
	for i, r := range s {
		switch {
		case isBidiControl(r):
			return f.refuse("must not contain bidirectional control characters such as %U", r)
		case !f.long && isLineBreak(r):
			return f.refuse("must be a single line")
		case unicode.IsControl(r) && !(f.long && (r == '\n' || r == '\t')):
			return f.refuse("must not contain control characters such as %U", r)
		case isNoncharacter(r):
			return f.refuse("must not contain noncharacters such as %U", r)
		case !f.long && unicode.Is(unicode.Cf, r) && !joinsEmoji(s[i:], prev, r):
			return f.refuse("must not contain invisible format characters such as %U", r)
		case !f.long && i == 0 && unicode.Is(unicode.M, r):
			return f.refuse("must not start with a combining mark")
		}
		prev = r
	}
	if !strings.ContainsFunc(s, isVisible) {
		return f.refuse("must contain a visible character")
	}
	return nil
}

func (f textField) refuse(format string, args ...any) error {
	return fieldError(f.field, "%s %s", f.what, fmt.Sprintf(format, args...))
}

// isBidiControl reports whether r is a bidirectional embedding, override or isolate.
func isBidiControl(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}

// isLineBreak reports whether r ends a line.
func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\v', '\f', '\r', '\u0085', '\u2028', '\u2029':
		return true
	}
	return false
}

// isNoncharacter reports whether r is one of the code points Unicode keeps out of text.
func isNoncharacter(r rune) bool {
	return r >= '\ufdd0' && r <= '\ufdef' || r&0xfffe == 0xfffe
}

// isVisible reports whether r shows something by itself: a letter, number, punctuation
// mark or symbol that is not one of the fillers that render blank.
func isVisible(r rune) bool {
	switch r {
	case '\u115f', '\u1160', '\u3164', '\uffa0', '\u2800': // Hangul fillers, braille blank
		return false
	}
	return unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S)
}

// joinsEmoji reports whether the format character r, at the start of rest and after
// prev, belongs to an emoji: a zero width joiner between two emoji (an emoji may end in a
// skin tone or the emoji variation selector), or a tag character of a subdivision flag.
func joinsEmoji(rest string, prev, r rune) bool {
	switch {
	case r == '\u200d':
		next, size := utf8.DecodeRuneInString(rest[len("\u200d"):])
		endsEmoji := unicode.Is(unicode.So, prev) || prev == '\ufe0f' || prev >= 0x1f3fb && prev <= 0x1f3ff
		return endsEmoji && size > 0 && unicode.Is(unicode.So, next)
	case r >= 0xe0020 && r <= 0xe007f:
		return prev == 0x1f3f4 || prev >= 0xe0020 && prev <= 0xe007e
	}
	return false
}
