// Handles are unique case-insensitively: handleKey is the lower-case handle.
CREATE CONSTRAINT member_handle_key IF NOT EXISTS FOR (m:Member) REQUIRE m.handleKey IS UNIQUE
