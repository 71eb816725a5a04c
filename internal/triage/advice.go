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

// AdviceContext is what a reply or conversion is checked against: the
// request and its conversation as the clinician (or, before sending, e-RS)
// has them, and the current time.
type AdviceContext struct {
	Request      *AdviceRequest
	Conversation *AdviceConversation
	Now          time.Time
}

// The fields and rules of Advice and Guidance replies, besides those of
// decisions.
const (
	FieldGuidance       Field = "guidance"
	FieldRecommendation Field = "recommendation"
	FieldReviewComments Field = "reviewComments"
	FieldConversation   Field = "conversation"

	RuleGuidanceRequired        Rule = "guidance-required"
	RuleGuidanceTooLong         Rule = "guidance-too-long"
	RuleRecommendationRequired  Rule = "recommendation-required"
	RuleRecommendationInvalid   Rule = "recommendation-invalid"
	RulePriorityRequired        Rule = "priority-required"
	RuleConversationMovedOn     Rule = "conversation-moved-on"
	RuleNotProviderTurn         Rule = "not-provider-turn"
	RuleConversionNotAuthorised Rule = "conversion-not-authorised"
)

// problems collects validation problems.
type problems []Problem

func (ps *problems) add(f Field, r Rule, format string, args ...any) {
	*ps = append(*ps, Problem{Field: f, Rule: r, Message: fmt.Sprintf(format, args...)})
}

func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps}
}

// Validate checks the reply against the request and conversation the
// clinician has open and e-RS's rules. It returns nil or a *ValidationError
// listing every problem in plain English. A reply is refused when it belongs
// to another request, when the request or its conversation moved on since
// the clinician read it (someone wrote, or the version changed), when it is
// not the provider's turn, and when its fields break the rules of
// CheckSendable.
func (r AdviceReply) Validate(ac AdviceContext) error {
	var ps problems
	if !ps.checkTarget(ac, r.UBRN, r.BaseVersion, r.LastMessageID, "reply") {
		return ps.err()
	}
	ps = append(ps, identityProblems(r.By, "replying", "reply to advice and guidance requests")...)
	ps.checkTurn(ac.Request.Category, "replied to")
	ps = append(ps, r.fieldProblems()...)
	return ps.err()
}

// CheckSendable checks what can be checked from the reply alone, as the e-RS
// client does before sending: a sendable outcome, a recommendation when (and
// only when) returning advice, guidance of at most MaxGuidanceLength
// characters, a priority, and attachments within e-RS's size limit. It
// returns nil or a *ValidationError.
func (r AdviceReply) CheckSendable() error { return problems(r.fieldProblems()).err() }

func (r AdviceReply) fieldProblems() problems {
	var ps problems
	switch {
	case !r.Outcome.Sendable():
		ps.add(FieldOutcome, RuleOutcomeInvalid, "Choose an outcome: return to the referrer with advice, or ask for further information.")
	case r.Outcome == GuidanceReturnWithAdvice && r.Recommendation == "":
		ps.add(FieldRecommendation, RuleRecommendationRequired, "Choose what you recommend (advice only, advice then referral if required, referral, or other): e-RS needs it with advice.")
	case r.Outcome == GuidanceReturnWithAdvice && !r.Recommendation.Valid():
		ps.add(FieldRecommendation, RuleRecommendationInvalid, "Choose a recommendation from the list.")
	case r.Outcome == GuidanceRequestFurtherInfo && r.Recommendation != "":
		ps.add(FieldRecommendation, RuleFieldNotAllowed, "A recommendation cannot be sent when asking for further information; clear it.")
	}
	ps.checkText(FieldGuidance, r.Guidance, MaxGuidanceLength, "Write your guidance for the referrer.")
	ps.checkPriority(r.Priority)
	ps.checkAttachments(r.Attachments)
	return ps
}

// Validate checks the conversion against the request the clinician has open
// and e-RS's rules. It returns nil or a *ValidationError. Conversion is
// refused unless the referrer authorised it, both as e-RS says now and as it
// was when the clinician decided.
func (c AdviceConversion) Validate(ac AdviceContext) error {
	var ps problems
	if !ps.checkTarget(ac, c.UBRN, c.BaseVersion, c.LastMessageID, "conversion") {
		return ps.err()
	}
	ps = append(ps, identityProblems(c.By, "converting", "convert advice and guidance requests")...)
	if !ac.Request.Conversion.Allows() {
		ps.add(FieldKind, RuleConversionNotAuthorised, "The referrer has not allowed this request to be converted to a referral. Reply with your advice instead (you can recommend a referral).")
	}
	ps.checkTurn(ac.Request.Category, "converted")
	ps = append(ps, c.fieldProblems()...)
	return ps.err()
}

// CheckSendable checks what can be checked from the conversion alone, as the
// e-RS client does before sending: the referrer's authorisation as recorded
// when the clinician decided, guidance and review comments present and
// within e-RS's limits, a priority, and attachment sizes. It returns nil or
// a *ValidationError.
func (c AdviceConversion) CheckSendable() error { return c.fieldProblems().err() }

