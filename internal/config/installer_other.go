//go:build !windows

package config

// readInstallerValues has nothing to read outside Windows: Linux and macOS
// deployments use the policy file alone.
func readInstallerValues() (map[string]string, error) { return nil, nil }
