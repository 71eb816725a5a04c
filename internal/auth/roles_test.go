package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestClinicianAdminChoosesWhomTheyActFor(t *testing.T) {
	f := newFixture(t)
	m := f.manager(t)
	res := signIn(t, m, erssandbox.UserClinicianAdmin)
	if res.Suggested != nil {
		t.Errorf("a clinician admin role was preselected without a clinician: %+v", res.Suggested)
	}
	if len(res.Roles) != 1 || !res.Roles[0].NeedsOnBehalfOf || !res.Roles[0].CanVet {
		t.Fatalf("roles %+v", res.Roles)
	}
	ctx := context.Background()
	choice := res.Roles[0].Choice()
	if _, err := m.ChooseRole(ctx, choice); triage.ErrorCodeOf(err) != triage.EINVALID {
		t.Errorf("without a clinician: %v", err)
	}
	users, err := m.OnBehalfOfUsers(ctx, "r69")
	if err != nil {
		t.Fatal(err)
	}
	want := []triage.OnBehalfOfUser{{SDSUserID: erssandbox.UserClinician, Name: "Dr Alex Carter (synthetic)"}, {SDSUserID: erssandbox.UserClinician2, Name: "Dr Priya Nair (synthetic)"}}
	if len(users) != 2 || users[0] != want[0] || users[1] != want[1] {
		t.Errorf("A040 users %+v", users)
	}
	choice.OnBehalfOfUserID = erssandbox.UserClinicianRCD
	if _, err := m.ChooseRole(ctx, choice); !errors.Is(err, ErrRoleNotHeld) {
		t.Errorf("acting for someone not listed: %v", err)
	}
	choice.OnBehalfOfUserID = erssandbox.UserClinician2
	id, err := m.ChooseRole(ctx, choice)
	if err != nil {
		t.Fatal(err)
	}
	wantID := triage.Identity{SDSUserID: erssandbox.UserClinicianAdmin, ODS: "R69", BusinessFunction: triage.RoleServiceProviderClinicianAdmin, OnBehalfOf: erssandbox.UserClinician2}
	if id != wantID {
		t.Errorf("identity %+v", id)
	}
	// e-RS accepts calls made as this identity (the on-behalf-of header is
	// sent and checked by the sandbox).
	if _, err := m.ERS().WithIdentity(id).CodeSystem(ctx, triage.CodeSystemType("PRIORITY")); err != nil {
		t.Errorf("call as the clinician admin: %v", err)
	}
	if rec, _ := saved(t, f.env); rec.ID != wantID {
		t.Errorf("saved identity %+v", rec.ID)
	}
}

func TestChooseRoleChecksRolesAndPolicy(t *testing.T) {
	f := newFixture(t)
	m := f.manager(t, func(o *Options) { o.AllowedODS = func(ods string) bool { return ods == "R69" } })
	res := signIn(t, m, erssandbox.UserClinician) // a clinician at R69 and RCD
	if len(res.Roles) != 2 || !res.Roles[0].Allowed || res.Roles[1].Allowed {
		t.Fatalf("roles %+v", res.Roles)
	}
	// Only one allowed vetting role: it is suggested.
	if res.Suggested == nil || res.Suggested.ODSCode != "R69" {
		t.Errorf("suggested %+v", res.Suggested)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		c    config.RoleChoice
		code triage.ErrorCode
		not  bool
	}{
		{"not allowed by policy", config.RoleChoice{ODSCode: "RCD", BusinessFunction: "SERVICE_PROVIDER_CLINICIAN"}, triage.EFORBIDDEN, false},
		{"organisation not held", config.RoleChoice{ODSCode: "RX1", BusinessFunction: "SERVICE_PROVIDER_CLINICIAN"}, triage.EFORBIDDEN, true},
		{"function not held", config.RoleChoice{ODSCode: "R69", BusinessFunction: "SERVICE_PROVIDER_ADMIN"}, triage.EFORBIDDEN, true},
	} {
		_, err := m.ChooseRole(ctx, tc.c)
		if triage.ErrorCodeOf(err) != tc.code || errors.Is(err, ErrRoleNotHeld) != tc.not {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if m.Status().State != StateNeedsRole {
		t.Errorf("state %v after refused choices", m.Status().State)
	}
	// Case and spaces do not matter; on-behalf-of is dropped for other roles.
	id, err := m.ChooseRole(ctx, config.RoleChoice{ODSCode: " r69 ", BusinessFunction: "SERVICE_PROVIDER_CLINICIAN", OnBehalfOfUserID: "x"})
	if err != nil || id.ODS != "R69" || id.OnBehalfOf != "" {
		t.Errorf("choice %+v %v", id, err)
	}
}

func TestRoleIsRememberedPerUser(t *testing.T) {
	f := newFixture(t)
	cm, err := config.Load(config.Options{ProfileDir: t.TempDir(), PolicyPath: t.TempDir() + "/none.json"})
	if err != nil {
		t.Fatal(err)
	}
	m := f.manager(t, func(o *Options) { o.Roles = ConfigRoles{M: cm} })
	res := signIn(t, m, erssandbox.UserClinician)
	if res.Suggested != nil {
		t.Errorf("two vetting roles and nothing remembered, yet %+v suggested", res.Suggested)
	}
	if _, err := m.ChooseRole(context.Background(), config.RoleChoice{ODSCode: "RCD", BusinessFunction: "SERVICE_PROVIDER_CLINICIAN"}); err != nil {
		t.Fatal(err)
	}
	if r, ok := cm.Settings().RememberedRole(erssandbox.UserClinician); !ok || r.ODSCode != "RCD" {
		t.Errorf("remembered %+v %v", r, ok)
	}
	// Next sign-in (say, on another day) offers it first.
	if _, err := m.Logout(context.Background(), LogoutOptions{}); err != nil {
		t.Fatal(err)
	}
	res = signIn(t, m, erssandbox.UserClinician)
	if res.Suggested == nil || res.Suggested.ODSCode != "RCD" || res.Resumed {
		t.Errorf("suggested %+v resumed %v", res.Suggested, res.Resumed)
	}
	// Another clinician's memory is separate.
	if _, ok := cm.Settings().RememberedRole(erssandbox.UserClinician2); ok {
		t.Error("the role was remembered for another clinician")
	}
}

func TestRolesRetryAfterRestore(t *testing.T) {
	f := newFixture(t)
	m := f.manager(t)
	signIn(t, m, erssandbox.UserClinician2) // no role chosen before the app closed
	m.Close()
	m2 := f.manager(t)
	st, err := m2.Restore(context.Background())
	if err != nil || st.State != StateNeedsRole || st.Identity.SDSUserID != erssandbox.UserClinician2 {
		t.Fatalf("restore %+v %v", st, err)
	}
	opts, err := m2.Roles(context.Background())
	if err != nil || len(opts) != 1 {
		t.Fatalf("roles %+v %v", opts, err)
	}
	if _, err := m2.ChooseRole(context.Background(), opts[0].Choice()); err != nil || m2.Status().State != StateActive {
		t.Errorf("choose after restore: %v", err)
	}
}
