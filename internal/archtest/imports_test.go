package archtest

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/triagedesk/triagedesk"

// pkg is what go list says of one package.
type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// packages lists every package of the module with its imports, built
// with the tags every build uses.
func packages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-tags", "migrated_fynedo", "-json=ImportPath,Imports,TestImports,XTestImports", module+"/...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var ps []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		ps = append(ps, p)
	}
	if len(ps) < 10 {
		t.Fatalf("go list found only %d packages", len(ps))
	}
	return ps
}

func in(path, tree string) bool {
	tree = module + "/" + tree
	return path == tree || strings.HasPrefix(path, tree+"/")
}

// TestUIImportsOnlyTheFacade: the UI (ui and its sub-packages) reaches
// the services only through internal/app; test files may use
// internal/app/apptest for fixtures.
func TestUIImportsOnlyTheFacade(t *testing.T) {
	banned := []string{"internal/store", "internal/engine", "internal/ers", "internal/erssandbox", "internal/auth", "internal/keychain"}
	for _, p := range packages(t) {
		if !in(p.ImportPath, "ui") {
			continue
		}
		check := func(kind string, imports []string) {
			for _, imp := range imports {
				for _, b := range banned {
					if in(imp, b) {
						t.Errorf("%s (%s) imports %s: the UI must go through internal/app", p.ImportPath, kind, imp)
					}
				}
			}
		}
		check("code", p.Imports)
		check("tests", slices.Concat(p.TestImports, p.XTestImports))
	}
}

// TestAuthAndStoreAreIndependent: sign-in and the encrypted store share
// the keychain, not each other.
func TestAuthAndStoreAreIndependent(t *testing.T) {
	for _, p := range packages(t) {
		for _, pair := range [][2]string{{"internal/auth", "internal/store"}, {"internal/store", "internal/auth"}} {
			if !in(p.ImportPath, pair[0]) {
				continue
			}
			for _, imp := range p.Imports {
				if in(imp, pair[1]) {
					t.Errorf("%s imports %s: auth and store depend on internal/keychain, not on each other", p.ImportPath, imp)
				}
			}
		}
	}
}

// TestOnlyTheDesktopImportsUI: the UI is a leaf; only the desktop binary
// builds on it.
func TestOnlyTheDesktopImportsUI(t *testing.T) {
	for _, p := range packages(t) {
		if in(p.ImportPath, "ui") || p.ImportPath == module+"/cmd/triagedesk" {
			continue
		}
		for _, imp := range slices.Concat(p.Imports, p.TestImports, p.XTestImports) {
			if in(imp, "ui") {
				t.Errorf("%s imports %s: only cmd/triagedesk may use the UI", p.ImportPath, imp)
			}
		}
	}
}

// TestOnlyUIImportsFyne: the toolkit stays in the UI (ui/fyneapp creates
// the application for cmd/triagedesk).
func TestOnlyUIImportsFyne(t *testing.T) {
	for _, p := range packages(t) {
		if in(p.ImportPath, "ui") {
			continue
		}
		for _, imp := range slices.Concat(p.Imports, p.TestImports, p.XTestImports) {
			if strings.HasPrefix(imp, "fyne.io/") {
				t.Errorf("%s imports %s: only ui/... uses Fyne", p.ImportPath, imp)
			}
		}
	}
}
