package auth

import (
	"fmt"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// RoleMemory remembers the role each clinician last chose, so it can be
// offered first next time. *config.Manager provides it through ConfigRoles.
type RoleMemory interface {
	// RememberedRole returns the role userID (an SDS user id) last chose.
	RememberedRole(userID string) (config.RoleChoice, bool)
	// RememberRole saves the role userID chose.
	RememberRole(userID string, r config.RoleChoice) error
}

// ConfigRoles keeps remembered roles in the user's settings file through a
// config.Manager.
type ConfigRoles struct{ M *config.Manager }

// RememberedRole implements RoleMemory.
func (c ConfigRoles) RememberedRole(userID string) (config.RoleChoice, bool) {
	return c.M.Settings().RememberedRole(userID)
}

// RememberRole implements RoleMemory; errors are config.Manager.RememberRole's.
func (c ConfigRoles) RememberRole(userID string, r config.RoleChoice) error {
	return c.M.RememberRole(userID, r)
}

// RoleOption is one organisation and business function the clinician holds
// in e-RS (from A030), as a role picker shows it.
type RoleOption struct {
	ODS              string
	BusinessFunction triage.BusinessFunction
	// Label reads e.g. "Service provider clinician at R69".
	Label string
	// CanVet is true for the business functions that may vet referrals.
	CanVet bool
	// Allowed is false when the machine policy does not allow Triage Desk
	// to act for this organisation; such a role cannot be chosen.
	Allowed bool
	// NeedsOnBehalfOf is true for SERVICE_PROVIDER_CLINICIAN_ADMIN: the
	// clinician must also choose whom they act for (OnBehalfOfUsers).
	NeedsOnBehalfOf bool
}

// Choice returns the role as a config.RoleChoice (without on-behalf-of).
func (o RoleOption) Choice() config.RoleChoice {
	return config.RoleChoice{ODSCode: o.ODS, BusinessFunction: string(o.BusinessFunction)}
}

// roleOptions flattens A030 roles into one option per organisation and
// business function, in e-RS's order.
func roleOptions(roles []fhir.Role, allowed func(string) bool) []RoleOption {
	var out []RoleOption
	for _, r := range roles {
		for _, bf := range r.BusinessFunctions {
			out = append(out, RoleOption{
				ODS: r.ODS, BusinessFunction: bf,
				Label:           fmt.Sprintf("%s at %s", bf.Label(), r.ODS),
				CanVet:          bf.CanVet(),
				Allowed:         allowed == nil || allowed(r.ODS),
				NeedsOnBehalfOf: bf == triage.RoleServiceProviderClinicianAdmin,
			})
		}
	}
	return out
}

// holds reports whether the options include the organisation and business
// function.
func holds(opts []RoleOption, ods string, bf triage.BusinessFunction) (RoleOption, bool) {
	for _, o := range opts {
		if o.ODS == ods && o.BusinessFunction == bf {
			return o, true
		}
	}
	return RoleOption{}, false
}

// SignInResult is what a completed sign-in found out.
type SignInResult struct {
	// UserID is the clinician's SDS user id.
	UserID string
	// Roles are the clinician's e-RS roles (A030).
	Roles []RoleOption
	// Suggested is the role to preselect: the one the clinician last chose
	// if they still hold it and the policy allows it, else their only
	// vetting role when it is not a clinician admin role; nil otherwise.
	Suggested *config.RoleChoice
	// Resumed is true when the same clinician signed in to unlock (or to
	// renew) a session and their role was restored: the session is
	// StateActive with Identity and the app carries on where it was.
	Resumed  bool
	Identity triage.Identity
	// PreviousUser is the SDS user id of another clinician whose locked or
	// active session this sign-in replaced; the app must close that
	// clinician's data (their unsent decisions stay theirs).
	PreviousUser string
}

// suggest picks the role to preselect.
func suggest(opts []RoleOption, remembered config.RoleChoice, ok bool) *config.RoleChoice {
	if ok {
		if o, held := holds(opts, remembered.ODSCode, triage.BusinessFunction(remembered.BusinessFunction)); held && o.Allowed {
			c := remembered
			return &c
		}
	}
	var only *RoleOption
	for i := range opts {
		if opts[i].CanVet && opts[i].Allowed {
			if only != nil {
				return nil
			}
			only = &opts[i]
		}
	}
	if only == nil || only.NeedsOnBehalfOf {
		return nil
	}
	c := only.Choice()
	return &c
}
