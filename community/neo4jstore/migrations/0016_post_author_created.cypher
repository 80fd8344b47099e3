// A member's posts by time: the part of a feed that comes from followed members seeks each
// one's newest posts without reading all of them.
CREATE INDEX post_author_created IF NOT EXISTS FOR (p:Post) ON (p.authorId, p.createdAt)
