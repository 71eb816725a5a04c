package triage

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Advice and Guidance (A&G): a referrer asks a provider's clinician for advice
// about a patient instead of (or before) referring. The conversation goes back
// and forth: the clinician returns advice, or asks for further information,
// and where the referrer allowed it the clinician may convert the request into
// a referral. These are the protocol-neutral types and rules; internal/ers maps
// them to e-RS's CommunicationRequest and Communication resources.

// Code system URLs of the Advice and Guidance value sets.
const (
	SystemAdviceAndGuidanceStatus         = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-AdviceAndGuidanceStatus-1"
	SystemGuidanceResponseOutcome         = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-GuidanceResponseOutcome-1"
	SystemGuidanceIntendedRecommendation  = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-GuidanceIntendedRecommendation-1"
	SystemProviderConversionAuthorisation = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ProviderConversionAuthorisation-1"
	SystemCommunicationSentBy             = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-CommunicationSentBy-1"
)

// MaxGuidanceLength is the most characters e-RS accepts in the guidance of an
// Advice and Guidance reply (A026) or conversion (A027).
const MaxGuidanceLength = 8000

// AdviceCategory is where an Advice and Guidance conversation stands, as the
// worklist and the request show it (eRS-AdviceAndGuidanceStatus-1).
type AdviceCategory string

// The Advice and Guidance categories.
const (
	// AdviceResponseRequired: the provider's clinician has to reply.
	AdviceResponseRequired AdviceCategory = "PROVIDER_RESPONSE_REQUIRED"
	// AdviceAwaitingInformation: the clinician asked for further
	// information; the referrer has to send it.
	AdviceAwaitingInformation AdviceCategory = "REFERRER_TO_SUBMIT_FURTHER_INFORMATION"
	// AdviceReferrerReviewing: the clinician returned advice; the referrer
	// is reviewing it.
	AdviceReferrerReviewing AdviceCategory = "REFERRER_TO_REVIEW_RESPONSE"
	// AdviceEndedCancelled: the referrer withdrew the request.
	AdviceEndedCancelled AdviceCategory = "CONVERSATION_ENDED_CANCELLED"
	// AdviceEndedClosed: the referrer closed the conversation.
	AdviceEndedClosed AdviceCategory = "CONVERSATION_ENDED_CLOSED"
	// AdviceConverted: the request was converted to a referral.
	AdviceConverted AdviceCategory = "ADVICE_CONVERTED"
)

// AdviceCategories lists every category, in worklist order.
var AdviceCategories = []AdviceCategory{AdviceResponseRequired, AdviceAwaitingInformation, AdviceReferrerReviewing,
	AdviceEndedCancelled, AdviceEndedClosed, AdviceConverted}

// ParseAdviceCategory parses an eRS-AdviceAndGuidanceStatus-1 code.
func ParseAdviceCategory(code string) (AdviceCategory, error) {
	c := AdviceCategory(strings.TrimSpace(code))
	if slices.Contains(AdviceCategories, c) {
		return c, nil
	}
	return "", fmt.Errorf("unknown advice and guidance category %q", code)
}

// Rank orders categories for the worklist: 0 when the provider must reply,
// 1 for a code Triage Desk does not know (it may need a reply, so it is never
// hidden or sunk), 2 while the referrer is to send information, 3 while the
// referrer reviews advice, and 4 for ended or converted conversations.
func (c AdviceCategory) Rank() int {
	switch c {
	case AdviceResponseRequired:
		return 0
	case AdviceAwaitingInformation:
		return 2
	case AdviceReferrerReviewing:
		return 3
	case AdviceEndedCancelled, AdviceEndedClosed, AdviceConverted:
		return 4
	}
	return 1
}

// ResponseRequired reports whether the provider's clinician is to reply now.
func (c AdviceCategory) ResponseRequired() bool { return c == AdviceResponseRequired }

