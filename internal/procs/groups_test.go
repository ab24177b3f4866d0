package procs

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/kfile"
)

func scanGroups(t *testing.T, s *Scanner, groups ...Group) *Result {
	t.Helper()
	r, err := s.ScanGroups(groups)
	require.NoError(t, err)
	return r
}

// A scan guided by control groups reads the processes of the groups that
// ran and keeps the others as they were.
func TestScanGroups(t *testing.T) {
	tr := newTree(t)
	ps := map[int]proc{
		1:  {pid: 1, comm: "systemd", utime: 10, start: 1},
		2:  {pid: 2, comm: "kthreadd", kernel: true, start: 1},
		10: {pid: 10, comm: "nginx", utime: 100, start: 50},
		11: {pid: 11, comm: "nginx", utime: 100, start: 51},
		20: {pid: 20, comm: "postgres", utime: 500, start: 60},
	}
	bump := setAll(t, tr, ps)
	s := NewScanner(kfile.ProcRoot(tr.root), Options{})
	defer s.Close()
	require.False(t, s.Guided())
	r := scanGroups(t, s,
		Group{Key: "/", Read: true, Fresh: true, PIDs: []uint32{1, 2}},
		Group{Key: "nginx", Read: true, Fresh: true, PIDs: []uint32{11, 10}},
		Group{Key: "postgres", Read: true, Fresh: true, PIDs: []uint32{20}})
	require.True(t, r.Baseline)
	require.Equal(t, 5, r.Read)
	require.True(t, s.Guided())

	// nginx ran, postgres did not: its stat is not read (a change in the
	// file would show, were it read).
	bump(10, 30)
	bump(1, 2)
	bump(20, 1000)
	r = scanGroups(t, s,
		Group{Key: "/", Read: true, Fresh: true, PIDs: []uint32{1, 2}},
		Group{Key: "nginx", Read: true, Fresh: true, PIDs: []uint32{10, 11}},
		Group{Key: "postgres"})
	require.Equal(t, map[string]int{"nginx": 30, "systemd": 2}, byName(t, r))
	require.Equal(t, 5, r.Processes)
	require.Equal(t, 4, r.Read)

	// 11 exited (nginx no longer lists it); a new process started in
	// nginx's group; postgres moved to the root group and ran there.
	tr.exit(t, 11)
	tr.set(t, proc{pid: 12, comm: "nginx", utime: 7, start: 100})
	r = scanGroups(t, s,
		Group{Key: "/", Read: true, Fresh: true, PIDs: []uint32{1, 2, 20}},
		Group{Key: "nginx", Read: true, Fresh: true, PIDs: []uint32{10, 12}},
		Group{Key: "postgres"})
	require.Equal(t, map[string]int{"nginx": 7, "postgres": 1000}, byName(t, r))
	require.Equal(t, 5, r.Processes)
	require.Equal(t, 5, r.Read)

	// Nothing ran but the root's.
	r = scanGroups(t, s,
		Group{Key: "/", Read: true, Fresh: true, PIDs: []uint32{1, 2, 20}},
		Group{Key: "nginx"},
		Group{Key: "postgres"})
	require.Empty(t, r.Names)
	require.Equal(t, 5, r.Processes)
	require.Equal(t, 3, r.Read)

	// A group gone: its processes are forgotten.
	r = scanGroups(t, s, Group{Key: "/", Read: true, Fresh: true, PIDs: []uint32{1, 2, 20}})
	require.Equal(t, 3, r.Processes)

	// A listing scan, then guided again: Guided says every group must be
	// read.
	scan(t, s)
	require.False(t, s.Guided())
}

func TestScanGroupsDoesNotAllocate(t *testing.T) {
	tr := newTree(t)
	var root, idle []uint32
	for i := range 300 {
		p := proc{pid: 100 + i, comm: "p", start: uint64(i)}
		tr.set(t, p)
		if i < 30 {
			root = append(root, uint32(p.pid))
		} else {
			idle = append(idle, uint32(p.pid))
		}
	}
	s := NewScanner(kfile.ProcRoot(tr.root), Options{})
	defer s.Close()
	scanGroups(t, s, Group{Key: "/", Read: true, Fresh: true, PIDs: root}, Group{Key: "svc", Read: true, Fresh: true, PIDs: idle})
	groups := []Group{{Key: "/", Read: true, Fresh: true, PIDs: root}, {Key: "svc"}}
	scanGroups(t, s, groups...)
	require.Zero(t, testing.AllocsPerRun(20, func() {
		if r, err := s.ScanGroups(groups); err != nil || r.Read != 30 || r.Processes != 300 {
			t.Fatal(err, r)
		}
	}))
}

