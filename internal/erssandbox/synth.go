package erssandbox

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// MaxReferrals is the most referrals the sandbox generates.
const MaxReferrals = 30_000

// docKind is the file type of a synthetic attachment.
type docKind int

// The attachment file types the sandbox generates.
const (
	docPDF docKind = iota
	docPNG
	docJPEG
	docTIFF
	docText
	docRTF
	docDOCX
	numDocKinds
)

var docContentTypes = [numDocKinds]string{
	"application/pdf", "image/png", "image/jpeg", "image/tiff", "text/plain", "text/rtf",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}

// docTitles are the file names of synthetic attachments per type, with a
// description. Some use non-ASCII characters, which e-RS sends in the RFC
// 5987 filename* form.
var docTitles = [numDocKinds][][2]string{
	docPDF:  {{"discharge_summary.pdf", "Discharge summary"}, {"blood_results.pdf", "Recent blood results"}, {"clinic_letter.pdf", "Previous clinic letter"}, {"Échocardiogramme – rapport.pdf", "Echocardiogram report"}},
	docPNG:  {{"ecg_trace.png", "ECG trace"}, {"lesion_photo.png", "Photograph of lesion"}, {"spirometry_graph.png", "Spirometry graph"}},
	docJPEG: {{"lesion_closeup.jpg", "Close-up photograph"}, {"xray_knee.jpeg", "Knee X-ray image"}, {"photo_rash.jpg", "Photograph of rash"}},
	docTIFF: {{"scanned_letter.tif", "Scanned letter"}, {"scan_results.tiff", "Scanned results"}},
	docText: {{"observations.txt", "Observations"}, {"medication_list.txt", "Medication list"}},
	docRTF:  {{"referral_notes.rtf", "Referral notes"}, {"history_summary.rtf", "History summary"}},
	docDOCX: {{"patient_history.docx", "Patient history"}, {"Befund – Überweisung.docx", "Specialist report"}},
}

// docVariants is how many distinct generated files exist per type; the
// attachments of the same type and variant share their bytes.
const docVariants = 4

// itemExtra is what the sandbox keeps about a referral beyond
// triage.Referral: worklist fields, what a letter is generated from, and how
// the CRI is named.
type itemExtra struct {
	Index                     int
	ContextStatus             triage.RequestContextStatus
	NamedClinician            string
	AllocatedClinician        string
	ClinicalInfoPrinted       bool
	ReviewReason              string
	UBRNReceived              time.Time
	PatientContactExpected    time.Time
	ClinicalInformationStatus string
	ServiceODS                string
	Location                  string
	// StarFilename makes A007 send the CRI file name in the RFC 5987
	// filename* form too.
	StarFilename bool
	// Accepted is set by A013: the referral stays BOOKED but leaves
	// Referrals for Review.
	Accepted bool
	// LetterRevision counts letter changes; Addenda are the texts added.
	LetterRevision int
	Addenda        []addendum
}

type addendum struct {
	At   time.Time
	Text string
}

// attachment is a file e-RS holds for a referral: a synthetic one (kind and
// variant give its bytes), or explicit bytes (uploads and files added by a
// test).
type attachment struct {
	ID           string
	UBRN         string
	Kind         docKind
	Variant      int
	Data         []byte
	PendingUntil time.Time // PENDING until then (zero: until made available)
}

// generated is one synthetic referral with its attachments.
type generated struct {
	Ref         triage.Referral
	Extra       itemExtra
	Attachments []*attachment
}

// genOptions say what to generate.
type genOptions struct {
	Seed  uint64
	Count int
	// First is the index of the first referral (for referrals added later).
	First int
	// AsOf is "today" for the generated dates.
	AsOf time.Time
	// SystemBase is the base URL of the dynamic code systems.
	SystemBase string
	Services   []Service
	// PendingDelay is how long PENDING attachments stay pending after
	// Started; negative means until made available explicitly.
	PendingDelay time.Duration
	Started      time.Time
	// taken holds NHS numbers and UBRNs already used.
	taken map[string]bool
}

