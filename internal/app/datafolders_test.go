package app

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/triagedesk/triagedesk/internal/store"
)

// memKeys is a key provider in memory that records the accounts asked for.
type memKeys struct{ asked []string }

func (m *memKeys) Get(_ context.Context, account string) ([]byte, error) {
	m.asked = append(m.asked, account)
	return nil, store.ErrKeyNotFound
}
func (m *memKeys) Put(context.Context, string, []byte) error { return nil }
func (m *memKeys) Delete(context.Context, string) error      { return nil }

// Every environment's data in a profile is found, so support tools (doctor)
// check the demo's and a local server's stores as well as INT's, and open
// each under its own keys.
func TestDataFoldersFindsEveryEnvironmentsStores(t *testing.T) {
	profile := t.TempDir()
	for _, d := range []string{"users/a", "environments/demo/users/b", "environments/local-0a1b2c/users/c", "environments/empty"} {
		if err := os.MkdirAll(filepath.Join(profile, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	got, err := DataFolders(profile)
	if err != nil {
		t.Fatal(err)
	}
	want := []DataFolder{
		{Dir: profile},
		{Dir: filepath.Join(profile, "environments", "demo"), Scope: "demo"},
		{Dir: filepath.Join(profile, "environments", "local-0a1b2c"), Scope: "local-0a1b2c"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DataFolders = %+v, want %+v", got, want)
	}
	keys := &memKeys{}
	_, _ = got[0].Keys(keys).Get(context.Background(), "k")
	_, _ = got[1].Keys(keys).Get(context.Background(), "k")
	if want := []string{"k", "env:demo:k"}; !reflect.DeepEqual(keys.asked, want) {
		t.Errorf("accounts asked = %q, want %q", keys.asked, want)
	}
	if none, err := DataFolders(filepath.Join(profile, "missing")); err != nil || len(none) != 0 {
		t.Errorf("missing profile: %v %v", none, err)
	}
}
