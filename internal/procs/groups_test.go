package procs

import (
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
	for _, p := range ps {
		tr.set(t, p)
	}
	bump := func(pid int, ticks uint64) {
		p := ps[pid]
		p.utime += ticks
		ps[pid] = p
		tr.set(t, p)
	}
	s := NewScanner(kfile.ProcRoot(tr.root), Options{})
	defer s.Close()
	require.False(t, s.Guided())
	r := scanGroups(t, s,
		Group{Key: "/", Read: true, PIDs: []uint32{1, 2}},
		Group{Key: "nginx", Read: true, PIDs: []uint32{11, 10}},
		Group{Key: "postgres", Read: true, PIDs: []uint32{20}})
	require.True(t, r.Baseline)
	require.Equal(t, 5, r.Read)
	require.True(t, s.Guided())

	// nginx ran, postgres did not: its stat is not read (a change in the
	// file would show, were it read).
	bump(10, 30)
	bump(1, 2)
	bump(20, 1000)
	r = scanGroups(t, s,
		Group{Key: "/", Read: true, PIDs: []uint32{1, 2}},
		Group{Key: "nginx", Read: true, PIDs: []uint32{10, 11}},
		Group{Key: "postgres"})
	require.Equal(t, map[string]int{"nginx": 30, "systemd": 2}, byName(t, r))
	require.Equal(t, 5, r.Processes)
	require.Equal(t, 4, r.Read)

	// 11 exited (nginx no longer lists it); a new process started in
	// nginx's group; postgres moved to the root group and ran there.
	tr.exit(t, 11)
	tr.set(t, proc{pid: 12, comm: "nginx", utime: 7, start: 100})
	r = scanGroups(t, s,
		Group{Key: "/", Read: true, PIDs: []uint32{1, 2, 20}},
		Group{Key: "nginx", Read: true, PIDs: []uint32{10, 12}},
		Group{Key: "postgres"})
	require.Equal(t, map[string]int{"nginx": 7, "postgres": 1000}, byName(t, r))
	require.Equal(t, 5, r.Processes)
	require.Equal(t, 5, r.Read)

	// Nothing ran but the root's.
	r = scanGroups(t, s,
		Group{Key: "/", Read: true, PIDs: []uint32{1, 2, 20}},
		Group{Key: "nginx"},
		Group{Key: "postgres"})
	require.Empty(t, r.Names)
	require.Equal(t, 5, r.Processes)
	require.Equal(t, 3, r.Read)

	// A group gone: its processes are forgotten.
	r = scanGroups(t, s, Group{Key: "/", Read: true, PIDs: []uint32{1, 2, 20}})
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
	scanGroups(t, s, Group{Key: "/", Read: true, PIDs: root}, Group{Key: "svc", Read: true, PIDs: idle})
	groups := []Group{{Key: "/", Read: true, PIDs: root}, {Key: "svc"}}
	scanGroups(t, s, groups...)
	require.Zero(t, testing.AllocsPerRun(20, func() {
		if r, err := s.ScanGroups(groups); err != nil || r.Read != 30 || r.Processes != 300 {
			t.Fatal(err, r)
		}
	}))
}
