package triage

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var adviceNow = time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)

var clinicianID = Identity{SDSUserID: "910000000101", ODS: "R69", BusinessFunction: RoleServiceProviderClinician}

// openAdvice is a request awaiting the provider's reply, with its
// conversation: the referrer asked, the clinician asked for more, the
// referrer answered.
func openAdvice() (*AdviceRequest, *AdviceConversation) {
	req := &AdviceRequest{UBRN: "200000000017", NHSNumber: "9990000018", Version: 7, Category: AdviceResponseRequired,
		Priority: PriorityUrgent, Conversion: ConversionAuthorised}
	conv := &AdviceConversation{UBRN: req.UBRN, Version: 7, Messages: []AdviceMessage{
		{ID: "1", Sent: adviceNow.Add(-72 * time.Hour), SentBy: SentByRequester, Text: "Please advise."},
		{ID: "2", Sent: adviceNow.Add(-48 * time.Hour), SentBy: SentByResponder, Text: "Please send the ECG."},
		{ID: "3", Sent: adviceNow.Add(-24 * time.Hour), SentBy: SentByRequester, Text: "ECG attached."},
	}}
	return req, conv
}

func goodReply() AdviceReply {
	return AdviceReply{UBRN: "200000000017", BaseVersion: 7, By: clinicianID, DecidedAt: adviceNow, LastMessageID: "3",
		Outcome: GuidanceReturnWithAdvice, Recommendation: RecommendAdviceOnly, Guidance: "Start a beta blocker.", Priority: PriorityUrgent}
}

func goodConversion() AdviceConversion {
	return AdviceConversion{UBRN: "200000000017", BaseVersion: 7, By: clinicianID, DecidedAt: adviceNow, LastMessageID: "3",
		Authorisation: ConversionAuthorised, Guidance: "Converted: we will see the patient.", Priority: PriorityUrgent,
		ReviewComments: "Book into the next rapid access clinic."}
}

// rules returns the rules a validation error names, or nil.
func rules(err error) []Rule {
	ve, ok := err.(*ValidationError)
	if err != nil && !ok {
		return []Rule{"not-a-validation-error"}
	}
	if !ok {
		return nil
	}
	var out []Rule
	for _, p := range ve.Problems {
		out = append(out, p.Rule)
		if p.Message == "" || !strings.HasSuffix(p.Message, ".") {
			out = append(out, "bad-message")
		}
	}
	return out
}

func TestAdviceReplyValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *AdviceReply, req *AdviceRequest, conv *AdviceConversation)
		want   []Rule
	}{
		{"advice with a recommendation", func(*AdviceReply, *AdviceRequest, *AdviceConversation) {}, nil},
		{"further information without a recommendation", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) {
			r.Outcome, r.Recommendation = GuidanceRequestFurtherInfo, ""
		}, nil},
		{"advice without a recommendation", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) { r.Recommendation = "" },
			[]Rule{RuleRecommendationRequired}},
		{"a recommendation that is not a code", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) { r.Recommendation = "REFER_SOON" },
			[]Rule{RuleRecommendationInvalid}},
		{"further information with a recommendation", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) {
			r.Outcome = GuidanceRequestFurtherInfo
		}, []Rule{RuleFieldNotAllowed}},
		{"converted is not a reply", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) { r.Outcome = GuidanceProviderConverted },
			[]Rule{RuleOutcomeInvalid}},
		{"no outcome", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) { r.Outcome = "" }, []Rule{RuleOutcomeInvalid}},
		{"blank guidance", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) { r.Guidance = " \n\t" }, []Rule{RuleGuidanceRequired}},
		{"8000 characters of guidance", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) {
			r.Guidance = strings.Repeat("é", MaxGuidanceLength)
		}, nil},
		{"8001 characters of guidance", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) {
			r.Guidance = strings.Repeat("é", MaxGuidanceLength+1)
		}, []Rule{RuleGuidanceTooLong}},
		{"no priority", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) { r.Priority = "" }, []Rule{RulePriorityRequired}},
		{"a priority that is not a code", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) { r.Priority = "SOON" },
			[]Rule{RulePriorityInvalid}},
		{"a changed priority", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) { r.Priority = PriorityTwoWeekWait }, nil},
		{"an attachment over 5 MB", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) {
			r.Attachments = []ProviderAttachment{{FileName: "scan.pdf", Size: MaxAttachmentSize + 1}}
		}, []Rule{RuleAttachmentTooLarge}},
		{"not signed in", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) { r.By = Identity{} }, []Rule{RuleIdentityMissing}},
		{"an admin cannot reply", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) {
			r.By.BusinessFunction = RoleServiceProviderAdmin
		}, []Rule{RuleRoleCannotDecide}},
		{"a clinician admin must act for someone", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) {
			r.By.BusinessFunction = RoleServiceProviderClinicianAdmin
		}, []Rule{RuleIdentityMissing}},
		{"waiting for the referrer's information", func(_ *AdviceReply, req *AdviceRequest, _ *AdviceConversation) {
			req.Category = AdviceAwaitingInformation
		}, []Rule{RuleNotProviderTurn}},
		{"the referrer is reviewing advice", func(_ *AdviceReply, req *AdviceRequest, _ *AdviceConversation) {
			req.Category = AdviceReferrerReviewing
		}, []Rule{RuleNotProviderTurn}},
		{"withdrawn", func(_ *AdviceReply, req *AdviceRequest, _ *AdviceConversation) { req.Category = AdviceEndedCancelled },
			[]Rule{RuleNotProviderTurn}},
		{"an unknown category", func(_ *AdviceReply, req *AdviceRequest, _ *AdviceConversation) { req.Category = "SOMETHING_NEW" },
			[]Rule{RuleNotProviderTurn}},
		{"no conversation loaded", func(_ *AdviceReply, _ *AdviceRequest, conv *AdviceConversation) { *conv = AdviceConversation{} }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := goodReply()
			req, conv := openAdvice()
			tt.mutate(&r, req, conv)
			ac := AdviceContext{Request: req, Conversation: conv, Now: adviceNow}
			if conv.UBRN == "" {
				ac.Conversation = nil
			}
			if got := rules(r.Validate(ac)); !slices.Equal(got, tt.want) {
				t.Errorf("rules %v, want %v (%v)", got, tt.want, r.Validate(ac))
			}
			// The context-free check agrees on the reply's own fields.
			fieldOnly := !slices.ContainsFunc(tt.want, func(r Rule) bool {
				return r == RuleIdentityMissing || r == RuleRoleCannotDecide || r == RuleNotProviderTurn
			})
			if got := rules(r.CheckSendable()); fieldOnly && !slices.Equal(got, tt.want) {
				t.Errorf("CheckSendable rules %v, want %v", got, tt.want)
			}
		})
	}
}

