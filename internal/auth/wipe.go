package auth

import "github.com/triagedesk/triagedesk/internal/store"

// WipeOptions are the store's wipe options (store.WipeOptions), so that
// *store.Store satisfies DataStore.
type WipeOptions = store.WipeOptions
