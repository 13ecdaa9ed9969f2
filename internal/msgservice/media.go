package msgservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/boxservice"
	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/store"
)

// File is a file received with a request and held aside (nothing refers
// to it yet): SendMessage or UploadMedia keeps it, or discards it when
// the request is refused.
type File struct {
	Kind        string
	ContentType string
	Name        string
	up          boxservice.Upload
}

// Discard drops a file that no call kept. It is safe to call twice and
// after a call kept the file.
func (f *File) Discard() {
	if f != nil && f.up != nil {
		f.up.Discard()
	}
}

// ReceiveFile streams a file a member sends (the multipart part named
// field) aside, after checking its type, and refusing it once it is
// larger than its kind allows. Nothing is visible until a call keeps it.
func (s *Service) ReceiveFile(ctx context.Context, field string, r io.Reader, contentType, name string) (*File, error) {
	if _, err := s.member(ctx); err != nil {
		return nil, err
	}
	if s.Media == nil {
		return nil, errs.Field(errs.Body, field, errs.Invalid_, "this server keeps no message files")
	}
	kind, mt, limit, err := msgrules.MediaKind(field, contentType, s.MaxMediaSize)
	if err != nil {
		return nil, err
	}
	up, err := s.Media.Receive(r, limit, field)
	if err != nil {
		return nil, err
	}
	if up.Len() == 0 {
		up.Discard()
		return nil, errs.Field(errs.Body, field, errs.Required, "%s is empty", field)
	}
	return &File{Kind: kind, ContentType: mt, Name: msgrules.FileName(name), up: up}, nil
}

// fileLocation is where a kept file is downloaded.
func (s *Service) fileLocation(mediaID string) string {
	return strings.TrimRight(s.PublicURL, "/") + "/media/" + mediaID
}

// keep stores f's bytes under a new id, for the API account a, and
// returns its record; the caller records it in its transaction, and
// removes the blob if that fails.
func (s *Service) keep(f *File, a msgrules.APIAccount) (msgrules.Media, error) {
	id := uuid.NewString()
	if err := f.up.Keep(id); err != nil {
		return msgrules.Media{}, err
	}
	return msgrules.Media{MediaID: id, OrgID: a.OrgID, APIAccountID: a.APIAccountID, MediaType: f.Kind,
		ContentType: f.ContentType, FileName: f.Name, Size: f.up.Len(), FileLocation: s.fileLocation(id)}, nil
}

// UploadMedia keeps a file on an API account the caller reaches, to be
// sent later by its fileLocation.
func (s *Service) UploadMedia(ctx context.Context, accountID string, f *File) (msgrules.Media, error) {
	defer f.Discard()
	m, err := s.member(ctx)
	if err != nil {
		return msgrules.Media{}, err
	}
	a, err := account(ctx, s.Store.APIAccount, m, "apiAccountId", accountID)
	if err != nil {
		return msgrules.Media{}, err
	}
	if f == nil {
		return msgrules.Media{}, errs.Field(errs.Body, "file", errs.Required, "file is required")
	}
	md, err := s.keep(f, a)
	if err != nil {
		return md, err
	}
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.CreateMedia(ctx, md, m.UserID) })
	if err != nil {
		s.Media.Remove(md.MediaID)
	}
	return md, err
}

// OpenMedia opens a kept file for a member who reaches its API account;
// any other file, another organisation's included, is not found.
func (s *Service) OpenMedia(ctx context.Context, id string) (msgrules.Media, io.ReadSeekCloser, error) {
	m, err := s.member(ctx)
	if err != nil {
		return msgrules.Media{}, nil, err
	}
	md, err := s.Store.Media(ctx, store.ReachOf(m), id)
	if err != nil {
		return md, nil, err
	}
	if s.Media == nil {
		return md, nil, errs.E(errs.NotFound, "no such file")
	}
	f, err := s.Media.Open(id)
	return md, f, err
}

// mediaIDOf reads the file id of a fileLocation: this server's URL of a
// file (…/media/{id}), or the bare id.
func mediaIDOf(loc string) (string, error) {
	id := loc
	if i := strings.LastIndex(loc, "/media/"); i >= 0 {
		id = loc[i+len("/media/"):]
	}
	if uuid.Validate(id) != nil {
		return "", errs.Field(errs.Body, "fileLocation", errs.Malformed, "fileLocation must be the fileLocation of a file on this server")
	}
	return id, nil
}