// A reply is only ever for the request, and the version of it, the
// clinician has open (HAZ-30).
func TestAdviceReplyForAnotherRequestOrVersionRefused(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *AdviceReply, req *AdviceRequest, conv *AdviceConversation)
		want   []Rule
	}{
		{"another request", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) { r.UBRN = "200000000030" },
			[]Rule{RuleReferralMismatch}},
		{"the conversation of another request", func(_ *AdviceReply, _ *AdviceRequest, conv *AdviceConversation) { conv.UBRN = "200000000030" },
			[]Rule{RuleReferralMismatch}},
		{"a message of another request", func(_ *AdviceReply, _ *AdviceRequest, conv *AdviceConversation) {
			conv.Messages[1].RequestUBRN = "200000000030"
		}, []Rule{RuleReferralMismatch}},
		{"no version", func(r *AdviceReply, _ *AdviceRequest, _ *AdviceConversation) { r.BaseVersion = 0 }, []Rule{RuleVersionMissing}},
		{"the request moved on", func(_ *AdviceReply, req *AdviceRequest, _ *AdviceConversation) { req.Version = 8 },
			[]Rule{RuleConversationMovedOn}},
		{"an older request than the reply", func(_ *AdviceReply, req *AdviceRequest, _ *AdviceConversation) { req.Version = 6 },
			[]Rule{RuleConversationMovedOn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := goodReply()
			req, conv := openAdvice()
			tt.mutate(&r, req, conv)
			if got := rules(r.Validate(AdviceContext{Request: req, Conversation: conv, Now: adviceNow})); !slices.Equal(got, tt.want) {
				t.Errorf("rules %v, want %v", got, tt.want)
			}
		})
	}
	if got := rules(goodReply().Validate(AdviceContext{Now: adviceNow})); !slices.Equal(got, []Rule{RuleReferralMismatch}) {
		t.Errorf("no request open: %v", got)
	}
}