// Ended reports whether the conversation is over: withdrawn, closed or
// converted to a referral.
func (c AdviceCategory) Ended() bool {
	return c == AdviceEndedCancelled || c == AdviceEndedClosed || c == AdviceConverted
}

// Label is the category as the worklist shows it.
func (c AdviceCategory) Label() string {
	switch c {
	case AdviceResponseRequired:
		return "Response required"
	case AdviceAwaitingInformation:
		return "Waiting for further information"
	case AdviceReferrerReviewing:
		return "Referrer reviewing advice"
	case AdviceEndedCancelled:
		return "Ended: withdrawn by the referrer"
	case AdviceEndedClosed:
		return "Ended: closed"
	case AdviceConverted:
		return "Converted to a referral"
	}
	if c == "" {
		return "Unknown"
	}
	return string(c)
}

// GuidanceOutcome is what a clinician's Advice and Guidance reply does
// (eRS-GuidanceResponseOutcome-1).
type GuidanceOutcome string

// The guidance outcomes. A026 sends the first two; PROVIDER_CONVERTED is the
// outcome e-RS records when a request is converted (A027).
const (
	GuidanceReturnWithAdvice   GuidanceOutcome = "RETURN_TO_REFERRER_WITH_ADVICE"
	GuidanceRequestFurtherInfo GuidanceOutcome = "REQUIRE_FURTHER_INFORMATION"
	GuidanceProviderConverted  GuidanceOutcome = "PROVIDER_CONVERTED"
)

// GuidanceOutcomes lists the outcomes a reply may have.
var GuidanceOutcomes = []GuidanceOutcome{GuidanceReturnWithAdvice, GuidanceRequestFurtherInfo}

// Sendable reports whether a reply (A026) may have the outcome.
func (o GuidanceOutcome) Sendable() bool {
	return o == GuidanceReturnWithAdvice || o == GuidanceRequestFurtherInfo
}

// Label is the plain-English name of the outcome.
func (o GuidanceOutcome) Label() string {
	switch o {
	case GuidanceReturnWithAdvice:
		return "Return to referrer with advice"
	case GuidanceRequestFurtherInfo:
		return "Ask for further information"
	case GuidanceProviderConverted:
		return "Converted to a referral"
	}
	return string(o)
}

// IntendedRecommendation is what the clinician recommends when returning
// advice (eRS-GuidanceIntendedRecommendation-1); it is mandatory then.
type IntendedRecommendation string

// The intended recommendations.
const (
	RecommendAdviceOnly         IntendedRecommendation = "ADVICE_ONLY_NO_REFERRAL_RECOMMENDED"
	RecommendReferralIfRequired IntendedRecommendation = "ADVICE_FOLLOWED_BY_REFERRAL_IF_REQUIRED"
	RecommendReferral           IntendedRecommendation = "REFERRAL_RECOMMENDED"
	RecommendOther              IntendedRecommendation = "OTHER"
)

// IntendedRecommendations lists every intended recommendation.
var IntendedRecommendations = []IntendedRecommendation{RecommendAdviceOnly, RecommendReferralIfRequired, RecommendReferral, RecommendOther}

// Valid reports whether the recommendation is an e-RS code.
func (r IntendedRecommendation) Valid() bool { return slices.Contains(IntendedRecommendations, r) }

// Label is the plain-English name of the recommendation.
func (r IntendedRecommendation) Label() string {
	switch r {
	case RecommendAdviceOnly:
		return "Advice only: no referral recommended"
	case RecommendReferralIfRequired:
		return "Advice, followed by a referral if required"
	case RecommendReferral:
		return "Referral recommended"
	case RecommendOther:
		return "Other"
	}
	return string(r)
}

// ConversionAuthorisation is whether the referrer allowed the provider to
// convert the request into a referral (eRS-ProviderConversionAuthorisation-1).
type ConversionAuthorisation string

// The conversion authorisations. Anything else, including no answer, does not
// allow conversion.
const (
	ConversionAuthorised    ConversionAuthorisation = "AUTHORISED_TO_CONVERT"
	ConversionNotAuthorised ConversionAuthorisation = "NOT_AUTHORISED_TO_CONVERT"
)

