package community

import (
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

// PageArgs are a client's Relay paging arguments.
type PageArgs struct {
	First *int
	After *string
}

// cursorPrefix marks cursors this server issued; the version lets the format change later.
const cursorPrefix = "qzc1"

// EncodeCursor returns the opaque cursor of a position in a list of the named kind.
func EncodeCursor(kind string, p Position) string {
	raw := cursorPrefix + "|" + kind + "|" + strconv.FormatInt(p.Since.UnixNano(), 36) + "|" + p.MemberID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeCursor reads a cursor issued by EncodeCursor for a list of the same kind.
// BAD_USER_INPUT for anything else.
func decodeCursor(kind, cursor string) (Position, error) {
	bad := fieldError("after", "cursor was not issued for this list")
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return Position{}, bad
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 4 || parts[0] != cursorPrefix || parts[1] != kind || !validID(parts[3]) {
		return Position{}, bad
	}
	nanos, err := strconv.ParseInt(parts[2], 36, 64)
	if err != nil {
		return Position{}, bad
	}
	return Position{Since: time.Unix(0, nanos).UTC(), MemberID: parts[3]}, nil
}

// pageRequest validates paging arguments for a list of the named kind.
func pageRequest(kind string, args PageArgs) (PageRequest, error) {
	req := PageRequest{First: DefaultPageSize}
	if args.First != nil {
		if *args.First < 0 || *args.First > MaxPageSize {
			return req, fieldError("first", "first must be between 0 and %d", MaxPageSize)
		}
		req.First = *args.First
	}
	if args.After != nil && *args.After != "" {
		p, err := decodeCursor(kind, *args.After)
		if err != nil {
			return req, err
		}
		req.After = &p
	}
	return req, nil
}

// validID reports whether id has the shape of a member id: 36 characters of a UUID.
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