// In a group that ran, a process of one thread whose schedstat run time
// has not moved since its last read has not run: its stat is not read.
// One whose run time moved, or of several threads, or without a usable
// schedstat, is read, and no tick of its CPU time is lost.
func TestScanGroupsUnmoved(t *testing.T) {
	tr := newTree(t)
	ps := map[int]proc{
		10: {pid: 10, comm: "sleeper", utime: 5, start: 50},
		11: {pid: 11, comm: "worker", utime: 5, start: 51},
		12: {pid: 12, comm: "threads", utime: 5, start: 52, threads: 4},
	}
	run := map[int]uint64{10: 1e6, 11: 2e6, 12: 3e6}
	for pid, p := range ps {
		tr.set(t, p)
		tr.setSched(t, pid, run[pid])
	}
	tr.setSched(t, 0, 1e9)
	// bump: the process ran ticks more; moved: its schedstat says so (a
	// process that ran and whose schedstat did not move is not what the
	// kernel writes, but shows here whether the stat was read).
	bump := func(pid int, ticks uint64, moved bool) {
		p := ps[pid]
		p.utime += ticks
		ps[pid] = p
		tr.set(t, p)
		if moved {
			run[pid] += ticks * 1e7
			tr.setSched(t, pid, run[pid])
		}
	}
	s := NewScanner(kfile.ProcRoot(tr.root), Options{})
	defer s.Close()
	g := Group{Key: "svc", Read: true, Fresh: true, PIDs: []uint32{10, 11, 12}}
	for i, step := range []struct {
		name    string
		bump    func()
		want    map[string]int
		read    int
		unmoved int
	}{
		{name: "baseline", read: 3},
		// Known processes: their schedstat is read along with their stat
		// (nothing to compare it with yet).
		{name: "second", bump: func() { bump(11, 1, true) }, want: map[string]int{"worker": 1}, read: 3},
		{name: "one ran", bump: func() { bump(11, 2, true); bump(10, 7, false); bump(12, 3, false) },
			want: map[string]int{"worker": 2, "threads": 3}, read: 2, unmoved: 1},
		// A process that ran is read without asking its schedstat, until
		// a scan finds it idle; then its schedstat is read again with its
		// stat, and the scan after tells it by its schedstat alone.
		{name: "the sleeper's time shows once it moves", bump: func() { bump(10, 1, true) },
			want: map[string]int{"sleeper": 8}, read: 3},
		{name: "none ran", read: 3},
		{name: "none ran again", read: 2, unmoved: 1},
		{name: "none ran still", read: 1, unmoved: 2},
	} {
		if step.bump != nil {
			step.bump()
		}
		r := scanGroups(t, s, g)
		require.Equal(t, i == 0, r.Baseline, step.name)
		if i > 0 {
			require.Equal(t, step.want, nilIfEmpty(byName(t, r)), step.name)
		}
		require.Equal(t, 3, r.Processes, step.name)
		require.Equal(t, step.read, r.Read, step.name)
		require.Equal(t, step.unmoved, r.Unmoved, step.name)
	}

	// A kernel without scheduler statistics writes "0 0 0": every
	// process is read.
	tr.setSched(t, 0, 0)
	s2 := NewScanner(kfile.ProcRoot(tr.root), Options{})
	defer s2.Close()
	for range 3 {
		r := scanGroups(t, s2, g)
		require.Equal(t, 3, r.Read)
		require.Zero(t, r.Unmoved)
	}
}

func nilIfEmpty(m map[string]int) map[string]int {
	if len(m) == 0 {
		return nil
	}
	return m
}

// A schedstat that cannot be read (a security module's refusal, here a
// directory in its place) turns the check off: every process is read,
// and no open of a schedstat is tried again.
func TestScanGroupsUnreadableSchedstat(t *testing.T) {
	tr := newTree(t)
	tr.set(t, proc{pid: 10, comm: "sleeper", utime: 5, start: 50})
	tr.setSched(t, 0, 1e9)
	require.NoError(t, os.Mkdir(filepath.Join(tr.root, "10", "schedstat"), 0o755))
	s := NewScanner(kfile.ProcRoot(tr.root), Options{})
	defer s.Close()
	g := Group{Key: "svc", Read: true, Fresh: true, PIDs: []uint32{10}}
	for range 3 {
		r := scanGroups(t, s, g)
		require.Equal(t, 1, r.Read)
		require.Zero(t, r.Unreadable, "a schedstat that cannot be read is no unreadable process")
	}
	require.True(t, s.noSched)
}

