package fhir

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// DecodeAvailableActions decodes an A029 response (a searchset Bundle of
// Tasks) into the actions the user may take now, in the order given.
// Entries that are not Tasks, and Tasks without a code, are skipped. It
// returns an error for malformed JSON or a resource other than a Bundle.
func DecodeAvailableActions(b []byte) ([]triage.Action, error) {
	var bun Bundle
	if err := decodeAs(b, &bun, &bun.ResourceType, TypeBundle); err != nil {
		return nil, fmt.Errorf("decode available actions: %w", err)
	}
	out := make([]triage.Action, 0, len(bun.Entry))
	for _, e := range bun.Entry {
		if e.Resource == nil || e.Resource.Task == nil {
			continue
		}
		if code := e.Resource.Task.Code.First().Code; code != "" {
			out = append(out, triage.Action(code))
		}
	}
	return out, nil
}

// actionDisplay is the display e-RS gives each available action.
var actionDisplay = map[triage.Action]string{
	triage.ActionRecordReviewOutcome:   "Record Review Outcome",
	triage.ActionCancelReferral:        "Cancel Referral",
	triage.ActionCreateAppointment:     "Create Appointment",
	triage.ActionChangeShortlist:       "Change Shortlist",
	triage.ActionChangeShortlistTriage: "Change Shortlist And Send For Triage",
	triage.ActionCancelDBAppointment:   "Cancel Directly Booked Appointment",
}

// EncodeAvailableActions builds the A029 response for a referral version: a
// searchset Bundle with one ready, proposed Task per action, focused on
// "ReferralRequest/{ubrn}/_history/{version}". Task ids are derived from the
// inputs, so the same inputs give the same bundle.
func EncodeAvailableActions(ubrn string, version int, actions []triage.Action) *Bundle {
	focus := TypeReferralRequest + "/" + ubrn + "/_history/" + strconv.Itoa(version)
	bun := &Bundle{
		ResourceType: TypeBundle,
		ID:           "actions-" + ubrn + "-" + strconv.Itoa(version),
		Meta:         &Meta{Profile: []string{ProfileBundle}},
		Type:         "searchset",
		Link:         []BundleLink{{Relation: "self", URL: "Task?focus=" + focus + "&intent=proposal&status=ready"}},
		Entry:        make([]BundleEntry, 0, len(actions)),
	}
	for _, a := range actions {
		id := strings.ToLower(strings.ReplaceAll(string(a), "_", "-")) + "-" + ubrn + "-" + strconv.Itoa(version)
		bun.Entry = append(bun.Entry, BundleEntry{
			FullURL: TypeTask + "/" + id,
			Resource: &Resource{Task: &Task{
				ResourceType: TypeTask, ID: id, Meta: &Meta{Profile: []string{ProfileTask}},
				Status: "ready", Intent: "proposal",
				Focus: &Reference{Reference: focus},
				Code:  concept(triage.SystemAvailableActions, string(a), actionDisplay[a]),
			}},
			Search: &BundleSearch{Mode: "match"},
		})
	}
	return bun
}

// Role is one organisation at which a user holds e-RS business functions
// (one A030 PractitionerRole).
type Role struct {
	// ID is the PractitionerRole id.
	ID string
	// SDSUserID is the user's SDS user id.
	SDSUserID string
	// ODS is the organisation's ODS code, sent as
	// NHSD-End-User-Organisation-ODS.
	ODS string
	// BusinessFunctions are the roles held there, sent as
	// NHSD-eRS-Business-Function; unknown codes are kept as given.
	BusinessFunctions []triage.BusinessFunction
}

// CanVet reports whether any of the role's business functions may vet.
func (r Role) CanVet() bool {
	for _, bf := range r.BusinessFunctions {
		if bf.CanVet() {
			return true
		}
	}
	return false
}

// Identity returns the identity of acting in this role with the business
// function (and, for a clinician admin, on behalf of another user).
func (r Role) Identity(bf triage.BusinessFunction, onBehalfOf string) triage.Identity {
	id := triage.Identity{SDSUserID: r.SDSUserID, ODS: r.ODS, BusinessFunction: bf}
	if bf == triage.RoleServiceProviderClinicianAdmin {
		id.OnBehalfOf = onBehalfOf
	}
	return id
}

