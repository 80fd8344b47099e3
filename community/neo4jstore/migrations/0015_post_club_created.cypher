// A club's posts by time: ClubPosts, RecentPostCounts and the club part of a feed seek a
// club's posts in a range of createdAt, newest first, without reading the rest of the club.
CREATE INDEX post_club_created IF NOT EXISTS FOR (p:Post) ON (p.clubId, p.createdAt)
