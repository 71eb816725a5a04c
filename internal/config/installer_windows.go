//go:build windows

package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/windows/registry"
)

// readInstallerValues reads the values under InstallerRegistryKey from the
// 64-bit registry view. A missing key returns nil: the machine was installed
// without deployment properties.
func readInstallerValues() (map[string]string, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Policies\TriageDesk`, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", InstallerRegistryKey, err)
	}
	defer k.Close()
	names, err := k.ReadValueNames(0)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", InstallerRegistryKey, err)
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		_, typ, err := k.GetValue(n, nil)
		if err != nil {
			return nil, fmt.Errorf("read %s\\%s: %w", InstallerRegistryKey, n, err)
		}
		switch typ {
		case registry.SZ, registry.EXPAND_SZ:
			s, _, err := k.GetStringValue(n)
			if err != nil {
				return nil, fmt.Errorf("read %s\\%s: %w", InstallerRegistryKey, n, err)
			}
			out[n] = s
		case registry.DWORD, registry.QWORD:
			v, _, err := k.GetIntegerValue(n)
			if err != nil {
				return nil, fmt.Errorf("read %s\\%s: %w", InstallerRegistryKey, n, err)
			}
			out[n] = strconv.FormatUint(v, 10)
		case registry.MULTI_SZ:
			l, _, err := k.GetStringsValue(n)
			if err != nil {
				return nil, fmt.Errorf("read %s\\%s: %w", InstallerRegistryKey, n, err)
			}
			out[n] = strings.Join(l, ",")
		default:
			// A binary value cannot be a setting; pass a marker the checks
			// will refuse with the value's name.
			out[n] = "(unsupported registry type " + strconv.Itoa(int(typ)) + ")"
		}
	}
	return out, nil
}
