package cgroup

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/fixtures"
)

// procsSince walks, calls ProcsSince and gives each group's PIDs by its
// path (as procsOf), with the call's count.
func procsSince(t *testing.T, w *Walker, all bool, lastPID uint32) (map[string]string, ProcsCount) {
	t.Helper()
	_, err := w.Walk()
	require.NoError(t, err)
	ms, err := w.ProcsSince(all, lastPID)
	require.NoError(t, err)
	return byPath(ms), w.Count()
}

// byPath gives each group's PIDs by its path (the key without its
// "#inode"), or "idle" for a group not read.
func byPath(ms []Members) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		k, _, _ := strings.Cut(m.Key, "#")
		if m.Read {
			out[k] = fmt.Sprint(m.PIDs)
		} else {
			out[k] = "idle"
		}
	}
	return out
}

// ran sets the usage of the group rel (v2), leaving its cgroup.procs.
func (c *cgtree) ran(t *testing.T, rel string, usage time.Duration) {
	t.Helper()
	write(t, filepath.Join(c.root, rel, "cpu.stat"), fmt.Sprintf("usage_usec %d\n", usage.Microseconds()))
}

// membersTree is a tree of a root with processes, a service, and a pod
// whose container is a group under it.
func membersTree(t *testing.T) (c *cgtree, pod string) {
	c = newCgtree(t, true)
	write(t, filepath.Join(c.root, "cgroup.procs"), "1\n2\n")
	c.set(t, "system.slice/nginx.service", time.Second)
	write(t, filepath.Join(c.root, "system.slice/nginx.service/cgroup.procs"), "10\n11\n")
	pod = "kubepods.slice/kubepods-pod" + strings.ReplaceAll(uid, "-", "_") + ".slice"
	c.set(t, pod, time.Second)
	c.set(t, pod+"/cri-containerd-"+id1+".scope", time.Second)
	write(t, filepath.Join(c.root, pod, "cri-containerd-"+id1+".scope", "cgroup.procs"), "30\n")
	return c, pod
}

// While the last PID allocated does not move, no process has been made:
// the groups' lists (the root's, and a workload's subtree) are given from
// the last read, without reading a cgroup.procs or listing a directory.
// When it moves, or is not known, they are read again.
func TestProcsSinceReadsOnlyAfterAFork(t *testing.T) {
	c, pod := membersTree(t)
	w := NewWalker(Hierarchy{Dir: c.root, V2: true})
	defer w.Close()
	// Every group's refresh at call RefreshWalks, past this test's calls
	// (with the inodes, one could fall among them).
	w.memo.slot = func(uint64) uint64 { return 0 }
	run := func(usage time.Duration) {
		c.ran(t, "system.slice/nginx.service", usage)
		c.ran(t, pod, usage)
		c.ran(t, "kubepods.slice", usage)
		c.ran(t, "system.slice", usage)
	}
	got, n := procsSince(t, w, true, 500)
	require.Equal(t, "[1 2]", got["/"])
	require.Equal(t, "[10 11]", got["system.slice/nginx.service"])
	require.Equal(t, "[30]", got[pod])
	require.Zero(t, n.Reused)
	require.Equal(t, 6, n.Files, "the root, two slices, nginx, the pod and its container")
	require.Equal(t, 3, n.Listings, "nginx, the pod, its container (no cgroup.stat here)")

	// The lists change on disk (as a write to cgroup.procs would) and the
	// groups run, but no PID was allocated: the lists are the last read's.
	for _, rel := range []string{".", "system.slice/nginx.service", pod + "/cri-containerd-" + id1 + ".scope"} {
		write(t, filepath.Join(c.root, rel, "cgroup.procs"), "77\n")
	}
	run(2 * time.Second)
	for i := range 3 {
		got, n = procsSince(t, w, false, 500)
		require.Equal(t, "[1 2]", got["/"], "walk %d", i)
		require.Equal(t, "[10 11]", got["system.slice/nginx.service"], "walk %d", i)
		require.Equal(t, "[30]", got[pod], "walk %d", i)
		require.Equal(t, ProcsCount{Reused: 5}, n, "walk %d: the root, two slices, nginx, the pod", i)
		run(time.Duration(3+i) * time.Second)
	}

	// A PID was allocated: every group that ran is read again.
	got, n = procsSince(t, w, false, 501)
	require.Equal(t, "[77]", got["/"])
	require.Equal(t, "[77]", got["system.slice/nginx.service"])
	require.Equal(t, "[77]", got[pod])
	require.Zero(t, n.Reused)
	require.Equal(t, 6, n.Files)

	// Not known (0): read at every call, as Procs does.
	for i := range 2 {
		run(time.Duration(10+i) * time.Second)
		_, n = procsSince(t, w, false, 0)
		require.Zero(t, n.Reused)
		require.Equal(t, 6, n.Files)
	}
	_, err := w.Procs(true)
	require.NoError(t, err)
	require.Zero(t, w.Count().Reused)
}

