package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/boxwire/boxwire/internal/atrest"
	"github.com/boxwire/boxwire/internal/msgrules"
)

// Secrets at rest (webhook secrets, WhatsApp tokens and app secrets, the
// settings table's server secrets) are sealed with Options.SecretKey as
// they are written and opened as they are read; see package atrest. The
// "where" of each value names its table, row and field.

// keyCheck is a settings row sealed with the key the database's secrets
// are sealed with, so a node given another key fails at start instead of
// failing on the first secret it reads.
const keyCheck = "secret_key_check"

// errNoKey: the store was opened without a key but holds sealed secrets.
var errNoKey = errors.New("this database's secrets are sealed, and no secret key was given (--secret-key-file)")

func (s *Store) seal(plain, where string) string {
	if s.opts.SecretKey == nil {
		return plain
	}
	return s.opts.SecretKey.Seal(plain, where)
}

func (s *Store) open(stored, where string) (string, error) {
	if !atrest.IsSealed(stored) {
		return stored, nil
	}
	if s.opts.SecretKey == nil {
		return "", errNoKey
	}
	v, err := s.opts.SecretKey.Open(stored, where)
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	return v, nil
}

func settingWhere(name string) string  { return "settings/" + name }
func webhookWhere(id string) string    { return "webhooks/" + id + "/secret" }
func accountWhere(id, f string) string { return "api_accounts/" + id + "/settings/" + f }

// accountSecrets are the sealed fields of a WhatsApp account's settings.
func accountSecrets(c *msgrules.ChannelSettings) map[string]*string {
	return map[string]*string{"accessToken": &c.AccessToken, "appSecret": &c.AppSecret, "verifyToken": &c.VerifyToken}
}

// sealedSettings returns a's settings as stored: JSON whose secrets are sealed.
func (s *Store) sealedSettings(a msgrules.APIAccount) string {
	c := a.Settings
	for f, v := range accountSecrets(&c) {
		*v = s.seal(*v, accountWhere(a.APIAccountID, f))
	}
	b, _ := json.Marshal(c)
	return string(b)
}

func (s *Store) openAccount(a msgrules.APIAccount, err error) (msgrules.APIAccount, error) {
	if err != nil {
		return a, err
	}
	for f, v := range accountSecrets(&a.Settings) {
		if *v, err = s.open(*v, accountWhere(a.APIAccountID, f)); err != nil {
			return msgrules.APIAccount{}, err
		}
	}
	return a, nil
}

func (s *Store) openWebhook(w msgrules.Webhook, err error) (msgrules.Webhook, error) {
	if err != nil {
		return w, err
	}
	if w.Secret, err = s.open(w.Secret, webhookWhere(w.WebhookID)); err != nil {
		return msgrules.Webhook{}, err
	}
	return w, nil
}

// openAll opens every record of a list read.
func openAll[T any](list []T, err error, open func(T, error) (T, error)) ([]T, error) {
	for i := range list {
		if err != nil {
			break
		}
		list[i], err = open(list[i], nil)
	}
	if err != nil {
		return nil, err
	}
	return list, nil
}

// sealAtRest runs at every start, after the schema migrations and in
// their manner (one transaction under the write lock, so nodes starting
// together agree): it checks that the key is the one the database's
// secrets are sealed with, and seals the secrets still in plaintext,
// written before sealing existed. Sealing is idempotent: a sealed value
// is left alone. Without a key, nothing is sealed.
func (s *Store) sealAtRest(ctx context.Context) error {
	if s.opts.SecretKey == nil {
		return nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.dialect.LockWrites(ctx, tx); err != nil {
		return err
	}
	if err := s.checkKey(ctx, tx); err != nil {
		return err
	}
	sealed := 0
	for _, step := range []func(context.Context, *sql.Tx) (int, error){s.sealSettings, s.sealWebhooks, s.sealAccounts} {
		n, err := step(ctx, tx)
		if err != nil {
			return fmt.Errorf("sealing secrets at rest: %w", err)
		}
		sealed += n
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if sc, ok := s.dialect.(scrubber); ok && sealed > 0 {
		return sc.Scrub(ctx, s.write)
	}
	return nil
}

// scrubber is an engine whose files keep the bytes of replaced rows
// (SQLite's free pages and WAL): after plaintext secrets are sealed it
// rewrites them, so the plaintext is not left behind on disk.
type scrubber interface {
	Scrub(ctx context.Context, db *sql.DB) error
}

// ErrWrongKey: the store's key does not open the database's secrets.
var ErrWrongKey = atrest.ErrWrongKey

func (s *Store) checkKey(ctx context.Context, tx *sql.Tx) error {
	var stored string
	err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = $1`, keyCheck).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)`,
			keyCheck, s.opts.SecretKey.Seal("boxwire", settingWhere(keyCheck)))
		return err
	}
	if err != nil {
		return err
	}
	if _, err := s.opts.SecretKey.Open(stored, settingWhere(keyCheck)); err != nil {
		return fmt.Errorf("this database's secrets were sealed with another key: %w", ErrWrongKey)
	}
	return nil
}

// sealSettings seals the settings table's values: every one of them is
// a server secret (see Secret).
func (s *Store) sealSettings(ctx context.Context, tx *sql.Tx) (int, error) {
	return sealColumn(ctx, tx, `SELECT name, value FROM settings`, `UPDATE settings SET value = $2 WHERE name = $1`,
		func(id, v string) string { return s.seal(v, settingWhere(id)) })
}

func (s *Store) sealWebhooks(ctx context.Context, tx *sql.Tx) (int, error) {
	return sealColumn(ctx, tx, `SELECT id, secret FROM webhooks`, `UPDATE webhooks SET secret = $2 WHERE id = $1`,
		func(id, v string) string { return s.seal(v, webhookWhere(id)) })
}

func (s *Store) sealAccounts(ctx context.Context, tx *sql.Tx) (int, error) {
	return sealColumn(ctx, tx, `SELECT id, settings FROM api_accounts`, `UPDATE api_accounts SET settings = $2 WHERE id = $1`,
		func(id, v string) string {
			a := msgrules.APIAccount{APIAccountID: id}
			if json.Unmarshal([]byte(v), &a.Settings) != nil {
				return v // not ours to fix; the read reports it
			}
			return s.sealedSettings(a)
		})
}

// sealColumn reads (id, value) pairs with list, and writes back with
// update those that seal changes; it returns how many.
func sealColumn(ctx context.Context, tx *sql.Tx, list, update string, seal func(id, v string) string) (int, error) {
	rows, err := tx.QueryContext(ctx, list)
	if err != nil {
		return 0, err
	}
	changed := map[string]string{}
	for rows.Next() {
		var id, v string
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return 0, err
		}
		if sealed := seal(id, v); sealed != v {
			changed[id] = sealed
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for id, v := range changed {
		if _, err := tx.ExecContext(ctx, update, id, v); err != nil {
			return 0, err
		}
	}
	return len(changed), nil
}
