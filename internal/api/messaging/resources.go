package messaging

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/msgservice"
	"github.com/boxwire/boxwire/internal/store"
)

// registerResources mounts seed 004's resources, and the admin writes
// DESIGN §6 adds on the same paths. /inboxes is the seed's spelling of
// one inbox's path; it is accepted everywhere /inbox is.
func (h *Handler) registerResources(route func(string, http.HandlerFunc)) {
	b := h.Business
	route("GET /apiaccount", listOf(func(ctx context.Context, _ store.Filter, page int) (any, error) { return b.APIAccounts(ctx, page) }))
	route("GET /apiaccount/{id}", getOf(b.APIAccount))
	route("POST /apiaccount", createOf(b.CreateAPIAccount))
	route("PUT /apiaccount/{id}", updateOf(b.UpdateAPIAccount))
	route("POST /apiaccount/{id}/sandbox/inbound", h.sandboxInbound)

	for _, p := range []string{"/inbox", "/inboxes"} {
		route("GET "+p, listOf(func(ctx context.Context, f store.Filter, page int) (any, error) { return b.Inboxes(ctx, f, page) }))
		route("GET "+p+"/{id}", getOf(b.Inbox))
		route("POST "+p, createOf(func(ctx context.Context, in msgservice.InboxInput) (msgrules.Inbox, error) {
			return b.SaveInbox(ctx, "", in)
		}))
		route("PUT "+p+"/{id}", updateOf(b.SaveInbox))
		route("DELETE "+p+"/{id}", deleteOf(b.DeleteInbox))
	}

	route("GET /contact", listOf(func(ctx context.Context, f store.Filter, page int) (any, error) { return b.Contacts(ctx, f, page) }))
	route("GET /contact/{id}", getOf(b.Contact))
	route("POST /contact", createOf(func(ctx context.Context, in msgservice.ContactInput) (msgrules.Contact, error) {
		return b.SaveContact(ctx, "", in)
	}))
	route("PUT /contact/{id}", updateOf(b.SaveContact))

	route("GET /conversation", listOf(func(ctx context.Context, f store.Filter, page int) (any, error) { return b.Conversations(ctx, f, page) }))
	route("GET /conversation/{id}", getOf(b.Conversation))
	route("PUT /conversation/{id}", h.updateConversation)

	route("GET /message", listOf(func(ctx context.Context, f store.Filter, page int) (any, error) { return b.Messages(ctx, f, page) }))
	route("GET /message/{id}", getOf(b.Message))
	route("POST /message", h.sendMessage)

	route("GET /template", listOf(func(ctx context.Context, f store.Filter, page int) (any, error) { return b.Templates(ctx, f, page) }))
	route("GET /template/{id}", getOf(b.Template))
	route("POST /template", createOf(func(ctx context.Context, in msgservice.TemplateInput) (msgrules.TemplateView, error) {
		return b.SaveTemplate(ctx, "", in)
	}))
	route("PUT /template/{id}", updateOf(b.SaveTemplate))
	route("DELETE /template/{id}", deleteOf(b.DeleteTemplate))

	route("GET /broadcast", listOf(func(ctx context.Context, f store.Filter, page int) (any, error) { return b.Broadcasts(ctx, f, page) }))
	route("GET /broadcast/{id}", getOf(b.Broadcast))
	route("POST /broadcast", createOf(b.CreateBroadcast))

	route("GET /team", func(w http.ResponseWriter, r *http.Request) {
		a := httpx.NewJSONArray(w)
		a.Finish(r, b.EachTeam(r.Context(), func(t msgrules.Team) error { return a.Add(t) }), httpx.Problem)
	})
	route("GET /team/{id}", getOf(b.Team))
	route("POST /team", createOf(func(ctx context.Context, in msgservice.TeamInput) (msgrules.Team, error) {
		return b.SaveTeam(ctx, "", in)
	}))
	route("PUT /team/{id}", updateOf(b.SaveTeam))
	route("DELETE /team/{id}", deleteOf(b.DeleteTeam))

	route("GET /user", func(w http.ResponseWriter, r *http.Request) {
		a := httpx.NewJSONArray(w)
		a.Finish(r, b.EachUser(r.Context(), func(u msgservice.UserRow) error { return a.Add(u) }), httpx.Problem)
	})
	route("GET /user/{id}", getOf(b.User))
	route("POST /user", createOf(b.CreateUser))
	route("PUT /user/{id}", updateOf(b.UpdateUser))
	route("DELETE /user/{id}", deleteOf(b.RemoveUser))
}

