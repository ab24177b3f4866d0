package guestcounter

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/energy"
)

// counterOf reads a counter's value from its file.
func counterOf(t *testing.T, dir, domain string) string {
	t.Helper()
	return strings.TrimRight(read(t, Path(dir, domain)), " \n")
}

// The counters' folder removed, renamed away, or hidden under a file
// system mounted over it, while the writer runs: the next Apply says so
// once, makes it again and writes every counter from the value it holds
// (b is not in that Apply's batch), and a new VM gets its counter.
func TestFolderMadeAgain(t *testing.T) {
	cases := []struct {
		name string
		do   func(t *testing.T, dir string)
	}{
		{"removed", func(t *testing.T, dir string) { require.NoError(t, os.RemoveAll(dir)) }},
		{"removed and made again", func(t *testing.T, dir string) {
			require.NoError(t, os.RemoveAll(dir))
			require.NoError(t, os.Mkdir(dir, 0o755))
		}},
		{"renamed away, another made", func(t *testing.T, dir string) {
			require.NoError(t, os.Rename(dir, dir+".old"))
			require.NoError(t, os.Mkdir(dir, 0o755))
		}},
		{"tmpfs mounted over it", func(t *testing.T, dir string) {
			if os.Geteuid() != 0 {
				t.Skip("skipped: mounting a tmpfs needs root")
			}
			if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0755"); err != nil {
				t.Skipf("skipped: cannot mount a tmpfs here: %v", err)
			}
			t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "counters")
			w := New(dir)
			defer w.Close()
			require.Empty(t, w.Apply([]Add{{"a", 100}, {"b", 50}}))
			tc.do(t, dir)
			f := w.Apply([]Add{{"a", 10}, {"c", 5}})
			require.Len(t, f, 1, "%v", f)
			require.Empty(t, f[0].Domain)
			require.ErrorIs(t, f[0].Err, ErrRemade)
			require.Contains(t, f[0].Err.Error(), dir)
			require.Equal(t, "110", counterOf(t, dir, "a"))
			require.Equal(t, "50", counterOf(t, dir, "b"))
			require.Equal(t, "5", counterOf(t, dir, "c"))
			require.FileExists(t, filepath.Join(dir, LockName))
			require.Empty(t, w.Apply([]Add{{"a", 1}}), "said once")
			require.Equal(t, "111", counterOf(t, dir, "a"))
		})
	}
}

// One domain's folder removed alone: its counter is made again, from the
// value held, within linkCheckEvery applies.
func TestDomainFolderMadeAgain(t *testing.T) {
	dir := t.TempDir()
	w := New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"a", 100}}))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "a")))
	for i := 0; i < linkCheckEvery; i++ {
		require.Empty(t, w.Apply([]Add{{"a", 1}}))
	}
	require.Equal(t, energy.Energy(100+linkCheckEvery), mustValue(t, w, "a"))
	require.Equal(t, "106", counterOf(t, dir, "a"))
}

// openTemp is a temporary folder that any user may pass through, as the
// folders above a real vm_counter_dir are (t.TempDir's are 0700).
func openTemp(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	return dir
}

func mustValue(t *testing.T, w *Writer, domain string) energy.Energy {
	t.Helper()
	v, ok := w.Value(domain)
	require.True(t, ok)
	return v
}

// A write that fails keeps its energy for the next Apply, until
// GiveUpApplies applies have failed: then the energy held is given up, and
// said.
func TestFailedWriteKeepsEnergy(t *testing.T) {
	dir := t.TempDir()
	w := New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"a", 100}, {"b", 1}}))
	w.pwrite = func(fd int, b []byte, off int64) (int, error) { return 0, syscall.EIO }
	for i := 0; i < 3; i++ {
		f := w.Apply([]Add{{"a", 10}, {"b", 1}})
		require.Len(t, f, 2)
		require.True(t, f[0].Kept && f[1].Kept)
		require.ErrorIs(t, f[0].Err, syscall.EIO)
	}
	w.pwrite = syscall.Pwrite
	require.Empty(t, w.Apply([]Add{{"a", 10}}))
	require.Equal(t, "140", counterOf(t, dir, "a"))
	require.Equal(t, "4", counterOf(t, dir, "b"), "written though not in the batch")

	w.pwrite = func(fd int, b []byte, off int64) (int, error) { return 0, syscall.ENOSPC }
	var f []Failure
	for i := 0; i < GiveUpApplies; i++ {
		f = w.Apply([]Add{{"a", 1}})
	}
	require.Len(t, f, 1)
	require.False(t, f[0].Kept)
	require.Equal(t, energy.Energy(GiveUpApplies), f[0].Lost)
	require.Contains(t, f[0].Err.Error(), "given up")
	_, held := w.Value("a")
	require.False(t, held)
}

