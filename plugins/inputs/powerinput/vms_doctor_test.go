package powerinput

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// -doctor run as the service's user names the lock file and VM folders
// another user (a test run as root) made in the counters' folder, with the
// chown that repairs them; a folder that is another's is said to get no
// counter, not to be writable.
func TestDoctorForeignCounters(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: files of another user need root")
	}
	s := loadScenario(t, filepath.Join("testdata", "scenarios", "vms-start-stop.txtar"))
	s.run(t)
	dir := filepath.Join(s.root, "counters")
	if err := os.Chown(filepath.Join(dir, "a"), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s.plugin.Doctor(&out)
	for _, want := range []string{
		"vms    guest counters: " + dir + " is writable",
		"vms    guest counters: 1 VM folder(s) or lock file under " + dir + " belong to another user than root, such as " + filepath.Join(dir, "a") + " (made by a test run as root?): powerinput run as root cannot write them, and those guests get no counter\n       fix: chown -R root: " + dir + "\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-doctor does not say %q:\n%s", want, out.String())
		}
	}
	s.plugin.Stop()
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	s.plugin.Doctor(&out)
	for _, want := range []string{
		"vms    guest counters: none is written: " + dir + " belongs to ",
		"this looks like a test run as root: run it as the service's user, e.g. sudo -u ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-doctor does not say %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "is writable") {
		t.Errorf("-doctor says a folder of another user is writable:\n%s", out.String())
	}
}

// TestMkdirAs: root makes a VM's folder itself; another writer through
// sudo -u.
func TestMkdirAs(t *testing.T) {
	for _, c := range []struct{ owner, want string }{
		{"root", "mkdir -p /var/lib/powerinput/vms/web (as root)"},
		{"telegraf", "sudo -u telegraf mkdir -p /var/lib/powerinput/vms/web"},
	} {
		if got := mkdirAs(c.owner, "/var/lib/powerinput/vms/web"); got != c.want {
			t.Errorf("%s: got %q, want %q", c.owner, got, c.want)
		}
	}
}
