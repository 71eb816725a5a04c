package ers

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/triagedesk/triagedesk/internal/testutil"
)

// hostileNames reads the shared list of hostile attachment file names.
func hostileNames(t *testing.T) []string {
	t.Helper()
	var f struct {
		Names []string `json:"names"`
	}
	if err := json.Unmarshal(testutil.Testdata(t, "filenames/hostile.json"), &f); err != nil || len(f.Names) == 0 {
		t.Fatalf("hostile.json: %v (%d names)", err, len(f.Names))
	}
	return f.Names
}

// Every hostile name a server might send becomes a plain file name that is
// safe on Windows, macOS and Linux: one path element, not hidden, no
// control or bidirectional characters, no reserved characters or device
// names, short enough, and stable.
func TestHostileFilenamesFromTestdata(t *testing.T) {
	for _, name := range hostileNames(t) {
		got := SanitizeFilename(name)
		problem := ""
		switch {
		case got == "" || got == "." || got == "..":
			problem = "empty or a directory"
		case strings.ContainsAny(got, `/\<>:"|?*`):
			problem = "a separator or reserved character"
		case strings.HasPrefix(got, ".") || strings.HasSuffix(got, ".") || strings.HasSuffix(got, " "):
			problem = "hidden, or ends with a dot or space"
		case len(got) > MaxFilenameBytes || !utf8.ValidString(got):
			problem = "too long or not UTF-8"
		case reservedWindowsName(got):
			problem = "a Windows device name"
		case SanitizeFilename(got) != got:
			problem = "not stable"
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				problem = "a control or formatting character"
			}
		}
		if problem != "" {
			t.Errorf("%q became %q: %s", name, got, problem)
		}
	}
}
