package community

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Page sizes.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// cursorPrefix marks cursors this server issued; the version lets the format change later.
const cursorPrefix = "qzc2"

// cursorMACSize is how many bytes of the HMAC-SHA256 a cursor carries.
const cursorMACSize = 12

// A cursor is the key of an item in one list, typed by the list, with the list's name and
// owner (the member, club or query whose list it is), signed with the service's key so
// that a client can neither forge one nor carry one to another list. Each list declares
// the type of its keys: encodeCursor and decodeCursor take the list, so a key of the wrong
// type does not compile, and a cursor of another list does not decode.

// cursorList names a list whose cursors carry keys of type K.
type cursorList[K any] string

// The keys of lists.
type (
	// timeKey is where an item of a list ordered by a time, then an id, stands: follows,
	// programme members, consent changes, join requests, club members, comments.
	timeKey struct {
		At time.Time `json:"a"`
		ID string    `json:"i"`
	}
	// rankKey is where a post stands in a ranked list (HOT, TOP, NEW), and the time the
	// walk through the list started, which ranks every page of it.
	rankKey struct {
		Score float64   `json:"s"`
		At    time.Time `json:"a"`
		ID    string    `json:"i"`
		Now   time.Time `json:"n"`
	}
	// feedKey is where a post stands in a feed, and the time the feed was read as of.
	feedKey struct {
		At     time.Time `json:"a"`
		PostID string    `json:"p"`
		AsOf   time.Time `json:"o"`
	}
	// offsetKey is an item's place in a list ranked elsewhere (search hits).
	offsetKey struct {
		Offset int `json:"o"`
	}
)

// position is the store's Position of a timeKey.
func (k timeKey) position() *Position { return &Position{Since: k.At, ID: k.ID} }

// encodeCursor returns the cursor of key in list l of owner.
func encodeCursor[K any](s *core, l cursorList[K], owner string, key K) string {
	data, err := json.Marshal(key)
	if err != nil {
		panic(fmt.Sprintf("community: cursor key %T: %v", key, err))
	}
	payload := cursorPrefix + "|" + string(l) + "|" + owner + "|" + string(data)
	return base64.RawURLEncoding.EncodeToString(append([]byte(payload), s.cursorMAC(payload)...))
}

func (s *core) cursorMAC(payload string) []byte {
	mac := hmac.New(sha256.New, s.cursorKey)
	mac.Write([]byte(payload))
	return mac.Sum(nil)[:cursorMACSize]
}

// lazyCursor is a cursor encoded only when it is read: encoding signs it, and most
// pages are read without their items' cursors. The zero value stands for no cursor.
type lazyCursor[K any] struct {
	s     *core
	list  cursorList[K]
	owner string
	key   K
}

// newCursor returns the cursor of key in list l of owner, to be encoded when read.
func newCursor[K any](s *core, l cursorList[K], owner string, key K) lazyCursor[K] {
	return lazyCursor[K]{s, l, owner, key}
}

// String returns the cursor, or "" for none.
func (c lazyCursor[K]) String() string {
	if c.s == nil {
		return ""
	}
	return encodeCursor(c.s, c.list, c.owner, c.key)
}

// decodeCursor reads a cursor issued by encodeCursor for the same list and owner.
// BAD_USER_INPUT (on the after argument) for anything else.
func decodeCursor[K any](s *core, l cursorList[K], owner, c string) (K, error) {
	var key K
	bad := fieldError("after", "cursor was not issued for this list")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) <= cursorMACSize {
		return key, bad
	}
	payload, mac := string(raw[:len(raw)-cursorMACSize]), raw[len(raw)-cursorMACSize:]
	if !hmac.Equal(mac, s.cursorMAC(payload)) {
		return key, bad
	}
	parts := strings.SplitN(payload, "|", 4)
	if len(parts) != 4 || parts[0] != cursorPrefix || parts[1] != string(l) || parts[2] != owner {
		return key, bad
	}
	dec := json.NewDecoder(strings.NewReader(parts[3]))
	dec.DisallowUnknownFields()
	if dec.Decode(&key) != nil {
		return key, bad
	}
	return key, nil
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

// pageArgs checks the paging arguments of a page of list l of owner: BAD_USER_INPUT on
// first outside 0 to MaxPageSize, or for an after that is not a cursor of that list. It
// returns the position to page after; nil for the first page.
func pageArgs(s *core, l cursorList[timeKey], owner string, first int, after string) (*Position, error) {
	if first < 0 || first > MaxPageSize {
		return nil, fieldError("first", "first must be between 0 and %d", MaxPageSize)
	}
	if after == "" {
		return nil, nil
	}
	k, err := decodeCursor(s, l, owner, after)
	if err != nil {
		return nil, err
	}
	return k.position(), nil
}
