package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

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

func hasRole(id triage.Identity) bool {
	return id.SDSUserID != "" && id.ODS != "" && id.BusinessFunction != ""
}

func choiceOf(id triage.Identity) config.RoleChoice {
	return config.RoleChoice{ODSCode: id.ODS, BusinessFunction: string(id.BusinessFunction), OnBehalfOfUserID: id.OnBehalfOf}
}

// rolesAfterSignIn reads the roles of whoever just signed in, suggests one
// and, when the same clinician signed in again (to unlock), restores their
// role.
func (m *Manager) rolesAfterSignIn(ctx context.Context, prev triage.Identity, prevState State) (*SignInResult, error) {
	opts, userID, err := m.loadRoles(ctx)
	if err != nil {
		return nil, err
	}
	res := &SignInResult{UserID: userID, Roles: opts}
	var remembered config.RoleChoice
	var ok bool
	if m.roles != nil {
		remembered, ok = m.roles.RememberedRole(userID)
	}
	res.Suggested = suggest(opts, remembered, ok)
	if prev.SDSUserID != "" && prev.SDSUserID != userID {
		res.PreviousUser = prev.SDSUserID
	}
	if prev.SDSUserID == userID && hasRole(prev) && prevState != StateSignedOut {
		id, err := m.ChooseRole(ctx, choiceOf(prev))
		if err == nil {
			res.Resumed, res.Identity = true, id
		} else {
			m.log.Info("previous role not restored", "err", err)
		}
	}
	return res, nil
}

// errNoERS is a Manager built without an e-RS client (Options.ERS).
var errNoERS = errors.New("auth: no e-RS client to read roles with (Options.ERS is nil)")

// loadRoles reads A030, learns the clinician's SDS user id from it (the
// combined pattern's token response names nobody) and keeps the options.
func (m *Manager) loadRoles(ctx context.Context) ([]RoleOption, string, error) {
	m.mu.Lock()
	gen, st, msg := m.gen, m.state, m.message
	m.mu.Unlock()
	if !st.hasTokens() {
		return nil, "", stateError(st, msg)
	}
	if m.ers == nil {
		return nil, "", errNoERS
	}
	res, err := m.ers.PractitionerRoles(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("read your e-RS roles: %w", err)
	}
	userID := ""
	for _, r := range res.Roles {
		switch {
		case r.SDSUserID == "":
		case userID == "":
			userID = r.SDSUserID
		case userID != r.SDSUserID:
			return nil, "", &triage.Error{Code: triage.EUNAVAILABLE, Err: errors.New("A030 names more than one practitioner"),
				Message: "e-RS sent roles for more than one person, so Triage Desk cannot tell who you are. Sign in again; if it keeps happening, contact your IT service desk."}
		}
	}
	if userID == "" {
		if len(res.Roles) == 0 {
			return nil, "", userErr(triage.EFORBIDDEN, ErrRoleNotHeld, nil,
				"e-RS lists no roles for you, so you cannot use Triage Desk yet. Ask your registration authority to give you an e-RS role at your organisation.")
		}
		return nil, "", &triage.Error{Code: triage.EUNAVAILABLE, Err: errors.New("A030 names no practitioner"),
			Message: "e-RS did not say who you are, so Triage Desk cannot continue. Sign in again; if it keeps happening, contact your IT service desk."}
	}
	opts := roleOptions(res.Roles, m.allowed)
	m.mu.Lock()
	if m.gen != gen {
		st, msg := m.state, m.message
		m.mu.Unlock()
		return nil, "", stateError(st, msg)
	}
	if m.id.SDSUserID != userID {
		m.id = triage.Identity{SDSUserID: userID}
		m.state = StateNeedsRole
	}
	m.opts = opts
	m.mu.Unlock()
	_ = m.persist(ctx, gen)
	return opts, userID, nil
}

// Roles reads the clinician's e-RS roles again (A030), for example after
// Restore left the session StateNeedsRole, or after SignIn's A030 call
// failed. Errors: ErrLocked, ErrSignInNeeded, ErrNotSignedIn, or the
// A030 call's *ers.Error.
func (m *Manager) Roles(ctx context.Context) ([]RoleOption, error) {
	opts, _, err := m.loadRoles(ctx)
	return opts, err
}