// DecodePractitionerRoles decodes an A030 response (a Bundle of R4
// PractitionerRoles) into roles, one per organisation, in the order given.
// Entries that are not PractitionerRoles are skipped. It returns an error for
// malformed JSON, a resource other than a Bundle, or a role without an ODS
// code.
func DecodePractitionerRoles(b []byte) ([]Role, error) {
	var bun Bundle
	if err := decodeAs(b, &bun, &bun.ResourceType, TypeBundle); err != nil {
		return nil, fmt.Errorf("decode practitioner roles: %w", err)
	}
	var out []Role
	for i, e := range bun.Entry {
		if e.Resource == nil || e.Resource.PractitionerRole == nil {
			continue
		}
		pr := e.Resource.PractitionerRole
		r := Role{ID: pr.ID}
		if pr.Practitioner != nil && pr.Practitioner.Identifier != nil {
			r.SDSUserID = pr.Practitioner.Identifier.Value
		}
		if pr.Organization != nil && pr.Organization.Identifier != nil {
			r.ODS = pr.Organization.Identifier.Value
		}
		if r.ODS == "" {
			return nil, fmt.Errorf("decode practitioner roles: entry %d: no organisation ODS code", i)
		}
		for _, c := range pr.Code {
			for _, cd := range c.Coding {
				if cd.Code != "" {
					r.BusinessFunctions = append(r.BusinessFunctions, triage.BusinessFunction(cd.Code))
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// EncodePractitionerRoles builds the A030 response for the roles.
func EncodePractitionerRoles(roles []Role) *Bundle {
	bun := &Bundle{ResourceType: TypeBundle, Type: "searchset", Total: ptr(len(roles)),
		Link: []BundleLink{{Relation: "self", URL: "R4/PractitionerRole"}}}
	for _, r := range roles {
		id := r.ID
		if id == "" {
			id = "PractitionerRole-" + r.ODS + "-" + r.SDSUserID
		}
		pr := &PractitionerRole{
			ResourceType: TypePractitionerRole, ID: id,
			Practitioner: &Reference{Identifier: &Identifier{System: IDSDSUserR4, Value: r.SDSUserID}},
			Organization: &Reference{Identifier: &Identifier{System: IDODS, Value: r.ODS}},
		}
		for _, bf := range r.BusinessFunctions {
			pr.Code = append(pr.Code, *concept(triage.SystemBusinessFunction, string(bf), ""))
		}
		bun.Entry = append(bun.Entry, BundleEntry{FullURL: "R4/PractitionerRole/" + id,
			Resource: &Resource{PractitionerRole: pr}, Search: &BundleSearch{Mode: "match"}})
	}
	return bun
}

// OnBehalfOfUser is a clinician a clinician admin (SPCA) may act for (A040).
type OnBehalfOfUser struct {
	// SDSUserID is sent as NHSD-eRS-On-Behalf-Of-User-ID.
	SDSUserID string
	// Name is the user's name when e-RS gives one.
	Name string
}

// DecodeOnBehalfOfUsers decodes an A040 response (a Bundle of R4
// Practitioners) into users, in the order given. The SDS user id comes from
// the sds-user-id identifier (a single object or an array), else the
// resource id. Entries that are not Practitioners are skipped. It returns an
// error for malformed JSON, a resource other than a Bundle, or a user with
// no id.
func DecodeOnBehalfOfUsers(b []byte) ([]OnBehalfOfUser, error) {
	var bun Bundle
	if err := decodeAs(b, &bun, &bun.ResourceType, TypeBundle); err != nil {
		return nil, fmt.Errorf("decode on-behalf-of users: %w", err)
	}
	var out []OnBehalfOfUser
	for i, e := range bun.Entry {
		if e.Resource == nil || e.Resource.Practitioner == nil {
			continue
		}
		p := e.Resource.Practitioner
		u := OnBehalfOfUser{SDSUserID: p.Identifier.Value(IDSDSUserR4)}
		if u.SDSUserID == "" {
			u.SDSUserID = p.Identifier.Value(IDSDSUser)
		}
		if u.SDSUserID == "" {
			u.SDSUserID = p.ID
		}
		if u.SDSUserID == "" {
			return nil, fmt.Errorf("decode on-behalf-of users: entry %d: no SDS user id", i)
		}
		if len(p.Name) > 0 {
			u.Name = nameText(p.Name[0])
		}
		out = append(out, u)
	}
	return out, nil
}

func nameText(n HumanName) string {
	if n.Text != "" {
		return n.Text
	}
	parts := append(append([]string{}, n.Prefix...), n.Given...)
	if n.Family != "" {
		parts = append(parts, n.Family)
	}
	return strings.Join(parts, " ")
}

// EncodeOnBehalfOfUsers builds the A040 response for the users. A user's
// name is written as the name's text.
func EncodeOnBehalfOfUsers(users []OnBehalfOfUser) *Bundle {
	bun := &Bundle{ResourceType: TypeBundle, Type: "searchset", Total: ptr(len(users)),
		Link: []BundleLink{{Relation: "self", URL: "R4/Practitioner?_query=onBehalfOf"}}}
	for _, u := range users {
		p := &Practitioner{ResourceType: TypePractitioner, ID: u.SDSUserID,
			Identifier: Identifiers{{System: IDSDSUserR4, Value: u.SDSUserID}}}
		if u.Name != "" {
			p.Name = []HumanName{{Text: u.Name}}
		}
		bun.Entry = append(bun.Entry, BundleEntry{FullURL: TypePractitioner + "/" + u.SDSUserID,
			Resource: &Resource{Practitioner: p}, Search: &BundleSearch{Mode: "match"}})
	}
	return bun
}
