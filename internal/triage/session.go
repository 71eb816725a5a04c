package triage

import (
	"errors"
	"fmt"
)

// OnBehalfOfUser is a clinician a clinician admin may act for: who a
// decision is then sent on behalf of.
type OnBehalfOfUser struct {
	// SDSUserID is the clinician's SDS user id.
	SDSUserID string
	// Name is the clinician's name when e-RS gives one.
	Name string
}

// Assigned filters a worklist by whether a specialty or clinician is
// assigned.
type Assigned string

// The assigned filters. AssignedAny does not filter.
const (
	AssignedAny Assigned = ""
	AssignedYes Assigned = "ASSIGNED"
	AssignedNo  Assigned = "NOT_ASSIGNED"
)

// WorklistFilter narrows a worklist: large providers filter by service,
// specialty, location or clinician (e-RS fails responses over 10 MB).
// Empty fields do not filter.
type WorklistFilter struct {
	// Service is an e-RS service id.
	Service string
	// SpecialtyAssigned filters on whether a specialty is assigned. With a
	// Specialty and AssignedAny, AssignedYes is meant.
	SpecialtyAssigned Assigned
	// Specialty is a SPECIALTY code, with its code system URL.
	Specialty Coding
	// Location is an ODS code.
	Location string
	// ClinicianAssigned filters on whether a clinician is assigned. With a
	// Clinician and AssignedAny, AssignedYes is meant.
	ClinicianAssigned Assigned
	// Clinician is an SDS user id; it needs ClinicianAssigned AssignedYes
	// (or AssignedAny).
	Clinician string
}

// Validate reports a filter e-RS would refuse: a specialty or clinician with
// AssignedNo, an unknown Assigned value, or a specialty without its code
// system.
func (f WorklistFilter) Validate() error {
	for _, c := range []struct {
		what  string
		ind   Assigned
		value bool
	}{
		{"specialty", f.SpecialtyAssigned, !f.Specialty.IsZero()},
		{"clinician", f.ClinicianAssigned, f.Clinician != ""},
	} {
		switch c.ind {
		case AssignedAny, AssignedYes:
		case AssignedNo:
			if c.value {
				return fmt.Errorf("worklist filter: a %s can only be given with the indicator ASSIGNED", c.what)
			}
		default:
			return fmt.Errorf("worklist filter: %s indicator must be ASSIGNED or NOT_ASSIGNED", c.what)
		}
	}
	if !f.Specialty.IsZero() && f.Specialty.System == "" {
		return errors.New("worklist filter: the specialty needs its code system URL (from the SPECIALTY reference data)")
	}
	return nil
}
