package fhir

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// maxTypeInError bounds how much of an unexpected resourceType an error
// quotes, so a hostile body cannot flood a log line.
const maxTypeInError = 40

func clip(s string) string {
	if len(s) > maxTypeInError {
		return s[:maxTypeInError] + "…"
	}
	return s
}

// decodeAs unmarshals b into v and checks its resourceType.
func decodeAs(b []byte, v any, got *string, want string) error {
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	if *got != want {
		return fmt.Errorf("%w: got %q, want %s", ErrNotResource, clip(*got), want)
	}
	return nil
}

// decodeMapped decodes b as a resource of type want (resourceType names its
// resourceType field) and maps it with conv; errors start "decode what: ".
func decodeMapped[R, T any](b []byte, want, what string, resourceType func(*R) *string, conv func(*R) (T, error)) (T, error) {
	var res R
	var zero T
	if err := decodeAs(b, &res, resourceType(&res), want); err != nil {
		return zero, fmt.Errorf("decode %s: %w", what, err)
	}
	v, err := conv(&res)
	if err != nil {
		return zero, fmt.Errorf("decode %s: %w", what, err)
	}
	return v, nil
}

func toCoding(c Coding) triage.Coding {
	return triage.Coding{System: c.System, Code: c.Code, Display: c.Display}
}

func fromCoding(c triage.Coding) Coding {
	return Coding{System: c.System, Code: c.Code, Display: c.Display}
}

// codingOf returns an extension's coded value, whether carried as a Coding or
// a CodeableConcept.
func codingOf(e *Extension) Coding {
	switch {
	case e == nil:
		return Coding{}
	case e.ValueCoding != nil:
		return *e.ValueCoding
	case e.ValueCodeableConcept != nil:
		return e.ValueCodeableConcept.First()
	}
	return Coding{}
}

// timeOf returns an extension's date/time value (dateTime, instant or date).
func timeOf(e *Extension, field string) (time.Time, error) {
	if e == nil {
		return time.Time{}, nil
	}
	s := e.ValueDateTime
	if s == "" {
		s = e.ValueInstant
	}
	if s == "" {
		s = e.ValueDate
	}
	t, err := parseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", field, err)
	}
	return t, nil
}

func concept(system, code, display string) *CodeableConcept {
	return &CodeableConcept{Coding: []Coding{{System: system, Code: code, Display: display}}}
}

// containedIndex maps the ids of contained resources to the resources.
type containedIndex map[string]*Resource

func indexContained(rs []*Resource) containedIndex {
	idx := make(containedIndex, len(rs))
	for _, r := range rs {
		if r == nil {
			continue
		}
		var id string
		switch {
		case r.Patient != nil:
			id = r.Patient.ID
		case r.Practitioner != nil:
			id = r.Practitioner.ID
		case r.Appointment != nil:
			id = r.Appointment.ID
		case r.DocumentReference != nil:
			id = r.DocumentReference.ID
		case r.Parameters != nil:
			id = r.Parameters.ID
		case r.List != nil:
			id = r.List.ID
		case r.PractitionerRole != nil:
			id = r.PractitionerRole.ID
		}
		if id != "" {
			if _, dup := idx[id]; !dup {
				idx[id] = r
			}
		}
	}
	return idx
}

// local resolves a local reference "#id".
func (idx containedIndex) local(ref string) *Resource {
	id, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil
	}
	return idx[id]
}

// patientNHSNumber resolves a patient reference, contained ("#Patient-…") or
// logical (by identifier), to the NHS number.
func (idx containedIndex) patientNHSNumber(ref *Reference) (string, bool) {
	if ref == nil {
		return "", false
	}
	if ref.Identifier != nil && ref.Identifier.Value != "" {
		return ref.Identifier.Value, true
	}
	if r := idx.local(ref.Reference); r != nil && r.Patient != nil {
		if v := r.Patient.Identifier.Value(IDNHSNumber); v != "" {
			return v, true
		}
		if len(r.Patient.Identifier) > 0 && r.Patient.Identifier[0].Value != "" {
			return r.Patient.Identifier[0].Value, true
		}
	}
	return "", false
}

// practitionerID resolves a practitioner reference to an SDS user id.
func (idx containedIndex) practitionerID(ref *Reference) string {
	if ref == nil {
		return ""
	}
	if ref.Identifier != nil && ref.Identifier.Value != "" {
		return ref.Identifier.Value
	}
	if r := idx.local(ref.Reference); r != nil && r.Practitioner != nil {
		if v := r.Practitioner.Identifier.Value(IDSDSUser); v != "" {
			return v
		}
		if len(r.Practitioner.Identifier) > 0 {
			return r.Practitioner.Identifier[0].Value
		}
	}
	return ""
}
