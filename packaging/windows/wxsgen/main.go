// Command wxsgen writes the WiX source of Triage Desk's Windows installer,
// for wixl (msitools) to build into an MSI on Linux.
//
// The deployment properties (ENVIRONMENT, CLIENT_ID, ODS_ALLOWLIST, …) come
// from config.InstallerProperties, so the installer and the app agree on
// every name. Each property given to msiexec is written as a REG_SZ value
// under HKLM\SOFTWARE\Policies\TriageDesk, which Triage Desk reads as
// machine policy at every start; a property not given writes nothing. On an
// upgrade without properties the values already installed are read back
// (AppSearch) and written again, unless RESET_POLICY=1 is given.
//
// Usage:
//
//	wxsgen -version 0.1.0 -stage dist/windows/stage -o dist/windows/TriageDesk.wxs
package main

import (
	"bytes"
	"crypto/sha1"
	_ "embed"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/triagedesk/triagedesk/internal/config"
)

// UpgradeCode identifies Triage Desk across every version: it must never
// change, or new versions install beside old ones instead of replacing them.
const UpgradeCode = "48A4488F-585B-434A-B742-21C1A54956B3"

//go:embed product.wxs.tmpl
var productTemplate string

// Property is one deployment property in the template.
type Property struct {
	Name      string // MSI property, e.g. ODS_ALLOWLIST
	Value     string // registry value name = policy key
	Component string // component id
	GUID      string // stable component GUID
}

// Data fills the template.
type Data struct {
	Version     string // X.Y.Z
	UpgradeMax  string // X.Y.(Z+1): upgrades everything up to and including Version
	UpgradeCode string
	Stage       string // folder with TriageDesk.exe, triagectl.exe, …, relative to the .wxs
	Icon        string // .ico for the shortcut and Add/Remove Programs, relative to the .wxs
	Properties  []Property
	RegistryKey string // under HKLM
	Secure      string // SecureCustomProperties value
	FileGUIDs   map[string]string
}

// appSearchSequence is AppSearch's place in InstallExecuteSequence (the
// standard 50; LaunchConditions is 100), which the Keep_ actions follow.
const appSearchSequence = 50

var versionRE = regexp.MustCompile(`^([0-9]+)\.([0-9]+)\.([0-9]+)$`)

func main() {
	version := flag.String("version", "", "product version X.Y.Z")
	stage := flag.String("stage", "", "folder holding the files to install")
	icon := flag.String("icon", "assets/icon.ico", "Windows icon")
	out := flag.String("o", "", "output .wxs file")
	sqlOut := flag.String("sql", "", "also write the msibuild queries that finish the MSI (what wixl cannot express) to this file, one per line")
	flag.Parse()
	if err := run(*version, *stage, *icon, *out, *sqlOut); err != nil {
		fmt.Fprintln(os.Stderr, "wxsgen:", err)
		os.Exit(1)
	}
}

func run(version, stage, icon, out, sqlOut string) error {
	if out == "" || stage == "" {
		return fmt.Errorf("need -stage and -o")
	}
	b, d, err := generate(version, stage, icon, filepath.Dir(out))
	if err != nil {
		return err
	}
	if sqlOut != "" {
		if err := os.WriteFile(sqlOut, []byte(strings.Join(fixups(d), "\n")+"\n"), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(out, b, 0o644)
}

// fixups returns the SQL that msibuild runs on wixl's output: each policy
// component is installed only when its property is set (so a property not
// given writes no registry value) and is always removed by an uninstall
// (REMOVE=ALL: Wine's msiexec leaves a component whose condition is false
// at that moment installed, with its value), and every deployment property
// is listed in SecureCustomProperties, so it reaches the elevated part of a
// per-machine install. It also numbers the Keep_ actions 51, 52, … right
// after AppSearch (50) and before LaunchConditions (100): wixl does not
// honour After="AppSearch" for most of them and put them after
// RemoveExistingProducts or InstallFinalize, too late for CostFinalize, so
// an upgrade without properties dropped those settings.
func fixups(d *Data) []string {
	q := []string{fmt.Sprintf("UPDATE `Property` SET `Value` = '%s' WHERE `Property` = 'SecureCustomProperties'", d.Secure)}
	for _, p := range d.Properties {
		q = append(q, fmt.Sprintf("UPDATE `Component` SET `Condition` = '%s OR REMOVE~=\"ALL\"' WHERE `Component` = '%s'", p.Name, p.Component))
	}
	for i, p := range d.Properties {
		q = append(q, fmt.Sprintf("UPDATE `InstallExecuteSequence` SET `Sequence` = %d WHERE `Action` = 'Keep_%s'", appSearchSequence+1+i, p.Name))
	}
	return q
}

// generate renders the installer source and returns it with the data it
// was made from.
// Paths in the source are relative to outDir, where the .wxs is written:
// wixl accepts only relative source paths.
func generate(version, stage, icon, outDir string) ([]byte, *Data, error) {
	m := versionRE.FindStringSubmatch(version)
	if m == nil {
		return nil, nil, fmt.Errorf("version %q is not X.Y.Z", version)
	}
	for i, part := range m[1:] {
		if n, _ := strconv.Atoi(part); n > 65535 || (i == 0 && n > 255) {
			return nil, nil, fmt.Errorf("version %q is out of the MSI range (255.65535.65535)", version)
		}
	}
	z, _ := strconv.Atoi(m[3])
	relStage, err := relTo(outDir, stage)
	if err != nil {
		return nil, nil, err
	}
	relIcon, err := relTo(outDir, icon)
	if err != nil {
		return nil, nil, err
	}
	d := Data{
		Version:     version,
		UpgradeMax:  fmt.Sprintf("%s.%s.%d", m[1], m[2], z+1),
		UpgradeCode: UpgradeCode,
		Stage:       relStage,
		Icon:        relIcon,
		RegistryKey: strings.TrimPrefix(config.InstallerRegistryKey, `HKLM\`),
		FileGUIDs:   map[string]string{},
	}
	secure := []string{"WIX_UPGRADE_DETECTED", "WIX_DOWNGRADE_DETECTED", "RESET_POLICY"}
	for _, p := range config.InstallerProperties() {
		d.Properties = append(d.Properties, Property{
			Name:      p.Property,
			Value:     string(p.Key),
			Component: "Policy_" + p.Property,
			GUID:      stableGUID("policy-value/" + string(p.Key)),
		})
		secure = append(secure, p.Property, "SAVED_"+p.Property)
	}
	if n := len(d.Properties); appSearchSequence+n >= 100 {
		return nil, nil, fmt.Errorf("%d deployment properties do not fit between AppSearch and LaunchConditions", n)
	}
	d.Secure = strings.Join(secure, ";")
	for _, f := range []string{"TriageDesk.exe", "triagectl.exe", "THIRD_PARTY_LICENSES.txt", "policy.example.json", "shortcut"} {
		d.FileGUIDs[f] = stableGUID("file/" + f)
	}
	tmpl, err := template.New("wxs").Funcs(template.FuncMap{"xml": xmlEscape}).Parse(productTemplate)
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, d); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), &d, nil
}

// stableGUID derives a name-based (version 5 style) GUID from the upgrade
// code and a name, so a component keeps its GUID from build to build, as
// Windows Installer requires.
func stableGUID(name string) string {
	h := sha1.Sum([]byte(UpgradeCode + "/" + name))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16]))
}

// relTo returns path relative to dir, with forward slashes.
func relTo(dir, path string) (string, error) {
	ad, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	ap, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	r, err := filepath.Rel(ad, ap)
	if err != nil {
		return "", err
	}
	return filepath.ToSlash(r), nil
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