// A reply written before the referrer's newest message is refused, so that
// message is read first (HAZ-31).
func TestAdviceReplyRefusedWhenTheReferrerWroteMeanwhile(t *testing.T) {
	r := goodReply()
	req, conv := openAdvice()
	conv.Messages = append(conv.Messages, AdviceMessage{ID: "4", Sent: adviceNow.Add(-time.Hour), SentBy: SentByRequester, Text: "Now has chest pain at rest."})
	err := r.Validate(AdviceContext{Request: req, Conversation: conv, Now: adviceNow})
	if got := rules(err); !slices.Equal(got, []Rule{RuleConversationMovedOn}) {
		t.Fatalf("rules %v", got)
	}
	if msgs := err.(*ValidationError).For(FieldConversation); len(msgs) != 1 || !strings.Contains(msgs[0], "new message") {
		t.Errorf("message %v", msgs)
	}
	// Having read it, the clinician can reply.
	r.LastMessageID = "4"
	if err := r.Validate(AdviceContext{Request: req, Conversation: conv, Now: adviceNow}); err != nil {
		t.Errorf("after reading: %v", err)
	}
	// A reply that names no message read is refused while there are messages.
	r.LastMessageID = ""
	if got := rules(r.Validate(AdviceContext{Request: req, Conversation: conv, Now: adviceNow})); !slices.Equal(got, []Rule{RuleConversationMovedOn}) {
		t.Errorf("no message read: %v", got)
	}
	// The messages still to answer are the referrer's since the provider wrote.
	var ids []string
	for _, m := range conv.Unanswered() {
		ids = append(ids, m.ID)
	}
	if !slices.Equal(ids, []string{"3", "4"}) {
		t.Errorf("unanswered %v", ids)
	}
}

// Conversion is refused unless the referrer explicitly authorised it, as
// e-RS says now and as it was when the clinician decided (HAZ-32).
func TestAdviceConversionOnlyWhenAuthorised(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *AdviceConversion, req *AdviceRequest)
		want   []Rule
	}{
		{"authorised", func(*AdviceConversion, *AdviceRequest) {}, nil},
		{"the referrer did not allow it", func(_ *AdviceConversion, req *AdviceRequest) { req.Conversion = ConversionNotAuthorised },
			[]Rule{RuleConversionNotAuthorised}},
		{"e-RS did not say", func(_ *AdviceConversion, req *AdviceRequest) { req.Conversion = "" }, []Rule{RuleConversionNotAuthorised}},
		{"an unknown code", func(_ *AdviceConversion, req *AdviceRequest) { req.Conversion = "MAYBE" }, []Rule{RuleConversionNotAuthorised}},
		{"not allowed when the clinician decided", func(c *AdviceConversion, _ *AdviceRequest) { c.Authorisation = ConversionNotAuthorised },
			[]Rule{RuleConversionNotAuthorised}},
		{"already converted", func(_ *AdviceConversion, req *AdviceRequest) { req.Category = AdviceConverted }, []Rule{RuleNotProviderTurn}},
		{"withdrawn", func(_ *AdviceConversion, req *AdviceRequest) { req.Category = AdviceEndedCancelled }, []Rule{RuleNotProviderTurn}},
		{"another request", func(c *AdviceConversion, _ *AdviceRequest) { c.UBRN = "200000000030" }, []Rule{RuleReferralMismatch}},
		{"no review comments", func(c *AdviceConversion, _ *AdviceRequest) { c.ReviewComments = "" }, []Rule{RuleCommentRequired}},
		{"review comments too long", func(c *AdviceConversion, _ *AdviceRequest) {
			c.ReviewComments = strings.Repeat("x", MaxCommentLength+1)
		}, []Rule{RuleCommentTooLong}},
		{"no guidance", func(c *AdviceConversion, _ *AdviceRequest) { c.Guidance = "" }, []Rule{RuleGuidanceRequired}},
		{"no priority", func(c *AdviceConversion, _ *AdviceRequest) { c.Priority = "" }, []Rule{RulePriorityRequired}},
		{"a review attachment over 5 MB", func(c *AdviceConversion, _ *AdviceRequest) {
			c.ReviewAttachments = []ProviderAttachment{{FileName: "letter.pdf", Size: MaxAttachmentSize + 1}}
		}, []Rule{RuleAttachmentTooLarge}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := goodConversion()
			req, conv := openAdvice()
			tt.mutate(&c, req)
			if got := rules(c.Validate(AdviceContext{Request: req, Conversation: conv, Now: adviceNow})); !slices.Equal(got, tt.want) {
				t.Errorf("rules %v, want %v", got, tt.want)
			}
		})
	}
	c := goodConversion()
	c.Authorisation = ""
	if got := rules(c.CheckSendable()); !slices.Equal(got, []Rule{RuleConversionNotAuthorised}) {
		t.Errorf("CheckSendable without authorisation: %v", got)
	}
}

