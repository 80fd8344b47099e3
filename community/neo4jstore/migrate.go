package neo4jstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strings"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// migrationFiles are the schema changes, one statement a file, applied in the order of
// their names. Each is idempotent (IF NOT EXISTS), so that servers starting at the same
// time, or a crash between applying one and recording it, do no harm. A data migration
// either changes a bounded batch and returns how many nodes it changed in a column named
// changed, and is run again, a transaction each time, until it changes none; or it makes
// one pass that commits as it goes (CALL … IN TRANSACTIONS OF $batch ROWS), run once in
// a transaction of its own. Either way a large graph is never migrated in one transaction;
// the second also reads it once, where the first reads it again for each batch.
//
//go:embed migrations/*.cypher
var migrationFiles embed.FS

// migrationBatch is how many rows a data migration that commits as it goes changes in
// each of its transactions ($batch).
var migrationBatch = 10_000

type migration struct {
	id     string
	cypher string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.cypher")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	out := make([]migration, len(names))
	for i, name := range names {
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out[i] = migration{id: strings.TrimSuffix(path.Base(name), ".cypher"), cypher: string(b)}
	}
	return out, nil
}

// migrate applies the migrations that the graph has no (:Migration {id}) record of, one
// transaction each (a schema change cannot share a transaction with a data write; a data
// migration takes one per batch), and records each once it is applied. It returns how many
// it applied.
func (s *Store) migrate(ctx context.Context, log *slog.Logger) (int, error) {
	all, err := migrations()
	if err != nil {
		return 0, fmt.Errorf("neo4jstore: read migrations: %w", err)
	}
	recs, err := query(ctx, s, cypherAppliedMigrations, nil)
	if err != nil {
		return 0, fmt.Errorf("neo4jstore: read applied migrations: %w", err)
	}
	done := map[string]bool{}
	for _, r := range recs {
		done[str(get(r, "id"))] = true
	}
	applied := 0
	for _, m := range all {
		if done[m.id] {
			continue
		}
		if err := s.applyMigration(ctx, m); err != nil {
			return applied, fmt.Errorf("neo4jstore: apply migration %s: %w", m.id, err)
		}
		_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
			return struct{}{}, exec(ctx, tx, cypherRecordMigration, map[string]any{"id": m.id})
		})
		if err != nil {
			return applied, fmt.Errorf("neo4jstore: record migration %s: %w", m.id, err)
		}
		applied++
		log.Info("neo4j migration applied", "id", m.id)
	}
	return applied, nil
}

// applyMigration runs a migration, again and again while it reports that it changed
// something; a schema change returns no row and runs once. One that commits as it goes
// runs once, in a transaction of its own that the statement itself manages, with
// $batch.
func (s *Store) applyMigration(ctx context.Context, m migration) error {
	if strings.Contains(m.cypher, "IN TRANSACTIONS") {
		s.trips.Count()
		session := s.session(ctx)
		defer session.Close(ctx)
		params := map[string]any{"batch": migrationBatch}
		if s.observe != nil {
			s.observe(m.cypher, params)
		}
		res, err := session.Run(ctx, m.cypher, params)
		if err == nil {
			_, err = res.Consume(ctx)
		}
		return err
	}
	for {
		changed, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
			recs, err := collect(ctx, tx, m.cypher, nil)
			if err != nil || len(recs) == 0 {
				return 0, err
			}
			return integer(get(recs[0], "changed")), nil
		})
		if err != nil || changed == 0 {
			return err
		}
	}
}
