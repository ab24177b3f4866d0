package guestcounter

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The lock file removed alone (tmpfiles, a clean-up of dot files) while a
// writer runs: the lock is the folder's own, so a second writer still
// writes nothing and says so, and -doctor still sees the folder held.
func TestLockFileRemovedAlone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "counters")
	first := New(dir)
	defer first.Close()
	require.Empty(t, first.Apply([]Add{{"vm", 100}}))
	require.NoError(t, os.Remove(filepath.Join(dir, LockName)))
	second := New(dir)
	defer second.Close()
	f := second.Apply([]Add{{"vm", 1000}})
	require.Len(t, f, 1)
	require.ErrorIs(t, f[0].Err, ErrLocked)
	require.Contains(t, f[0].Err.Error(), "PID unknown")
	require.Equal(t, os.Getpid(), LockHolder(procLocks, dir)) // from the kernel's table, the PID file gone
	require.Empty(t, first.Apply([]Add{{"vm", 10}}))
	require.Equal(t, "110", counterOf(t, dir, "vm"))

	// The folder made again: the first locks the new one.
	require.NoError(t, os.RemoveAll(dir))
	f = first.Apply([]Add{{"vm", 10}})
	require.Len(t, f, 1)
	require.ErrorIs(t, f[0].Err, ErrRemade)
	f = second.Apply([]Add{{"vm", 1000}})
	require.Len(t, f, 1)
	require.ErrorIs(t, f[0].Err, ErrLocked)
	require.Equal(t, "120", counterOf(t, dir, "vm"))
	require.Equal(t, os.Getpid(), LockHolder(procLocks, dir))
}

// -doctor looking at the lock (a shared lock for a moment) while a writer
// starts does not make the writer think another holds it.
func TestLockHolderDoesNotStopAWriter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "counters")
	require.NoError(t, os.Mkdir(dir, 0o755))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				LockHolder(procLocks, dir)
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	for i := 0; i < 200; i++ {
		w := New(dir)
		f := w.Apply([]Add{{"vm", 1}})
		w.Close()
		require.Empty(t, f, "start %d", i)
	}
}

// A folder that is not powerinput's own is not written in: another
// user's (a user who owns it could swap the VMs' folders; or a test run
// as root in the service's folder), or one its group or others may write.
// Nothing is made in it, and the message says the fix.
func TestForeignFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: giving a folder to another user needs root")
	}
	cases := []struct {
		name  string
		do    func(dir string) error
		euid  int
		wants []string
	}{
		{"another user's, powerinput run as root", func(dir string) error { return os.Chown(dir, 65534, 65534) }, 0,
			[]string{"user ID 65534", "this looks like a test run as root: run it as the service's user, e.g. sudo -u "}},
		{"root's, powerinput run as a service's user", func(dir string) error { return nil }, 4321,
			[]string{"not to user ID 4321 that powerinput runs as", "fix: chown -R 4321: "}},
		{"writable by its group", func(dir string) error { return os.Chmod(dir, 0o775) }, 0,
			[]string{"mode 0775", "fix: chmod -R go-w "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(openTemp(t), "counters")
			require.NoError(t, os.Mkdir(dir, 0o755))
			require.NoError(t, c.do(dir))
			w := New(dir)
			w.euid = c.euid
			defer w.Close()
			for i := 0; i < 2; i++ {
				f := w.Apply([]Add{{"vm", 100}})
				require.Len(t, f, 1)
				require.ErrorIs(t, f[0].Err, ErrForeign)
				require.True(t, f[0].Kept)
				for _, want := range c.wants {
					require.Contains(t, f[0].Err.Error(), want)
				}
			}
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Empty(t, entries, "nothing made in a folder not ours")
			if c.euid == 0 {
				require.Error(t, CheckOwner(dir))
			}
		})
	}
	require.NoError(t, CheckOwner(openTemp(t)))
}

