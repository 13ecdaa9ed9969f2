package boxes

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/boxservice"
	"github.com/boxwire/boxwire/internal/errs"
)

func (h *Handler) createBox(w http.ResponseWriter, r *http.Request) {
	var in boxservice.NewBox
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		fail(w, r, err)
		return
	}
	v, err := h.Boxes.CreateBox(r.Context(), in)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, v)
}

// joinedBoxes is GET (and HEAD) /boxes/joined: newest activity first,
// 10 per page by default.
func (h *Handler) joinedBoxes(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		n, err := h.Boxes.CountJoinedBoxes(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		count(w, n)
		return
	}
	p, err := page(r, 10)
	if err != nil {
		fail(w, r, err)
		return
	}
	list, err := h.Boxes.JoinedBoxes(r.Context(), p)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, list)
}

func (h *Handler) getBox(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	v, err := h.Boxes.GetBox(r.Context(), id)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

func (h *Handler) deleteBox(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err == nil {
		err = deleteConfirmed(w, r)
	}
	if err == nil {
		err = h.Boxes.DeleteBox(r.Context(), id)
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteConfirmed checks the body Misakey's reference asks of a box
// deletion, {"user_confirmation": "delete"|"supprimer"}, before any access
// check, as the reference does: it names nothing about the box.
func deleteConfirmed(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		UserConfirmation *string `json:"user_confirmation"`
	}
	if err := decodeOptional(w, r, &in); err != nil {
		return err
	}
	switch {
	case in.UserConfirmation == nil || *in.UserConfirmation == "":
		return errs.Field(errs.Body, "user_confirmation", errs.Required, "user_confirmation is required: delete or supprimer")
	case *in.UserConfirmation != "delete" && *in.UserConfirmation != "supprimer":
		return errs.Field(errs.Body, "user_confirmation", errs.Malformed, "user_confirmation must be delete or supprimer")
	}
	return nil
}

// decodeOptional decodes a JSON body; an absent body leaves dst as it is,
// so the fields it should have held are reported as required.
func decodeOptional(w http.ResponseWriter, r *http.Request, dst any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return httpx.DecodeJSON(w, r, dst)
}

func (h *Handler) members(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	a := httpx.NewJSONArray(w)
	err = h.Boxes.EachMember(r.Context(), id, func(v boxservice.IdentityView) error { return a.Add(v) })
	a.Finish(r, err, fail)
}

func (h *Handler) accesses(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	a := httpx.NewJSONArray(w)
	err = h.Boxes.EachAccess(r.Context(), id, func(v boxservice.EventView) error { return a.Add(v) })
	a.Finish(r, err, fail)
}

func (h *Handler) postEvent(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	var in boxrules.Input
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		fail(w, r, err)
		return
	}
	v, err := h.Boxes.PostEvent(r.Context(), id, in)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, v)
}

func (h *Handler) postBatch(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	var in struct {
		BatchType string           `json:"batch_type"`
		Events    []boxrules.Input `json:"events"`
	}
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		fail(w, r, err)
		return
	}
	list, err := h.Boxes.PostBatch(r.Context(), id, in.BatchType, in.Events)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, list)
}

// listEvents is GET (and HEAD) /boxes/{id}/events and /files: oldest
// first, no limit unless asked, streamed as the rows are read.
func (h *Handler) listEvents(filesOnly bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := httpx.PathUUID(r, "id")
		if err != nil {
			fail(w, r, err)
			return
		}
		if r.Method == http.MethodHead {
			n, err := h.Boxes.CountEvents(r.Context(), id, filesOnly)
			if err != nil {
				fail(w, r, err)
				return
			}
			count(w, n)
			return
		}
		p, err := page(r, 0)
		if err != nil {
			fail(w, r, err)
			return
		}
		a := httpx.NewJSONArray(w)
		err = h.Boxes.EachEvent(r.Context(), id, filesOnly, p, func(v boxservice.EventView) error { return a.Add(v) })
		a.Finish(r, err, fail)
	}
}

// uploadFile is POST /boxes/{id}/encrypted-files: multipart with
// encrypted_file (streamed to disk, never held in memory),
// msg_encrypted_content and msg_public_key.
func (h *Handler) uploadFile(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	// Refuse before reading a byte of a file that could not be kept.
	if err := h.checkUploadSize(r); err != nil {
		fail(w, r, err)
		return
	}
	if err := h.Boxes.CheckUpload(r.Context(), id); err != nil {
		fail(w, r, err)
		return
	}
	httpx.Upload(r)
	up, msg, err := h.readUpload(w, r)
	if err != nil {
		fail(w, r, err)
		return
	}
	v, err := h.Boxes.UploadFile(r.Context(), id, up, msg)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, v)
}

