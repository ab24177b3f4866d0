package powerinput

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"

	"github.com/greencampus/powerinput/internal/cgroup"
	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/plugins/common/gatherloop"
)

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// appGroups are 200 workload groups as a busy host has them: 150
// services (some in template slices), 30 containers, 10 pods, 10 users.
func appGroups() []string { return fixtures.ServiceGroups() }

// BenchmarkGatherApps is one whole Gather with everything on (power, cpu,
// net, services, processes and the metaphors), the points written as line
// protocol by the gather loop's accumulator, as in production. cpu-ns/op
// is the process's CPU time (all threads, the runtime's included) per
// gather.
//
// "fixture": 1,000 processes and 200 control groups in a tree in memory,
// half of them moving on between gathers (outside the timer), every
// process read (the tree is not this process's procfs). "host": this
// machine's /proc and /sys, with 1,000 sleeping processes in 200 control
// groups made for it (root and cgroup v2 needed, else skipped): procfs
// and cgroupfs build each file when it is read, which the fixture does not
// show; "host" guides the scan by the groups (pids-read of pids),
// "host-unguided" reads every process.
func BenchmarkGatherApps(b *testing.B) {
	b.Run("fixture/pids=1000/groups=200", benchFixtureGather)
	b.Run("host/pids=1000/groups=200", func(b *testing.B) { benchHostGather(b, true) })
	b.Run("host-unguided/pids=1000/groups=200", func(b *testing.B) { benchHostGather(b, false) })
}

func benchFixtureGather(b *testing.B) {
	root, err := os.MkdirTemp("/dev/shm", "powerinput-bench-")
	if err != nil {
		root = b.TempDir()
	} else {
		b.Cleanup(func() { os.RemoveAll(root) })
	}
	file := filepath.Join(b.TempDir(), "tree.txtar")
	tree := strings.Replace(appsTree, "default_metaphors = false", "default_metaphors = true\ncarbon_intensity_g_per_kwh = 56.0", 1)
	tree = strings.Replace(tree, "cpu = false\nnet = false\n", "interfaces = [\"eth*\"]\n", 1)
	if err := os.WriteFile(file, []byte(tree), 0o644); err != nil {
		b.Fatal(err)
	}
	s := loadScenarioIn(b, file, root)
	s.plugin.Log = testutil.Logger{Quiet: true}
	writeFile(b, filepath.Join(root, "sys", "class", "net", "eth0", "speed"), "10000\n")
	writeFile(b, filepath.Join(root, "sys", "class", "net", "eth0", "type"), "1\n")
	groups := appGroups()
	gen := 0
	advance := func() {
		gen++
		g := uint64(gen)
		for i, rel := range groups {
			if i%2 == 0 || gen == 1 {
				writeFile(b, filepath.Join(root, "sys", "fs", "cgroup", rel, "cpu.stat"), fmt.Sprintf("usage_usec %020d\nuser_usec 0\nsystem_usec 0\n", g*uint64(1000+i)))
			}
		}
		for i := range 1000 {
			if i%2 == 0 || gen == 1 {
				writeFile(b, filepath.Join(root, "proc", fmt.Sprint(100+i), "stat"), procStat(100+i, fmt.Sprintf("prog%d", i%40), 100_000_000+g*uint64(i%7), uint64(i)))
			}
		}
		writeFile(b, filepath.Join(root, "proc", "stat"), fmt.Sprintf("cpu  %012d 0 0 %012d 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n", g*1500, g*500))
		writeFile(b, filepath.Join(root, "proc", "net", "dev"), fmt.Sprintf("Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n  eth0: %015d 1 0 0 0 0 0 0 %015d 1 0 0 0 0 0 0\n", g*1000, g*500))
		writeFile(b, filepath.Join(root, "sys", "class", "powercap", "intel-rapl:0", "energy_uj"), fmt.Sprintf("%020d", 1_000_000_000+g*1_000_000_000))
		s.clock.now = s.clock.now.Add(10 * time.Second)
	}
	advance()
	s.start(b)
	acc := gatherloop.NewAccumulator()
	s.plugin.Gather(acc)
	var cpu time.Duration
	points := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		advance()
		acc.Reset()
		b.StartTimer()
		c0 := cpuTime()
		s.plugin.Gather(acc)
		cpu += cpuTime() - c0
		points = strings.Count(string(acc.Bytes()), "\n")
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(points), "points")
	if !strings.Contains(string(acc.Bytes()), "power_process,") || !strings.Contains(string(acc.Bytes()), "power_service,") {
		b.Fatalf("no application points:\n%s", acc.Bytes())
	}
}

