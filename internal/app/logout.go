package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/triagedesk/triagedesk/internal/auth"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// sessionEnder ends a sign-in session; *auth.Manager is one.
type sessionEnder interface {
	Logout(ctx context.Context, o auth.LogoutOptions) (auth.LogoutReport, error)
}

// logoutAndWipe signs out (auth.Manager.Logout: tokens leave memory and
// the keychain at once, whatever happens next) and then, with data, removes
// the signed-out clinician's data by the store's rules: with no unsent
// decisions (or discardUnsent) the store is wiped (Store.Wipe: master key
// deleted first, then the files; the store is closed); with unsent
// decisions and no explicit discard nothing is wiped and UnsentKept says
// how many decisions wait for this clinician's next sign-in. The caller
// closes a store that was not wiped.
//
// Errors: Logout's (data is then not touched); an EINVALID *triage.Error
// when data is given and nobody was signed in; the store's errors from
// UnsentCount or Wipe, wrapped.
func logoutAndWipe(ctx context.Context, s sessionEnder, o auth.LogoutOptions, data *store.Store, discardUnsent bool, log *slog.Logger) (auth.LogoutReport, error) {
	rep, err := s.Logout(ctx, o)
	if err != nil || data == nil {
		return rep, err
	}
	if rep.User == "" {
		return rep, triage.Errorf(triage.EINVALID, "Nobody was signed in, so no data was removed.")
	}
	n, err := data.UnsentCount(ctx)
	if err != nil {
		return rep, fmt.Errorf("sign out: count unsent decisions: %w", err)
	}
	if n > 0 && !discardUnsent {
		rep.UnsentKept = n
		log.Info("data kept at sign-out: unsent decisions", "unsent", n)
		return rep, nil
	}
	if err := data.Wipe(ctx, store.WipeOptions{By: rep.Identity, DiscardUnsent: discardUnsent}); err != nil {
		return rep, fmt.Errorf("sign out: remove your data from this computer: %w", err)
	}
	rep.DataWiped, rep.Discarded = true, n
	log.Info("data wiped at sign-out", "discarded", n)
	return rep, nil
}
