// Package testserver helps the bot's tests run real servers (Mailpit,
// Dendrite, InfluxDB) on loopback: free ports, found or skipped binaries.
// Only tests import it.
package testserver

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// FreePort is a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Cached is a path under the Makefile's cache (~/.cache/powerinput).
func Cached(rel string) string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "powerinput", rel)
}

// Binary returns path, or skips the test saying which make target builds
// it.
func Binary(t testing.TB, path, target string) string {
	t.Helper()
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		t.Skipf("%s is missing: run make %s to build it (this test needs the real server)", path, target)
	}
	return path
}
