package community

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Page sizes.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// cursorPrefix marks cursors this server issued; the version lets the format change later.
const cursorPrefix = "qzc1"

// cursorMACSize is how many bytes of the HMAC-SHA256 a cursor carries.
const cursorMACSize = 12

// cursor returns the opaque cursor of a position in the list of the given kind and owner:
// the position, signed with the service's key so that a client can neither forge one nor
// carry one to another list.
func (s *core) cursor(kind ListKind, owner string, p Position) string {
	payload := cursorPrefix + "|" + string(kind) + "|" + owner + "|" + strconv.FormatInt(p.Since.UnixNano(), 36) + "|" + p.MemberID
	return base64.RawURLEncoding.EncodeToString(append([]byte(payload), s.cursorMAC(payload)...))
}

func (s *core) cursorMAC(payload string) []byte {
	mac := hmac.New(sha256.New, s.cursorKey)
	mac.Write([]byte(payload))
	return mac.Sum(nil)[:cursorMACSize]
}

// decodeCursor reads a cursor issued by cursor for the same list. BAD_USER_INPUT for
// anything else.
func (s *core) decodeCursor(kind ListKind, owner, c string) (Position, error) {
	bad := fieldError("after", "cursor was not issued for this list")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) <= cursorMACSize {
		return Position{}, bad
	}
	payload, mac := string(raw[:len(raw)-cursorMACSize]), raw[len(raw)-cursorMACSize:]
	if !hmac.Equal(mac, s.cursorMAC(payload)) {
		return Position{}, bad
	}
	parts := strings.SplitN(payload, "|", 5)
	if len(parts) != 5 || parts[0] != cursorPrefix || parts[1] != string(kind) || parts[2] != owner {
		return Position{}, bad
	}
	nanos, err := strconv.ParseInt(parts[3], 36, 64)
	if err != nil {
		return Position{}, bad
	}
	return Position{Since: time.Unix(0, nanos).UTC(), MemberID: parts[4]}, nil
}

// validID reports whether id has the shape of a member id: a lower-case UUID.
func validID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i, r := range id {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
				return false
			}
		}
	}
	return true
}

// ValidID reports whether id has the shape of the ids this service makes (a lower-case
// UUID), so that callers can refuse malformed ids before asking a store.
func ValidID(id string) bool { return validID(id) }
