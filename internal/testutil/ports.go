package testutil

import (
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
)

// FreeLoopbackPort returns a loopback port that was free a moment ago,
// chosen below Linux's ephemeral range (32768 up): a port the kernel
// handed out for ":0" could be handed out again, to another test
// package's server or connection, before the code under test listens on
// it.
func FreeLoopbackPort(t testing.TB) int {
	t.Helper()
	for range 200 {
		port := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	t.Fatal("no free loopback port between 20000 and 32000")
	return 0
}