// A folder that cannot be made yet (its parent is missing): the energy is
// kept, one failure of the folder a time, and all of it written once the
// folder can be made.
func TestFolderNotYetThere(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "libvirt")
	dir := filepath.Join(parent, "scaphandre")
	w := New(dir)
	defer w.Close()
	for i := 0; i < 2; i++ {
		f := w.Apply([]Add{{"a", 100}})
		require.Len(t, f, 1)
		require.Empty(t, f[0].Domain)
		require.True(t, f[0].Kept)
		require.ErrorIs(t, f[0].Err, syscall.ENOENT)
	}
	require.NoError(t, os.Mkdir(parent, 0o755))
	require.Empty(t, w.Apply([]Add{{"a", 1}}))
	require.Equal(t, "201", counterOf(t, dir, "a"))
}

// Two writers on one folder (two instances; two writers of one process
// conflict the same): the second writes nothing and names the first's
// PID, until the first lets the folder go.
func TestLock(t *testing.T) {
	dir := t.TempDir()
	first := New(dir)
	require.Empty(t, first.Apply([]Add{{"a", 100}}))
	second := New(dir)
	defer second.Close()
	for i := 0; i < 2; i++ {
		f := second.Apply([]Add{{"a", 7}, {"b", 7}})
		require.Len(t, f, 1)
		require.ErrorIs(t, f[0].Err, ErrLocked)
		require.Contains(t, f[0].Err.Error(), "PID "+itoa(os.Getpid()))
	}
	require.NoDirExists(t, filepath.Join(dir, "b"))
	require.Equal(t, "100", counterOf(t, dir, "a"))
	require.Equal(t, os.Getpid(), Inspect(dir, procLocks, nil).LockPID)

	first.Close()
	require.Zero(t, Inspect(dir, procLocks, nil).LockPID)
	require.Empty(t, second.Apply([]Add{{"a", 5}}))
	require.Equal(t, "105", counterOf(t, dir, "a"), "the second goes on from the file")
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	var b [Width + 1]byte
	Format(&b, energy.Energy(i))
	return strings.TrimRight(string(b[:]), " \n")
}

// Under umask 077 every folder and file still gets the documented mode, so
// that the guests' file server, another user, reads them.
func TestModesWhateverTheUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := filepath.Join(openTemp(t), "counters")
	w := New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"a", 1}}))
	for path, want := range map[string]os.FileMode{
		dir:                                   0o755,
		filepath.Join(dir, "a"):               0o755,
		filepath.Join(dir, "a", Zone):         0o755,
		filepath.Join(dir, "a", Zone, "name"): 0o644,
		filepath.Join(dir, "a", Zone, "max_energy_range_uj"): 0o644,
		Path(dir, "a"):               0o644,
		filepath.Join(dir, LockName): 0o644,
	} {
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, want, st.Mode().Perm(), path)
	}
	require.Empty(t, Inspect(dir, procLocks, nil).Closed)
	require.Zero(t, Inspect(dir, procLocks, nil).Unreadable)
}

// Inspect names what a reader cannot pass or read, and who holds the lock.
func TestInspect(t *testing.T) {
	base := openTemp(t)
	dir := filepath.Join(base, "closed", "counters")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	w := New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"a", 1}, {"b", 1}}))
	require.NoError(t, os.Chmod(filepath.Join(base, "closed"), 0o700))
	require.NoError(t, os.Chmod(filepath.Join(dir, "b"), 0o700))
	a := Inspect(dir, procLocks, nil)
	require.Equal(t, []string{filepath.Join(base, "closed")}, a.Closed)
	require.Equal(t, 1, a.Unreadable)
	require.Equal(t, filepath.Join(dir, "b"), a.Example)
	require.Equal(t, os.FileMode(0o755), a.Mode)
	require.Equal(t, os.Getpid(), a.LockPID)
	// The folder's owner reads by its owner's bits.
	st, _ := os.Stat(dir)
	owner := st.Sys().(*syscall.Stat_t)
	if owner.Uid != 0 {
		require.Empty(t, Inspect(dir, procLocks, &Reader{UID: owner.Uid, GID: owner.Gid}).Closed)
	}
	require.NoError(t, os.Chmod(filepath.Join(base, "closed"), 0o710))
	require.Empty(t, Inspect(dir, procLocks, &Reader{UID: 4321, GID: owner.Gid}).Closed, "its group's bits: x")
	require.Len(t, Inspect(dir, procLocks, &Reader{UID: 4321, GID: 4321}).Closed, 1, "others' bits: none")
}