func TestAdviceCategoryRankPutsResponseRequiredFirst(t *testing.T) {
	for _, c := range AdviceCategories {
		if got, err := ParseAdviceCategory(" " + string(c) + " "); err != nil || got != c {
			t.Errorf("parse %s: %q %v", c, got, err)
		}
		if c.Label() == string(c) {
			t.Errorf("%s has no label", c)
		}
	}
	if _, err := ParseAdviceCategory("SOMETHING_NEW"); err == nil {
		t.Error("unknown category parsed")
	}
	day := 24 * time.Hour
	items := []AdviceItem{
		{UBRN: "a", Category: AdviceReferrerReviewing, Priority: PriorityTwoWeekWait, FirstRequested: adviceNow.Add(-9 * day)},
		{UBRN: "b", Category: AdviceConverted, Priority: PriorityTwoWeekWait},
		{UBRN: "c", Category: AdviceResponseRequired, Priority: PriorityRoutine, FirstRequested: adviceNow.Add(-9 * day)},
		{UBRN: "d", Category: AdviceAwaitingInformation, Priority: PriorityUrgent},
		{UBRN: "e", Category: AdviceResponseRequired, Priority: PriorityTwoWeekWait, FirstRequested: adviceNow.Add(-day)},
		{UBRN: "f", Category: "SOMETHING_NEW", Priority: PriorityRoutine},
		{UBRN: "g", Category: AdviceResponseRequired, Priority: PriorityRoutine, FirstRequested: adviceNow.Add(-20 * day)},
	}
	slices.SortFunc(items, CompareAdviceItems)
	var order []string
	for _, it := range items {
		order = append(order, it.UBRN)
	}
	if want := []string{"e", "g", "c", "f", "d", "a", "b"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	if n := (AdviceItem{FirstRequested: adviceNow.Add(-49 * time.Hour)}).DaysSinceAsked(adviceNow); n != 2 {
		t.Errorf("days since asked %d", n)
	}
	if n := (AdviceItem{FirstRequested: adviceNow.Add(time.Hour)}).DaysSinceAsked(adviceNow); n != 0 {
		t.Errorf("days since asked in the future %d", n)
	}
	for c, ended := range map[AdviceCategory]bool{AdviceResponseRequired: false, AdviceReferrerReviewing: false,
		AdviceEndedClosed: true, AdviceEndedCancelled: true, AdviceConverted: true, "SOMETHING_NEW": false} {
		if c.Ended() != ended {
			t.Errorf("%s ended = %v", c, c.Ended())
		}
	}
}

func TestSortMessagesIsChronologicalAndStable(t *testing.T) {
	at := adviceNow
	ms := []AdviceMessage{
		{ID: "70000", Sent: at.Add(-2 * time.Hour)},
		{ID: "70003", Sent: at},
		{ID: "70001", Sent: at.Add(-time.Hour)},
		{ID: "70002", Sent: at},
		{ID: "9", Sent: at.Add(time.Hour)},
		{ID: "10", Sent: at.Add(time.Hour)},
		{ID: "b", Sent: at.Add(2 * time.Hour)},
		{ID: "a", Sent: at.Add(2 * time.Hour)},
	}
	SortMessages(ms)
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	if want := []string{"70000", "70001", "70002", "70003", "9", "10", "a", "b"}; !slices.Equal(ids, want) {
		t.Errorf("order %v, want %v", ids, want)
	}
	conv := &AdviceConversation{Messages: ms}
	if conv.LatestID() != "b" || len(conv.Unanswered()) != len(ms) {
		t.Errorf("latest %q, unanswered %d", conv.LatestID(), len(conv.Unanswered()))
	}
	var empty *AdviceConversation
	if empty.LatestID() != "" || empty.Unanswered() != nil {
		t.Error("nil conversation")
	}
}

func TestAdviceLabels(t *testing.T) {
	for _, r := range IntendedRecommendations {
		if !r.Valid() || r.Label() == string(r) {
			t.Errorf("%s", r)
		}
	}
	for _, o := range GuidanceOutcomes {
		if !o.Sendable() || o.Label() == string(o) {
			t.Errorf("%s", o)
		}
	}
	if !ConversionAuthorised.Allows() || ConversionNotAuthorised.Allows() || ConversionAuthorisation("").Allows() {
		t.Error("Allows")
	}
	if SentByClinicalInfoUpdated.FromProvider() || SentByRequester.FromProvider() || !SentByResponder.FromProvider() ||
		MessageSender("NEW_KIND").FromProvider() {
		t.Error("FromProvider")
	}
	r := goodReply()
	if s := r.Summary(); s != "Return to referrer with advice: Advice only: no referral recommended" {
		t.Errorf("summary %q", s)
	}
	if s := (ClinicianRole{SDSUserID: "921600556514", ODS: "R68", BusinessFunction: RoleReferringClinician}).Label(); s != "Referring clinician 921600556514, R68" {
		t.Errorf("role label %q", s)
	}
}
