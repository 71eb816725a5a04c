package erssandbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/pds"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// shownText joins the strings a PDF's content streams show, unescaped.
func shownText(content string) string {
	var b strings.Builder
	for _, m := range regexp.MustCompile(`\(((?:\\.|[^\\)])*)\)\s*Tj`).FindAllStringSubmatch(content, -1) {
		s := strings.NewReplacer(`\(`, "(", `\)`, ")", `\\`, `\`).Replace(m[1])
		b.WriteString(s)
		b.WriteByte(' ')
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

var reLine = regexp.MustCompile(`Re: (.+?\(synthetic patient\)), born (\d{2}-[A-Z][a-z]{2}-\d{4}), NHS number (\d{3} \d{3} \d{4})`)

// letterPatient is the name, date of birth and NHS number a CRI's letter
// names.
func letterPatient(t *testing.T, sb *Sandbox, ubrn string) []string {
	t.Helper()
	pdf, _, _, err := sb.cri(ubrn)
	if err != nil {
		t.Fatalf("CRI of %s: %v", ubrn, err)
	}
	_, content := readPDFText(t, pdf)
	m := reLine.FindStringSubmatch(shownText(content))
	if m == nil {
		t.Fatalf("CRI of %s has no Re: line", ubrn)
	}
	return m[1:]
}

// Related referrals share an NHS number: they are one patient, so every
// letter must name the same person (a letter naming someone else beside the
// right NHS number is a wrong-patient hazard, even in demo data).
func TestRelatedReferralsCRIsNameTheSamePatient(t *testing.T) {
	sb := start(t, Config{Referrals: 400})
	pairs := 0
	for _, r := range sb.Referrals(nil) {
		for _, u := range r.RelatedUBRNs {
			other, err := sb.Referral(u)
			if err != nil {
				t.Fatal(err)
			}
			if other.NHSNumber != r.NHSNumber {
				t.Fatalf("related referrals %s and %s have different NHS numbers", r.UBRN, u)
			}
			a, b := letterPatient(t, sb, r.UBRN), letterPatient(t, sb, u)
			if strings.Join(a, "|") != strings.Join(b, "|") {
				t.Errorf("related referrals %s and %s name different patients: %q and %q", r.UBRN, u, a, b)
			}
			pairs++
		}
	}
	if pairs < 2 {
		t.Fatalf("only %d related pairs in 400 referrals", pairs)
	}
}

func pdsClient(t *testing.T, sb *Sandbox) *pds.Client {
	t.Helper()
	c, err := pds.New(pds.Config{BaseURL: sb.PDSBaseURL(), RateLimit: rate.Inf, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ...and PDS names that same patient, as every letter does.
func TestRelatedReferralsMatchPDS(t *testing.T) {
	sb := start(t, Config{Referrals: 400})
	c := pdsClient(t, sb)
	checked := 0
	nf, _ := sb.ScenarioUBRN(ScenarioNotFound)
	notFound, _ := sb.Referral(nf)
	for _, r := range sb.Referrals(func(r triage.Referral) bool { return len(r.RelatedUBRNs) > 0 && r.NHSNumber != notFound.NHSNumber }) {
		res, err := c.Patient(context.Background(), r.NHSNumber)
		if err != nil {
			t.Fatalf("PDS read of %s's patient: %v", r.UBRN, err)
		}
		p := res.Patient
		for _, u := range append([]string{r.UBRN}, r.RelatedUBRNs...) {
			l := letterPatient(t, sb, u)
			want := []string{p.Given[0] + " " + strings.ToUpper(p.Family) + " (synthetic patient)", p.BirthDate.String(), triage.FormatNHSNumber(p.NHSNumber)}
			if strings.Join(l, "|") != strings.Join(want, "|") {
				t.Errorf("%s's letter names %q; PDS has %q", u, l, want)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no related referrals")
	}
}

func TestEveryReferralsPatientIsInPDS(t *testing.T) {
	sb := start(t, Config{})
	c := pdsClient(t, sb)
	nf, _ := sb.ScenarioUBRN(ScenarioNotFound)
	notFound, _ := sb.Referral(nf)
	for _, r := range sb.Referrals(nil) {
		res, err := c.Patient(context.Background(), r.NHSNumber)
		if r.NHSNumber == notFound.NHSNumber {
			var e *pds.Error
			if !errors.As(err, &e) || e.Kind != pds.NotFound || e.Code != "RESOURCE_NOT_FOUND" {
				t.Errorf("not-found scenario: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", r.UBRN, err)
		}
		if !triage.IsSyntheticNHSNumber(res.Patient.NHSNumber) || !res.Patient.HasName() || res.Patient.BirthDate.IsZero() {
			t.Errorf("%s: patient %+v", r.UBRN, res.Patient)
		}
	}
	if got := sb.Stats().Requests[OpPDS]; got != len(sb.Referrals(nil)) {
		t.Errorf("stats count %d PDS reads, want %d", got, len(sb.Referrals(nil)))
	}
}

// rawPatient reads /Patient/{id} with plain HTTP.
func rawPatient(t *testing.T, sb *Sandbox, id string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, sb.PDSBaseURL()+"/Patient/"+id, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestPDSScenarios(t *testing.T) {
	sb := start(t, Config{})
	c := pdsClient(t, sb)
	ctx := context.Background()
	ref := func(sc PDSScenario) triage.Referral {
		u, ok := sb.ScenarioUBRN(sc)
		if !ok {
			t.Fatalf("no %s referral", sc)
		}
		r, err := sb.Referral(u)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	restricted := ref(ScenarioRestricted)
	res, err := c.Patient(ctx, restricted.NHSNumber)
	if err != nil || res.Patient.Restriction != triage.RestrictionRestricted || !res.Patient.HasName() {
		t.Fatalf("restricted: %+v, %v", res, err)
	}
	resp, body := rawPatient(t, sb, restricted.NHSNumber, map[string]string{"X-Request-ID": uuid.NewString()})
	for _, el := range []string{`"address"`, `"telecom"`, `"generalPractitioner"`, `"contact"`} {
		if resp.StatusCode != 200 || bytes.Contains(body, []byte(el)) {
			t.Errorf("restricted record served %s (status %d)", el, resp.StatusCode)
		}
	}
	normal, _ := sb.Referral(sb.Referrals(nil)[2].UBRN)
	_, body = rawPatient(t, sb, normal.NHSNumber, map[string]string{"X-Request-ID": uuid.NewString()})
	if !bytes.Contains(body, []byte(`"address"`)) || !bytes.Contains(body, []byte(`"generalPractitioner"`)) {
		t.Errorf("an unrestricted record lacks address or GP: %s", body)
	}

	deceased := ref(ScenarioDeceased)
	res, err = c.Patient(ctx, deceased.NHSNumber)
	if err != nil || !res.Patient.Deceased || res.Patient.DeceasedDate != triage.DateOf(testAsOf.AddDate(0, 0, -3)) || res.Patient.DeathNotification != "2" {
		t.Fatalf("deceased: %+v, %v", res, err)
	}

	merged := ref(ScenarioSuperseded)
	res, err = c.Patient(ctx, merged.NHSNumber)
	if err != nil || !res.Superseded || res.Patient.NHSNumber == merged.NHSNumber || !triage.IsSyntheticNHSNumber(res.Patient.NHSNumber) {
		t.Fatalf("superseded: %+v, %v", res, err)
	}
	again, err := c.Patient(ctx, res.Patient.NHSNumber)
	if err != nil || again.Superseded || again.Patient.DisplayName() != res.Patient.DisplayName() {
		t.Errorf("the surviving record: %+v, %v", again, err)
	}

	wrong := ref(ScenarioWrongPatientLetter)
	res, err = c.Patient(ctx, wrong.NHSNumber)
	if err != nil {
		t.Fatal(err)
	}
	l := letterPatient(t, sb, wrong.UBRN)
	if l[1] == res.Patient.BirthDate.String() || l[2] == triage.FormatNHSNumber(wrong.NHSNumber) {
		t.Errorf("the wrong-patient letter names the referral's patient: %q", l)
	}
	flags := triage.CheckIdentity(triage.IdentityCheckInput{Text: readCRIText(t, sb, wrong.UBRN), ReferralNHSNumber: wrong.NHSNumber, Patient: &res.Patient})
	if len(flags) != 2 {
		t.Errorf("identity check of the wrong-patient letter: %+v", flags)
	}
	if flags := triage.CheckIdentity(triage.IdentityCheckInput{Text: readCRIText(t, sb, restricted.UBRN), ReferralNHSNumber: restricted.NHSNumber,
		Patient: func() *triage.Patient { r, _ := c.Patient(ctx, restricted.NHSNumber); return &r.Patient }()}); len(flags) != 0 {
		t.Errorf("a right letter flagged: %+v", flags)
	}
}

func readCRIText(t *testing.T, sb *Sandbox, ubrn string) string {
	pdf, _, _, err := sb.cri(ubrn)
	if err != nil {
		t.Fatal(err)
	}
	_, content := readPDFText(t, pdf)
	return shownText(content)
}

func TestPDSChecksHeadersInPDSOrder(t *testing.T) {
	sb := start(t, Config{Auth: true})
	nhs := sb.Referrals(nil)[0].NHSNumber
	code := func(b []byte) string {
		o, err := pds.DecodeOperationOutcome(b)
		if err != nil {
			return "(" + string(b) + ")"
		}
		c, _ := o.ErrorCode()
		return c
	}
	cases := []struct {
		id     string
		hdr    map[string]string
		status int
		code   string
	}{
		{nhs, nil, 400, "MISSING_VALUE"},
		{nhs, map[string]string{"X-Request-ID": "not-a-uuid"}, 400, "INVALID_VALUE"},
		{nhs, map[string]string{"X-Request-ID": uuid.NewString()}, 401, "ACCESS_DENIED"},
		{nhs, map[string]string{"X-Request-ID": uuid.NewString(), "Authorization": "Bearer nonsense"}, 401, "ACCESS_DENIED"},
	}
	tok, err := sb.Token(UserClinician)
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]string{"X-Request-ID": uuid.NewString(), "Authorization": "Bearer " + tok}
	cases = append(cases, struct {
		id     string
		hdr    map[string]string
		status int
		code   string
	}{"9000000000", good, 400, "INVALID_RESOURCE_ID"}, struct {
		id     string
		hdr    map[string]string
		status int
		code   string
	}{"9111231130", good, 404, "RESOURCE_NOT_FOUND"})
	for _, c := range cases {
		resp, body := rawPatient(t, sb, c.id, c.hdr)
		if resp.StatusCode != c.status || code(body) != c.code {
			t.Errorf("%v: %d %s, want %d %s", c.hdr, resp.StatusCode, code(body), c.status, c.code)
		}
	}
	resp, body := rawPatient(t, sb, nhs, good)
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-ID") != good["X-Request-ID"] || !strings.HasPrefix(resp.Header.Get("ETag"), `W/"`) {
		t.Errorf("good read: %d, X-Request-ID %q, ETag %q: %s", resp.StatusCode, resp.Header.Get("X-Request-ID"), resp.Header.Get("ETag"), body)
	}
}

// Faults reach PDS only when aimed at it, so e-RS fault tests are not
// disturbed by banner reads.
func TestPDSFaultsOnlyWhenAimedAtIt(t *testing.T) {
	sb := start(t, Config{Faults: Faults{ServerError: 1}})
	c := pdsClient(t, sb)
	nhs := sb.Referrals(nil)[0].NHSNumber
	if _, err := c.Patient(context.Background(), nhs); err != nil {
		t.Fatalf("an e-RS fault reached PDS: %v", err)
	}
	sb.FailNext(OpPDS, FaultRateLimit)
	_, err := c.Patient(context.Background(), nhs)
	var e *pds.Error
	if !errors.As(err, &e) || e.Kind != pds.TooManyRequests {
		t.Errorf("FailNext(PDS, rate limit): %v", err)
	}
}
