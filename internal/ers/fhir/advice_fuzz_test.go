package fhir

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// addAdviceSeeds adds the synthetic A&G resources, the package's advice_
// fixtures and the published examples under the folders.
func addAdviceSeeds(f *testing.F, exampleDirs ...string) {
	f.Helper()
	req, conv := syntheticAdvice()
	all := ConversationEncoding{IncludeRequesterRoles: true, IncludeSenderRoles: true, IncludeDocuments: true}
	for _, v := range []any{
		EncodeAdviceRequest(req), EncodeAdviceConversation(conv, all), EncodeAdviceConversation(conv, ConversationEncoding{}),
		EncodeAdviceReplyResponse(req, conv.Messages[2], "R69"),
		EncodeAdviceWorklist([]triage.AdviceItem{{UBRN: req.UBRN, NHSNumber: req.NHSNumber, Category: req.Category, Version: 3}}),
	} {
		b, _ := json.Marshal(v)
		f.Add(b)
	}
	addSeeds(f, []string{"advice_"}, exampleDirs...)
	for _, s := range []string{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Communication","id":"1","basedOn":[{"reference":"CommunicationRequest/1"}],"payload":[{}]}}]}`,
		`{"resourceType":"CommunicationRequest","id":"1","requester":{},"recipient":[{}],"payload":[{"contentReference":{"reference":"#x"}}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"updatedCommunicationRequest","resource":{"resourceType":"CommunicationRequest","id":"1"}},{"name":"createdCommunication"}]}`} {
		f.Add([]byte(s))
	}
}

func FuzzDecodeAdviceWorklist(f *testing.F) {
	addAdviceSeeds(f, "stu3/retrieveAdviceAndGuidanceWorklist/responses")
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := DecodeAdviceWorklist(b)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.UBRN == "" || it.NHSNumber == "" || it.Version < 0 {
				t.Fatalf("bad item %+v", it)
			}
			_ = it.Category.Rank()
		}
		if _, err := DecodeAdviceWorklist(mustJSON(t, EncodeAdviceWorklist(items))); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzDecodeAdviceRequest(f *testing.F) {
	addAdviceSeeds(f, "stu3/retrieveAdviceAndGuidanceRequest/responses")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeAdviceRequest(b)
		if err != nil {
			return
		}
		if r.UBRN == "" || r.Version < 0 {
			t.Fatalf("bad request %+v", r)
		}
		if _, err := DecodeAdviceRequest(mustJSON(t, EncodeAdviceRequest(r))); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzDecodeAdviceConversation(f *testing.F) {
	addAdviceSeeds(f, "stu3/retrieveAdviceAndGuidanceConversation")
	f.Fuzz(func(t *testing.T, b []byte) {
		conv, err := DecodeAdviceConversation(b)
		if err != nil {
			return
		}
		ids := map[string]bool{}
		for i, m := range conv.Messages {
			if m.ID == "" || ids[m.ID] || m.RequestUBRN == "" {
				t.Fatalf("bad message %+v", m)
			}
			ids[m.ID] = true
			if i > 0 && m.Sent.Before(conv.Messages[i-1].Sent) {
				t.Fatal("messages out of order")
			}
		}
		_ = conv.Unanswered()
		_ = conv.BelongsTo(conv.UBRN)
		if conv.BelongsTo(conv.UBRN) != nil {
			return // messages of several requests do not re-encode as one
		}
		if _, err := DecodeAdviceConversation(mustJSON(t, EncodeAdviceConversation(conv, ConversationEncoding{IncludeDocuments: true}))); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzDecodeAdviceReplyResponse(f *testing.F) {
	addAdviceSeeds(f, "stu3/sendAdviceAndGuidanceResponse/responses")
	f.Fuzz(func(t *testing.T, b []byte) {
		req, m, err := DecodeAdviceReplyResponse(b)
		if err != nil {
			return
		}
		if req.UBRN == "" || m.ID == "" || m.RequestUBRN != req.UBRN {
			t.Fatalf("bad response %+v %+v", req, m)
		}
	})
}

// FuzzParseAdviceReplyParameters and FuzzParseAdviceConversionParameters
// cover the sandbox side, which parses request bodies from any client.
func FuzzParseAdviceReplyParameters(f *testing.F) {
	for _, tt := range adviceReplyExamples {
		f.Add(mustJSON(f, must(AdviceReplyParameters(tt.r))))
	}
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"name":"guidanceAttachmentFile","resource":{"resourceType":"DocumentReference"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseAdviceReplyParameters(b)
		if err != nil {
			return
		}
		_ = r.CheckSendable()
		if r.Outcome.Sendable() && (r.Outcome != triage.GuidanceReturnWithAdvice || r.Recommendation != "") {
			if _, err := AdviceReplyParameters(r); err != nil {
				t.Fatalf("rebuild: %v", err)
			}
		}
	})
}

func FuzzParseAdviceConversionParameters(f *testing.F) {
	for _, tt := range adviceConversionExamples {
		f.Add(mustJSON(f, must(AdviceConversionParameters(tt.c))))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseAdviceConversionParameters(b)
		if err != nil {
			return
		}
		if c.UBRN == "" || c.BaseVersion <= 0 {
			t.Fatalf("bad conversion %+v", c)
		}
		if c.Priority != "" {
			if _, err := AdviceConversionParameters(c); err != nil {
				t.Fatalf("rebuild: %v", err)
			}
		}
	})
}

// BenchmarkDecodeAdviceConversation decodes a conversation of 40 messages
// with their included roles and files, about the longest a request reaches.
func BenchmarkDecodeAdviceConversation(b *testing.B) {
	req, conv := syntheticAdvice()
	base := conv.Messages
	for i := 0; len(conv.Messages) < 40; i++ {
		m := base[i%len(base)]
		m.ID = strconv.Itoa(90000 + i)
		m.Sent = m.Sent.Add(time.Duration(i) * time.Hour)
		conv.Messages = append(conv.Messages, m)
	}
	body := mustJSON(b, EncodeAdviceConversation(conv, ConversationEncoding{IncludeRequesterRoles: true, IncludeSenderRoles: true,
		IncludeDocuments: true, ServiceID: req.Service.ID, ProviderODS: "R69"}))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if c, err := DecodeAdviceConversation(body); err != nil || len(c.Messages) != 40 {
			b.Fatalf("%v", err)
		}
	}
}
