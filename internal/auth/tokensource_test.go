package auth

import (
	"errors"
	"testing"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// A token source bound to one clinician never hands out another
// clinician's token: not while they are signed in, not during their
// sign-in, and not after the first clinician's session is locked.
func TestTokenSourceForServesOnlyItsClinician(t *testing.T) {
	f := newFixture(t)
	m := f.manager(t)
	first := m.TokenSourceFor(erssandbox.UserClinician)
	second := m.TokenSourceFor(erssandbox.UserClinician2)
	if _, err := first.Token(); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("before sign-in: %v, want ErrNotSignedIn", err)
	}

	signInAs(t, m, erssandbox.UserClinician, erssandbox.ProviderODS, triage.RoleServiceProviderClinician)
	tok1, err := first.Token()
	if err != nil || tok1.AccessToken == "" {
		t.Fatalf("first clinician's token: %v", err)
	}
	if plain, err := m.TokenSource().Token(); err != nil || plain.AccessToken != tok1.AccessToken {
		t.Fatalf("the bound source serves another token than the session's: %v", err)
	}
	_, err = second.Token()
	if !errors.Is(err, ErrOtherUser) || triage.ErrorCodeOf(err) != triage.EUNAUTHORIZED || triage.ErrorMessage(err) == "" {
		t.Fatalf("second clinician's source while the first is signed in: %v, want ErrOtherUser", err)
	}

	// The second clinician signs in on the same computer.
	signInAs(t, m, erssandbox.UserClinician2, erssandbox.ProviderODS, triage.RoleServiceProviderClinician)
	tok2, err := second.Token()
	if err != nil || tok2.AccessToken == "" || tok2.AccessToken == tok1.AccessToken {
		t.Fatalf("second clinician's token: %v", err)
	}
	if _, err := first.Token(); !errors.Is(err, ErrOtherUser) {
		t.Fatalf("first clinician's source after the second signed in: %v, want ErrOtherUser", err)
	}

	m.Lock()
	if _, err := second.Token(); !errors.Is(err, ErrLocked) {
		t.Fatalf("after lock: %v, want ErrLocked", err)
	}
}