// The lock file is never written through: a hard link to another file,
// or a file of another user's (a test run as root left it), is replaced
// by a file of ours holding our PID.
func TestLockFileReplaced(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: files of another user need root")
	}
	top := openTemp(t)
	dir := filepath.Join(top, "counters")
	require.NoError(t, os.Mkdir(dir, 0o755))
	victim := filepath.Join(top, "victim")
	require.NoError(t, os.WriteFile(victim, []byte("root's secret\n"), 0o600))
	require.NoError(t, os.Link(victim, filepath.Join(dir, LockName)))
	w := New(dir)
	require.Empty(t, w.Apply([]Add{{"vm", 100}}))
	w.Close()
	b, err := os.ReadFile(victim)
	require.NoError(t, err)
	require.Equal(t, "root's secret\n", string(b))
	st, err := os.Stat(victim)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	lock := filepath.Join(dir, LockName)
	require.Equal(t, strconv.Itoa(os.Getpid())+"\n", read(t, lock))

	require.NoError(t, os.Chown(lock, 65534, 65534))
	require.NoError(t, os.Chmod(lock, 0o600))
	a := Inspect(dir, procLocks, nil)
	require.Equal(t, 1, a.Foreign, "-doctor sees the lock file of another user")
	require.Equal(t, lock, a.ForeignExample)
	w = New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"vm", 1}}))
	var lst syscall.Stat_t
	require.NoError(t, syscall.Stat(lock, &lst))
	require.Equal(t, uint32(0), lst.Uid)
	require.Equal(t, uint64(1), uint64(lst.Nlink))
	require.Equal(t, "101", counterOf(t, dir, "vm"))

	require.NoError(t, os.Chown(filepath.Join(dir, "vm"), 65534, 65534))
	a = Inspect(dir, procLocks, nil)
	require.Equal(t, 1, a.Foreign, "-doctor sees a VM folder of another user")
	require.Equal(t, filepath.Join(dir, "vm"), a.ForeignExample)
}

// The folder made again says what becomes of the counters: those held are
// rewritten, the others start again from 0.
func TestRemadeSaysWhatIsTrue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "counters")
	w := New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"vm", 1}}))
	require.NoError(t, os.RemoveAll(dir))
	f := w.Apply(nil)
	require.Len(t, f, 1)
	require.ErrorIs(t, f[0].Err, ErrRemade)
	require.Contains(t, f[0].Err.Error(), "the 1 counter(s) powerinput held rewritten from their values; counters of VMs not running then start again from 0")
	require.NotContains(t, f[0].Err.Error(), "no guest loses")
}

// A folder missing when the writer starts is made, and Made says so for
// that Apply only; an existing one is not "made".
func TestMadeAtStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "counters")
	w := New(dir)
	require.Empty(t, w.Apply([]Add{{"vm", 5}}))
	require.True(t, w.Made())
	require.Empty(t, w.Apply([]Add{{"vm", 5}}))
	require.False(t, w.Made())
	w.Close()
	w = New(dir)
	require.Empty(t, w.Apply([]Add{{"vm", 5}}))
	require.False(t, w.Made(), "it was there")
	w.Close()
	require.NoError(t, os.RemoveAll(dir))
	w = New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"vm", 5}}))
	require.True(t, w.Made())
	require.Equal(t, "5", counterOf(t, dir, "vm"))
}

// staleFolder makes the folder of a counter written long ago.
func staleFolder(t *testing.T, dir, domain string, at time.Time) {
	t.Helper()
	zone := filepath.Join(dir, domain, Zone)
	require.NoError(t, os.MkdirAll(zone, 0o755))
	var b [Width + 1]byte
	Format(&b, 1)
	for name, content := range map[string]string{"energy_uj": string(b[:]), "name": ZoneName + "\n", "max_energy_range_uj": strconv.FormatUint(uint64(Wrap), 10) + "\n"} {
		require.NoError(t, os.WriteFile(filepath.Join(zone, name), []byte(content), 0o644))
	}
	require.NoError(t, os.Chtimes(Path(dir, domain), at, at))
}

// The folder of a domain libvirt still defines (a VM powered off for
// long) is kept: libvirt would refuse to start it without its folder.
func TestSweepKeepsDefinedDomains(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "counters")
	etc := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(etc, "libvirt", "qemu"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(etc, "libvirt", "qemu", "off.xml"), []byte("<domain/>\n"), 0o600))
	w := New(dir)
	w.SetHostEtc(etc)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"held", 1}}))
	long := time.Now().Add(-StaleAfter - time.Hour)
	staleFolder(t, dir, "off", long)
	staleFolder(t, dir, "gone", long)
	w.lastPass = time.Time{}
	require.Empty(t, w.Apply([]Add{{"held", 0}}))
	require.Equal(t, []string{"gone"}, w.Swept())
	require.DirExists(t, filepath.Join(dir, "off"))
}