// OnBehalfOfUsers lists the clinicians a clinician admin may act for at
// the organisation (A040, sent as SERVICE_PROVIDER_CLINICIAN_ADMIN at ods).
// Errors as Roles.
func (m *Manager) OnBehalfOfUsers(ctx context.Context, ods string) ([]triage.OnBehalfOfUser, error) {
	m.mu.Lock()
	st, msg, user := m.state, m.message, m.id.SDSUserID
	m.mu.Unlock()
	if !st.hasTokens() {
		return nil, stateError(st, msg)
	}
	if m.ers == nil {
		return nil, errNoERS
	}
	ods = strings.ToUpper(strings.TrimSpace(ods))
	c := m.ers.WithIdentity(triage.Identity{SDSUserID: user, ODS: ods, BusinessFunction: triage.RoleServiceProviderClinicianAdmin})
	res, err := c.OnBehalfOfUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the clinicians you may act for: %w", err)
	}
	return res.Users, nil
}

// ChooseRole sets the organisation and business function the clinician
// works as (and, for SERVICE_PROVIDER_CLINICIAN_ADMIN, the clinician they
// act for, checked with A040), saves it with the session, remembers it for
// next time and makes the session StateActive. It may also be called while
// StateActive to change role; the app must then treat decisions made under
// the old identity as the old identity's.
//
// Errors (*triage.Error): EFORBIDDEN wrapping ErrRoleNotHeld when the
// clinician does not hold the role or may not act for that clinician;
// EFORBIDDEN when the policy does not allow the organisation; EINVALID
// when a clinician admin names nobody to act for; the state errors of
// Roles; the A030 or A040 call's error.
func (m *Manager) ChooseRole(ctx context.Context, c config.RoleChoice) (triage.Identity, error) {
	ods := strings.ToUpper(strings.TrimSpace(c.ODSCode))
	bf := triage.BusinessFunction(strings.TrimSpace(c.BusinessFunction))
	obo := strings.TrimSpace(c.OnBehalfOfUserID)
	m.mu.Lock()
	st, msg, opts, user := m.state, m.message, m.opts, m.id.SDSUserID
	m.mu.Unlock()
	if !st.hasTokens() {
		return triage.Identity{}, stateError(st, msg)
	}
	if opts == nil || user == "" {
		var err error
		if opts, user, err = m.loadRoles(ctx); err != nil {
			return triage.Identity{}, err
		}
	}
	o, ok := holds(opts, ods, bf)
	if !ok {
		return triage.Identity{}, userErr(triage.EFORBIDDEN, ErrRoleNotHeld, nil,
			fmt.Sprintf("You do not hold the role %s at %s in e-RS. Choose one of the roles listed.", bf.Label(), ods))
	}
	if !o.Allowed {
		return triage.Identity{}, triage.Errorf(triage.EFORBIDDEN,
			"Your organisation has not allowed Triage Desk to be used for %s. Choose another role, or contact your IT service desk.", ods)
	}
	if o.NeedsOnBehalfOf {
		if obo == "" {
			return triage.Identity{}, triage.Errorf(triage.EINVALID, "As a clinician admin, choose the clinician you are acting for.")
		}
		users, err := m.OnBehalfOfUsers(ctx, ods)
		if err != nil {
			return triage.Identity{}, err
		}
		found := false
		for _, u := range users {
			found = found || u.SDSUserID == obo
		}
		if !found {
			return triage.Identity{}, userErr(triage.EFORBIDDEN, ErrRoleNotHeld, nil,
				fmt.Sprintf("e-RS does not let you act for the clinician %s at %s. Choose one of the clinicians listed.", obo, ods))
		}
	} else {
		obo = ""
	}
	id := triage.Identity{SDSUserID: user, ODS: ods, BusinessFunction: bf, OnBehalfOf: obo}
	m.mu.Lock()
	if !m.state.hasTokens() || m.id.SDSUserID != user {
		st, msg := m.state, m.message
		m.mu.Unlock()
		return triage.Identity{}, stateError(st, msg)
	}
	gen := m.gen
	m.id, m.state, m.message = id, StateActive, ""
	status := m.statusLocked()
	m.mu.Unlock()
	_ = m.persist(ctx, gen)
	if m.roles != nil {
		if err := m.roles.RememberRole(user, config.RoleChoice{ODSCode: ods, BusinessFunction: string(bf), OnBehalfOfUserID: obo}); err != nil {
			m.log.Warn("role not remembered", "err", err)
		}
	}
	m.log.Info("role chosen", "ods", ods, "business_function", string(bf), "on_behalf_of", obo != "")
	m.notify(status)
	return id, nil
}
