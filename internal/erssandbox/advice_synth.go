package erssandbox

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// adviceProfile forces some attributes of the first A&G requests so that
// even a small data set covers every category, both conversion
// authorisations, several rounds and unavailable files.
type adviceProfile struct {
	category   triage.AdviceCategory
	priority   triage.Priority
	conversion triage.ConversionAuthorisation
	rounds     int // rounds of further information before the current state
	docs       []docSpec
	org        string
	named      bool
}

var adviceCoverage = []adviceProfile{
	{category: triage.AdviceResponseRequired, priority: triage.PriorityTwoWeekWait, conversion: triage.ConversionAuthorised,
		docs: []docSpec{{docPDF, avail}}, named: true},
	{category: triage.AdviceResponseRequired, priority: triage.PriorityUrgent, conversion: triage.ConversionNotAuthorised, rounds: 1,
		docs: []docSpec{{docPNG, avail}}},
	{category: triage.AdviceAwaitingInformation, priority: triage.PriorityRoutine, conversion: triage.ConversionAuthorised},
	{category: triage.AdviceReferrerReviewing, priority: triage.PriorityRoutine, conversion: triage.ConversionNotAuthorised},
	{category: triage.AdviceEndedClosed, priority: triage.PriorityRoutine, conversion: triage.ConversionAuthorised},
	{category: triage.AdviceEndedCancelled, priority: triage.PriorityUrgent, conversion: triage.ConversionAuthorised},
	{category: triage.AdviceConverted, priority: triage.PriorityUrgent, conversion: triage.ConversionAuthorised},
	{category: triage.AdviceResponseRequired, priority: triage.PriorityRoutine, docs: []docSpec{{docJPEG, pending}, {docPDF, threats}}},
	{category: triage.AdviceResponseRequired, priority: triage.PriorityRoutine, conversion: triage.ConversionAuthorised, org: SecondProviderODS},
	{category: triage.AdviceResponseRequired, priority: triage.PriorityRoutine, conversion: triage.ConversionAuthorised, rounds: 2},
}

// The texts of synthetic conversations. They describe no real patient and
// carry no patient identity beyond the 999-range NHS number.
var (
	furtherInfoTexts = []string{
		"Please send the most recent blood results, including renal function and a full blood count.",
		"How long have the symptoms been present, and are they getting worse?",
		"Please attach a recent ECG and the current medication list.",
		"Has there been any imaging for this? If so, please send the report.",
		"Please check a ferritin and thyroid function and send the results.",
	}
	referrerAnswers = []string{
		"Results attached: renal function and full blood count are normal.",
		"About three months, slowly worsening; now affecting sleep.",
		"ECG attached. Medication unchanged since the request.",
		"No imaging so far. Happy to arrange whatever you suggest.",
		"Ferritin 18 micrograms/L, thyroid function normal.",
	}
	adviceTexts = []string{
		"This is unlikely to be serious. Suggest a trial of treatment for six weeks and review; refer if there is no improvement.",
		"Please start the first-line treatment in the local guideline and repeat the bloods in three months. No referral needed at present.",
		"The findings justify assessment in clinic. Please refer to the service, marked routine.",
		"Reasonable to manage in primary care. Safety-net advice given below; refer urgently if red-flag symptoms develop.",
	}
)

// adviceServices returns the services of an organisation that take A&G.
func adviceServices(services []Service, org string) []Service {
	var out []Service
	for _, s := range services {
		if s.ODS == org {
			out = append(out, s)
		}
	}
	return out
}

// addAdvice generates n more synthetic A&G requests and returns their UBRNs.
// The caller holds s.mu.
func (s *store) addAdvice(n int) []string {
	if s.advice.recs == nil {
		s.advice.recs = map[string]*adviceRecord{}
	}
	ubrns := make([]string, 0, n)
	for range n {
		i := s.advice.next
		s.advice.next++
		ar := s.generateAdvice(i)
		s.advice.recs[ar.req.UBRN] = ar
		s.advice.order = append(s.advice.order, ar.req.UBRN)
		ubrns = append(ubrns, ar.req.UBRN)
	}
	return ubrns
}