func TestMergeListed(t *testing.T) {
	r := func(pid uint32) listed { return listed{pid: pid, read: true, group: 1} }
	k := func(pid uint32) listed { return listed{pid: pid, group: 2} }
	for _, tc := range []struct {
		name string
		a, b []listed
		want []listed
	}{
		{"empty", nil, nil, nil},
		{"read only", []listed{r(1), r(5)}, nil, []listed{r(1), r(5)}},
		{"kept only", nil, []listed{k(2), k(3)}, []listed{k(2), k(3)}},
		{"interleaved", []listed{r(1), r(4), r(9)}, []listed{k(2), k(5), k(10)}, []listed{r(1), k(2), r(4), k(5), r(9), k(10)}},
		// A process that moved from an idle group to one that ran is read.
		{"moved", []listed{r(3)}, []listed{k(2), k(3)}, []listed{k(2), r(3)}},
		{"twice in groups that ran", []listed{r(3), r(3), r(4)}, nil, []listed{r(3), r(4)}},
	} {
		got := mergeListed(nil, tc.a, tc.b)
		require.Equal(t, tc.want, got, tc.name)
	}
}

// A schedstat that cannot be opened for a moment (this process out of
// file descriptors: EMFILE) does not turn the check off for good: once
// descriptors are to be had again, a process that sleeps is told by its
// schedstat alone.
func TestScanGroupsSchedstatEMFILE(t *testing.T) {
	tr := newTree(t)
	tr.set(t, proc{pid: 10, comm: "sleeper", utime: 5, start: 50})
	tr.setSched(t, 10, 1e6)
	tr.setSched(t, 0, 1e9)
	s := NewScanner(kfile.ProcRoot(tr.root), Options{})
	defer s.Close()
	g := Group{Key: "svc", Read: true, Fresh: true, PIDs: []uint32{10}}
	scanGroups(t, s, g) // baseline: the stat is read and kept open

	// No descriptor below the limit is free: every open fails (EMFILE),
	// the kept stat is still read.
	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old))
	free, err := syscall.Dup(0)
	require.NoError(t, err)
	require.NoError(t, syscall.Close(free))
	lim := syscall.Rlimit{Cur: uint64(free), Max: old.Max}
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	r, err := s.ScanGroups([]Group{g})
	_, openErr := os.Open(filepath.Join(tr.root, "10", "schedstat"))
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old))
	require.NoError(t, err)
	require.ErrorIs(t, openErr, syscall.EMFILE, "the test's premise: no open succeeds")
	require.Equal(t, 1, r.Read)
	require.False(t, s.noSched, "a passing EMFILE keeps the schedstat check")

	var unmoved int
	for range 3 {
		unmoved += scanGroups(t, s, g).Unmoved
	}
	require.Positive(t, unmoved, "the sleeper is told by its schedstat again")
}

// A group's list given from memory (no PID allocated since it was read)
// may still name a process that has exited: on procfs its kept files
// answer ESRCH and its directory is gone, so it is forgotten, scan after
// scan, without a spike (and without a PID reused, since none was
// allocated). Real processes on this machine's /proc.
func TestScanGroupsExitedInAKeptList(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	var cmds []*exec.Cmd
	var pids []uint32
	for range 2 {
		cmd := exec.Command("sleep", "60")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		cmds = append(cmds, cmd)
		pids = append(pids, uint32(cmd.Process.Pid))
	}
	slices.Sort(pids)
	s := NewScanner("/proc", Options{})
	defer s.Close()
	list := Group{Key: "sleepers", Read: true, Fresh: true, PIDs: pids}
	r := scanGroups(t, s, list)
	require.True(t, r.Baseline)
	require.Equal(t, 2, r.Read)
	r = scanGroups(t, s, list) // the kept files of both, schedstat first
	require.Equal(t, 2, r.Processes)

	require.NoError(t, cmds[0].Process.Kill())
	cmds[0].Wait()
	for i := range 3 {
		r = scanGroups(t, s, list)
		require.Equal(t, 1, r.Processes, "scan %d: the exited process is forgotten", i)
		require.Empty(t, r.Names, "scan %d: nothing ran, no spike", i)
		require.Zero(t, r.Unreadable, "scan %d: an exit is not an error", i)
	}
}

