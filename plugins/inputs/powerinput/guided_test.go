package powerinput

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/influxdata/telegraf/testutil"

	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/procs"
)

// A process scan guided by control groups writes what a scan of every
// process writes, reading only the processes whose group ran and those
// outside any workload. Three trees get the same steps: the first's and
// the third's procfs say they are this process's ("self"), so their scans
// are guided; the first's loadavg says when a PID was allocated (at one
// step only), so its groups' lists are read then and otherwise given from
// memory, the third has none, so they are read at every gather. A process
// moved between groups (a write to cgroup.procs, no PID allocated) is
// left out of both lists until its old group is read afresh, its new one
// idle: the scan must keep it, to count its time when it runs there.
func TestGuidedScanWritesTheSame(t *testing.T) {
	runs := guidedRuns(t, "20\n")
	writeFile(t, filepath.Join(runs[0].root, "proc", "loadavg"), "0.10 0.20 0.30 1/80 4000\n")

	type proc struct {
		pid    int
		comm   string
		group  string // where its time counts; "" for the root group
		kernel bool
	}
	procs := []proc{{1, "systemd", "", false}, {2, "kthreadd", "", true}, {3, "agent", "", false},
		{10, "nginx", "system.slice/nginx.service", false}, {11, "nginx", "system.slice/nginx.service", false},
		{20, "postgres", "system.slice/postgresql.service", false},
		{30, "bash", "user.slice/user-1000.slice", false}, {31, "vim", "user.slice/user-1000.slice", false}}
	ticks := map[int]uint64{}
	usage := map[string]uint64{"system.slice/nginx.service": 0, "system.slice/postgresql.service": 0, "user.slice/user-1000.slice": 0}
	var busy, energy, gathers uint64
	write := func(root string) {
		for _, p := range procs {
			flags := 0x400100
			if p.kernel {
				flags |= 0x00200000
			}
			writeFile(t, filepath.Join(root, "proc", strconv.Itoa(p.pid), "stat"),
				fmt.Sprintf("%d (%s) S 1 1 1 0 -1 %d 0 0 0 0 %d 0 0 0 20 0 1 0 %d 1000 100 1\n", p.pid, p.comm, flags, ticks[p.pid], p.pid))
		}
		for g, u := range usage {
			writeFile(t, filepath.Join(root, "sys", "fs", "cgroup", g, "cpu.stat"), fmt.Sprintf("usage_usec %d\n", u))
		}
		// 2 CPUs over 10 s: 2000 ticks a gather.
		writeFile(t, filepath.Join(root, "proc", "stat"), fmt.Sprintf("cpu  %d 0 0 %d 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n", busy, 2000*gathers-busy))
		writeFile(t, filepath.Join(root, "sys", "class", "powercap", "intel-rapl:0", "energy_uj"), strconv.FormatUint(1_000_000_000+energy, 10))
	}
	var reads [3]int
	var listsRead, listsReused [3]int
	const user, postgres = "user.slice/user-1000.slice", "system.slice/postgresql.service"
	for n := range 8 {
		// The root's processes and nginx run at every gather; postgres at
		// gather 3 only, bash at gather 5. vim is moved into postgres's
		// group at gather 4, asleep; a PID is allocated at gather 5, when
		// vim's old group runs and its new one does not; vim runs at 7.
		running := map[int]bool{1: true, 3: true, 10: true, 11: n%2 == 0, 20: n == 3, 30: n == 5, 31: n == 7}
		if n == 4 {
			procs[len(procs)-1].group = postgres
			for _, s := range runs {
				cg := filepath.Join(s.root, "sys", "fs", "cgroup")
				writeFile(t, filepath.Join(cg, user, "session-2.scope", "cgroup.procs"), "30\n")
				writeFile(t, filepath.Join(cg, postgres, "cgroup.procs"), "20\n31\n")
			}
		}
		if n == 5 {
			writeFile(t, filepath.Join(runs[0].root, "proc", "loadavg"), "0.10 0.20 0.30 1/80 4001\n")
		}
		for _, p := range procs {
			if running[p.pid] && n > 0 {
				ticks[p.pid] += uint64(10 + p.pid)
				if p.group != "" {
					usage[p.group] += uint64(10+p.pid) * 10000
				}
				busy += uint64(10 + p.pid)
			}
		}
		busy += 20
		energy += 100_000_000
		gathers++
		for i, s := range runs {
			write(s.root)
			s.start(t)
			if n == 0 && s.plugin.services.lastPID != nil {
				// Not procfs's (as lxcfs's is not): its fifth field may not
				// be the last PID allocated.
				t.Fatalf("run %d reads the loadavg of a test's tree", i)
			}
			if i == 0 {
				procfsLoadavg(s)
			}
			s.clock.now = s.clock.now.Add(10 * time.Second)
			if err := s.plugin.Gather(s.acc); err != nil {
				t.Fatal(err)
			}
			// Counted over the gathers without a PID allocated, or the full
			// round the move makes (5 and 6).
			if n > 0 && n != 5 && n != 6 {
				reads[i] += s.plugin.processes.res.Read
				if w := s.plugin.services.walker; w != nil {
					listsRead[i] += w.Count().Files
					listsReused[i] += w.Count().Reused
				}
			}
		}
	}
	if !runs[0].plugin.processes.guided || runs[1].plugin.processes.guided || !runs[2].plugin.processes.guided {
		t.Fatalf("guided: %v, %v and %v, want the first and third trees' scans only", runs[0].plugin.processes.guided, runs[1].plugin.processes.guided, runs[2].plugin.processes.guided)
	}
	want := runs[1].acc.GetTelegrafMetrics()
	if len(onlyMeasurements(want, "power_process")) < 7*4 {
		t.Fatalf("%d power_process points", len(onlyMeasurements(want, "power_process")))
	}
	for _, i := range []int{0, 2} {
		testutil.RequireMetricsEqual(t, want, runs[i].acc.GetTelegrafMetrics(), testutil.IgnoreTime(), testutil.SortMetrics(), cmpopts.EquateApprox(0, 1e-9))
	}
	t.Logf("stat files read over 5 gathers: %d and %d guided, %d listing every process", reads[0], reads[2], reads[1])
	if reads[0] >= reads[1]*3/4 || reads[2] >= reads[1]*3/4 {
		t.Errorf("guided scans read %d and %d stat files, a full one %d", reads[0], reads[2], reads[1])
	}
	t.Logf("cgroup.procs read over 5 gathers: %d with loadavg (%d lists from memory), %d without (%d)", listsRead[0], listsReused[0], listsRead[2], listsReused[2])
	// With loadavg, a list is read again only at its staggered refresh.
	if listsReused[0] == 0 || listsRead[0]*4 > listsRead[2] || listsReused[2] != 0 {
		t.Errorf("cgroup.procs read %d times with loadavg (%d from memory), %d without (%d): want few read with it, none from memory without", listsRead[0], listsReused[0], listsRead[2], listsReused[2])
	}
}

