package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements by their SQL text. SQLite spends
// more time parsing a statement than running it, and database/sql
// re-prepares every query with arguments; caching cut a quarter of the
// server's CPU on the append path. It is bounded: texts beyond maxStmts
// (dynamic IN lists) run unprepared.
type stmtCache struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
	// deferPrepare: the pool has one connection, held by the transaction
	// that misses; preparing then would wait for itself. Misses are noted
	// in wanted and prepared by prepareWanted once the connection is free.
	deferPrepare bool
	wanted       map[string]bool
}

const maxStmts = 256

func newStmtCache(db *sql.DB, deferPrepare bool) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, deferPrepare: deferPrepare, wanted: map[string]bool{}}
}

func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	c.mu.RLock()
	st := c.stmts[query]
	c.mu.RUnlock()
	if st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st = c.stmts[query]; st != nil || len(c.stmts) >= maxStmts {
		return st
	}
	if c.deferPrepare {
		c.wanted[query] = true
		return nil
	}
	return c.prepare(ctx, query)
}

// prepareWanted prepares the statements missed during transactions.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q := range c.wanted {
		if len(c.stmts) < maxStmts {
			c.prepare(ctx, q)
		}
		delete(c.wanted, q)
	}
}

// prepare is called with c.mu held.
func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil // the unprepared call reports the error
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	clear(c.stmts)
}

// cachedDB runs queries on a pool through the cache.
type cachedDB struct{ *stmtCache }

func (c cachedDB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := c.get(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return c.db.ExecContext(ctx, q, args...)
}

func (c cachedDB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := c.get(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, q, args...)
}

func (c cachedDB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := c.get(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, q, args...)
}

// cachedTx runs a transaction's statements through the cache of the pool
// it belongs to; on a one-connection pool (the SQLite writer) the
// statement is already prepared on the transaction's connection.
type cachedTx struct {
	tx    *sql.Tx
	cache *stmtCache
}

func (c cachedTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := c.cache.get(ctx, q); st != nil {
		return c.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return c.tx.ExecContext(ctx, q, args...)
}

func (c cachedTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := c.cache.get(ctx, q); st != nil {
		return c.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return c.tx.QueryContext(ctx, q, args...)
}

func (c cachedTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := c.cache.get(ctx, q); st != nil {
		return c.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return c.tx.QueryRowContext(ctx, q, args...)
}
