package whatsapp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/boxwire/boxwire/internal/channel"
)

// graphError is the Graph API's error answer:
// {"error":{"message","type","code","error_subcode","error_data":{"details"},"fbtrace_id"}}.
type graphError struct {
	Error *struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
		FBTraceID string `json:"fbtrace_id"`
	} `json:"error"`
}

// transientCodes are the Meta error codes that clear up on their own, so
// a later retry can succeed even though Meta answers them with a 4xx.
// Everything else Meta answers with a 4xx is about this message, this
// recipient or this account, and the same request will fail again.
var transientCodes = map[int]bool{
	2:      true, // API Service: temporary downtime or overload
	4:      true, // API Too Many Calls: app rate limit
	80007:  true, // WhatsApp Business Account rate limit
	130429: true, // Rate limit hit: the number's throughput
	131000: true, // Something went wrong (Meta's own failure)
	131016: true, // Service unavailable
	131056: true, // pair rate limit: too many messages to one recipient
	133004: true, // Server temporarily unavailable
}

// refusal turns a non-2xx answer into a *channel.Error.
func refusal(status int, raw []byte) error {
	var g graphError
	if json.Unmarshal(raw, &g) != nil || g.Error == nil {
		// Not Meta speaking (a proxy, a load balancer): judge by status.
		return &channel.Error{
			Message:   fmt.Sprintf("HTTP %d %s", status, http.StatusText(status)),
			Permanent: permanent(status, 0),
		}
	}
	e := g.Error
	return &channel.Error{
		Code:      e.Code,
		Message:   describe(e.Code, e.Message, e.ErrorData.Details),
		Permanent: permanent(status, e.Code),
	}
}

func permanent(status, code int) bool {
	switch {
	case transientCodes[code]:
		return false
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout:
		return false
	case status >= 500:
		return false
	}
	return status >= 400
}

// describe joins Meta's message and details into the reason a failed
// message shows, dropping the "(#131047) " prefix Meta puts before the
// title since channel.Error already prints the code.
func describe(code int, message, details string) string {
	message = strings.TrimPrefix(message, fmt.Sprintf("(#%d) ", code))
	switch {
	case details == "" || details == message:
		return message
	case message == "":
		return details
	}
	return message + ": " + details
}
