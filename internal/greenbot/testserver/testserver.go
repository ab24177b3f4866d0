// Package testserver helps the bot's tests run real servers (Mailpit,
// Dendrite, InfluxDB) on loopback: free ports, found or skipped binaries.
// Only tests import it.
package testserver

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
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

// Influxd starts a real influxd on loopback ports in a temp dir and
// returns its URL, or skips where it is not installed (make influxdb
// installs it). The test's cleanup stops it.
func Influxd(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("influxd")
	if err != nil {
		t.Skip("influxd is not installed: run make influxdb (this test needs the real database)")
	}
	dir := t.TempDir()
	port := FreePort(t)
	conf := fmt.Sprintf("reporting-disabled = true\nbind-address = \"127.0.0.1:%d\"\n[meta]\n  dir = %q\n[data]\n  dir = %q\n  wal-dir = %q\n  query-log-enabled = false\n[monitor]\n  store-enabled = false\n[http]\n  bind-address = \"127.0.0.1:%d\"\n  log-enabled = false\n",
		FreePort(t), filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), port)
	if err := os.WriteFile(filepath.Join(dir, "influxdb.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, _ := os.Create(filepath.Join(dir, "influxd.log"))
	cmd := exec.Command(bin, "-config", filepath.Join(dir, "influxdb.conf"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait(); logf.Close() })
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(60 * time.Second); ; {
		if resp, err := http.Get(url + "/ping"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("influxd did not answer /ping in 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return url
}