// multipartOverhead is what an upload's body may hold besides the file:
// the message fields (small), part headers and boundaries.
const multipartOverhead = 1 << 20

// checkUploadSize refuses, from its Content-Length alone, a body that
// cannot fit the file limit, so not a byte of it is read or stored. A
// body without a length (chunked) is bounded as it is read.
func (h *Handler) checkUploadSize(r *http.Request) error {
	if r.ContentLength > h.Boxes.MaxFileSize+multipartOverhead {
		return &errs.Error{Code: errs.TooLarge, Where: errs.Body, Fields: map[string]string{"encrypted_file": "too_large"},
			Message: fmt.Sprintf("encrypted_file is larger than the limit of %d bytes (Content-Length is %d)", h.Boxes.MaxFileSize, r.ContentLength)}
	}
	return nil
}

func (h *Handler) readUpload(w http.ResponseWriter, r *http.Request) (boxservice.Upload, boxservice.FileMessage, error) {
	var msg boxservice.FileMessage
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return nil, msg, errs.Field(errs.Headers, "Content-Type", errs.Invalid_, "the body must be multipart/form-data")
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.Boxes.MaxFileSize+multipartOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, msg, errs.Field(errs.Body, "body", errs.Malformed, "the multipart body could not be read")
	}
	var up boxservice.Upload
	discard := func(err error) (boxservice.Upload, boxservice.FileMessage, error) {
		if up != nil {
			up.Discard()
		}
		return nil, msg, err
	}
	for {
		part, err := httpx.NextPart(mr, "encrypted_file")
		if err == io.EOF {
			break
		}
		if err != nil {
			return discard(err)
		}
		switch part.FormName() {
		case "encrypted_file":
			if up != nil {
				return discard(errs.Field(errs.Body, "encrypted_file", errs.Invalid_, "send one encrypted_file"))
			}
			if up, err = h.Boxes.Blobs.Receive(part, h.Boxes.MaxFileSize, "encrypted_file"); err != nil {
				return nil, msg, err
			}
		case "msg_encrypted_content":
			msg.EncryptedContent, err = httpx.SmallPart(part, "msg_encrypted_content", boxrules.MaxEncrypted)
		case "msg_public_key":
			msg.PublicKey, err = httpx.SmallPart(part, "msg_public_key", 1024)
		default:
			_, err = io.Copy(io.Discard, io.LimitReader(part, 1<<20))
		}
		if err != nil {
			return discard(err)
		}
	}
	if up == nil {
		return discard(errs.Field(errs.Body, "encrypted_file", errs.Required, "encrypted_file is required"))
	}
	if err := boxservice.CheckFileMessage(msg); err != nil {
		return discard(err)
	}
	return up, msg, nil
}

func (h *Handler) downloadFile(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	f, _, err := h.Boxes.OpenFile(r.Context(), id)
	if err != nil {
		fail(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", time.Time{}, f)
}

func (h *Handler) keyShare(w http.ResponseWriter, r *http.Request) {
	v, err := h.Boxes.KeyShare(r.Context(), r.PathValue("hash"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

// addKeyShare is POST /box-key-shares: 201 and the share as sent, as the
// reference answers.
func (h *Handler) addKeyShare(w http.ResponseWriter, r *http.Request) {
	var in boxservice.NewKeyShare
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		fail(w, r, err)
		return
	}
	v, err := h.Boxes.AddKeyShare(r.Context(), in)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, v)
}

// invitationKeyShare is GET /box-key-shares/encrypted-invitation-key-share?box_id=:
// a JSON string, or null.
func (h *Handler) invitationKeyShare(w http.ResponseWriter, r *http.Request) {
	v, err := h.Boxes.InvitationKeyShare(r.Context(), r.URL.Query().Get("box_id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

func (h *Handler) publicBox(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	v, err := h.Boxes.PublicBox(r.Context(), id, r.URL.Query().Get("other_share_hash"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

// ackBox takes Misakey's body {"identity_id"}: the reference requires it
// (a UUID) and refuses anyone's but the caller's.
func (h *Handler) ackBox(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	var in struct {
		IdentityID string `json:"identity_id"`
	}
	if err == nil {
		err = decodeOptional(w, r, &in)
	}
	if err == nil {
		err = h.Boxes.AckNewEvents(r.Context(), in.IdentityID, id)
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
