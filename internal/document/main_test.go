package document

import (
	"os"
	"path/filepath"
	"testing"
)

func testCompileCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "triagedesk-test", "wazero")
	}
	return ""
}

func TestMain(m *testing.M) {
	if name := os.Getenv(bombChildEnv); name != "" {
		os.Exit(bombChild(name))
	}
	code := m.Run()
	if sharedEngine != nil {
		_ = sharedEngine.Close()
	}
	os.Exit(code)
}
