package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFileWaitsForAReaderToLetGo: on Windows a file that another
// program has open (an antivirus scanner, a backup agent, the app reading
// settings.json while triagectl saves it) cannot be replaced by a rename
// until it is closed: the save must wait for it briefly instead of failing.
// Here a reader holds the old file open; once WriteFile has had to wait,
// the reader closes it, and the save must then complete with the new
// content. (On Unix the rename succeeds at once.)
func TestWriteFileWaitsForAReaderToLetGo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.json")
	if err := WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	reader, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	waited := make(chan struct{}, 1)
	renameWaitHook = func() {
		select {
		case waited <- struct{}{}:
		default:
		}
	}
	defer func() { renameWaitHook = nil }()
	done := make(chan error, 1)
	go func() { done <- WriteFile(path, []byte("new"), 0o600) }()
	select {
	case err = <-done:
	case <-waited:
		reader.Close() // the scanner lets go
		err = <-done
	}
	if err != nil {
		t.Fatalf("save while another program had the file open: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "new" {
		t.Fatalf("content %q, %v; want the new content", b, err)
	}
}