// A group idle when a PID was allocated, which runs later without
// another: its list, read before that PID, is read again (the new process
// may be in it).
func TestProcsSinceIdleGroupAfterAFork(t *testing.T) {
	c, _ := membersTree(t)
	c.set(t, "system.slice/idle.service", time.Second)
	write(t, filepath.Join(c.root, "system.slice/idle.service/cgroup.procs"), "20\n")
	w := NewWalker(Hierarchy{Dir: c.root, V2: true})
	defer w.Close()
	procsSince(t, w, true, 500)
	got, _ := procsSince(t, w, false, 600) // a fork: 21 made in the idle group, not run yet
	require.Equal(t, "idle", got["system.slice/idle.service"])
	write(t, filepath.Join(c.root, "system.slice/idle.service/cgroup.procs"), "20\n21\n")
	c.ran(t, "system.slice/idle.service", 2*time.Second)
	c.ran(t, "system.slice", 5*time.Second)
	got, _ = procsSince(t, w, false, 600)
	require.Equal(t, "[20 21]", got["system.slice/idle.service"])
}

// A process moved into a group by a write to its cgroup.procs (no PID
// allocated, nothing tells) is found within RefreshWalks calls: in a
// group that runs at every walk, and in one that ran once and then slept,
// which is then read although it did not run.
func TestProcsSinceFindsAMovedProcess(t *testing.T) {
	for _, busy := range []bool{true, false} {
		t.Run(map[bool]string{true: "runs", false: "ran once"}[busy], func(t *testing.T) {
			c, _ := membersTree(t)
			w := NewWalker(Hierarchy{Dir: c.root, V2: true})
			defer w.Close()
			const nginx = "system.slice/nginx.service"
			usage := time.Second
			run := func() {
				usage += time.Second
				c.ran(t, nginx, usage)
				c.ran(t, "system.slice", usage)
			}
			procsSince(t, w, true, 500)
			// Past a first refresh of every group, so that the move falls
			// anywhere in nginx's cycle.
			for range RefreshWalks + 5 {
				run()
				procsSince(t, w, false, 500)
			}
			write(t, filepath.Join(c.root, nginx, "cgroup.procs"), "10\n11\n12\n")
			run() // 12 runs in nginx
			found := -1
			for i := range 2 * RefreshWalks {
				got, _ := procsSince(t, w, false, 500)
				if got[nginx] == "[10 11 12]" {
					found = i
					break
				}
				if busy {
					run()
				}
			}
			require.GreaterOrEqual(t, found, 0, "the moved process is never found")
			require.Less(t, found, RefreshWalks, "found after %d walks", found)
		})
	}
}

// Lists read from memory do not allocate either.
func TestProcsSinceDoesNotAllocate(t *testing.T) {
	c, _ := membersTree(t)
	w := NewWalker(Hierarchy{Dir: c.root, V2: true})
	defer w.Close()
	w.noSkip = true
	for range 2 {
		procsSince(t, w, true, 500)
	}
	require.Zero(t, testing.AllocsPerRun(20, func() {
		if _, err := w.Walk(); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ProcsSince(true, 500); err != nil || w.Count().Reused == 0 {
			t.Fatal(err, w.Count())
		}
	}))
}

