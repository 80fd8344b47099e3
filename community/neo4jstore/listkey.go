package neo4jstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"quanzi/community"
)

// A list of members that pages run through newest first is kept in order by a key on each
// relationship that puts a member in it, in a range index. A key is the list owner's id,
// the time the member entered the list in sinceOrder's form, and the listed member's id,
// separated by keySeparator:
//
//	<owner> <since, newest first> <member id>
//
// so that the keys of one list are the range (listKeyStart(owner, nil), listKeyEnd(owner))
// of its index, in list order (since descending, then member id ascending), and a page is a
// seek of that range, from the key of the position it starts after, that stops after the
// page. Ids are lower-case UUIDs (community.ValidID); a space sorts below every character of
// them, and of any id without spaces or control characters, so that no other owner's keys
// fall in the range, even one whose id begins with this one's.
//
// The lists, the property that holds their keys, each in a range index that a migration
// creates, and the owner and the time of a key:
//
//	list                           key property             owner       time   index
//	a member's followers           FOLLOWS.inKey            followee    since  0029
//	a member's followings          FOLLOWS.outKey           follower    since  0030
//	a club's members               JOINED.inKey             club        since  0032
//	a club's members of one role   JOINED.roleKey           club, role  since  0033
//	a club's requests to join      REQUESTED_TO_JOIN.inKey  club        at     0034
//	a brand's programme members    MEMBER_OF.inKey          brand       since  0035
//
// The owner of a list of one role is the club's id and the role, separated by keySeparator
// (clubListOwner): a role has no space, so that each role of each club has a range of its
// own. The keys are written with the relationship
// (cypherFollow, cypherImportFollows, cypherCreateClub, cypherJoinClub,
// cypherDecideJoinRequest, cypherImportClubMembers, cypherRequestJoin, cypherJoinBrand) and
// never change, as the time does not, but for the role key, which a change of role
// rewrites (cypherSetClubRole). Migrations 0031 and 0036 give them to relationships stored
// before, with the same encoding in Cypher.
const (
	keySeparator = " "
	// keyEnd is the character after keySeparator: listKeyEnd bounds an owner's keys with it.
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
// 999,999,999, and every one of them has a key; a time beyond them, which nothing listed can
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

// listKey is the key of member in owner's list since a time: for a follow, inKey when
// owner is the followee and member the follower, outKey the other way round.
func listKey(owner string, since time.Time, member string) string {
	return owner + keySeparator + sinceOrder(since) + keySeparator + member
}

// listKeyStart is where a page of owner's list starts, exclusively: at the key of the
// position it starts after, or before the first key of the list.
func listKeyStart(owner string, after *community.Position) string {
	if after == nil {
		return owner + keySeparator
	}
	return listKey(owner, after.Since, after.ID)
}

// listKeyEnd is where owner's list ends, exclusively: after its last key.
func listKeyEnd(owner string) string {
	return owner + keyEnd
}

// parseListKey reads the member and the time of a key in owner's list.
func parseListKey(owner, key string) (member string, since time.Time, ok bool) {
	rest, found := strings.CutPrefix(key, owner+keySeparator)
	if !found || len(rest) < sinceDigits+len(keySeparator) || rest[sinceDigits:sinceDigits+len(keySeparator)] != keySeparator {
		return "", time.Time{}, false
	}
	since, ok = parseSinceOrder(rest[:sinceDigits])
	return rest[sinceDigits+len(keySeparator):], since, ok
}
