//go:build !race

package main

// raceBuild is true when the tests run with the race detector, so the
// triagectl the end-to-end test builds is linked from the same (already
// compiled) race-instrumented packages.
const raceBuild = false
