package triage

// MismatchField names what the worklist (A008) and a referral's details
// (A005) disagree about.
type MismatchField string

// The fields Reconcile compares.
const (
	MismatchType      MismatchField = "referral type"
	MismatchNHSNumber MismatchField = "NHS number"
	MismatchPriority  MismatchField = "priority"
)

// Mismatch is one disagreement between the worklist and the referral's
// details, each side as a clinician reads it.
type Mismatch struct {
	Field    MismatchField
	Worklist string
	Referral string
}

// Reconcile puts a referral's worklist entry and its details together.
// A005 does not state the referral type (it is inferred from the
// appointment and the state), while the worklist's referralType is e-RS's
// own statement: when the worklist gives one, the referral takes it. Where
// the two disagree on the type, the NHS number or the priority, the
// disagreement is returned so it can be shown instead of guessed.
func Reconcile(it WorklistItem, r Referral) (Referral, []Mismatch) {
	var out []Mismatch
	if it.Type != "" && r.Type != "" && it.Type != r.Type {
		out = append(out, Mismatch{Field: MismatchType, Worklist: it.Type.Label(), Referral: r.Type.Label()})
	}
	if it.Type != "" {
		r.Type = it.Type
	}
	if it.NHSNumber != "" && NormalizeNHSNumber(it.NHSNumber) != NormalizeNHSNumber(r.NHSNumber) {
		out = append(out, Mismatch{Field: MismatchNHSNumber, Worklist: FormatNHSNumber(it.NHSNumber), Referral: FormatNHSNumber(r.NHSNumber)})
	}
	if it.Priority != "" && r.Priority != "" && it.Priority != r.Priority {
		out = append(out, Mismatch{Field: MismatchPriority, Worklist: it.Priority.Label(), Referral: r.Priority.Label()})
	}
	return r, out
}

// PatientMismatch reports whether the mismatches include the NHS number:
// the worklist and the referral name different patients, so nothing may be
// decided on it.
func PatientMismatch(ms []Mismatch) bool {
	for _, m := range ms {
		if m.Field == MismatchNHSNumber {
			return true
		}
	}
	return false
}
