// Slugs are unique case-insensitively: slugKey is the slug's community.SlugKey.
CREATE CONSTRAINT brand_slug_key IF NOT EXISTS FOR (b:Brand) REQUIRE b.slugKey IS UNIQUE
