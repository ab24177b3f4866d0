package powerinput

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Every group runs (so every group is Read) while no PID is
// allocated: lists are given from memory, except the old group's, due
// for its refresh. A process moved from it keeps its time.
func TestMovedProcessAllGroupsRun(t *testing.T) {
	runs := guidedRuns(t, "20\n")
	const A, B = "system.slice/postgresql.service", "system.slice/nginx.service"
	ino := func(g string) uint64 {
		fi, err := os.Stat(filepath.Join(runs[0].root, "sys", "fs", "cgroup", g))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	// X: old group, refreshed at gather k+1 (call k+2); Y: new group, not.
	X, Y := A, B
	d := (ino(B) - ino(A)) % 32
	if d == 0 {
		t.Skip("the two groups' inodes fall in one refresh slot (mod 32): the case cannot be set up")
	}
	if d == 1 {
		X, Y = B, A
	}
	k := 3
	for (uint64(k)+ino(X))%32 != 30 {
		k++
	}
	group := map[int]string{1: "", 2: "", 3: "", 10: B, 11: B, 20: A, 21: X, 30: "user.slice/user-1000.slice", 31: "user.slice/user-1000.slice"}
	comm := map[int]string{1: "systemd", 2: "kthreadd", 3: "agent", 10: "nginx", 11: "nginx", 20: "postgres", 21: "mover", 30: "bash", 31: "vim"}
	procsOf := func(g string) string {
		s := ""
		for _, p := range []int{10, 11, 20, 21} {
			if group[p] == g {
				s += strconv.Itoa(p) + "\n"
			}
		}
		return s
	}
	ticks := map[int]uint64{}
	usage := map[string]uint64{A: 0, B: 0, "user.slice/user-1000.slice": 0}
	var busy, energy, gathers uint64
	lastPID := 4000
	var mover [3]time.Duration
	for n := 0; n <= k+4; n++ {
		running := map[int]bool{1: true, 3: true}
		switch {
		case n < k:
			for p := range comm {
				running[p] = p != 2
			}
			lastPID++
		case n == k: // 21 moved X to Y, runs there; X idle
			group[21] = Y
			running[21] = true
			if Y == B {
				running[10] = true
			} else {
				running[20] = true
			}
		case n == k+1: // every group runs, no PID allocated
			for p := range comm {
				running[p] = p != 2
			}
		default:
			lastPID++
			running[21] = true
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
			if n == 0 || n == k {
				writeFile(t, filepath.Join(cg, A, "cgroup.procs"), procsOf(A))
				writeFile(t, filepath.Join(cg, B, "cgroup.procs"), procsOf(B))
			}
			gatherMoved(t, s, i, comm, ticks, usage, busy, gathers, energy, lastPID)
			if i == 0 && n >= k-1 && n <= k+2 {
				t.Logf("gather %d: count %+v unlisted %d", n, s.plugin.services.walker.Count(), s.plugin.processes.res.Unlisted)
			}
			for _, nm := range s.plugin.processes.res.Names {
				if nm.Name == "mover" {
					mover[i] += nm.CPU
				}
			}
		}
	}
	t.Logf("X=%s Y=%s k=%d mover: %v loadavg, %v full, %v no loadavg", X, Y, k, mover[0], mover[1], mover[2])
	if mover[0] != mover[1] {
		t.Errorf("moved process: %v counted, want %v (listing every process)", mover[0], mover[1])
	}
}