// guidedRuns makes three trees of appsTree with processes in the root
// (1, 2, 3), nginx (10, 11), postgresql (postgres's list) and the user's
// session (30, 31): the first's and third's procfs say they are this
// process's ("self"), so their scans are guided; the second's lists every
// process.
func guidedRuns(t *testing.T, postgres string) [3]*scenario {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "tree.txtar")
	tree := appsTree + "-- sys/fs/cgroup/cgroup.procs --\n1\n2\n3\n" +
		"-- sys/fs/cgroup/system.slice/nginx.service/cgroup.procs --\n10\n11\n" +
		"-- sys/fs/cgroup/system.slice/postgresql.service/cgroup.procs --\n" + postgres +
		"-- sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/cgroup.procs --\n30\n31\n"
	if err := os.WriteFile(file, []byte(tree), 0o644); err != nil {
		t.Fatal(err)
	}
	var runs [3]*scenario
	for i := range runs {
		runs[i] = loadScenarioIn(t, file, filepath.Join(dir, strconv.Itoa(i)))
		runs[i].plugin.Log = testutil.Logger{Quiet: true}
	}
	for _, i := range []int{0, 2} {
		if err := os.Symlink(strconv.Itoa(os.Getpid()), filepath.Join(runs[i].root, "proc", "self")); err != nil {
			t.Fatal(err)
		}
	}
	return runs
}

// procfsLoadavg makes s's processes collector read the loadavg of its
// tree, as it does only on procfs (a test's tree is not): call it after
// s.start.
func procfsLoadavg(s *scenario) {
	if s.plugin.services.lastPID == nil {
		s.plugin.services.lastPID = procs.NewLastPID(kfile.ProcRoot(filepath.Join(s.root, "proc")))
	}
}