// profile forces some attributes of the first referrals so that even a small
// data set covers every type, state, priority, context status and attachment
// status.
type profile struct {
	booking  triage.BookingKind
	ras      bool
	state    triage.ReferralState
	priority triage.Priority
	context  triage.RequestContextStatus
	docs     []docSpec
	relateTo int // index of an earlier referral on the same pathway, or -1
	org      string
}

type docSpec struct {
	kind  docKind
	avail triage.AvailabilityStatus
}

var (
	avail   = triage.AvailabilityAvailable
	pending = triage.AvailabilityPending
	threats = triage.AvailabilityThreatsFound
)

// coverage are the profiles of the first referrals.
var coverage = []profile{
	{booking: triage.BookingDirect, state: triage.StateBooked, priority: triage.PriorityRoutine, context: triage.ContextNeverReviewed,
		docs: []docSpec{{docPDF, avail}, {docPNG, avail}}, relateTo: -1},
	{booking: triage.BookingIndirect, state: triage.StateBooked, priority: triage.PriorityUrgent, context: triage.ContextLetterChanged,
		docs: []docSpec{{docJPEG, avail}, {docTIFF, avail}}, relateTo: -1},
	{ras: true, state: triage.StateAwaitingTriage, priority: triage.PriorityTwoWeekWait, context: triage.ContextPriorityChanged,
		docs: []docSpec{{docText, avail}, {docRTF, avail}, {docDOCX, avail}}, relateTo: -1},
	{ras: true, state: triage.StateAwaitingTriage, priority: triage.PriorityRoutine, context: triage.ContextPriorityAndLetterChanged,
		docs: []docSpec{{docPDF, pending}, {docPNG, avail}}, relateTo: -1},
	{booking: triage.BookingDirect, state: triage.StateBooked, priority: triage.PriorityUrgent, context: triage.ContextNeverReviewed,
		docs: []docSpec{{docJPEG, threats}, {docPDF, avail}}, relateTo: -1},
	{booking: triage.BookingDirect, state: triage.StateDeferredToProvider, priority: triage.PriorityRoutine, context: triage.ContextNeverReviewed,
		docs: []docSpec{{docPDF, avail}}, relateTo: -1},
	{ras: true, state: triage.StateTriagedProviderToAction, priority: triage.PriorityUrgent, context: triage.ContextNeverReviewed, relateTo: -1},
	{booking: triage.BookingIndirect, state: triage.StateBooked, priority: triage.PriorityRoutine, context: triage.ContextNeverReviewed,
		docs: []docSpec{{docDOCX, avail}}, relateTo: 2},
	{ras: true, state: triage.StateAwaitingTriage, priority: triage.PriorityUrgent, context: triage.ContextNeverReviewed,
		docs: []docSpec{{docPDF, avail}}, relateTo: -1, org: SecondProviderODS},
	{booking: triage.BookingDirect, state: triage.StateBooked, priority: triage.PriorityTwoWeekWait, context: triage.ContextNeverReviewed, relateTo: -1},
	{booking: triage.BookingIndirect, state: triage.StateBooked, priority: triage.PriorityRoutine, context: triage.ContextLetterChanged,
		docs: []docSpec{{docText, avail}}, relateTo: -1, org: SecondProviderODS},
	{booking: triage.BookingDirect, state: triage.StateRejected, priority: triage.PriorityRoutine, context: triage.ContextNeverReviewed, relateTo: -1},
	{ras: true, state: triage.StateTriageResponse, priority: triage.PriorityRoutine, context: triage.ContextNeverReviewed, relateTo: -1},
	{booking: triage.BookingDirect, state: triage.StateDeferredToProvider, priority: triage.PriorityUrgent, context: triage.ContextNeverReviewed,
		docs: []docSpec{{docPNG, avail}}, relateTo: -1},
}

// rngFor returns the random source of one referral, so that each referral
// depends only on the seed and its index.
func rngFor(seed uint64, index int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(index)<<8|stream))
}