func (c AdviceConversion) fieldProblems() problems {
	var ps problems
	if !c.Authorisation.Allows() {
		ps.add(FieldKind, RuleConversionNotAuthorised, "The referrer had not allowed this request to be converted to a referral when you decided, so it cannot be converted.")
	}
	ps.checkText(FieldGuidance, c.Guidance, MaxGuidanceLength, "Write a message telling the referrer that you converted the request.")
	ps.checkPriority(c.Priority)
	ps.checkText(FieldReviewComments, c.ReviewComments, MaxCommentLength, "Add comments telling your booking team what to do with the new referral.")
	ps.checkAttachments(c.GuidanceAttachments)
	ps.checkAttachments(c.ReviewAttachments)
	return ps
}

// checkTarget checks that the reply or conversion is for the open request at
// the version, and the latest message, the clinician saw. It reports whether
// there was a request to check against.
func (ps *problems) checkTarget(ac AdviceContext, ubrn string, base int, lastMessage, what string) bool {
	req := ac.Request
	if req == nil {
		ps.add(FieldReferral, RuleReferralMismatch, "Open the advice and guidance request before replying.")
		return false
	}
	if ubrn != req.UBRN {
		ps.add(FieldReferral, RuleReferralMismatch, "This %s is for a different advice and guidance request from the one open. Reopen the conversation and start again.", what)
	}
	switch {
	case base <= 0:
		ps.add(FieldReferral, RuleVersionMissing, "The request's version is not known. Refresh the conversation before replying.")
	case req.Version != base:
		ps.add(FieldConversation, RuleConversationMovedOn, "The request has changed since you read it. Read the conversation again, then send your %s.", what)
	}
	if conv := ac.Conversation; conv != nil {
		switch {
		case conv.BelongsTo(req.UBRN) != nil:
			ps.add(FieldConversation, RuleReferralMismatch, "The conversation shown includes messages of a different request. Reopen the request.")
		case conv.LatestID() != lastMessage:
			ps.add(FieldConversation, RuleConversationMovedOn, "A new message has arrived since you started this %s. Read it before sending.", what)
		}
	}
	return true
}

// checkTurn refuses a reply or conversion when it is not the provider's
// turn.
func (ps *problems) checkTurn(c AdviceCategory, done string) {
	switch {
	case c == AdviceResponseRequired:
	case c == AdviceAwaitingInformation:
		ps.add(FieldConversation, RuleNotProviderTurn, "You have asked the referrer for further information: wait for their reply before writing again.")
	case c == AdviceReferrerReviewing:
		ps.add(FieldConversation, RuleNotProviderTurn, "You have already returned advice; the referrer is reviewing it.")
	case c.Ended():
		ps.add(FieldConversation, RuleNotProviderTurn, "This conversation has ended (%s); it cannot be %s.", strings.ToLower(c.Label()), done)
	default:
		ps.add(FieldConversation, RuleNotProviderTurn, "e-RS reports this request as %q, so Triage Desk cannot tell whether a reply is expected. Refresh it, or check it in e-RS.", c.Label())
	}
}

func (ps *problems) checkText(f Field, text string, limit int, missing string) {
	rule := RuleGuidanceRequired
	long := RuleGuidanceTooLong
	name := "Guidance"
	if f != FieldGuidance {
		rule, long, name = RuleCommentRequired, RuleCommentTooLong, "Comments"
	}
	if strings.TrimSpace(text) == "" {
		ps.add(f, rule, "%s", missing)
		return
	}
	if n := len([]rune(text)); n > limit {
		ps.add(f, long, "%s can be at most %d characters; this is %d. Shorten it by %d.", name, limit, n, n-limit)
	}
}

func (ps *problems) checkPriority(p Priority) {
	if p == "" {
		ps.add(FieldPriority, RulePriorityRequired, "Choose the priority (keep the current one if it has not changed): e-RS needs it.")
		return
	}
	if _, err := ParsePriority(string(p)); err != nil {
		ps.add(FieldPriority, RulePriorityInvalid, "Choose a priority from the list (routine, urgent or 2WW).")
	}
}

func (ps *problems) checkAttachments(as []ProviderAttachment) {
	for _, a := range as {
		if a.Size > MaxAttachmentSize {
			ps.add(FieldAttachments, RuleAttachmentTooLarge, "%q is larger than the 5 MB e-RS allows. Attach a smaller file.", a.FileName)
		}
	}
}

// identityProblems checks who is acting: signed in, in a role that may make
// clinical decisions, and for a clinician admin, on behalf of a clinician.
// doing is e.g. "deciding"; cannot says what a role that may not vet
// cannot do.
func identityProblems(by Identity, doing, cannot string) []Problem {
	var ps problems
	switch {
	case by.IsZero() || by.ODS == "":
		ps.add(FieldIdentity, RuleIdentityMissing, "You are not signed in. Sign in with your NHS Care Identity before %s.", doing)
	case !by.BusinessFunction.CanVet():
		ps.add(FieldIdentity, RuleRoleCannotDecide, "Your role (%s) cannot %s. Sign in as a service provider clinician.", by.BusinessFunction.Label(), cannot)
	case by.BusinessFunction == RoleServiceProviderClinicianAdmin && by.OnBehalfOf == "":
		ps.add(FieldIdentity, RuleIdentityMissing, "As a clinician admin you must choose the clinician you are acting for.")
	}
	return ps
}
