package main

import (
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/config"
)

func TestGenerate(t *testing.T) {
	src, d, err := generate("1.2.3", "dist/windows/stage", "assets/icon.ico", "dist/windows")
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(src, new(struct{})); err != nil {
		t.Fatalf("installer source is not XML: %v", err)
	}
	s := string(src)
	for _, want := range []string{
		`UpgradeCode="` + UpgradeCode + `"`,
		`Version="1.2.3"`,
		`InstallScope="perMachine"`,
		`Maximum="1.2.4" Property="WIX_UPGRADE_DETECTED"`,
		`Source="stage/TriageDesk.exe"`,
		`SourceFile="../../assets/icon.ico"`,
		`Target="[#TriageDeskExe]"`,
		`<RemoveExistingProducts After="InstallValidate"/>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("installer source lacks %s", want)
		}
	}
	// Every deployment property is searched, kept on upgrade, written to the
	// registry under its policy key, and secure.
	for _, p := range config.InstallerProperties() {
		for _, want := range []string{
			`Name="` + string(p.Key) + `" Type="string" Value="[` + p.Property + `]"`,
			`<Custom Action="Keep_` + p.Property + `" After="AppSearch">NOT ` + p.Property + ` AND SAVED_` + p.Property + ` AND NOT RESET_POLICY</Custom>`,
			`<RegistrySearch Id="Find_` + p.Property + `" Root="HKLM" Key="SOFTWARE\Policies\TriageDesk" Name="` + string(p.Key) + `"`,
		} {
			if !strings.Contains(s, want) {
				t.Errorf("%s: installer source lacks %s", p.Property, want)
			}
		}
		if !strings.Contains(";"+d.Secure+";", ";"+p.Property+";") {
			t.Errorf("%s is not a secure property", p.Property)
		}
	}
	// Installed only when given, and always removed on uninstall: a
	// component whose condition is false during an uninstall is left
	// behind by Wine's msiexec (found by make windows-check), so the
	// condition is true whenever everything is being removed.
	sql := strings.Join(fixups(d), "\n")
	if !strings.Contains(sql, "UPDATE `Component` SET `Condition` = 'CLIENT_ID OR REMOVE~=\"ALL\"' WHERE `Component` = 'Policy_CLIENT_ID'") {
		t.Errorf("component condition fix-up missing:\n%s", sql)
	}
	// Every Keep_ action runs right after AppSearch (50) and before
	// LaunchConditions (100), so the properties are set before CostFinalize
	// decides which policy components to install. wixl placed most of them
	// after RemoveExistingProducts or InstallFinalize, where an upgrade
	// without properties lost the deployment's settings (found by make
	// windows-check).
	seen := map[int]bool{}
	for _, p := range d.Properties {
		found := false
		for _, q := range fixups(d) {
			var seq int
			if _, err := fmt.Sscanf(q, "UPDATE `InstallExecuteSequence` SET `Sequence` = %d WHERE `Action` = 'Keep_"+p.Name+"'", &seq); err == nil {
				found = true
				if seq <= 50 || seq >= 100 || seen[seq] {
					t.Errorf("Keep_%s at sequence %d: not between AppSearch (50) and LaunchConditions (100), or shared", p.Name, seq)
				}
				seen[seq] = true
			}
		}
		if !found {
			t.Errorf("Keep_%s has no sequence fix-up:\n%s", p.Name, sql)
		}
	}
}

func TestGenerateRejectsBadVersions(t *testing.T) {
	for _, v := range []string{"", "1.2", "v1.2.3", "1.2.3.4", "256.0.0", "1.70000.0"} {
		if _, _, err := generate(v, "s", "i", "."); err == nil {
			t.Errorf("version %q accepted", v)
		}
	}
}

func TestStableGUID(t *testing.T) {
	a, b := stableGUID("file/TriageDesk.exe"), stableGUID("file/triagectl.exe")
	if a != stableGUID("file/TriageDesk.exe") || a == b {
		t.Error("component GUIDs must be stable per name and differ between names")
	}
	if !regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`).MatchString(a) {
		t.Errorf("%s is not a version-5 GUID in upper case", a)
	}
}
