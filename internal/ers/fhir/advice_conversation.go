package fhir

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// messageFromFHIR maps one Communication; rv resolves its references. It
// returns the UBRN and version the message is based on.
func messageFromFHIR(c *Communication, rv resolver) (triage.AdviceMessage, string, int, error) {
	m := triage.AdviceMessage{ID: c.ID}
	if c.ID == "" {
		return m, "", 0, errors.New("message has no id")
	}
	var ubrn string
	var version int
	for _, b := range c.BasedOn {
		if u, v, ok := basedOn(b.Reference); ok {
			ubrn, version = u, v
			break
		}
	}
	if ubrn == "" {
		return m, "", 0, errors.New("message is not based on an advice request")
	}
	var err error
	if m.Sent, err = parseTime(c.Sent); err != nil {
		return m, "", 0, fmt.Errorf("sent: %w", err)
	}
	for _, cat := range c.Category {
		if cd := cat.First(); cd.Code != "" {
			m.SentBy = triage.MessageSender(cd.Code)
			break
		}
	}
	ref := roleRef(c.Sender)
	if ref == "" {
		if e := c.Extension.Find(ExtCommunicationRequester); e != nil && e.ValueReference != nil {
			ref = e.ValueReference.Reference
		}
	}
	m.Author = rv.role(ref)
	var texts []string
	for _, n := range c.Note {
		if strings.TrimSpace(n.Text) != "" {
			texts = append(texts, n.Text)
		}
	}
	for _, p := range c.Payload {
		if strings.TrimSpace(p.ContentString) != "" {
			texts = append(texts, p.ContentString)
		}
	}
	m.Text = strings.Join(texts, "\n\n")
	if m.Documents, err = rv.documents(c.Payload, map[*DocumentReference]bool{}); err != nil {
		return m, "", 0, err
	}
	return m, ubrn, version, nil
}

// DecodeAdviceConversation decodes an A025 response (a searchset Bundle of
// Communications with the included PractitionerRoles and DocumentReferences)
// into the conversation, oldest message first (see triage.SortMessages).
// Every message is kept, whoever sent it; authors and files are resolved
// against the included resources (a role not included is read from its id).
// Each message's RequestUBRN is the request it is based on; the
// conversation's UBRN is the first message's and its version the highest
// any message is based on (both empty without messages). Messages of more
// than one request are decoded as they are: the caller, who knows which
// request it asked for, refuses them with AdviceConversation.BelongsTo.
//
// It returns an error for malformed JSON, a resource other than a Bundle, a
// message without an id or not based on an advice request, two messages
// with the same id, or a bad date.
func DecodeAdviceConversation(b []byte) (*triage.AdviceConversation, error) {
	var bun Bundle
	if err := decodeAs(b, &bun, &bun.ResourceType, TypeBundle); err != nil {
		return nil, fmt.Errorf("decode advice conversation: %w", err)
	}
	rv := resolver{included: map[string]*Resource{}}
	for _, e := range bun.Entry {
		switch {
		case e.Resource == nil:
		case e.Resource.PractitionerRole != nil:
			rv.included[TypePractitionerRole+"/"+e.Resource.PractitionerRole.ID] = e.Resource
		case e.Resource.DocumentReference != nil:
			rv.included[TypeDocumentReference+"/"+e.Resource.DocumentReference.ID] = e.Resource
		}
	}
	conv := &triage.AdviceConversation{Messages: []triage.AdviceMessage{}}
	ids := map[string]bool{}
	for i, e := range bun.Entry {
		if e.Resource == nil || e.Resource.Communication == nil {
			continue
		}
		c := e.Resource.Communication
		rv.contained = indexContained(c.Contained)
		m, ubrn, version, err := messageFromFHIR(c, rv)
		if err != nil {
			return nil, fmt.Errorf("decode advice conversation: entry %d: %w", i, err)
		}
		if conv.UBRN == "" {
			conv.UBRN = ubrn
		}
		m.RequestUBRN = ubrn
		if ids[m.ID] {
			return nil, fmt.Errorf("decode advice conversation: entry %d: two messages with the same id", i)
		}
		ids[m.ID] = true
		conv.Version = max(conv.Version, version)
		conv.Messages = append(conv.Messages, m)
	}
	triage.SortMessages(conv.Messages)
	return conv, nil
}

// ConversationEncoding says how EncodeAdviceConversation writes a
// conversation: which _includes were asked for, and the recipients e-RS
// names (the service for the referrer's messages, the provider organisation
// for the provider's).
type ConversationEncoding struct {
	IncludeRequesterRoles bool
	IncludeSenderRoles    bool
	IncludeDocuments      bool
	ServiceID             string
	ProviderODS           string
	// SelfLink is the Bundle's self link (the request URL).
	SelfLink string
}

