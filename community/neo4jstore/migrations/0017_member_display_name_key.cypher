// Members by display name, case-insensitively: displayNameKey is the lower-case display
// name, and SearchMembers seeks a prefix of it.
CREATE INDEX member_display_name_key IF NOT EXISTS FOR (m:Member) ON (m.displayNameKey)