// Allows reports whether the referrer authorised conversion. Only an explicit
// AUTHORISED_TO_CONVERT does.
func (c ConversionAuthorisation) Allows() bool { return c == ConversionAuthorised }

// Label says in plain English whether conversion is allowed.
func (c ConversionAuthorisation) Label() string {
	switch c {
	case ConversionAuthorised:
		return "The referrer allows conversion to a referral"
	case ConversionNotAuthorised:
		return "The referrer has not allowed conversion to a referral"
	}
	return "Not known whether the referrer allows conversion: it cannot be converted"
}

// MessageSender says who a message in a conversation came from
// (eRS-CommunicationSentBy-1).
type MessageSender string

// The message senders.
const (
	// SentByRequester: the referrer (the request and its follow-ups).
	SentByRequester MessageSender = "REQUESTER"
	// SentByResponder: the provider's clinician.
	SentByResponder MessageSender = "RESPONDER"
	// SentByClinicalInfoUpdated: e-RS's note that the referrer added or
	// changed clinical information (attachments).
	SentByClinicalInfoUpdated MessageSender = "REFERRER_CLINICAL_INFORMATION_UPDATED"
)

// FromProvider reports whether the provider's side sent the message. Anything
// else, including a code Triage Desk does not know, counts as the referrer's,
// so it is treated as new information to read.
func (s MessageSender) FromProvider() bool { return s == SentByResponder }

// Label names the sender for the conversation view.
func (s MessageSender) Label() string {
	switch s {
	case SentByRequester:
		return "Referrer"
	case SentByResponder:
		return "Provider"
	case SentByClinicalInfoUpdated:
		return "Referrer updated the clinical information"
	}
	if s == "" {
		return "Unknown sender"
	}
	return string(s)
}

// ClinicianRole is who wrote something, in which organisation and role: the
// SDS user id, the ODS code and the business function.
type ClinicianRole struct {
	SDSUserID        string           `json:"sdsUserId,omitempty"`
	ODS              string           `json:"ods,omitempty"`
	BusinessFunction BusinessFunction `json:"businessFunction,omitempty"`
}

// IsZero reports whether nothing is known about the author.
func (r ClinicianRole) IsZero() bool { return r == ClinicianRole{} }

// Label describes the role in one line, e.g. "Referring clinician 9216…, R68".
func (r ClinicianRole) Label() string {
	var parts []string
	if r.BusinessFunction != "" {
		parts = append(parts, r.BusinessFunction.Label())
	}
	if r.SDSUserID != "" {
		parts = append(parts, r.SDSUserID)
	}
	s := strings.Join(parts, " ")
	if r.ODS != "" {
		if s != "" {
			s += ", "
		}
		s += r.ODS
	}
	if s == "" {
		return "Unknown"
	}
	return s
}

// AdviceItem is one entry of the Advice and Guidance worklist (A023). As on
// the referral worklists, e-RS gives only the patient's NHS number.
type AdviceItem struct {
	UBRN           string         `json:"ubrn"`
	NHSNumber      string         `json:"nhsNumber"`
	Priority       Priority       `json:"priority"`
	Specialty      Coding         `json:"specialty"`
	ClinicType     Coding         `json:"clinicType,omitzero"`
	Service        Service        `json:"service"`
	Category       AdviceCategory `json:"category"`
	FirstRequested time.Time      `json:"firstRequested,omitzero"`
	LastUpdated    time.Time      `json:"lastUpdated,omitzero"`
	// Referrer is the SDS user id of the referring clinician.
	Referrer string `json:"referrer,omitempty"`
	// NamedClinician is the clinician the referrer addressed, if any.
	NamedClinician string `json:"namedClinician,omitempty"`
	// Version is communicationRequestVersion: like a referral's worklist
	// version, a hint of whether the request changed.
	Version int `json:"version,omitempty"`
}