// generateAdvice makes the A&G request with the index, deterministic for
// the seed, index and AsOf. The caller holds s.mu.
func (s *store) generateAdvice(i int) *adviceRecord {
	opts := s.gen
	rng := rngFor(opts.Seed, adviceFirstIndex+i, 1)
	var pr adviceProfile
	if i < len(adviceCoverage) {
		pr = adviceCoverage[i]
	} else {
		pr = randomAdviceProfile(rng)
	}
	org := pr.org
	if org == "" {
		org = ProviderODS
	}
	service := pick(rng, adviceServices(opts.Services, org))
	clinicians := []string{UserClinician, UserClinician2}
	if org == SecondProviderODS {
		clinicians = []string{UserClinician, UserClinicianRCD}
	}
	practice := 1 + rng.IntN(12)
	referrer := fmt.Sprintf("92000000%04d", rng.IntN(10_000))
	if practice == 1 {
		referrer = UserReferrer
	}

	nhs := triage.SyntheticNHSNumber(rng)
	if len(s.order) > 0 && rng.Float64() < 0.15 {
		// The same patient as one of the referrals.
		nhs = s.recs[s.order[rng.IntN(len(s.order))]].ref.NHSNumber
	} else {
		for s.gen.taken["nhs:"+nhs] {
			nhs = triage.SyntheticNHSNumber(rng)
		}
		s.gen.taken["nhs:"+nhs] = true
	}

	ar := &adviceRecord{index: i, serviceODS: org, referrerODS: fmt.Sprintf("%s%02d", ReferrerODSPrefix, practice), referrer: referrer,
		replies: map[string]triage.AdviceReply{}}
	if pr.named || rng.Float64() < 0.3 {
		ar.namedClinician = pick(rng, clinicians)
	}
	ar.req = triage.AdviceRequest{
		UBRN: ubrnFor(opts.Seed, adviceFirstIndex+i), RequestID: "a." + uuidFrom(rng), NHSNumber: nhs, Status: "active",
		Category: triage.AdviceResponseRequired, Priority: pr.priority, Conversion: pr.conversion,
		Specialty:  triage.Coding{System: codeSystemURL(opts.SystemBase, triage.CodeSystemSpecialty), Code: service.Specialty, Display: specialtyDisplay(service.Specialty)},
		ClinicType: triage.Coding{System: codeSystemURL(opts.SystemBase, triage.CodeSystemClinicType), Code: service.ClinicType, Display: clinicTypeDisplay(service.ClinicType)},
		Service:    service.Service,
		Requester:  triage.ClinicianRole{SDSUserID: referrer, ODS: ar.referrerODS, BusinessFunction: triage.RoleReferringClinician},
	}

	at := opts.AsOf.AddDate(0, 0, -(6 + rng.IntN(20))).Add(time.Duration(8*60+rng.IntN(9*60))*time.Minute + time.Duration(rng.IntN(60_000))*time.Millisecond)
	ar.firstRequested = at
	step := func() time.Time {
		at = at.Add(time.Duration(2*60+rng.IntN(18*60)) * time.Minute)
		return at
	}
	ps := presentations[service.Specialty]
	if len(ps) == 0 {
		ps = presentations["CARDIOLOGY"]
	}
	p := pick(rng, ps)
	question := fmt.Sprintf(p.reason, 2+rng.IntN(10)) + " " + p.history[0] + " " + p.question + " (Synthetic advice request.)"
	for _, ds := range pr.docs {
		ar.req.Documents = append(ar.req.Documents, s.synthAdviceFile(rng, ar, ds, at))
	}
	ar.messages = append(ar.messages, triage.AdviceMessage{ID: s.newMessageID(), Sent: at, SentBy: triage.SentByRequester,
		Author: ar.req.Requester, Text: question, Documents: ar.req.Documents, RequestUBRN: ar.req.UBRN})
	consultant := triage.ClinicianRole{SDSUserID: pick(rng, clinicians), ODS: org, BusinessFunction: triage.RoleServiceProviderClinician}
	provider := func(text string, r triage.AdviceReply) {
		m := triage.AdviceMessage{ID: s.newMessageID(), Sent: step(), SentBy: triage.SentByResponder, Author: consultant, Text: text, RequestUBRN: ar.req.UBRN}
		ar.messages = append(ar.messages, m)
		ar.replies[m.ID] = r
	}
	for round := range pr.rounds {
		provider(pick(rng, furtherInfoTexts), triage.AdviceReply{Outcome: triage.GuidanceRequestFurtherInfo})
		var files []AttachmentFile
		if round == 0 && len(pr.docs) > 0 {
			files = []AttachmentFile{{FileName: "results.txt", ContentType: "text/plain", Description: "Results (synthetic)",
				Data: []byte("Synthetic results for test purposes only. Not a real patient.\n")}}
		}
		s.referrerWrites(ar, pick(rng, referrerAnswers), files, func() string { return uuidFrom(rng) }, step())
	}
	advice := triage.AdviceReply{Outcome: triage.GuidanceReturnWithAdvice, Recommendation: pick(rng, triage.IntendedRecommendations)}
	switch pr.category {
	case triage.AdviceAwaitingInformation:
		provider(pick(rng, furtherInfoTexts), triage.AdviceReply{Outcome: triage.GuidanceRequestFurtherInfo})
	case triage.AdviceReferrerReviewing, triage.AdviceEndedClosed:
		provider(pick(rng, adviceTexts), advice)
	}
	ar.req.Category = pr.category
	switch pr.category {
	case triage.AdviceEndedClosed:
		ar.req.Status = "completed"
	case triage.AdviceEndedCancelled:
		ar.req.Status = "cancelled"
	}
	ar.lastUpdated = ar.messages[len(ar.messages)-1].Sent
	ar.req.Version = 1 + len(ar.messages) + rng.IntN(2)
	if pr.category == triage.AdviceConverted {
		ar.req.Category = triage.AdviceResponseRequired
		a := actor{User: TestUser{ID: consultant.SDSUserID}, ODS: org, Function: triage.RoleServiceProviderClinician}
		c := triage.AdviceConversion{Guidance: "Converted to a referral: we will see the patient in clinic. (Synthetic.)", Priority: pr.priority,
			ReviewComments: "Please book into the next available clinic (synthetic)."}
		if _, e := s.applyConversion(ar, a, c, step()); e == nil {
			ar.req.Version++
			ar.lastUpdated = at
		}
	}
	return ar
}