// deleteOf serves a DELETE of the record at the path id: 204.
func deleteOf(remove func(context.Context, string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := httpx.PathUUID(r, "id")
		if err == nil {
			err = remove(r.Context(), id)
		}
		if err != nil {
			httpx.Problem(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// respond renders a service call's result with status, or its error.
func respond[T any](w http.ResponseWriter, r *http.Request, status int) func(T, error) {
	return func(v T, err error) {
		if err != nil {
			httpx.Problem(w, r, err)
			return
		}
		httpx.JSON(w, status, v)
	}
}

// listOf serves a paged list with the seed's query filters.
func listOf(read func(context.Context, store.Filter, int) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, page, err := filter(r)
		if err != nil {
			httpx.Problem(w, r, err)
			return
		}
		respond[any](w, r, http.StatusOK)(read(r.Context(), f, page))
	}
}

// getOf serves one record by its path id.
func getOf[T any](read func(context.Context, string) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := httpx.PathUUID(r, "id")
		if err != nil {
			httpx.Problem(w, r, err)
			return
		}
		respond[T](w, r, http.StatusOK)(read(r.Context(), id))
	}
}

// createOf serves a POST: 201 with the created record.
func createOf[In, T any](create func(context.Context, In) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in In
		if err := decodeJSON(w, r, &in); err != nil {
			httpx.Problem(w, r, err)
			return
		}
		respond[T](w, r, http.StatusCreated)(create(r.Context(), in))
	}
}

// updateOf serves a PUT of the record at the path id: 200 with it.
func updateOf[In, T any](update func(context.Context, string, In) (T, error)) http.HandlerFunc {
	return withIDOf(http.StatusOK, update)
}

// withIDOf serves a request with a JSON body about the record at the
// path id, answering status with the result.
func withIDOf[In, T any](status int, fn func(context.Context, string, In) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := httpx.PathUUID(r, "id")
		if err != nil {
			httpx.Problem(w, r, err)
			return
		}
		var in In
		if err := decodeJSON(w, r, &in); err != nil {
			httpx.Problem(w, r, err)
			return
		}
		respond[T](w, r, status)(fn(r.Context(), id, in))
	}
}

// updateConversation answers the seed's empty body on success.
func (h *Handler) updateConversation(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err == nil {
		var in msgservice.ConversationInput
		if err = decodeJSON(w, r, &in); err == nil {
			_, err = h.Business.UpdateConversation(r.Context(), id, in)
		}
	}
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// maxPage bounds page so that its offset cannot overflow.
const maxPage = 10_000_000

// pageParam reads the 1-based page, 1 when absent.
func pageParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("page")
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPage {
		return 0, errs.Field(errs.Query, "page", errs.Invalid_, "page must be a whole number from 1 to %d", maxPage)
	}
	return n, nil
}

// filter reads the seed's list query parameters; a malformed one is a 400
// naming it.
func filter(r *http.Request) (store.Filter, int, error) {
	q := r.URL.Query()
	var f store.Filter
	page, err := pageParam(r)
	if err != nil {
		return f, 0, err
	}
	for name, dst := range map[string]*string{"apiAccountId": &f.APIAccountID, "inboxId": &f.InboxID,
		"contactId": &f.ContactID, "conversationId": &f.ConversationID, "userId": &f.UserID, "teamId": &f.TeamID} {
		if v := q.Get(name); v != "" {
			if uuid.Validate(v) != nil {
				return f, 0, errs.Field(errs.Query, name, errs.Malformed, "%s must be a UUID", name)
			}
			*dst = v
		}
	}
	if v := q.Get("mobileNumber"); v != "" {
		if strings.HasPrefix(v, " ") {
			v = "+" + v[1:] // a "+" the client did not encode arrives as a space
		}
		n, err := msgrules.ChannelNumber("mobileNumber", v)
		if err != nil {
			return f, 0, errs.Field(errs.Query, "mobileNumber", errs.Invalid_, "mobileNumber must be an E.164 number such as +447902111123")
		}
		f.MobileNumber = n
	}
	if v := q.Get("folder"); v != "" {
		if _, err := msgrules.ParseFolder(v); err != nil {
			return f, 0, errs.Field(errs.Query, "folder", errs.Invalid_, "folder must be inbox, archive or spam")
		}
		f.Folder = v
	}
	f.Name = q.Get("name")
	if !utf8.ValidString(f.Name) || strings.ContainsRune(f.Name, 0) || len(f.Name) > 1024 {
		return f, 0, errs.Field(errs.Query, "name", errs.Invalid_, "name must be text of at most 1024 bytes")
	}
	for name, dst := range map[string]*time.Time{"fromDate": &f.From, "toDate": &f.To} {
		if v := q.Get(name); v != "" {
			t, err := parseDate(v, name == "toDate")
			if err != nil {
				return f, 0, errs.Field(errs.Query, name, errs.Malformed, "%s must be a date (2024-04-30) or date-time (2024-04-30T14:03:25Z)", name)
			}
			*dst = t
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return f, 0, errs.Field(errs.Query, "toDate", errs.Invalid_, "toDate is before fromDate")
	}
	return f, page, nil
}

// parseDate accepts RFC 3339 with or without a zone (UTC then), or a
// bare date: its start, or its end when it closes a range.
func parseDate(v string, end bool) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		if end {
			t = t.Add(24*time.Hour - time.Microsecond)
		}
		return t, nil
	}
	return time.Time{}, errs.E(errs.Invalid, "not a date")
}
