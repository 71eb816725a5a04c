// Package defaults fills a configuration's unset fields with their
// defaults, so each constructor states its defaults as one line each
// instead of an if-block each.
package defaults

import "cmp"

// Positive sets *p to d unless *p is above zero: for sizes, counts and
// durations where zero and negative both mean "not set".
func Positive[T cmp.Ordered](p *T, d T) {
	var zero T
	if *p <= zero {
		*p = d
	}
}

// Zero sets *p to d when *p is its type's zero value ("", 0, nil): for
// fields where a negative number is a setting of its own.
func Zero[T comparable](p *T, d T) {
	var zero T
	if *p == zero {
		*p = d
	}
}