// A process that its group, read, no longer lists, and that no other
// group read lists (it moved into a group not read, or one whose list was
// given from memory), is read if it still exists, and kept until a scan
// of every group finds it or not; one that has exited is forgotten,
// without an error.
func TestScanGroupsUnlisted(t *testing.T) {
	tr := newTree(t)
	ps := map[int]proc{
		1:  {pid: 1, comm: "systemd", utime: 10, start: 1},
		10: {pid: 10, comm: "mover", utime: 100, start: 50},
		20: {pid: 20, comm: "postgres", utime: 500, start: 60},
	}
	bump := setAll(t, tr, ps)
	s := NewScanner(kfile.ProcRoot(tr.root), Options{})
	defer s.Close()
	scanGroups(t, s, Group{Key: "/", Read: true, Fresh: true, PIDs: []uint32{1}},
		Group{Key: "a", Read: true, Fresh: true, PIDs: []uint32{10}}, Group{Key: "b", Read: true, Fresh: true, PIDs: []uint32{20}})

	// 10 moved from a to b and ran there; a is read, b is not.
	bump(10, 30)
	r := scanGroups(t, s, Group{Key: "/", Read: true, Fresh: true, PIDs: []uint32{1}},
		Group{Key: "a", Read: true, Fresh: true}, Group{Key: "b"})
	require.Equal(t, map[string]int{"mover": 30}, byName(t, r))
	require.Equal(t, 1, r.Unlisted)
	require.Equal(t, 3, r.Processes)
	require.Zero(t, r.Unreadable)

	// Not every group read: still kept, and read.
	bump(10, 4)
	r = scanGroups(t, s, Group{Key: "/", Read: true, Fresh: true, PIDs: []uint32{1}},
		Group{Key: "a", Read: true, Fresh: true}, Group{Key: "b"})
	require.Equal(t, map[string]int{"mover": 4}, byName(t, r))
	require.Equal(t, 1, r.Unlisted)

	// Every group read, b's list from memory (no PID allocated since it
	// was read, so it misses 10): 10 is still kept, and read.
	bump(10, 6)
	r = scanGroups(t, s, Group{Key: "/", Read: true, Fresh: true, PIDs: []uint32{1}},
		Group{Key: "a", Read: true, Fresh: true}, Group{Key: "b", Read: true, PIDs: []uint32{20}})
	require.Equal(t, map[string]int{"mover": 6}, byName(t, r))
	require.Equal(t, 1, r.Unlisted)

	// Every group read afresh: found in b.
	bump(10, 5)
	r = scanGroups(t, s, Group{Key: "/", Read: true, Fresh: true, PIDs: []uint32{1}},
		Group{Key: "a", Read: true, Fresh: true}, Group{Key: "b", Read: true, Fresh: true, PIDs: []uint32{10, 20}})
	require.Equal(t, map[string]int{"mover": 5}, byName(t, r))
	require.Zero(t, r.Unlisted)
	require.Equal(t, 3, r.Processes)

	// 20 moved into a and exited before a was read: forgotten, silently.
	tr.exit(t, 20)
	r = scanGroups(t, s, Group{Key: "/", Read: true, Fresh: true, PIDs: []uint32{1}},
		Group{Key: "a"}, Group{Key: "b", Read: true, Fresh: true, PIDs: []uint32{10}})
	require.Empty(t, r.Names)
	require.Zero(t, r.Unlisted)
	require.Zero(t, r.Unreadable)
	require.Equal(t, 2, r.Processes)

	// 10 moved to a group not walked: a scan of every group that lists
	// it nowhere forgets it.
	r = scanGroups(t, s, Group{Key: "/", Read: true, Fresh: true, PIDs: []uint32{1}},
		Group{Key: "a", Read: true, Fresh: true}, Group{Key: "b", Read: true, Fresh: true})
	require.Zero(t, r.Unlisted)
	require.Equal(t, 1, r.Processes)
}

// setAll writes the processes ps into tr and returns bump, which adds
// ticks to a process's user time, in ps and tr.
func setAll(t *testing.T, tr *tree, ps map[int]proc) (bump func(pid int, ticks uint64)) {
	for _, p := range ps {
		tr.set(t, p)
	}
	return func(pid int, ticks uint64) {
		p := ps[pid]
		p.utime += ticks
		ps[pid] = p
		tr.set(t, p)
	}
}
