package store_test

import (
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/postgres"
	"github.com/boxwire/boxwire/internal/store/sqlite"
)

func postgresOpen(db string) (*store.Store, error) { return postgres.Open(ctx, db, store.Options{}) }
func sqliteOpen(db string) (*store.Store, error)   { return sqlite.Open(ctx, db, store.Options{}) }
