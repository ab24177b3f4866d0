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
	group := map[int]string{1: "", 2: "", 3: "", 10: B, 11: B, 20: A, 21: A, 30: "user.slice/user-1000.slice", 31: "user.slice/user-1000.slice"}
	comm := map[int]string{1: "systemd", 2: "kthreadd", 3: "agent", 10: "nginx", 11: "nginx", 20: "postgres", 21: "mover", 30: "bash", 31: "vim"}
	ticks := map[int]uint64{}
	usage := map[string]uint64{A: 0, B: 0, "user.slice/user-1000.slice": 0}
	var busy, energy, gathers uint64
	lastPID := 4000
	var mover [3]time.Duration
	for n := 0; n <= k+3; n++ {
		running := map[int]bool{1: true, 3: true}
		switch {
		case n < k: // everything runs, a PID allocated at each gather
			for p := range comm {
				running[p] = p != 2
			}
			lastPID++
		case n == k: // 21 moved from A to B, runs there; A idle
			running[21], running[10] = true, true
			group[21] = B
		case n == k+1: // a fork elsewhere; A runs, B idle
			lastPID++
			running[20] = true
			if exits {
				delete(comm, 21)
			}
		default: // B runs, with 21
			running[21], running[10] = true, true
		}
		for p := range comm {
			if running[p] && n > 0 {
				ticks[p] += uint64(10 + p)
				if group[p] != "" {
					usage[group[p]] += uint64(10+p) * 10000
				}
				busy += uint64(10 + p)
			}
		}
		busy += 20
		energy += 100_000_000
		gathers++
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
			gatherMoved(t, s, i, comm, ticks, usage, busy, gathers, energy, lastPID)
			if n == k && i == 0 {
				for _, m := range s.plugin.services.members {
					if strings.HasPrefix(m.Key, B+"#") && slices.Contains(m.PIDs, 21) {
						t.Fatalf("premise: B read afresh at gather k (%v)", m.PIDs)
					}
				}
				if s.plugin.services.walker.Count().Reused == 0 {
					t.Fatalf("premise: lists given from memory at gather %d", k)
				}
			}
			if r := s.plugin.processes.res; r.Unreadable > 0 {
				t.Errorf("run %d, gather %d: %d processes unreadable: %v", i, n, r.Unreadable, r.Err)
			}
			for _, nm := range s.plugin.processes.res.Names {
				if nm.Name == "mover" {
					mover[i] += nm.CPU
				}
			}
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

// gatherMoved writes the machine of the moved-process tests into run i's
// tree (the first run reads its loadavg as procfs's own): each process's
// stat with its ticks, each group's usage, the CPUs' busy time over
// gathers intervals of 10 s, the package's energy and the last PID; then
// gathers once, 10 s after the previous gather.
func gatherMoved(t *testing.T, s *scenario, i int, comm map[int]string, ticks map[int]uint64, usage map[string]uint64, busy, gathers, energy uint64, lastPID int) {
	t.Helper()
	cg := filepath.Join(s.root, "sys", "fs", "cgroup")
	for p, c := range comm {
		writeFile(t, filepath.Join(s.root, "proc", strconv.Itoa(p), "stat"),
			fmt.Sprintf("%d (%s) S 1 1 1 0 -1 %d 0 0 0 0 %d 0 0 0 20 0 1 0 %d 1000 100 1\n", p, c, 0x400100, ticks[p], p))
	}
	for g, u := range usage {
		writeFile(t, filepath.Join(cg, g, "cpu.stat"), fmt.Sprintf("usage_usec %d\n", u))
	}
	writeFile(t, filepath.Join(s.root, "proc", "stat"), fmt.Sprintf("cpu  %d 0 0 %d 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n", busy, 2000*gathers-busy))
	writeFile(t, filepath.Join(s.root, "sys", "class", "powercap", "intel-rapl:0", "energy_uj"), strconv.FormatUint(1_000_000_000+energy, 10))
	if i == 0 {
		writeFile(t, filepath.Join(s.root, "proc", "loadavg"), fmt.Sprintf("0.10 0.20 0.30 1/80 %d\n", lastPID))
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