func randomAdviceProfile(rng *rand.Rand) adviceProfile {
	pr := adviceProfile{priority: triage.PriorityRoutine, conversion: triage.ConversionNotAuthorised}
	pr.priority = weighted(rng, []odds[triage.Priority]{{0.05, triage.PriorityTwoWeekWait}, {0.3, triage.PriorityUrgent}}, pr.priority)
	if rng.Float64() < 0.6 {
		pr.conversion = triage.ConversionAuthorised
	}
	pr.category = weighted(rng, []odds[triage.AdviceCategory]{{0.62, triage.AdviceResponseRequired}, {0.75, triage.AdviceAwaitingInformation},
		{0.87, triage.AdviceReferrerReviewing}, {0.93, triage.AdviceEndedClosed}}, triage.AdviceEndedCancelled)
	if r := rng.Float64(); r < 0.25 {
		pr.rounds = 1
	} else if r < 0.32 {
		pr.rounds = 2
	}
	if rng.Float64() < 0.2 {
		pr.org = SecondProviderODS
	}
	for range rng.IntN(3) {
		a := avail
		if rng.Float64() < 0.08 {
			a = pending
		}
		pr.docs = append(pr.docs, docSpec{docKind(rng.IntN(int(numDocKinds))), a})
	}
	return pr
}

// synthAdviceFile is a referrer's file sent with the request, generated like
// a referral's attachments. The caller holds s.mu.
func (s *store) synthAdviceFile(rng *rand.Rand, ar *adviceRecord, ds docSpec, at time.Time) triage.Document {
	id := uuidFrom(rng)
	title := pick(rng, docTitles[ds.kind])
	doc := triage.Document{ID: id, URL: "Binary/" + id, Title: title[0], Description: title[1], ContentType: docContentTypes[ds.kind],
		Availability: ds.avail, Type: triage.AttachmentAdviceRequest, AttachedBy: ar.referrer, AttachedByOrg: ar.referrerODS,
		Created: at.Truncate(24 * time.Hour), Indexed: at}
	a := &attachment{ID: id, UBRN: ar.req.UBRN, Kind: ds.kind, Variant: rng.IntN(docVariants)}
	if ds.avail == pending && s.gen.PendingDelay >= 0 {
		a.PendingUntil = s.gen.Started.Add(s.gen.PendingDelay + time.Duration(rng.IntN(30))*time.Second)
	}
	s.atts[id] = a
	return doc
}
