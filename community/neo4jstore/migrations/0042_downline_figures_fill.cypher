// Members stored before their downline figures were kept get them, in one pass that
// commits every $batch of them: bought (a purchase that is not refunded), and, of the
// members with referees, the counts of levels 1 to 10, the whole downline, the depth of
// its deepest branch and its members who bought, counted from the referrals below each
// (a member has one referrer, so each member below is one path). The figures are written
// whole, not added to, so that a pass cut short and run again by the next start counts
// nothing twice. Members without referees or purchases are left without figures: they
// read as zero.
MATCH (m:Member)
CALL (m) {
  WITH m WHERE m.downlineTotal IS NULL
    AND (EXISTS { (m)<-[:REFERRED_BY]-(:Member) } OR EXISTS { (m)-[:BOUGHT]->(:Purchase) })
  WITH m, COLLECT {
    MATCH p = (m)<-[:REFERRED_BY*1..]-(x:Member)
    RETURN {d: length(p), bought: EXISTS { (x)-[:BOUGHT]->(b:Purchase) WHERE b.refundedAt IS NULL }} AS row
  } AS rows
  SET m.bought = EXISTS { (m)-[:BOUGHT]->(b:Purchase) WHERE b.refundedAt IS NULL },
    m.downlineLevels = [k IN range(1, 10) | size([r IN rows WHERE r.d = k])],
    m.downlineTotal = size(rows),
    m.downlineDeepest = reduce(deepest = 0, r IN rows | CASE WHEN r.d > deepest THEN r.d ELSE deepest END),
    m.downlineConverted = size([r IN rows WHERE r.bought])
} IN TRANSACTIONS OF $batch ROWS