// uuidFrom returns a random (version 4 format) UUID drawn from rng.
func uuidFrom(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	a = a&^(0xf<<12) | 0x4<<12 // version 4
	b = b&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// ubrnFor returns the UBRN of the referral with the index: twelve digits,
// unique per index.
func ubrnFor(seed uint64, index int) string {
	base := 100_000_000_000 + (seed%7_000)*100_000_000
	return fmt.Sprintf("%012d", base+uint64(index)*13+7)
}

// workingDaysAfter returns the date n working days (Monday to Friday) after t.
func workingDaysAfter(t time.Time, n int) time.Time {
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// odds is one outcome of a weighted draw: v, when the draw is below upTo.
type odds[T any] struct {
	upTo float64
	v    T
}

// weighted draws one number in [0, 1) from rng and returns the first
// outcome whose upTo is above it, or otherwise: the cumulative odds read
// as they would in a switch on the draw.
func weighted[T any](rng *rand.Rand, outcomes []odds[T], otherwise T) T {
	r := rng.Float64()
	for _, o := range outcomes {
		if r < o.upTo {
			return o.v
		}
	}
	return otherwise
}

// generate makes opts.Count synthetic referrals, deterministic for the seed,
// index and AsOf.
func generate(opts genOptions) []*generated {
	if opts.taken == nil {
		opts.taken = map[string]bool{}
	}
	out := make([]*generated, 0, opts.Count)
	byIndex := map[int]*generated{}
	for k := 0; k < opts.Count; k++ {
		i := opts.First + k
		g := generateOne(opts, i)
		// Related referrals: the same patient on the same pathway.
		rel := -1
		if i < len(coverage) {
			rel = coverage[i].relateTo
		} else if rr := rngFor(opts.Seed, i, 9); k > 0 && rr.Float64() < 0.026 {
			// Another referral of the same patient at the same provider.
			for range 8 {
				j := opts.First + rr.IntN(k)
				if byIndex[j].Extra.ServiceODS == g.Extra.ServiceODS && len(byIndex[j].Ref.RelatedUBRNs) == 0 {
					rel = j
					break
				}
			}
		}
		if other, ok := byIndex[rel]; ok && other != g {
			g.Ref.NHSNumber = other.Ref.NHSNumber
			g.Ref.RelatedUBRNs = append(g.Ref.RelatedUBRNs, other.Ref.UBRN)
			other.Ref.RelatedUBRNs = append(other.Ref.RelatedUBRNs, g.Ref.UBRN)
		}
		byIndex[i] = g
		out = append(out, g)
	}
	return out
}

func generateOne(opts genOptions, i int) *generated {
	rng := rngFor(opts.Seed, i, 1)
	var pr profile
	forced := i < len(coverage)
	if forced {
		pr = coverage[i]
	}

	// Service.
	var candidates []Service
	for _, s := range opts.Services {
		org := pr.org
		if !forced {
			org = ProviderODS
			if rng.Float64() < 0.2 {
				org = SecondProviderODS
			}
		} else if org == "" {
			org = ProviderODS
		}
		if s.ODS != org {
			continue
		}
		if forced && (s.RAS() != pr.ras || (!pr.ras && s.Booking != pr.booking)) {
			continue
		}
		candidates = append(candidates, s)
	}
	if len(candidates) == 0 {
		candidates = opts.Services
	}
	service := pick(rng, candidates)

	// Priority.
	priority := pr.priority
	if !forced {
		priority = weighted(rng, []odds[triage.Priority]{{0.10, triage.PriorityTwoWeekWait}, {0.35, triage.PriorityUrgent}},
			triage.PriorityRoutine)
	}

	// State.
	state := pr.state
	if !forced {
		r := rng.Float64()
		switch {
		case service.RAS() && r < 0.88:
			state = triage.StateAwaitingTriage
		case service.RAS() && r < 0.95:
			state = triage.StateTriagedProviderToAction
		case service.RAS():
			state = triage.StateTriageResponse
		case r < 0.90 || (service.Booking == triage.BookingIndirect && r < 0.96):
			state = triage.StateBooked
		case r < 0.96:
			state = triage.StateDeferredToProvider
		default:
			state = triage.StateRejected
		}
	}

	context := pr.context
	if !forced {
		context = weighted(rng, []odds[triage.RequestContextStatus]{{0.68, triage.ContextNeverReviewed}, {0.82, triage.ContextLetterChanged},
			{0.92, triage.ContextPriorityChanged}}, triage.ContextPriorityAndLetterChanged)
	}

	asOf := opts.AsOf
	pathwayStart := asOf.AddDate(0, 0, -(2 + rng.IntN(120))).Add(time.Duration(8*60+rng.IntN(9*60)) * time.Minute).Add(time.Duration(rng.IntN(60_000)) * time.Millisecond)
	first := pathwayStart.Add(time.Duration(3+rng.IntN(90)) * time.Minute)
	last := first
	if context.LetterChanged() {
		days := max(1, int(asOf.Sub(first).Hours()/24))
		last = first.Add(time.Duration(1+rng.IntN(days*24-1)) * time.Hour)
	}

	taken := opts.taken
	nhs := triage.SyntheticNHSNumber(rng)
	for taken["nhs:"+nhs] {
		nhs = triage.SyntheticNHSNumber(rng)
	}
	taken["nhs:"+nhs] = true

	ref := triage.Referral{
		UBRN:                       ubrnFor(opts.Seed, i),
		RequestID:                  "r." + uuidFrom(rng),
		NHSNumber:                  nhs,
		Version:                    2 + rng.IntN(6),
		Status:                     "active",
		Priority:                   priority,
		Specialty:                  triage.Coding{System: codeSystemURL(opts.SystemBase, triage.CodeSystemSpecialty), Code: service.Specialty, Display: specialtyDisplay(service.Specialty)},
		ClinicType:                 triage.Coding{System: codeSystemURL(opts.SystemBase, triage.CodeSystemClinicType), Code: service.ClinicType, Display: clinicTypeDisplay(service.ClinicType)},
		Service:                    service.Service,
		PathwayStart:               pathwayStart,
		ClinicalInfoFirstSubmitted: first,
		ClinicalInfoLastUpdated:    last,
		ReferrerODS:                fmt.Sprintf("%s%02d", ReferrerODSPrefix, 1+rng.IntN(12)),
	}
	extra := itemExtra{Index: i, ContextStatus: context, ServiceODS: service.ODS, Location: service.Location,
		StarFilename: rng.IntN(3) == 0}

	apptCreated := first.Add(time.Duration(1+rng.IntN(20)) * time.Minute)
	apptID := fmt.Sprint(500_000 + i)
	if service.RAS() {
		ref.Type = triage.ReferralTypeTriageDeferral
		ref.Appointment = &triage.Appointment{ID: apptID, Created: apptCreated,
			Reason: triage.Coding{System: triage.SystemReviewReason, Code: "TRIAGE"}}
	} else {
		ref.Type = triage.ReferralTypeAppointment
		start := asOf.AddDate(0, 0, 2+rng.IntN(70))
		for start.Weekday() == time.Saturday || start.Weekday() == time.Sunday {
			start = start.AddDate(0, 0, 1)
		}
		start = start.Add(time.Duration(9*60+15*rng.IntN(31)) * time.Minute)
		ref.Appointment = &triage.Appointment{ID: apptID, Start: start, End: start.Add(15 * time.Minute), Created: apptCreated, Booking: service.Booking}
	}

	ref.State = triage.ReferralStatus{State: state}
	switch state {
	case triage.StateDeferredToProvider:
		ref.Type = triage.ReferralTypeTriageDeferral
		extra.ReviewReason = pick(rng, []string{"NO_SLOTS_AT_SERVICE", "SLOT_NOT_AVAILABLE", "BOOKING_ATTEMPT_PROBLEM"})
		ref.State.Reason = triage.Coding{System: triage.SystemReviewReason, Code: extra.ReviewReason}
		ref.Appointment = &triage.Appointment{ID: apptID, Created: apptCreated, Booking: service.Booking,
			Reason: triage.Coding{System: triage.SystemReviewReason, Code: extra.ReviewReason}}
		extra.UBRNReceived = first
		days := 40
		switch priority {
		case triage.PriorityUrgent:
			days = 10
		case triage.PriorityTwoWeekWait:
			days = 5
		}
		extra.PatientContactExpected = workingDaysAfter(apptCreated, days).Truncate(24 * time.Hour)
		extra.ClinicalInformationStatus = pick(rng, []string{"PRESENT", "PRESENT", "NOT_APPLICABLE", "NOT_DUE", "OVERDUE"})
	case triage.StateRejected:
		ref.State.Reason = triage.Coding{System: codeSystemURL(opts.SystemBase, triage.CodeSystemAppointmentCancellationReason), Code: "SERVICE_INAPPROPRIATE", Display: "Inappropriate service"}
		ref.State.Comments = "Returned to the referrer: please refer to the community service first (synthetic)."
	case triage.StateTriagedProviderToAction:
		ref.State.Reason = triage.Coding{System: triage.SystemReviewOutcome, Code: string(triage.OutcomeAcceptReferBookLater), Display: "Accept Refer Book Later"}
		ref.State.Comments = "Please book into the next available clinic (synthetic)."
	case triage.StateTriageResponse:
		ref.State.Reason = triage.Coding{System: triage.SystemReviewOutcome, Code: string(triage.OutcomeReturnToReferrerWithAdvice), Display: "Return to Referrer With Advice"}
		ref.State.Comments = "Advice given to the referrer; no appointment needed at present (synthetic)."
	}

	clinicians := []string{UserClinician, UserClinician2}
	if service.ODS == SecondProviderODS {
		clinicians = []string{UserClinician, UserClinicianRCD}
	}
	if rng.Float64() < 0.25 {
		extra.NamedClinician = pick(rng, clinicians)
	}
	if rng.Float64() < 0.15 {
		extra.AllocatedClinician = pick(rng, clinicians)
	}
	extra.ClinicalInfoPrinted = rng.Float64() < 0.15
	if rng.Float64() < 0.05 {
		ref.AdditionalRequirements = []triage.Coding{{System: "https://fhir.nhs.uk/STU3/CodeSystem/eRS-AdditionalRequirementType-1",
			Code: pick(rng, []string{"INTERPRETER", "TRANSPORT", "ADVOCACY"})}}
	}

	// Attachments.
	specs := pr.docs
	if !forced {
		n := weighted(rng, []odds[int]{{0.25, 0}, {0.55, 1}, {0.80, 2}, {0.92, 3}}, 4)
		for range n {
			a := weighted(rng, []odds[triage.AvailabilityStatus]{{0.07, pending}, {0.10, threats}, {0.11, triage.AvailabilityValidationFailed}},
				avail)
			specs = append(specs, docSpec{docKind(rng.IntN(int(numDocKinds))), a})
		}
	}
	g := &generated{Extra: extra}
	for _, ds := range specs {
		id := uuidFrom(rng)
		if rng.IntN(20) == 0 {
			id = fmt.Sprintf("att-%d", 800_000+i*5+len(g.Attachments))
		}
		title := pick(rng, docTitles[ds.kind])
		at := first.Add(-time.Duration(1+rng.IntN(30)) * time.Minute)
		doc := triage.Document{ID: id, URL: "Binary/" + id, Title: title[0], Description: title[1],
			ContentType: docContentTypes[ds.kind], Availability: ds.avail, Type: triage.AttachmentReferrer,
			AttachedBy: fmt.Sprintf("92000000%04d", rng.IntN(10_000)), AttachedByOrg: ref.ReferrerODS,
			Created: at, Indexed: at}
		a := &attachment{ID: id, UBRN: ref.UBRN, Kind: ds.kind, Variant: rng.IntN(docVariants)}
		if ds.avail == pending && opts.PendingDelay >= 0 {
			a.PendingUntil = opts.Started.Add(opts.PendingDelay + time.Duration(rng.IntN(30))*time.Second)
		}
		ref.Documents = append(ref.Documents, doc)
		g.Attachments = append(g.Attachments, a)
	}
	g.Ref = ref
	return g
}

func specialtyDisplay(code string) string {
	if s, ok := specialtyByCode(code); ok {
		return s.Display
	}
	return code
}

func clinicTypeDisplay(code string) string {
	for _, s := range specialties {
		for _, ct := range s.ClinicTypes {
			if ct[0] == code {
				return ct[1]
			}
		}
	}
	return code
}
