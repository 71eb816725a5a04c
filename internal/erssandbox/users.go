package erssandbox

import (
	"slices"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// UserRole is what a test user may do at one organisation: the business
// functions they hold there.
type UserRole struct {
	ODS               string                    `json:"ods"`
	BusinessFunctions []triage.BusinessFunction `json:"businessFunctions"`
}

// TestUser is a mock CIS2 identity the sandbox can sign in. All test users
// are fictional.
type TestUser struct {
	// ID is the SDS user id: the token's subject and the id e-RS records.
	ID   string `json:"id"`
	Name string `json:"name"`
	// Roles are the organisations and business functions from A030.
	Roles []UserRole `json:"roles"`
	// ActsFor lists the SDS user ids of the clinicians this user may act on
	// behalf of as SERVICE_PROVIDER_CLINICIAN_ADMIN (A040).
	ActsFor []string `json:"actsFor,omitempty"`
}

// Holds reports whether the user holds the business function at the
// organisation.
func (u TestUser) Holds(ods string, bf triage.BusinessFunction) bool {
	for _, r := range u.Roles {
		if r.ODS == ods && slices.Contains(r.BusinessFunctions, bf) {
			return true
		}
	}
	return false
}

// The organisations of the default test data: two provider trusts and one
// referring practice.
const (
	// ProviderODS is the main provider organisation.
	ProviderODS = "R69"
	// SecondProviderODS is a second provider organisation, where one test
	// clinician also works.
	SecondProviderODS = "RCD"
	// ReferrerODSPrefix starts the ODS codes of the synthetic referring
	// practices (Y90001 to Y90012).
	ReferrerODSPrefix = "Y900"
)

// The SDS user ids of the default test users.
const (
	// UserClinician is a service provider clinician at R69 and RCD.
	UserClinician = "910000000101"
	// UserClinician2 is a service provider clinician at R69 only.
	UserClinician2 = "910000000102"
	// UserAdmin is a service provider admin at R69 (no clinical decisions).
	UserAdmin = "910000000103"
	// UserClinicianAdmin is a service provider clinician admin at R69 who
	// acts on behalf of UserClinician and UserClinician2.
	UserClinicianAdmin = "910000000104"
	// UserReferrer is a referring clinician at the practice Y90001.
	UserReferrer = "910000000105"
	// UserClinicianRCD is a service provider clinician at RCD only.
	UserClinicianRCD = "910000000106"
)

// DefaultUsers returns the sandbox's test users: a clinician at two
// organisations, a second clinician, an admin, a clinician admin who acts for
// both clinicians, a referring GP and a clinician at the second trust.
func DefaultUsers() []TestUser {
	spc := []triage.BusinessFunction{triage.RoleServiceProviderClinician}
	return []TestUser{
		{ID: UserClinician, Name: "Dr Alex Carter (synthetic)", Roles: []UserRole{
			{ODS: ProviderODS, BusinessFunctions: spc},
			{ODS: SecondProviderODS, BusinessFunctions: spc},
		}},
		{ID: UserClinician2, Name: "Dr Priya Nair (synthetic)", Roles: []UserRole{
			{ODS: ProviderODS, BusinessFunctions: spc},
		}},
		{ID: UserAdmin, Name: "Jordan Lee (synthetic)", Roles: []UserRole{
			{ODS: ProviderODS, BusinessFunctions: []triage.BusinessFunction{triage.RoleServiceProviderAdmin}},
		}},
		{ID: UserClinicianAdmin, Name: "Morgan Hale (synthetic)", Roles: []UserRole{
			{ODS: ProviderODS, BusinessFunctions: []triage.BusinessFunction{triage.RoleServiceProviderClinicianAdmin}},
		}, ActsFor: []string{UserClinician, UserClinician2}},
		{ID: UserReferrer, Name: "Dr Sam Whitfield (synthetic GP)", Roles: []UserRole{
			{ODS: ReferrerODSPrefix + "01", BusinessFunctions: []triage.BusinessFunction{triage.RoleReferringClinician}},
		}},
		{ID: UserClinicianRCD, Name: "Dr Chris Obi (synthetic)", Roles: []UserRole{
			{ODS: SecondProviderODS, BusinessFunctions: spc},
		}},
	}
}