// attachment is the file of an outgoing message: one just received, or
// one kept before (by its fileLocation), which must be within reach.
func (s *Service) attachment(ctx context.Context, m msgrules.Member, accountID string, in MessageInput) (*msgrules.Media, error) {
	switch {
	case in.File != nil && in.FileLocation != "":
		return nil, errs.Field(errs.Body, "fileLocation", errs.Invalid_, "send either file or fileLocation, not both")
	case in.FileLocation != "":
		id, err := mediaIDOf(in.FileLocation)
		if err != nil {
			return nil, err
		}
		md, err := s.Store.Media(ctx, store.ReachOf(m), id)
		if errs.CodeOf(err) == errs.NotFound {
			return nil, errs.Field(errs.Body, "fileLocation", errs.Invalid_, "no file %q that you can use", in.FileLocation)
		}
		if err == nil && md.APIAccountID != accountID {
			// Whoever sees the message must be able to download its file.
			return nil, errs.Field(errs.Body, "fileLocation", errs.Invalid_, "the file is on another API account: upload it to this one")
		}
		return &md, err
	case in.File != nil:
		return &msgrules.Media{MediaType: in.File.Kind, ContentType: in.File.ContentType, FileName: in.File.Name}, nil
	}
	return nil, nil
}

// fetchLease is how long a claimed fetch is left to its node.
const fetchLease = 2 * time.Minute

// RunMediaFetcher fetches incoming messages' files from their channels
// until ctx ends: woken when a message with a file arrives, and at least
// every second for retries and other nodes' messages. A callback only
// records the message; the file comes here, so Meta is answered at once.
func (s *Service) RunMediaFetcher(ctx context.Context, log *slog.Logger) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for s.fetchDue(ctx, log) {
		}
		select {
		case <-ctx.Done():
			return
		case <-s.fetchKicks():
		case <-tick.C:
		}
	}
}

func (s *Service) fetchKicks() chan struct{} {
	s.fetchOnce.Do(func() { s.fetchKick = make(chan struct{}, 1) })
	return s.fetchKick
}

func (s *Service) wakeFetcher() {
	select {
	case s.fetchKicks() <- struct{}{}:
	default:
	}
}

func (s *Service) fetchDue(ctx context.Context, log *slog.Logger) bool {
	const batch = 4
	var ids []string
	now := time.Now()
	due, err := s.Store.FetchesDue(ctx, now)
	if err == nil && due {
		err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			var err error
			ids, err = tx.ClaimFetches(ctx, now, now.Add(fetchLease), batch)
			return err
		})
	}
	if err != nil {
		if ctx.Err() == nil {
			log.Error("claim media fetches", "error", err)
		}
		return false
	}
	for _, id := range ids {
		if err := s.fetch(ctx, id, log); err != nil && ctx.Err() == nil {
			log.Error("fetch message media", "message", id, "error", err)
		}
	}
	return len(ids) == batch
}

// fetch fetches one message's file and records the outcome: kept, retried
// later, or failed with the reason in mediaError (and the log).
func (s *Service) fetch(ctx context.Context, id string, log *slog.Logger) error {
	msg, err := s.Store.MessageByID(ctx, id)
	if err != nil {
		return err
	}
	a, err := s.Store.APIAccountByID(ctx, msg.APIAccountID)
	if err != nil {
		return err
	}
	job, err := s.Store.MediaFetchOf(ctx, id)
	if err != nil {
		return err
	}
	md, err := s.download(ctx, a, msg, job)
	ctx = context.WithoutCancel(ctx) // the outcome is recorded even when stopping
	var cerr *channel.Error
	switch {
	case err == nil:
		return s.fetched(ctx, msg, md)
	case errors.As(err, &cerr) && cerr.Permanent, job.Attempts >= s.maxFetchAttempts():
		log.Warn("message file could not be fetched", "message", id, "account", a.APIAccountID,
			"attempts", job.Attempts, "error", err)
		return s.fetchFailed(ctx, msg, err)
	}
	log.Info("message file fetch failed; retrying", "message", id, "attempt", job.Attempts, "error", err)
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.RetryFetch(ctx, id, time.Now().Add(sendBackoff(job.Attempts)))
	})
}

