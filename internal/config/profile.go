package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// AppDirName is the folder name of Triage Desk's data on Windows and macOS;
// Linux uses the lower-case form, as is conventional there.
const AppDirName = "TriageDesk"

// DefaultProfileDir returns where a user's data lives when no --profile flag
// is given: %LOCALAPPDATA%\TriageDesk on Windows (never the roaming
// profile), ~/Library/Application Support/TriageDesk on macOS and
// $XDG_DATA_HOME/triagedesk (default ~/.local/share/triagedesk) elsewhere.
func DefaultProfileDir() (string, error) {
	return profileDir(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

func profileDir(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	switch goos {
	case "windows":
		local := getenv("LOCALAPPDATA")
		if local == "" {
			return "", errors.New("find data folder: LOCALAPPDATA is not set; start Triage Desk with --profile to choose a folder")
		}
		return filepath.Join(local, AppDirName), nil
	case "darwin":
		h, err := home()
		if err != nil {
			return "", fmt.Errorf("find data folder: %w", err)
		}
		return filepath.Join(h, "Library", "Application Support", AppDirName), nil
	default:
		if x := getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
			return filepath.Join(x, strings.ToLower(AppDirName)), nil
		}
		h, err := home()
		if err != nil {
			return "", fmt.Errorf("find data folder: %w", err)
		}
		return filepath.Join(h, ".local", "share", strings.ToLower(AppDirName)), nil
	}
}
