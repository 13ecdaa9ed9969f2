package boxservice

import (
	"context"
	"encoding/json"
	"io"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/store"
)

// FileMessage is what accompanies an encrypted file: the message (file
// name, key…) encrypted for the box.
type FileMessage struct {
	EncryptedContent string
	PublicKey        string
}

// CheckFileMessage validates the message fields of an upload.
func CheckFileMessage(m FileMessage) error {
	if err := boxrules.StdBase64("msg_encrypted_content", m.EncryptedContent, boxrules.MaxEncrypted); err != nil {
		return err
	}
	return boxrules.PublicKey("msg_public_key", m.PublicKey)
}

// CheckUpload refuses an upload before its bytes are read: the caller must
// be a member of an open box it has access to.
func (s *Service) CheckUpload(ctx context.Context, boxID string) error {
	st, _, err := s.readable(ctx, boxID)
	if err != nil {
		return err
	}
	return st.Writable()
}

// UploadFile keeps a received file and creates its msg.file event. The
// blob is in place before the commit; if the commit fails it is removed,
// so no event ever names a missing file.
func (s *Service) UploadFile(ctx context.Context, boxID string, up Upload, m FileMessage) (EventView, error) {
	defer up.Discard()
	who, err := caller(ctx)
	if err != nil {
		return EventView{}, err
	}
	if err := CheckFileMessage(m); err != nil {
		return EventView{}, err
	}
	fileID := uuid.NewString()
	if err := up.Keep(fileID); err != nil {
		return EventView{}, err
	}
	var (
		ev      store.Event
		creator string
	)
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		a := applier{tx: tx, who: who, boxID: boxID}
		if err := a.load(ctx); err != nil {
			return err
		}
		if !a.state.HasAccess(who) {
			return boxrules.NoAccess()
		}
		if !a.actor.Member(a.state) {
			return boxrules.NotMember()
		}
		if err := a.state.Writable(); err != nil {
			return err
		}
		if err := tx.InsertFile(ctx, fileID, up.Len()); err != nil {
			return err
		}
		content, _ := json.Marshal(map[string]string{"encrypted": m.EncryptedContent, "public_key": m.PublicKey, "encrypted_file_id": fileID})
		e := &store.Event{BoxID: boxID, Type: boxrules.TypeMsgFile, SenderID: who.ID, Content: content, FileID: fileID, Sender: who}
		if err := tx.AppendBoxEvent(ctx, e); err != nil {
			return err
		}
		ev, creator = *e, a.state.CreatorID
		return nil
	})
	if err != nil {
		s.Blobs.Remove(fileID)
		return EventView{}, err
	}
	return EventViewOf(ev, who.ID, creator), nil
}

// OpenFile opens an encrypted file for a caller who can read a box that
// holds it. An unknown file and a forbidden one give the same error.
func (s *Service) OpenFile(ctx context.Context, fileID string) (io.ReadSeekCloser, int64, error) {
	forbidden := errs.E(errs.Forbidden, "no access to this file")
	boxIDs, size, err := s.Store.FileBoxes(ctx, fileID)
	if err != nil {
		return nil, 0, err
	}
	for _, id := range boxIDs {
		if _, _, err := s.readable(ctx, id); err == nil {
			f, err := s.Blobs.Open(fileID)
			return f, size, err
		}
	}
	return nil, 0, forbidden
}
