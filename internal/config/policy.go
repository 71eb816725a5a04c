package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"time"
)

// PolicyFileName is the machine policy's file name.
const PolicyFileName = "policy.json"

// maxPolicyBytes bounds what is read from a policy file; a real one is a
// few hundred bytes.
const maxPolicyBytes = 1 << 20

// Policy is a machine policy: the settings hospital IT sets for every user of
// a workstation, read from the policy file and (on Windows) from the registry
// values the installer writes. A nil or empty Policy means the machine is
// not managed. A Policy is immutable once loaded.
type Policy struct {
	// Source names where the policy came from, for messages: the file path,
	// the registry key, or both joined by " + ".
	Source string
	vals   map[Key]any       // string, int, bool or []string by kind
	pos    map[Key]elemPos   // where each key is: "line 3, column 5" or `registry value "x"`
	from   map[Key]string    // the file path or registry key of each value
	elems  map[Key][]elemPos // positions of list elements, for problems
}

type elemPos struct {
	where        string
	line, column int
}

func newPolicy(source string) *Policy {
	return &Policy{Source: source, vals: map[Key]any{}, pos: map[Key]elemPos{}, from: map[Key]string{}, elems: map[Key][]elemPos{}}
}

// Managed reports whether the policy sets anything at all.
func (p *Policy) Managed() bool { return p != nil && len(p.vals) > 0 }

// Has reports whether the policy sets k.
func (p *Policy) Has(k Key) bool {
	if p == nil {
		return false
	}
	_, ok := p.vals[k]
	return ok
}

// Keys lists the keys the policy sets, in the order of Keys().
func (p *Policy) Keys() []Key {
	var out []Key
	for _, k := range Keys() {
		if p.Has(k) {
			out = append(out, k)
		}
	}
	return out
}

// From returns the file path or registry key that set k, or "".
func (p *Policy) From(k Key) string {
	if p == nil {
		return ""
	}
	return p.from[k]
}

func (p *Policy) str(k Key) (string, bool) {
	if p == nil {
		return "", false
	}
	s, ok := p.vals[k].(string)
	return s, ok
}

func (p *Policy) int(k Key) (int, bool) {
	if p == nil {
		return 0, false
	}
	n, ok := p.vals[k].(int)
	return n, ok
}

func (p *Policy) bool(k Key) (bool, bool) {
	if p == nil {
		return false, false
	}
	b, ok := p.vals[k].(bool)
	return b, ok
}

func (p *Policy) list(k Key) ([]string, bool) {
	if p == nil {
		return nil, false
	}
	l, ok := p.vals[k].([]string)
	return slices.Clone(l), ok
}

// lockedKeys returns the keys listed under "locked".
func (p *Policy) lockedKeys() []Key {
	l, _ := p.list(KeyLocked)
	out := make([]Key, 0, len(l))
	for _, s := range l {
		out = append(out, Key(s))
	}
	return out
}

// ParsePolicy reads a policy file's bytes and returns the policy and every
// problem found, errors and warnings, each with its line and column. source
// names the file in the policy (its Source and From values). The policy is
// usable only when HasErrors(problems) is false; it then holds every valid
// setting.
func ParsePolicy(data []byte, source string) (*Policy, []Problem) {
	p, problems := parsePolicy(data, source, fileLocator(data))
	problems = append(problems, p.check()...)
	sortProblems(problems)
	return p, problems
}

// DefaultPolicyPath returns where the machine policy lives on this OS:
// %ProgramData%\TriageDesk\policy.json on Windows,
// /Library/Application Support/TriageDesk/policy.json on macOS and
// /etc/triagedesk/policy.json elsewhere. There is deliberately no
// environment variable or flag that moves it for the app: a user must not be
// able to swap the organisation's policy for their own.
func DefaultPolicyPath() string { return policyPath(runtime.GOOS, os.Getenv) }

func policyPath(goos string, getenv func(string) string) string {
	switch goos {
	case "windows":
		pd := getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return pd + `\` + AppDirName + `\` + PolicyFileName
	case "darwin":
		return "/Library/Application Support/" + AppDirName + "/" + PolicyFileName
	default:
		return "/etc/triagedesk/" + PolicyFileName
	}
}

// LoadPolicyFile reads and checks the policy file at path. A missing file is
// not an error: it returns an empty, unmanaged policy. Warnings are returned
// with a usable policy; any error, or an unreadable file, returns a
// *PolicyError.
func LoadPolicyFile(path string) (*Policy, []Problem, error) {
	p, problems, err := readPolicyFile(path)
	if err != nil {
		return nil, nil, err
	}
	problems = append(problems, p.check()...)
	sortProblems(problems)
	if HasErrors(problems) {
		return nil, problems, &PolicyError{Source: path, Problems: problems}
	}
	return p, problems, nil
}

// readPolicyFile parses the file without the cross-setting checks.
func readPolicyFile(path string) (*Policy, []Problem, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newPolicy(path), nil, nil
	}
	if err != nil {
		return nil, nil, &PolicyError{Source: path, Err: fmt.Errorf("read machine policy: %w", err)}
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, nil, &PolicyError{Source: path, Err: errors.New("read machine policy: it is a folder, not a file")}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPolicyBytes+1))
	if err != nil {
		return nil, nil, &PolicyError{Source: path, Err: fmt.Errorf("read machine policy: %w", err)}
	}
	if len(data) > maxPolicyBytes {
		return nil, nil, &PolicyError{Source: path, Problems: []Problem{{Message: "the file is larger than 1 MB; a policy file is a few hundred bytes of JSON"}}}
	}
	p, problems := parsePolicy(data, path, fileLocator(data))
	problems = append(problems, permissionWarnings(f)...)
	return p, problems, nil
}

// mergePolicies layers the policy file over the installer's values: a key set
// in the file wins; "locked" lists are combined.
func mergePolicies(file, installer *Policy) *Policy {
	if !installer.Managed() {
		return file
	}
	if !file.Managed() {
		return installer
	}
	m := newPolicy(installer.Source + " + " + file.Source)
	for _, src := range []*Policy{installer, file} {
		for k, v := range src.vals {
			m.vals[k] = v
			m.pos[k] = src.pos[k]
			m.from[k] = src.from[k]
			m.elems[k] = src.elems[k]
		}
	}
	if installer.Has(KeyLocked) && file.Has(KeyLocked) {
		a, _ := installer.list(KeyLocked)
		b, _ := file.list(KeyLocked)
		for _, k := range a {
			if !slices.Contains(b, k) {
				b = append(b, k)
			}
		}
		m.vals[KeyLocked] = b
		m.elems[KeyLocked] = nil
		m.from[KeyLocked] = m.Source
	}
	return m
}

// bankHolidays parses the validated extra_bank_holidays dates.
func (p *Policy) bankHolidays() []time.Time {
	l, _ := p.list(KeyExtraBankHolidays)
	var out []time.Time
	for _, s := range l {
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			out = append(out, t)
		}
	}
	return out
}
