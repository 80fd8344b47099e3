// Club slugs are unique case-insensitively: slugKey is the slug's community.SlugKey.
CREATE CONSTRAINT club_slug_key IF NOT EXISTS FOR (c:Club) REQUIRE c.slugKey IS UNIQUE
