package httpx

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
)

// arrayBuffer is how much of a streamed array is gathered before it is
// written out: large enough for few writes, small enough that eight
// concurrent lists hold little.
const arrayBuffer = 32 << 10

// JSONArray writes a 200 JSON array element by element as rows arrive, so
// a list of any length holds one element and one buffer in memory. Its
// bytes are those of JSON(w, 200, slice): "[", the elements separated by
// commas, "]" and a newline.
//
// Nothing reaches the client until the buffer first fills, so an error
// before then (an unknown box, the first read failing) is still answered
// with its status by Finish. An error after the first bytes left cannot
// change the status any more; Finish then logs it and cuts the
// connection, so the client sees a truncated body (no closing chunk),
// never a valid but shorter array.
type JSONArray struct {
	w    http.ResponseWriter
	bw   *bufio.Writer
	n    int
	sent bool // bytes reached w: the status is final
}

// NewJSONArray starts an array on w.
func NewJSONArray(w http.ResponseWriter) *JSONArray {
	a := &JSONArray{w: w}
	a.bw = bufio.NewWriterSize(sentWriter{a}, arrayBuffer)
	return a
}

// sentWriter sends the header with the first bytes of the body.
type sentWriter struct{ a *JSONArray }

func (s sentWriter) Write(p []byte) (int, error) {
	if !s.a.sent {
		s.a.sent = true
		s.a.w.Header().Set("Content-Type", "application/json")
		s.a.w.WriteHeader(http.StatusOK)
	}
	return s.a.w.Write(p)
}

// Add appends one element. An error means the client is gone or the value
// cannot be encoded; the caller stops and hands it to Finish.
func (a *JSONArray) Add(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sep := byte(',')
	if a.n == 0 {
		sep = '['
	}
	a.n++
	if err := a.bw.WriteByte(sep); err != nil {
		return err
	}
	_, err = a.bw.Write(b)
	return err
}

// Finish closes the array, or answers err: rendered by render while
// nothing has been sent, otherwise logged and the connection cut.
func (a *JSONArray) Finish(r *http.Request, err error, render Renderer) {
	if err == nil {
		if a.n == 0 {
			a.bw.WriteByte('[')
		}
		a.bw.WriteString("]\n")
		err = a.bw.Flush()
		if err == nil {
			return
		}
	}
	if !a.sent {
		a.bw.Reset(nil) // drop the elements gathered so far
		render(a.w, r, err)
		return
	}
	Log(r.Context()).LogAttrs(r.Context(), slog.LevelWarn, "list cut short after its status was sent",
		slog.String("path", r.URL.Path), slog.Int("elements", a.n), slog.String("error", err.Error()))
	panic(http.ErrAbortHandler) // net/http closes the connection without a closing chunk
}
