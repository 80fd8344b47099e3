package neo4jstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"quanzi/community"
)

// A follow is kept in its two members' lists by two keys on its FOLLOWS relationship, each
// in a range index (migrations 0029 and 0030): inKey places it in the followee's list of
// followers, outKey in the follower's list of followings. A key is the list owner's id, the
// time of the follow in sinceOrder's form, and the other member's id, separated by
// keySeparator:
//
//	<owner id> <since, newest first> <other id>
//
// so that the keys of one member's list are the range [owner+" ", owner+"!") of its index,
// in list order (since descending, then id ascending), and a page is a seek of that range,
// from the key of the position it starts after, that stops after the page. Member ids are
// lower-case UUIDs (community.ValidID); a space sorts below every character of them, and
// of any id without spaces or control characters, so that no other member's keys fall in
// the range, even one whose id begins with this one's.
//
// The keys are written with the follow (cypherFollow, cypherImportFollows) and never
// change, as since does not; migration 0031 gives them to follows stored before, with the
// same encoding in Cypher.
const (
	keySeparator = " "
	// keyEnd is the character after keySeparator: owner+keyEnd bounds the owner's keys.
	keyEnd = "!"
)

// The widths of the fields of sinceOrder, and the value each is subtracted from.
const (
	yearDigits   = 10
	yearMax      = 999_999_999 // Neo4j's latest year; its earliest is -yearMax
	dayDigits    = 3
	dayMax       = 366
	secondDigits = 5
	secondMax    = 86_399
	nanoDigits   = 9
	nanoMax      = 999_999_999

	sinceDigits = yearDigits + dayDigits + secondDigits + nanoDigits
)

// The earliest and latest times Neo4j stores: sinceOrder clamps other times to them.
var (
	earliestSince = time.Date(-yearMax, 1, 1, 0, 0, 0, 0, time.UTC)
	latestSince   = time.Date(yearMax, 12, 31, 23, 59, 59, nanoMax, time.UTC)
)

// sinceOrder encodes a time in 27 decimal digits whose ascending order is the times'
// descending order, to the nanosecond: the year, the day of the year, the second of the
// day and the nanosecond of the second, of the time in UTC, each subtracted from its
// largest value and zero-padded to a fixed width. Neo4j stores years from -999,999,999 to
// 999,999,999, and every one of them has a key; a time beyond them, which no follow can
// have, is taken as the nearer of them. The components, not epoch seconds, because
// Cypher's epochSeconds truncates towards zero before 1970 and overflows beyond the year
// 292,278,994. Migration 0031 computes the same digits in Cypher.
func sinceOrder(t time.Time) string {
	t = t.UTC()
	if t.Before(earliestSince) {
		t = earliestSince
	} else if t.After(latestSince) {
		t = latestSince
	}
	second := t.Hour()*3600 + t.Minute()*60 + t.Second()
	return fmt.Sprintf("%0*d%0*d%0*d%0*d",
		yearDigits, yearMax-t.Year(), dayDigits, dayMax-t.YearDay(),
		secondDigits, secondMax-second, nanoDigits, nanoMax-t.Nanosecond())
}

// parseSinceOrder reads a time encoded by sinceOrder.
func parseSinceOrder(s string) (time.Time, bool) {
	if len(s) != sinceDigits {
		return time.Time{}, false
	}
	var f [4]int
	for i, w := range []int{yearDigits, dayDigits, secondDigits, nanoDigits} {
		n, err := strconv.Atoi(s[:w])
		if err != nil || n < 0 {
			return time.Time{}, false
		}
		f[i], s = n, s[w:]
	}
	year, day, second, nano := yearMax-f[0], dayMax-f[1], secondMax-f[2], nanoMax-f[3]
	return time.Date(year, 1, day, 0, 0, second, nano, time.UTC), true
}

// followKey is the key of a follow in owner's list: inKey when owner is the followee and
// other the follower, outKey the other way round.
func followKey(owner string, since time.Time, other string) string {
	return owner + keySeparator + sinceOrder(since) + keySeparator + other
}

// followKeyStart is where a page of owner's list starts, exclusively: at the key of the
// position it starts after, or before the first key of the list.
func followKeyStart(owner string, after *community.Position) string {
	if after == nil {
		return owner + keySeparator
	}
	return followKey(owner, after.Since, after.ID)
}

// parseFollowKey reads the other member and the time of a follow from its key in owner's
// list.
func parseFollowKey(owner, key string) (other string, since time.Time, ok bool) {
	rest, found := strings.CutPrefix(key, owner+keySeparator)
	if !found || len(rest) < sinceDigits+len(keySeparator) || rest[sinceDigits:sinceDigits+len(keySeparator)] != keySeparator {
		return "", time.Time{}, false
	}
	since, ok = parseSinceOrder(rest[:sinceDigits])
	return rest[sinceDigits+len(keySeparator):], since, ok
}