// EncodeAdviceConversation builds the A025 response for the conversation:
// one Communication per message (search mode match), then, as asked, the
// authors' PractitionerRoles and the messages' DocumentReferences (search
// mode include). DecodeAdviceConversation of the result gives back the
// conversation (times at millisecond precision).
func EncodeAdviceConversation(conv *triage.AdviceConversation, enc ConversationEncoding) *Bundle {
	bun := &Bundle{ResourceType: TypeBundle, Meta: &Meta{Profile: []string{ProfileBundle}}, Type: "searchset",
		Total: ptr(len(conv.Messages))}
	if enc.SelfLink != "" {
		bun.Link = []BundleLink{{Relation: "self", URL: enc.SelfLink}}
	}
	var roles, docs []BundleEntry
	seen := map[string]bool{}
	for _, m := range conv.Messages {
		c := encodeMessage(m, conv.UBRN, conv.Version, enc, false)
		bun.Entry = append(bun.Entry, BundleEntry{FullURL: TypeCommunication + "/" + m.ID,
			Resource: &Resource{Communication: c}, Search: &BundleSearch{Mode: "match"}})
		if !m.Author.IsZero() && (enc.IncludeSenderRoles || enc.IncludeRequesterRoles) {
			id := roleID(m.Author)
			if !seen["r"+id] {
				seen["r"+id] = true
				roles = append(roles, BundleEntry{FullURL: TypePractitionerRole + "/" + id,
					Resource: &Resource{PractitionerRole: encodeRole(m.Author, id)}, Search: &BundleSearch{Mode: "include"}})
			}
		}
		if enc.IncludeDocuments {
			for _, d := range m.Documents {
				if d.ID == "" || seen["d"+d.ID] {
					continue
				}
				seen["d"+d.ID] = true
				dr := encodeDocument(d)
				dr.ID = d.ID
				docs = append(docs, BundleEntry{FullURL: TypeDocumentReference + "/" + d.ID,
					Resource: &Resource{DocumentReference: dr}, Search: &BundleSearch{Mode: "include"}})
			}
		}
	}
	bun.Entry = append(append(bun.Entry, roles...), docs...)
	return bun
}

// encodeMessage builds a Communication. With contained set (an A026
// response) its author and files are contained and referred to with "#";
// otherwise they are referred to as "PractitionerRole/{id}" and
// "DocumentReference/{id}" for a Bundle to include.
func encodeMessage(m triage.AdviceMessage, ubrn string, version int, enc ConversationEncoding, contained bool) *Communication {
	c := &Communication{
		ResourceType: TypeCommunication,
		ID:           m.ID,
		Meta:         &Meta{VersionID: "0", Profile: []string{ProfileCommunication}},
		Status:       "completed",
		Sent:         formatDateTime(m.Sent),
	}
	if m.RequestUBRN != "" {
		ubrn = m.RequestUBRN
	}
	based := TypeCommunicationReq + "/" + ubrn
	if version > 0 {
		based += "/_history/" + strconv.Itoa(version)
	}
	c.BasedOn = []Reference{{Reference: based}}
	if m.SentBy != "" {
		c.Category = []CodeableConcept{*concept(triage.SystemCommunicationSentBy, string(m.SentBy), "")}
	}
	if !m.Author.IsZero() {
		ref := TypePractitionerRole + "/" + roleID(m.Author)
		if contained {
			id := TypePractitionerRole + "." + roleID(m.Author)
			c.Contained = append(c.Contained, &Resource{PractitionerRole: encodeRole(m.Author, id)})
			ref = "#" + id
		}
		c.Extension = Extensions{{URL: ExtCommunicationRequester, ValueReference: &Reference{Reference: ref}}}
		c.Sender = roleReference(ref)
	}
	switch {
	case m.SentBy.FromProvider() && enc.ProviderODS != "":
		c.Recipient = []Reference{{Identifier: &Identifier{System: IDODS, Value: enc.ProviderODS}}}
	case !m.SentBy.FromProvider() && enc.ServiceID != "":
		c.Recipient = []Reference{{Extension: Extensions{{URL: ExtHealthcareServiceRef,
			ValueReference: &Reference{Identifier: &Identifier{System: IDService, Value: enc.ServiceID}}}}}}
	}
	for _, d := range m.Documents {
		ref := TypeDocumentReference + "/" + d.ID
		if contained {
			dr := encodeDocument(d)
			dr.ID = docIDPrefix + d.ID
			c.Contained = append(c.Contained, &Resource{DocumentReference: dr})
			ref = "#" + dr.ID
		}
		c.Payload = append(c.Payload, CommunicationPayload{ContentReference: &Reference{Reference: ref}})
	}
	if m.Text != "" {
		c.Note = []Annotation{{Text: m.Text}}
	}
	return c
}
