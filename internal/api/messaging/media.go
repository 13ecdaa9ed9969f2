package messaging

import (
	"bufio"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/msgservice"
)

// registerMedia mounts the files of messages: upload, download, and
// POST /message with a file.
func (h *Handler) registerMedia(route func(string, http.HandlerFunc)) {
	route("POST /media", h.uploadMedia)
	route("GET /media/{id}", h.downloadMedia)
}

// multipartOverhead is what a body may hold besides its file: the other
// fields, part headers and boundaries.
const multipartOverhead = 1 << 20

// isMultipart reports a multipart/form-data body.
func isMultipart(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}

// sendMessage is POST /message: JSON as the seed has it, or multipart
// with the same fields and a file part.
func (h *Handler) sendMessage(w http.ResponseWriter, r *http.Request) {
	if !isMultipart(r) {
		createOf(h.Business.SendMessage)(w, r)
		return
	}
	var in msgservice.MessageInput
	fields := map[string]*string{"apiAccountId": &in.APIAccountID, "contactId": &in.ContactID,
		"message": &in.Message, "fileLocation": &in.FileLocation}
	file, err := h.readForm(w, r, fields)
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	in.File = file
	respond[msgrules.Message](w, r, http.StatusCreated)(h.Business.SendMessage(r.Context(), in))
}

// sandboxInbound is POST /apiaccount/{id}/sandbox/inbound: JSON, or
// multipart with the same fields and a file the contact "sends".
func (h *Handler) sandboxInbound(w http.ResponseWriter, r *http.Request) {
	if !isMultipart(r) {
		withIDOf(http.StatusCreated, h.Business.SandboxInbound)(w, r)
		return
	}
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	var in msgservice.InboundInput
	in.File, err = h.readForm(w, r, map[string]*string{"mobileNumber": &in.MobileNumber, "message": &in.Message, "name": &in.Name, "dateTime": &in.DateTime})
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	respond[msgrules.Message](w, r, http.StatusCreated)(h.Business.SandboxInbound(r.Context(), id, in))
}

// uploadMedia is POST /media: multipart with apiAccountId and file; 201
// with the file's record, whose fileLocation a later POST /message names.
func (h *Handler) uploadMedia(w http.ResponseWriter, r *http.Request) {
	if !isMultipart(r) {
		httpx.Problem(w, r, errs.Field(errs.Headers, "Content-Type", errs.Invalid_, "the body must be multipart/form-data"))
		return
	}
	var accountID string
	file, err := h.readForm(w, r, map[string]*string{"apiAccountId": &accountID})
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	respond[msgrules.Media](w, r, http.StatusCreated)(h.Business.UploadMedia(r.Context(), accountID, file))
}

// readForm reads a multipart body: the named text fields, and the part
// "file" streamed aside by the service (never held in memory). Its type
// is the part's Content-Type, or what its first bytes look like when the
// client sent none.
func (h *Handler) readForm(w http.ResponseWriter, r *http.Request, fields map[string]*string) (*msgservice.File, error) {
	limit := int64(msgrules.MaxMediaLimit)
	if m := h.Business.MaxMediaSize; m > 0 && m < limit {
		limit = m
	}
	if r.ContentLength > limit+multipartOverhead {
		return nil, &errs.Error{Code: errs.TooLarge, Where: errs.Body, Fields: map[string]string{"file": "too_large"},
			Message: "file is larger than the largest file this server takes"}
	}
	httpx.Upload(r)
	r.Body = http.MaxBytesReader(w, r.Body, limit+multipartOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errs.Field(errs.Body, "body", errs.Malformed, "the multipart body could not be read")
	}
	var file *msgservice.File
	fail := func(err error) (*msgservice.File, error) {
		file.Discard()
		return nil, err
	}
	for {
		part, err := httpx.NextPart(mr, "file")
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		name := part.FormName()
		if name == "file" {
			if file != nil {
				return fail(errs.Field(errs.Body, "file", errs.Invalid_, "send one file"))
			}
			br := bufio.NewReaderSize(part, 512)
			ct := part.Header.Get("Content-Type")
			if mt, _, _ := mime.ParseMediaType(ct); mt == "" || mt == "application/octet-stream" {
				head, _ := br.Peek(512)
				ct = http.DetectContentType(head)
			}
			if file, err = h.Business.ReceiveFile(r.Context(), "file", br, ct, part.FileName()); err != nil {
				return nil, err
			}
			continue
		}
		dst, ok := fields[name]
		if !ok {
			_, err = io.Copy(io.Discard, io.LimitReader(part, 1<<20))
		} else {
			*dst, err = httpx.SmallPart(part, name, 64<<10)
		}
		if err != nil {
			return fail(err)
		}
	}
	return file, nil
}

// downloadMedia is GET /media/{id}: the file, to members who reach its
// API account (404 to anyone else). It is served as an attachment that
// browsers neither sniff nor run: the type is the sender's word.
func (h *Handler) downloadMedia(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	md, f, err := h.Business.OpenMedia(r.Context(), id)
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	defer f.Close()
	name := md.FileName
	if name == "" {
		name = md.MediaType
	}
	w.Header().Set("Content-Type", md.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", time.Time{}, f)
}
