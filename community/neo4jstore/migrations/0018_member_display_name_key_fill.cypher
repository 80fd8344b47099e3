// Members stored before displayNameKey was kept get theirs, a batch at a time: the
// migration runs again while it changes any.
MATCH (m:Member)
WHERE m.displayNameKey IS NULL AND m.displayName IS NOT NULL
WITH m LIMIT 10000
SET m.displayNameKey = toLower(m.displayName)
RETURN count(m) AS changed