// benchHostGather: guided, the processes of the groups that did not run
// are not read (here, all the sleeping ones: the best case); unguided,
// every process is read at every gather (the worst case, as on a host
// whose every group runs every second).
func benchHostGather(b *testing.B, guided bool) {
	if os.Geteuid() != 0 {
		b.Skip("needs root to make control groups")
	}
	h, err := cgroup.Find("/sys")
	if err != nil || !h.V2 {
		b.Skip("no cgroup v2 hierarchy")
	}
	// 1,000 processes at least.
	entries, _ := os.ReadDir("/proc")
	have := 0
	for _, e := range entries {
		if e.Name()[0] >= '0' && e.Name()[0] <= '9' {
			have++
		}
	}
	var kids []*exec.Cmd
	b.Cleanup(func() {
		for _, k := range kids {
			k.Process.Kill()
			k.Wait()
		}
	})
	for range max(0, 1000-have) {
		k := exec.Command("sleep", "3600")
		if err := k.Start(); err != nil {
			b.Skipf("cannot start processes: %v", err)
		}
		kids = append(kids, k)
	}
	base, err := os.MkdirTemp(h.Dir, "powerinput-bench-")
	if err != nil {
		b.Skipf("cannot make control groups: %v", err)
	}
	var made []string
	b.Cleanup(func() {
		for _, k := range kids { // a group with a process cannot be removed
			k.Process.Kill()
			k.Wait()
		}
		kids = nil
		for i := len(made) - 1; i >= 0; i-- {
			syscall.Rmdir(made[i])
		}
		syscall.Rmdir(base)
	})
	// The sleeping processes go into the groups, some in each, as a
	// systemd host's processes are in their services; this machine's own
	// stay where they are (the root group, for a machine without systemd).
	for gi, rel := range appGroups() {
		var parts []string
		for p := filepath.Join(base, rel); p != base; p = filepath.Dir(p) {
			parts = append([]string{p}, parts...)
		}
		for _, p := range parts {
			if err := os.Mkdir(p, 0o755); err == nil {
				made = append(made, p)
			} else if !os.IsExist(err) {
				b.Skipf("mkdir: %v", err)
			}
		}
		for k := gi; k < len(kids); k += 200 {
			os.WriteFile(filepath.Join(parts[len(parts)-1], "cgroup.procs"), []byte(strconv.Itoa(kids[k].Process.Pid)), 0o644)
		}
	}
	p, err := ParseConfig("[[inputs.powerinput]]\nservices = true\nprocesses = true\ncarbon_intensity_g_per_kwh = 56.0\n")
	if err != nil {
		b.Fatal(err)
	}
	p.Log = testutil.Logger{Quiet: true}
	if err := p.Init(); err != nil {
		b.Fatal(err)
	}
	if !guided {
		p.processes.services = nil
	}
	acc := gatherloop.NewAccumulator()
	p.Gather(acc)
	var cpu time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		time.Sleep(30 * time.Millisecond) // some ticks of CPU time between gathers
		acc.Reset()
		b.StartTimer()
		c0 := cpuTime()
		p.Gather(acc)
		cpu += cpuTime() - c0
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	out := string(acc.Bytes())
	b.ReportMetric(float64(p.processes.res.Processes), "pids")
	b.ReportMetric(float64(p.processes.res.Read), "pids-read")
	b.ReportMetric(float64(len(p.services.res.Workloads)), "groups")
	if !strings.Contains(out, "power_process,") || !strings.Contains(out, "power_service,") {
		b.Logf("no application points (no power measured here?):\n%s", out)
	}
}
