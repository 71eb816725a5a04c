package defaults

import (
	"testing"
	"time"
)

func TestPositiveReplacesZeroAndNegativeOnly(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{{0, 5}, {-1, 5}, {1, 1}, {9, 9}} {
		got := tc.in
		Positive(&got, 5)
		if got != tc.want {
			t.Errorf("Positive(%v, 5) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestZeroReplacesOnlyTheZeroValue(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{0, 3}, {-1, -1}, {2, 2}} {
		got := tc.in
		Zero(&got, 3)
		if got != tc.want {
			t.Errorf("Zero(%d, 3) = %d, want %d", tc.in, got, tc.want)
		}
	}
	s := ""
	Zero(&s, "x")
	if s != "x" {
		t.Errorf(`Zero("", "x") = %q`, s)
	}
	type logger struct{}
	var l *logger
	Zero(&l, &logger{})
	if l == nil {
		t.Error("Zero(nil pointer) left it nil")
	}
}
