package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunVersionAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &errb); code != 0 {
		t.Fatalf("version exit %d: %s", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), "Triage Desk ") {
		t.Errorf("version printed %q", out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "version") {
		t.Errorf("help exit %d: %q", code, out.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Errorf("unknown command exit %d: %q", code, errb.String())
	}
	if code := run(context.Background(), []string{"--profile", "/tmp/x", "version", "--env", "int"}, &out, &errb); code != 0 {
		t.Errorf("global flags before and after the command: exit %d: %s", code, errb.String())
	}
}
