package powerinput

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A process moved between groups by a write to cgroup.procs (no PID
// allocated), while the groups' lists are given from memory, keeps its
// time. Process 21 moves from A to B at gather k and runs there: B's list
// is given from memory, without it, and A, idle, is not read. At k+1 a
// PID is allocated and A runs: A's list, read afresh, lacks it too. The
// scan reads it anyway (it still exists), and counts at k+1 the time it
// used at k: one gather late, none lost. Run 1 lists every process, run
// 2 is guided without loadavg (every list read at every gather), run 0
// guided with it. If 21 exits before k+1, its time at k is not seen by
// anyone (as any process's last moments): run 0 counts that much less,
// with no error and no spike.
func TestMovedProcessKeepsItsTime(t *testing.T) {
	for _, exits := range []bool{false, true} {
		t.Run(map[bool]string{false: "found", true: "exits before it is found"}[exits], func(t *testing.T) {
			movedProcess(t, exits)
		})
	}
}

func movedProcess(t *testing.T, exits bool) {
	runs := guidedRuns(t, "20\n21\n")
	const A, B = "system.slice/postgresql.service", "system.slice/nginx.service"
	fi, err := os.Stat(filepath.Join(runs[0].root, "sys", "fs", "cgroup", B))
	if err != nil {
		t.Fatal(err)
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	// B is read afresh at gather k-1 (call k); pick k so that its refresh
	// does not fall at gather k (refreshAt = at+32-(at+ino)%32).
	k := 3
	for (uint64(k)+ino)%32 == 31 {
		k++
	}
	m := newMovedMachine(A, B, A)
	var mover [3]time.Duration
	for n := 0; n <= k+3; n++ {
		running := map[int]bool{1: true, 3: true}
		switch {
		case n < k: // everything runs, a PID allocated at each gather
			m.runAll(running)
			m.lastPID++
		case n == k: // 21 moved from A to B, runs there; A idle
			running[21], running[10] = true, true
			m.group[21] = B
		case n == k+1: // a fork elsewhere; A runs, B idle
			m.lastPID++
			running[20] = true
			if exits {
				delete(m.comm, 21)
			}
		default: // B runs, with 21
			running[21], running[10] = true, true
		}
		m.advance(running, n == 0)
		for i, s := range runs {
			cg := filepath.Join(s.root, "sys", "fs", "cgroup")
			if n == k {
				writeFile(t, filepath.Join(cg, A, "cgroup.procs"), "20\n")
				writeFile(t, filepath.Join(cg, B, "cgroup.procs"), "10\n11\n21\n")
			}
			if n == k+1 && exits {
				if err := os.RemoveAll(filepath.Join(s.root, "proc", "21")); err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(cg, B, "cgroup.procs"), "10\n11\n")
			}
			m.gather(t, s, i)
			if n == k && i == 0 {
				for _, g := range s.plugin.services.members {
					if strings.HasPrefix(g.Key, B+"#") && slices.Contains(g.PIDs, 21) {
						t.Fatalf("premise: B read afresh at gather k (%v)", g.PIDs)
					}
				}
				if s.plugin.services.walker.Count().Reused == 0 {
					t.Fatalf("premise: lists given from memory at gather %d", k)
				}
			}
			if r := s.plugin.processes.res; r.Unreadable > 0 {
				t.Errorf("run %d, gather %d: %d processes unreadable: %v", i, n, r.Unreadable, r.Err)
			}
			mover[i] += moverTime(s)
		}
	}
	if !runs[0].plugin.processes.guided || runs[1].plugin.processes.guided || !runs[2].plugin.processes.guided {
		t.Fatalf("guided: %v %v %v", runs[0].plugin.processes.guided, runs[1].plugin.processes.guided, runs[2].plugin.processes.guided)
	}
	t.Logf("mover's CPU time counted: %v guided with loadavg, %v listing every process, %v guided without loadavg", mover[0], mover[1], mover[2])
	if mover[2] != mover[1] {
		t.Errorf("premise: guided without loadavg %v, full scan %v", mover[2], mover[1])
	}
	want := mover[1]
	if exits {
		want -= 31 * 10 * time.Millisecond // its run at k, unread when it exited
	}
	if mover[0] != want {
		t.Errorf("a process moved between groups: %v counted, want %v (%v listing every process)", mover[0], want, mover[1])
	}
}

// Every group runs (so every group is Read) while no PID is
// allocated: lists are given from memory, except the old group's, due
// for its refresh. A process moved from it keeps its time.
func TestMovedProcessAllGroupsRun(t *testing.T) {
	const A, B = "system.slice/postgresql.service", "system.slice/nginx.service"
	var runs [3]*scenario
	ino := func(g string) uint64 {
		fi, err := os.Stat(filepath.Join(runs[0].root, "sys", "fs", "cgroup", g))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	// X: old group, refreshed at gather k+1 (call k+2); Y: new group, not.
	// The two must fall in different refresh slots (inode mod 32): trees
	// are made again until they do (ext4 often gives close inodes).
	X, Y := A, B
	var d uint64
	for range 50 {
		if runs = guidedRuns(t, "20\n"); (ino(B)-ino(A))%32 != 0 {
			break
		}
	}
	if d = (ino(B) - ino(A)) % 32; d == 0 {
		t.Fatal("premise: 50 trees, each with both groups in one refresh slot")
	}
	if d == 1 {
		X, Y = B, A
	}
	k := 3
	for (uint64(k)+ino(X))%32 != 30 {
		k++
	}
	m := newMovedMachine(A, B, X)
	var mover [3]time.Duration
	for n := 0; n <= k+4; n++ {
		running := map[int]bool{1: true, 3: true}
		switch {
		case n < k:
			m.runAll(running)
			m.lastPID++
		case n == k: // 21 moved X to Y, runs there; X idle
			m.group[21] = Y
			running[21] = true
			if Y == B {
				running[10] = true
			} else {
				running[20] = true
			}
		case n == k+1: // every group runs, no PID allocated
			m.runAll(running)
		default:
			m.lastPID++
			running[21] = true
		}
		m.advance(running, n == 0)
		for i, s := range runs {
			cg := filepath.Join(s.root, "sys", "fs", "cgroup")
			if n == 0 || n == k {
				writeFile(t, filepath.Join(cg, A, "cgroup.procs"), m.procsOf(A))
				writeFile(t, filepath.Join(cg, B, "cgroup.procs"), m.procsOf(B))
			}
			m.gather(t, s, i)
			if i == 0 && n >= k-1 && n <= k+2 {
				t.Logf("gather %d: count %+v unlisted %d", n, s.plugin.services.walker.Count(), s.plugin.processes.res.Unlisted)
			}
			mover[i] += moverTime(s)
		}
	}
	t.Logf("X=%s Y=%s k=%d mover: %v loadavg, %v full, %v no loadavg", X, Y, k, mover[0], mover[1], mover[2])
	if mover[0] != mover[1] {
		t.Errorf("moved process: %v counted, want %v (listing every process)", mover[0], mover[1])
	}
}

// movedMachine is the host of the moved-process tests: processes, the
// group each is in (the root's: ""), their ticks, the groups' usage, the
// CPUs' busy ticks, the package's energy and the last PID allocated.
type movedMachine struct {
	comm                  map[int]string
	group                 map[int]string
	ticks                 map[int]uint64
	usage                 map[string]uint64
	busy, energy, gathers uint64
	lastPID               int
}

// newMovedMachine: nginx (10, 11) in b, postgres (20) in a, the mover (21)
// in mover's group, a shell and vim in a user's slice, the rest in the root.
func newMovedMachine(a, b, mover string) *movedMachine {
	const user = "user.slice/user-1000.slice"
	return &movedMachine{
		comm:    map[int]string{1: "systemd", 2: "kthreadd", 3: "agent", 10: "nginx", 11: "nginx", 20: "postgres", 21: "mover", 30: "bash", 31: "vim"},
		group:   map[int]string{1: "", 2: "", 3: "", 10: b, 11: b, 20: a, 21: mover, 30: user, 31: user},
		ticks:   map[int]uint64{},
		usage:   map[string]uint64{a: 0, b: 0, user: 0},
		lastPID: 4000,
	}
}

// runAll marks every process but kthreadd running.
func (m *movedMachine) runAll(running map[int]bool) {
	for p := range m.comm {
		running[p] = p != 2
	}
}

// advance makes the processes running use 10+PID ticks each (none at the
// first gather), in their groups too, over an interval of 10 s of 2 CPUs.
func (m *movedMachine) advance(running map[int]bool, first bool) {
	for p := range m.comm {
		if running[p] && !first {
			m.ticks[p] += uint64(10 + p)
			if m.group[p] != "" {
				m.usage[m.group[p]] += uint64(10+p) * 10000
			}
			m.busy += uint64(10 + p)
		}
	}
	m.busy += 20
	m.energy += 100_000_000
	m.gathers++
}

// procsOf is the cgroup.procs file of group g.
func (m *movedMachine) procsOf(g string) string {
	s := ""
	for _, p := range []int{10, 11, 20, 21} {
		if _, ok := m.comm[p]; ok && m.group[p] == g {
			s += strconv.Itoa(p) + "\n"
		}
	}
	return s
}

// gather writes the machine into run i's tree (the first run reads its
// loadavg as procfs's own) and gathers once, 10 s after the previous
// gather.
func (m *movedMachine) gather(t *testing.T, s *scenario, i int) {
	t.Helper()
	cg := filepath.Join(s.root, "sys", "fs", "cgroup")
	for p, c := range m.comm {
		writeFile(t, filepath.Join(s.root, "proc", strconv.Itoa(p), "stat"),
			fmt.Sprintf("%d (%s) S 1 1 1 0 -1 %d 0 0 0 0 %d 0 0 0 20 0 1 0 %d 1000 100 1\n", p, c, 0x400100, m.ticks[p], p))
	}
	for g, u := range m.usage {
		writeFile(t, filepath.Join(cg, g, "cpu.stat"), fmt.Sprintf("usage_usec %d\n", u))
	}
	writeFile(t, filepath.Join(s.root, "proc", "stat"), fmt.Sprintf("cpu  %d 0 0 %d 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n", m.busy, 2000*m.gathers-m.busy))
	writeFile(t, filepath.Join(s.root, "sys", "class", "powercap", "intel-rapl:0", "energy_uj"), strconv.FormatUint(1_000_000_000+m.energy, 10))
	if i == 0 {
		writeFile(t, filepath.Join(s.root, "proc", "loadavg"), fmt.Sprintf("0.10 0.20 0.30 1/80 %d\n", m.lastPID))
	}
	s.start(t)
	if i == 0 {
		procfsLoadavg(s)
	}
	s.clock.now = s.clock.now.Add(10 * time.Second)
	if err := s.plugin.Gather(s.acc); err != nil {
		t.Fatal(err)
	}
}

// moverTime is the CPU time the gather just made gave the mover.
func moverTime(s *scenario) time.Duration {
	for _, nm := range s.plugin.processes.res.Names {
		if nm.Name == "mover" {
			return nm.CPU
		}
	}
	return 0
}
