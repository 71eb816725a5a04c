package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Compaction renames the compacted copy over a file while it still holds
// that file's lock, so no other process can open the old file in between
// and write where nobody will ever read.
func TestCompactionRenamesWhileHoldingTheLock(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows cannot rename over an open file: there the store's other file stays locked instead")
	}
	env, _ := corruptFixture(t)
	s := env.open(t)
	var checked []string
	beforeCompactRename = func(path string) {
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 50 * time.Millisecond, ReadOnly: true})
		if err == nil {
			db.Close()
			t.Errorf("%s could be opened by another process just before the compacted copy replaced it", filepath.Base(path))
		} else if !errors.Is(err, berrors.ErrTimeout) {
			t.Errorf("open %s: %v", filepath.Base(path), err)
		}
		checked = append(checked, filepath.Base(path))
	}
	t.Cleanup(func() { beforeCompactRename = nil })
	if _, err := s.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(checked) != 2 {
		t.Errorf("checked %v, want both files", checked)
	}
}

// Opening the store removes leftovers of an interrupted compaction only
// once it holds the files: while another Triage Desk has them open (and
// may be compacting), a second one is refused and takes nothing away.
func TestTempsAreRemovedOnlyUnderTheLock(t *testing.T) {
	env, _ := corruptFixture(t)
	s := env.open(t)
	tmp := filepath.Join(env.dir(), OutboxFile+".compact-tmp")
	if err := os.WriteFile(tmp, []byte("a compaction in progress"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), env.options()); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second open: %v", err)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Errorf("a second Triage Desk removed the first one's compaction file: %v", err)
	}
	mustNoErr(t, s.Close(), "close")
	s = env.open(t) // now it is a leftover, and goes
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover kept: %v", err)
	}
	mustNoErr(t, s.Close(), "close")
}
