package config

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// InstallerRegistryKey is where the Windows installer (MSI) writes the
// deployment properties given on the msiexec command line, one REG_SZ value
// per policy key. Group Policy can set the same values. Triage Desk reads
// them at every start and layers policy.json over them.
const InstallerRegistryKey = `HKLM\SOFTWARE\Policies\TriageDesk`

// InstallerProperty pairs a public MSI property with the policy key, which is
// also the registry value's name.
type InstallerProperty struct {
	Property string // e.g. "ODS_ALLOWLIST"
	Key      Key    // e.g. "allowed_ods_codes"
}

// InstallerProperties lists the MSI's public deployment properties, in the
// order of Keys(). The installer definition is generated from this list.
func InstallerProperties() []InstallerProperty {
	var out []InstallerProperty
	for _, k := range Keys() {
		out = append(out, InstallerProperty{Property: installerPropertyName(k), Key: k})
	}
	return out
}

func installerPropertyName(k Key) string {
	switch k {
	case KeyAllowedODSCodes:
		return "ODS_ALLOWLIST"
	case KeyLocked:
		return "LOCKED_SETTINGS"
	}
	return strings.ToUpper(string(k))
}

var (
	intText   = regexp.MustCompile(`^[+-]?[0-9]+$`)
	listSplit = regexp.MustCompile(`[\s,;]+`)
)

// PolicyFromInstaller converts the installer's registry values (value name →
// text; numbers from REG_DWORD values as decimal text, REG_MULTI_SZ joined
// with commas) into a policy, with the same checks as a policy file. Empty
// values are properties that were not given and set nothing. Lists (ODS
// codes, bank holidays, locked settings) are separated by commas, semicolons
// or spaces; true/false values accept 1/0, yes/no and true/false. Problems
// name the registry value and its installer property.
func PolicyFromInstaller(values map[string]string, source string) (*Policy, []Problem) {
	p, problems := parseInstaller(values, source)
	return p, append(problems, p.check()...)
}

// parseInstaller is PolicyFromInstaller without the cross-setting checks,
// which LoadMachinePolicy runs on the merged policy.
func parseInstaller(values map[string]string, source string) (*Policy, []Problem) {
	names := make([]string, 0, len(values))
	for n, v := range values {
		if strings.TrimSpace(v) != "" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var doc strings.Builder
	lineName := []string{""} // line numbers are 1-based; line 1 is "{"
	doc.WriteString("{\n")
	lineName = append(lineName, "")
	for i, n := range names {
		sp, _ := specFor(Key(n))
		key, _ := json.Marshal(n)
		doc.Write(key)
		doc.WriteString(": ")
		doc.WriteString(installerValueJSON(sp, strings.TrimSpace(values[n])))
		if i < len(names)-1 {
			doc.WriteString(",")
		}
		doc.WriteString("\n")
		lineName = append(lineName, n)
	}
	doc.WriteString("}\n")
	data := []byte(doc.String())
	fl := fileLocator(data)
	loc := func(off int) (string, int, int) {
		_, line, _ := fl(off)
		if line < len(lineName) && lineName[line] != "" {
			n := lineName[line]
			return fmt.Sprintf("registry value %q (installer property %s)", n, installerPropertyName(Key(n))), 0, 0
		}
		return "installer settings", 0, 0
	}
	return parsePolicy(data, source, loc)
}

// installerValueJSON turns one registry text into the JSON value the policy
// file would hold, leaving anything unconvertible as text so that the
// checks report it in words.
func installerValueJSON(sp spec, v string) string {
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	switch sp.kind {
	case kindInt:
		if intText.MatchString(v) {
			if n, err := strconv.Atoi(v); err == nil {
				return strconv.Itoa(n)
			}
		}
	case kindBool:
		switch strings.ToLower(v) {
		case "1", "true", "yes", "on":
			return "true"
		case "0", "false", "no", "off":
			return "false"
		}
	case kindODSList, kindDateList, kindKeyList:
		var items []string
		for _, it := range listSplit.Split(v, -1) {
			if it != "" {
				items = append(items, quote(it))
			}
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	return quote(v)
}

// LoadMachinePolicy reads the machine policy: the file at path (""
// for DefaultPolicyPath()) layered over, on Windows, the installer's
// registry values. A key set in the file wins; locked lists are combined.
// Neither source existing gives an unmanaged, empty policy. Warnings come
// back with a usable policy; an unreadable file or any error gives a
// *PolicyError and no policy, and Triage Desk must not start.
func LoadMachinePolicy(path string) (*Policy, []Problem, error) {
	return loadMachinePolicy(path, readInstallerValues)
}

func loadMachinePolicy(path string, readInstaller func() (map[string]string, error)) (*Policy, []Problem, error) {
	if path == "" {
		path = DefaultPolicyPath()
	}
	file, problems, err := readPolicyFile(path)
	if err != nil {
		return nil, nil, err
	}
	inst := newPolicy(InstallerRegistryKey)
	if readInstaller != nil {
		vals, err := readInstaller()
		if err != nil {
			return nil, nil, &PolicyError{Source: InstallerRegistryKey, Err: fmt.Errorf("read installer settings: %w", err)}
		}
		if len(vals) > 0 {
			var ip []Problem
			inst, ip = parseInstaller(vals, InstallerRegistryKey)
			problems = append(ip, problems...)
		}
	}
	merged := mergePolicies(file, inst)
	problems = append(problems, merged.check()...)
	sortProblems(problems)
	if HasErrors(problems) {
		return nil, problems, &PolicyError{Source: merged.Source, Problems: problems}
	}
	return merged, problems, nil
}
