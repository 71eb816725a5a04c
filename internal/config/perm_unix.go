//go:build unix

package config

import (
	"fmt"
	"os"
	"syscall"
)

// permissionWarnings warns when the policy file can be changed by ordinary
// users: then it is not the organisation's policy any more.
func permissionWarnings(f *os.File) []Problem {
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	var out []Problem
	if fi.Mode().Perm()&0o022 != 0 {
		out = append(out, Problem{Warning: true, Message: fmt.Sprintf("the file can be changed by users other than its owner (permissions %04o): make it writable by root only, e.g. chmod 644", fi.Mode().Perm())})
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
		out = append(out, Problem{Warning: true, Message: fmt.Sprintf("the file is owned by user id %d, not root: that user can change the organisation's settings", st.Uid)})
	}
	return out
}
