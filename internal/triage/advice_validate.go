package triage

import (
	"fmt"
	"strings"
	"time"
)

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
