package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/triagedesk/triagedesk/internal/atomicfile"
)

// SettingsFileName is the user settings file in the profile folder. It holds
// preferences only, never patient data.
const SettingsFileName = "settings.json"

// maxSettingsBytes bounds what is read from a settings file.
const maxSettingsBytes = 1 << 20

// Theme is the colour scheme: follow the OS, or always light or dark.
type Theme string

// The themes.
const (
	ThemeSystem Theme = "system"
	ThemeLight  Theme = "light"
	ThemeDark   Theme = "dark"
)

// TextSize scales the app's text for readability.
type TextSize string

// The text sizes, smallest first.
const (
	TextSmall   TextSize = "small"
	TextNormal  TextSize = "normal"
	TextLarge   TextSize = "large"
	TextLarger  TextSize = "larger"
	TextLargest TextSize = "largest"
)

var textScales = []struct {
	size  TextSize
	scale float32
}{
	{TextSmall, 0.9}, {TextNormal, 1.0}, {TextLarge, 1.15}, {TextLarger, 1.3}, {TextLargest, 1.5},
}

func textSizeNames() []string {
	out := make([]string, len(textScales))
	for i, t := range textScales {
		out[i] = string(t.size)
	}
	return out
}

// TextSizes lists the text sizes a settings screen offers, smallest first.
func TextSizes() []TextSize {
	out := make([]TextSize, len(textScales))
	for i, t := range textScales {
		out[i] = t.size
	}
	return out
}

// Scale returns the factor to multiply the theme's text sizes by (1 for
// normal and for an unknown size).
func (t TextSize) Scale() float32 {
	for _, s := range textScales {
		if s.size == t {
			return s.scale
		}
	}
	return 1
}

// EnvironmentChoice is a user's (or a command line's) choice of environment
// and, where the policy allows, its URLs. Empty URLs keep the environment's
// own.
type EnvironmentChoice struct {
	Name        EnvironmentName `json:"name"`
	FHIRBaseURL string          `json:"fhir_base_url,omitempty"`
	AuthBaseURL string          `json:"auth_base_url,omitempty"`
}

// RoleChoice is the role a clinician last chose after sign-in: the
// organisation (ODS code), the e-RS business function and, for a clinician
// admin, the SDS user id of the clinician they act for.
type RoleChoice struct {
	ODSCode          string `json:"ods_code"`
	BusinessFunction string `json:"business_function"`
	OnBehalfOfUserID string `json:"on_behalf_of_user_id,omitempty"`
}

// UserSettings is what a user has chosen, as stored in settings.json in their
// profile folder. Nil fields were never set and take the default (or the
// policy's value). It holds no patient data.
type UserSettings struct {
	Version             int                `json:"version"`
	Theme               *Theme             `json:"theme,omitempty"`
	TextSize            *TextSize          `json:"text_size,omitempty"`
	SyncIntervalMinutes *int               `json:"sync_interval_minutes,omitempty"`
	SentRetentionDays   *int               `json:"sent_retention_days,omitempty"`
	Prefetch            *bool              `json:"prefetch,omitempty"`
	Environment         *EnvironmentChoice `json:"environment,omitempty"`
	// Roles maps an SDS user id to the role that user last chose.
	Roles map[string]RoleChoice `json:"roles,omitempty"`
}

// clone returns a deep copy.
func (u *UserSettings) clone() *UserSettings {
	if u == nil {
		return &UserSettings{Version: 1}
	}
	c := *u
	if u.Environment != nil {
		e := *u.Environment
		c.Environment = &e
	}
	if u.Roles != nil {
		c.Roles = make(map[string]RoleChoice, len(u.Roles))
		for k, v := range u.Roles {
			c.Roles[k] = v
		}
	}
	return &c
}

// LoadUserSettings reads path. A missing file gives empty settings. A file
// that cannot be parsed is not fatal: it is renamed to
// settings.json.unreadable-<time> (so nothing is lost), empty settings are
// returned, and notice says so in plain English. A read error (permissions,
// I/O) is returned as an error.
func LoadUserSettings(path string) (u *UserSettings, notice string, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &UserSettings{Version: 1}, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read settings: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSettingsBytes+1))
	f.Close()
	if err != nil {
		return nil, "", fmt.Errorf("read settings: %w", err)
	}
	u = &UserSettings{}
	if len(data) > maxSettingsBytes {
		err = errors.New("larger than 1 MB")
	} else {
		err = json.Unmarshal(data, u)
	}
	if err != nil {
		aside := fmt.Sprintf("%s.unreadable-%s", path, time.Now().UTC().Format("20060102T150405Z"))
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, "", fmt.Errorf("read settings: %v; and keep the unreadable file aside: %w", err, rerr)
		}
		return &UserSettings{Version: 1}, fmt.Sprintf("Your Triage Desk settings could not be read, so the defaults are in use. The old file was kept as %s.", filepath.Base(aside)), nil
	}
	if u.Version == 0 {
		u.Version = 1
	}
	return u, "", nil
}

// SaveUserSettings writes u to path atomically: a crash leaves either the
// old or the new file, never a torn one. The folder is created (0700) if
// needed and the file is readable by its owner only.
func SaveUserSettings(path string, u *UserSettings) error {
	c := u.clone()
	c.Version = 1
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}
