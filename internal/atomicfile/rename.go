package atomicfile

import (
	"os"
	"time"
)

// renameWait bounds how long Rename waits for another program to close the
// file it replaces. Scanners hold a file for milliseconds; two seconds is
// what Go's own tools allow on Windows.
const renameWait = 2 * time.Second

// renameWaitHook, when set (tests), is called each time a rename has to
// wait for another program to close the target.
var renameWaitHook func()

// Rename renames from to to, replacing to. On Windows a file that another
// program holds open (an antivirus scanner, a backup or indexing agent,
// another Triage Desk process reading it) cannot be replaced until it is
// closed: Rename then retries for up to two seconds before returning the
// error. Elsewhere it is os.Rename.
func Rename(from, to string) error {
	err := os.Rename(from, to)
	if err == nil || !busy(err) {
		return err
	}
	deadline := time.Now().Add(renameWait)
	for delay := 2 * time.Millisecond; time.Now().Before(deadline); delay = min(2*delay, 100*time.Millisecond) {
		if renameWaitHook != nil {
			renameWaitHook()
		}
		time.Sleep(delay)
		if err = os.Rename(from, to); err == nil || !busy(err) {
			return err
		}
	}
	return err
}