// Lists read together (all at the first call) are read again a few at a
// time, each within RefreshWalks calls, not all at one call.
func TestProcsSinceStaggersRefreshes(t *testing.T) {
	c := newCgtree(t, true)
	rels := fixtures.ServiceGroups()
	for _, rel := range rels {
		c.set(t, rel, time.Second)
	}
	w := NewWalker(Hierarchy{Dir: c.root, V2: true})
	defer w.Close()
	// Inodes spread over the cycle as a file system gives them; a test's
	// temporary tree may give many the same place: here they are 0, 1, 2...
	// in the order first asked (refreshAt's own test covers inodes).
	slots := map[uint64]uint64{}
	w.memo.slot = func(ino uint64) uint64 {
		if _, ok := slots[ino]; !ok {
			slots[ino] = uint64(len(slots))
		}
		return slots[ino]
	}
	_, n := procsSince(t, w, true, 500)
	groups := n.Files
	require.Greater(t, groups, len(rels))
	reads, most := 0, 0
	for range RefreshWalks {
		_, n = procsSince(t, w, true, 500)
		reads += n.Files
		most = max(most, n.Files)
		require.Equal(t, groups, n.Files+n.Reused)
	}
	require.GreaterOrEqual(t, reads, groups, "every list read again within RefreshWalks calls")
	require.Less(t, most, groups/4, "the reads spread over the calls")
}

// Forget: the next call reads every list afresh, none from memory.
func TestProcsSinceForget(t *testing.T) {
	c, pod := membersTree(t)
	w := NewWalker(Hierarchy{Dir: c.root, V2: true})
	defer w.Close()
	w.memo.slot = func(uint64) uint64 { return 0 }
	procsSince(t, w, true, 500)
	write(t, filepath.Join(c.root, "system.slice/nginx.service/cgroup.procs"), "10\n11\n12\n")
	got, n := procsSince(t, w, true, 500)
	require.Equal(t, "[10 11]", got["system.slice/nginx.service"])
	require.NotZero(t, n.Reused)
	w.Forget()
	got, n = procsSince(t, w, true, 500)
	require.Equal(t, "[10 11 12]", got["system.slice/nginx.service"])
	require.Equal(t, "[30]", got[pod])
	require.Zero(t, n.Reused)
	_, n = procsSince(t, w, true, 500)
	require.Equal(t, 0, n.Files, "from memory again after the fresh read")
}

// A list read at any call is read again 1 to RefreshWalks calls later,
// at a call set by the group's inode: groups of consecutive inodes, read
// together, are read again at consecutive calls.
func TestRefreshAt(t *testing.T) {
	for at := uint64(1); at < 3*RefreshWalks; at++ {
		seen := map[uint64]bool{}
		for ino := uint64(100); ino < 100+RefreshWalks; ino++ {
			r := refreshAt(at, ino)
			require.True(t, r > at && r <= at+RefreshWalks, "read at %d, inode %d: again at %d", at, ino, r)
			require.Zero(t, (r+ino)%RefreshWalks)
			seen[r] = true
		}
		require.Len(t, seen, RefreshWalks, "read at %d: %d calls for %d inodes in a row", at, len(seen), RefreshWalks)
	}
}

// A workload that gets a group under it becomes a directory: its list
// held its subtree's processes, and is read again as its own.
func TestProcsSinceWorkloadBecomesADirectory(t *testing.T) {
	c := newCgtree(t, true)
	c.set(t, "custom", time.Second)
	write(t, filepath.Join(c.root, "custom", "cgroup.procs"), "40\n41\n")
	w := NewWalker(Hierarchy{Dir: c.root, V2: true})
	defer w.Close()
	got, _ := procsSince(t, w, true, 500)
	require.Equal(t, "[40 41]", got["custom"])
	c.set(t, "custom/sub", time.Second) // made, and 41 moved into it
	write(t, filepath.Join(c.root, "custom", "sub", "cgroup.procs"), "41\n")
	write(t, filepath.Join(c.root, "custom", "cgroup.procs"), "40\n")
	c.ran(t, "custom", 2*time.Second)
	got, _ = procsSince(t, w, true, 500)
	require.Equal(t, "[40]", got["custom"])
	require.Equal(t, "[41]", got["custom/sub"])
}