// DaysSinceAsked is the number of whole days since advice was first
// requested, as of now. It is never negative.
func (a AdviceItem) DaysSinceAsked(now time.Time) int {
	if a.FirstRequested.IsZero() || now.Before(a.FirstRequested) {
		return 0
	}
	return int(now.Sub(a.FirstRequested).Hours() / 24)
}

// CompareAdviceItems orders the worklist for a clinician: conversations
// needing a reply first (unknown categories next), then by clinical priority,
// then the longest waiting first, then by UBRN so the order is stable.
func CompareAdviceItems(a, b AdviceItem) int {
	return cmp.Or(
		cmp.Compare(a.Category.Rank(), b.Category.Rank()),
		cmp.Compare(a.Priority.Rank(), b.Priority.Rank()),
		a.FirstRequested.Compare(b.FirstRequested),
		strings.Compare(a.UBRN, b.UBRN),
	)
}

// AdviceRequest is the summary of one Advice and Guidance request (A024): the
// request as it stands, without its messages.
type AdviceRequest struct {
	UBRN      string `json:"ubrn"`
	RequestID string `json:"requestId,omitempty"` // a.<uuid>
	NHSNumber string `json:"nhsNumber"`
	// Version is meta.versionId: replies and conversions are based on it.
	Version    int                     `json:"version"`
	Status     string                  `json:"status,omitempty"` // active, completed, cancelled
	Category   AdviceCategory          `json:"category"`
	Priority   Priority                `json:"priority"`
	Specialty  Coding                  `json:"specialty"`
	ClinicType Coding                  `json:"clinicType,omitzero"`
	Service    Service                 `json:"service"`
	Conversion ConversionAuthorisation `json:"conversion,omitempty"`
	// Requester is the referring clinician who asked.
	Requester ClinicianRole `json:"requester,omitzero"`
	// Documents are the attachments sent with the request.
	Documents []Document `json:"documents,omitempty"`
}

// AdviceMessage is one message of a conversation (an e-RS Communication).
type AdviceMessage struct {
	ID     string        `json:"id"`
	Sent   time.Time     `json:"sent,omitzero"`
	SentBy MessageSender `json:"sentBy"`
	Author ClinicianRole `json:"author,omitzero"`
	Text   string        `json:"text,omitempty"`
	// Documents are the files sent with the message, in the order given.
	// A file e-RS did not describe is kept with its id only.
	Documents []Document `json:"documents,omitempty"`
	// RequestUBRN is the request the message says it belongs to (its
	// basedOn).
	RequestUBRN string `json:"requestUbrn,omitempty"`
}

// AdviceConversation is every message of one request (A025), oldest first.
type AdviceConversation struct {
	UBRN string `json:"ubrn"`
	// Version is the request version the messages were read at.
	Version  int             `json:"version"`
	Messages []AdviceMessage `json:"messages"`
}