// Folders of VMs gone for longer than StaleAfter are removed, only in the
// layout this package makes and never one held; at most once an hour.
func TestSweep(t *testing.T) {
	dir := t.TempDir()
	w := New(dir)
	w.SetHostEtc(libvirtEtc(t))
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"old", 1}, {"fresh", 1}, {"extra", 1}, {"held", 1}}))
	for i := 0; i < idleApplies; i++ {
		w.Apply([]Add{{"held", 1}}) // the others are let go
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "extra", "notes"), []byte("mine\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "other", "stuff"), 0o755))
	long := time.Now().Add(-StaleAfter - time.Hour)
	for _, d := range []string{"old", "extra", "held"} {
		require.NoError(t, os.Chtimes(Path(dir, d), long, long))
	}
	require.NoError(t, os.Chtimes(filepath.Join(dir, "other", "stuff"), long, long))
	w.Apply([]Add{{"held", 0}})
	require.Empty(t, w.Swept(), "not again within the hour")
	w.lastPass = time.Time{}
	require.Empty(t, w.Apply([]Add{{"held", 0}}))
	require.Equal(t, []string{"old"}, w.Swept())
	require.NoDirExists(t, filepath.Join(dir, "old"))
	for _, d := range []string{"fresh", "extra", "held", "other"} {
		require.DirExists(t, filepath.Join(dir, d))
	}
}

// libvirtEtc is a host's /etc holding libvirt's (empty) folder of qemu
// domain definitions: the clean-up runs only where it exists.
func libvirtEtc(t *testing.T) string {
	etc := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(etc, qemuDefs), 0o755))
	return etc
}

// TestSweepNeedsDefinitions: without libvirt's folder of definitions a VM
// powered off cannot be told from one gone: nothing is removed, and the
// writer says so.
func TestSweepNeedsDefinitions(t *testing.T) {
	dir := t.TempDir()
	w := New(dir)
	w.SetHostEtc(t.TempDir())
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"held", 1}}))
	staleFolder(t, dir, "old", time.Now().Add(-StaleAfter-time.Hour))
	w.lastPass = time.Time{}
	w.Apply([]Add{{"held", 1}})
	require.Empty(t, w.Swept())
	require.True(t, w.NoDefinitions())
	require.DirExists(t, filepath.Join(dir, "old"))
}

// A flood of new names: at most MaxOpens counters made an Apply (the
// others keep their energy for the next), at most MaxCounters held.
func TestBoundedCounters(t *testing.T) {
	dir := t.TempDir()
	w := New(dir)
	defer w.Close()
	batch := make([]Add, 0, MaxCounters+1)
	for i := 0; i <= MaxCounters; i++ {
		batch = append(batch, Add{"vm" + fmtInt(i), 3})
	}
	f := w.Apply(batch[:MaxOpens+10])
	require.Empty(t, f)
	entries, _ := os.ReadDir(dir)
	require.Len(t, entries, MaxOpens+1, "the lock file and MaxOpens folders")
	f = w.Apply(batch)
	require.Len(t, f, 1)
	require.ErrorIs(t, f[0].Err, ErrTooMany)
	require.Equal(t, energy.Energy(3), f[0].Lost)
	for i := 0; i < MaxCounters/MaxOpens; i++ {
		w.Apply(nil)
	}
	require.Equal(t, "6", counterOf(t, dir, "vm"+fmtInt(MaxOpens+5)), "kept while it waited")
	entries, _ = os.ReadDir(dir)
	require.Len(t, entries, MaxCounters+1)
}
