package main

import (
	"encoding/json"
	"testing"
)

// TestMessagingRealtime checks that an organisation's users follow its
// messaging changes live over WebSocket, SSE and the Box-compatible
// stream, and only for the API accounts they reach.
func TestMessagingRealtime(t *testing.T) {
	a := setUpAcme(t)
	bob := &user{client: a.agent.client, id: a.agentID}
	olgaID := decodeList(t, a.outsider.do("GET", "/user", nil).body)[0]["user"].(map[string]any)["userId"].(string)
	olga := &user{client: a.outsider.client, id: olgaID}
	olgaWS, _ := olga.dialWS(t, "")
	ws, _ := bob.dialWS(t, "")
	sse, _ := bob.openSSE(t, "")
	start := bob.boxEvents(t, "?stream_position=now").NextStreamPosition

	// A contact writes in on the agent's account, another on an account
	// the agent does not reach.
	hidden := a.admin.call("POST", "/apiaccount/"+a.other+"/sandbox/inbound", map[string]any{"mobileNumber": "+447902111124", "message": "not for Bob"}, 201)
	in := a.admin.call("POST", "/apiaccount/"+a.account+"/sandbox/inbound", map[string]any{"mobileNumber": "+447902111123", "message": "for Bob"}, 201)
	a.agent.call("PUT", "/conversation/"+in["conversationId"].(string), map[string]any{"folder": "archive"}, 200)
	reply := a.agent.call("POST", "/message", map[string]any{"apiAccountId": a.account, "contactId": a.contact, "message": "hello"}, 201)

	want := func(frames []frame) bool {
		return hasObject(frames, "message.created", "messageId", in["messageId"]) &&
			hasObject(frames, "conversation.updated", "folder", "archive") &&
			hasObject(frames, "message.updated", "isRead", true)
	}
	for name, c := range map[string]*collector{"websocket": ws, "sse": sse} {
		frames := c.waitFor(t, name+" messaging frames", want)
		positionsInOrder(t, name, frames)
		for _, f := range frames {
			if f.field("messageId") == hidden["messageId"] || f.field("apiAccountId") == a.other {
				t.Fatalf("%s showed the agent an entry of an account it does not reach: %s %s", name, f.Type, f.Object)
			}
		}
	}
	page := bob.boxEvents(t, "?stream_type=all&stream_position="+start)
	var types []string
	for _, e := range page.Entries {
		types = append(types, e.EventType)
		var rec map[string]any
		json.Unmarshal(e.Source, &rec)
		if rec["apiAccountId"] == a.other {
			t.Fatalf("the Box stream showed the agent %v", rec)
		}
	}
	if !contains(types, "message.created") || !contains(types, "conversation.updated") {
		t.Fatalf("the Box stream's entries: %v", types)
	}
	ws.waitFor(t, "the reply", func(frames []frame) bool {
		return hasObject(frames, "message.created", "messageId", reply["messageId"])
	})

	// The other organisation's admin saw none of it.
	if frames := olgaWS.snapshot(); len(frames) != 0 {
		t.Fatalf("another organisation's admin received %v", frames)
	}
}

func hasObject(frames []frame, typ, field string, value any) bool {
	for _, f := range frames {
		var m map[string]any
		json.Unmarshal(f.Object, &m)
		if f.Type == typ && m[field] == value {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