// The clean-up keeps up with name churn: a day of clean-ups (one an hour)
// removes a day's worth of new names (twice MaxCounters, vmhost's bound),
// however many other entries the folder holds: each clean-up goes on from
// where the last one stopped.
func TestSweepKeepsUp(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: makes thousands of folders")
	}
	dir := filepath.Join(t.TempDir(), "counters")
	w := New(dir)
	w.SetHostEtc(libvirtEtc(t))
	w.sweepBudget = time.Hour // what is counted here is names, not time
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"held", 1}}))
	for i := 0; i < sweepLook+sweepLook/2; i++ { // not ours to remove
		require.NoError(t, os.WriteFile(filepath.Join(dir, "file"+strconv.Itoa(i)), nil, 0o644))
	}
	names := 2 * MaxCounters
	long := time.Now().Add(-StaleAfter - time.Hour)
	for i := 0; i < names; i++ {
		staleFolder(t, dir, "vm"+strconv.Itoa(i), long)
	}
	removed := 0
	now := time.Now()
	for hour := 0; hour < 24; hour++ {
		w.sweep(now.Add(time.Duration(hour) * time.Hour))
		removed += len(w.Swept())
		w.swept = w.swept[:0]
	}
	require.Equal(t, names, removed)
	for i := 0; i < names; i++ {
		require.NoDirExists(t, filepath.Join(dir, "vm"+strconv.Itoa(i)))
	}
}

// TestRemadeFileHoldsItsValue: the folder removed while the writer runs is
// made again around the values it holds; a guest reading between the new
// file's rename and the writer's pwrite must not see 0 under the kept
// counter_id (it would count the value twice when it comes back).
func TestRemadeFileHoldsItsValue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "counters")
	w := New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"vm", 5000}}))
	id := idOf(t, dir, "vm")
	require.NoError(t, os.RemoveAll(dir))
	var seen []string
	w.pwrite = func(fd int, b []byte, off int64) (int, error) {
		if v, err := os.ReadFile(Path(dir, "vm")); err == nil {
			seen = append(seen, strings.TrimSpace(string(v)))
		}
		return syscall.Pwrite(fd, b, off)
	}
	w.Apply([]Add{{"vm", 10}})
	require.Equal(t, id, idOf(t, dir, "vm"), "the value went on: the identity must too")
	require.NotEmpty(t, seen, "the hook saw no read")
	for _, s := range seen {
		require.NotEqual(t, "0", s, "a guest read 0 under the kept identity")
	}
	require.Equal(t, "5010", counterOf(t, dir, "vm"))
}

// TestOursMadeWritableByUsAlone: a VM's folder and counter of ours that
// others may write (an older tool, a chmod -R 777) are made writable by us
// alone when opened, so that no other user can swap what a guest reads;
// the value goes on.
func TestOursMadeWritableByUsAlone(t *testing.T) {
	dir := filepath.Join(openTemp(t), "counters")
	w := New(dir)
	require.Empty(t, w.Apply([]Add{{"vm", 100}}))
	w.Close()
	for _, p := range []string{filepath.Join(dir, "vm"), filepath.Join(dir, "vm", Zone)} {
		require.NoError(t, os.Chmod(p, 0o777))
	}
	require.NoError(t, os.Chmod(Path(dir, "vm"), 0o666))
	w = New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"vm", 5}}))
	for p, want := range map[string]os.FileMode{filepath.Join(dir, "vm"): 0o755, filepath.Join(dir, "vm", Zone): 0o755, Path(dir, "vm"): 0o644} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, want, st.Mode().Perm(), p)
	}
	require.Equal(t, "105", counterOf(t, dir, "vm"))
}

// TestAnotherUserMakesTheFolderFirst: the folder removed, another user
// makes it before the writer does: refused, the energy kept, nothing
// written in it; once the folder is ours again, the writer goes on.
func TestAnotherUserMakesTheFolderFirst(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to play the other user")
	}
	dir := filepath.Join(openTemp(t), "counters")
	w := New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"vm", 100}}))
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.Chown(dir, 65534, 65534))
	f := w.Apply([]Add{{"vm", 5}})
	require.Len(t, f, 1)
	require.ErrorIs(t, f[0].Err, ErrForeign)
	require.True(t, f[0].Kept)
	e, _ := os.ReadDir(dir)
	require.Empty(t, e, "something was written in another user's folder")
	require.NoError(t, os.Chown(dir, 0, 0))
	w.Apply(nil)
	require.Equal(t, "105", counterOf(t, dir, "vm"))
}
