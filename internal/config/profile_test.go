package config

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestProfileDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	home := func() (string, error) { return "/home/clin", nil }
	tests := []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"windows", map[string]string{"LOCALAPPDATA": `C:\Users\clin\AppData\Local`, "APPDATA": `C:\Users\clin\AppData\Roaming`}, filepath.Join(`C:\Users\clin\AppData\Local`, "TriageDesk")},
		{"darwin", nil, filepath.Join("/home/clin", "Library", "Application Support", "TriageDesk")},
		{"linux", map[string]string{"XDG_DATA_HOME": "/data"}, filepath.Join("/data", "triagedesk")},
		{"linux", map[string]string{"XDG_DATA_HOME": "relative"}, filepath.Join("/home/clin", ".local", "share", "triagedesk")},
		{"linux", nil, filepath.Join("/home/clin", ".local", "share", "triagedesk")},
	}
	for _, tt := range tests {
		got, err := profileDir(tt.goos, env(tt.env), home)
		if err != nil || got != tt.want {
			t.Errorf("%s %v: %q, %v; want %q", tt.goos, tt.env, got, err, tt.want)
		}
	}
	if _, err := profileDir("windows", env(nil), home); err == nil {
		t.Error("Windows without LOCALAPPDATA must fail rather than fall back to a roaming folder")
	}
	noHome := func() (string, error) { return "", errors.New("no home") }
	if _, err := profileDir("linux", env(nil), noHome); err == nil {
		t.Error("missing home directory not reported")
	}
}