// SortMessages puts messages in the order they were sent. Messages sent at
// the same instant are ordered by id (numerically when both are numbers), so
// the order never depends on the order e-RS listed them in.
func SortMessages(ms []AdviceMessage) {
	slices.SortStableFunc(ms, func(a, b AdviceMessage) int {
		if c := a.Sent.Compare(b.Sent); c != 0 {
			return c
		}
		an, aerr := strconv.ParseUint(a.ID, 10, 64)
		bn, berr := strconv.ParseUint(b.ID, 10, 64)
		if aerr == nil && berr == nil {
			return cmp.Compare(an, bn)
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// Latest returns the most recent message, if there is one.
func (c *AdviceConversation) Latest() (AdviceMessage, bool) {
	if c == nil || len(c.Messages) == 0 {
		return AdviceMessage{}, false
	}
	return c.Messages[len(c.Messages)-1], true
}

// BelongsTo returns an error unless the conversation, and every message in
// it, belongs to the request with the UBRN: one request's messages must
// never be shown as, or answered as, another's.
func (c *AdviceConversation) BelongsTo(ubrn string) error {
	if c == nil {
		return nil
	}
	if c.UBRN != "" && c.UBRN != ubrn {
		return fmt.Errorf("the conversation belongs to another advice request")
	}
	for i, m := range c.Messages {
		if m.RequestUBRN != "" && m.RequestUBRN != ubrn {
			return fmt.Errorf("message %d belongs to another advice request", i)
		}
	}
	return nil
}

// LatestID is the id of the most recent message, or "".
func (c *AdviceConversation) LatestID() string {
	m, _ := c.Latest()
	return m.ID
}

// Unanswered returns the referrer's messages since the provider last wrote:
// what a reply has to answer. It is every message when the provider has not
// written yet.
func (c *AdviceConversation) Unanswered() []AdviceMessage {
	if c == nil {
		return nil
	}
	i := len(c.Messages)
	for i > 0 && !c.Messages[i-1].SentBy.FromProvider() {
		i--
	}
	return c.Messages[i:]
}

// AdviceReply is a clinician's reply to an Advice and Guidance request
// (A026). Like a decision it records what the clinician saw (the request's
// version and the latest message they read) and who replied, so a reply is
// never sent to a conversation that moved on, nor under someone else's
// session.
type AdviceReply struct {
	ID          string    `json:"id"`
	UBRN        string    `json:"ubrn"`
	BaseVersion int       `json:"baseVersion"`
	By          Identity  `json:"by"`
	DecidedAt   time.Time `json:"decidedAt"`
	// LastMessageID is the id of the latest message of the conversation
	// when the clinician wrote the reply.
	LastMessageID string `json:"lastMessageId,omitempty"`

	Outcome GuidanceOutcome `json:"outcome"`
	// Recommendation is mandatory when returning advice, and not sent when
	// asking for further information.
	Recommendation IntendedRecommendation `json:"recommendation,omitempty"`
	// Guidance is the text for the referrer, at most MaxGuidanceLength
	// characters.
	Guidance string `json:"guidance"`
	// Priority is sent with every reply (updatedPriority): the request's
	// current priority unless the clinician changes it.
	Priority    Priority             `json:"priority"`
	Attachments []ProviderAttachment `json:"attachments,omitempty"`
}

// Summary describes the reply in one line without patient data.
func (r AdviceReply) Summary() string {
	if r.Outcome == GuidanceReturnWithAdvice && r.Recommendation != "" {
		return r.Outcome.Label() + ": " + r.Recommendation.Label()
	}
	return r.Outcome.Label()
}

// AdviceConversion converts an Advice and Guidance request into a referral
// (A027). It is allowed only when the referrer authorised it; Authorisation
// records what e-RS said when the clinician decided.
type AdviceConversion struct {
	ID          string    `json:"id"`
	UBRN        string    `json:"ubrn"`
	BaseVersion int       `json:"baseVersion"`
	By          Identity  `json:"by"`
	DecidedAt   time.Time `json:"decidedAt"`
	// LastMessageID is the id of the latest message when the clinician
	// decided.
	LastMessageID string                  `json:"lastMessageId,omitempty"`
	Authorisation ConversionAuthorisation `json:"authorisation"`
	// Guidance goes to the referrer, at most MaxGuidanceLength characters.
	Guidance string `json:"guidance"`
	// Priority is the new referral's priority.
	Priority Priority `json:"priority"`
	// ReviewComments go to the provider's booking team, at most
	// MaxCommentLength characters.
	ReviewComments string `json:"reviewComments"`
	// GuidanceAttachments go to the referrer (GUIDANCE_RESPONSE);
	// ReviewAttachments to the booking team (PROVIDER).
	GuidanceAttachments []ProviderAttachment `json:"guidanceAttachments,omitempty"`
	ReviewAttachments   []ProviderAttachment `json:"reviewAttachments,omitempty"`
}

// Summary describes the conversion in one line without patient data.
func (c AdviceConversion) Summary() string {
	return "Convert to a referral (" + c.Priority.Label() + ")"
}