func (s *Service) maxFetchAttempts() int {
	if s.MaxFetchAttempts > 0 {
		return s.MaxFetchAttempts
	}
	return 8
}

// refused is a reason a file is not kept that no retry changes.
func refused(format string, args ...any) error {
	return &channel.Error{Message: fmt.Sprintf(format, args...), Permanent: true}
}

// download reads the file from the channel into the media store and
// returns its record (the blob kept under its id, not yet recorded).
func (s *Service) download(ctx context.Context, a msgrules.APIAccount, msg msgrules.Message, job store.MediaFetch) (msgrules.Media, error) {
	if s.Media == nil {
		return msgrules.Media{}, refused("this server keeps no message files")
	}
	tr, ok := s.Channels[a.Channel].(channel.MediaFetcher)
	if !ok {
		return msgrules.Media{}, refused("channel %s keeps no files to fetch", a.Channel)
	}
	acct := channel.Account{ID: a.APIAccountID, PhoneNumber: a.PhoneNumber,
		PhoneNumberID: a.Settings.PhoneNumberID, AccessToken: a.Settings.AccessToken}
	dl, err := tr.FetchMedia(ctx, acct, channel.MediaRef{ID: job.Source, Kind: msg.MediaType, MimeType: job.MIME, FileName: msg.FileName})
	if err != nil {
		return msgrules.Media{}, err
	}
	defer dl.Body.Close()
	ct := dl.ContentType
	if ct == "" {
		ct = job.MIME
	}
	kind, mt, limit, err := msgrules.MediaKind("file", ct, s.MaxMediaSize)
	if err != nil {
		return msgrules.Media{}, refused("the file's type %q is not one Boxwire keeps", ct)
	}
	if dl.Size > limit {
		return msgrules.Media{}, refused("the file (%d bytes) is larger than the limit of %d bytes for its type", dl.Size, limit)
	}
	up, err := s.Media.Receive(dl.Body, limit, "file")
	if errs.CodeOf(err) == errs.TooLarge {
		return msgrules.Media{}, refused("the file is larger than the limit of %d bytes for its type", limit)
	}
	if err != nil {
		return msgrules.Media{}, err
	}
	f := &File{Kind: kind, ContentType: mt, Name: msg.FileName, up: up}
	defer f.Discard()
	return s.keep(f, a)
}

// fetched records a kept file on its message.
func (s *Service) fetched(ctx context.Context, msg msgrules.Message, md msgrules.Media) error {
	err := s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.CreateMedia(ctx, md, ""); err != nil {
			return err
		}
		msg.MediaID, msg.FileLocation, msg.MediaStatus, msg.MediaError = md.MediaID, md.FileLocation, msgrules.MediaReady, ""
		return s.setMedia(ctx, tx, msg)
	})
	if err != nil {
		s.Media.Remove(md.MediaID)
	}
	return err
}

// fetchFailed records why a message's file is not there.
func (s *Service) fetchFailed(ctx context.Context, msg msgrules.Message, cause error) error {
	reason := cause.Error()
	var cerr *channel.Error
	if errors.As(cause, &cerr) {
		reason = cerr.Message
		if cerr.Code != 0 {
			reason = cerr.Error()
		}
	}
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		msg.MediaStatus, msg.MediaError = msgrules.MediaFailed, "the file could not be fetched from the channel: "+reason
		return s.setMedia(ctx, tx, msg)
	})
}

func (s *Service) setMedia(ctx context.Context, tx *store.Tx, msg msgrules.Message) error {
	if err := tx.SetMessageMedia(ctx, msg); err != nil {
		return err
	}
	return record(ctx, tx, msg.OrgID, "", msgrules.EntryMessageUpdated, msg.MessageID, msg)
}

// mediaSend is the file of an outgoing message, for its channel.
func (s *Service) mediaSend(ctx context.Context, msg msgrules.Message) (*channel.MediaSend, error) {
	md, err := s.Store.MediaByID(ctx, msg.MediaID)
	if err != nil {
		return nil, err
	}
	blobs := s.Media
	open := func() (io.ReadCloser, error) {
		if blobs == nil {
			return nil, refused("this server keeps no message files")
		}
		return blobs.Open(md.MediaID)
	}
	return &channel.MediaSend{Kind: msg.MediaType, ContentType: md.ContentType, FileName: md.FileName, Size: md.Size, Open: open}, nil
}
