package powerinput

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
)

// appsTree is a machine whose counters a test moves on by hand: one RAPL
// package, two CPUs, a cgroup v2 tree and a procfs tree.
const appsTree = `-- config.toml --
sources = ["rapl"]
cpu = false
net = false
default_metaphors = false
services = true
processes = true
top_n = 10
min_share = 0.01
max_names_per_day = 50
-- sys/class/powercap/intel-rapl:0/name --
package-0
-- sys/class/powercap/intel-rapl:0/energy_uj --
1000000000
-- sys/class/powercap/intel-rapl:0/max_energy_range_uj --
1000000000000000
-- sys/fs/cgroup/cgroup.controllers --
cpu
`

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := writeTree(path, text); err != nil {
		t.Fatal(err)
	}
}

func procStat(pid int, comm string, ticks, start uint64) string {
	return fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 %d 0 0 0 20 0 1 0 %d 10000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		pid, comm, pid, pid, ticks, start)
}

// Two simulated days of a CI runner: every minute 70 new processes with
// random names, each above min_share, and two transient units with random
// names: more than 100,000 names a day. The names written stay
// within max_names_per_day each UTC day (plus the three fixed parts),
// nginx keeps its series, and every gather's parts add up to power_host's
// energy to the microjoule.
func TestDailyCapUnderRandomNames(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tree.txtar")
	if err := os.WriteFile(file, []byte(appsTree), 0o644); err != nil {
		t.Fatal(err)
	}
	// In memory where there is a tmpfs: the test makes and removes some
	// 200,000 directories, which a disk's journal makes slow.
	root, err := os.MkdirTemp("/dev/shm", "powerinput-cap-")
	if err != nil {
		root = t.TempDir()
	} else {
		t.Cleanup(func() { os.RemoveAll(root) })
	}
	s := loadScenarioIn(t, file, root)
	s.plugin.Log = testutil.Logger{Quiet: true}
	rng := rand.New(rand.NewPCG(3, 4))
	day0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	s.clock.now = day0.Add(-time.Minute)

	const step = time.Minute
	var energy, busy, idle uint64 = 1_000_000_000, 0, 0
	nginx := uint64(0)
	nextPID, start := 1000, uint64(100)
	var live []int
	var units []string
	names := 0
	type dayNames struct{ process, unit map[string]bool }
	perDay := map[int64]*dayNames{}
	gathers := 0
	writeFile(t, filepath.Join(root, "proc", "stat"), "cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n")
	s.start(t)
	for s.clock.now.Add(step).Before(day0.Add(2 * 24 * time.Hour)) {
		s.clock.now = s.clock.now.Add(step)
		// This minute: nginx 3 s, 70 new processes of 0.5 to 1.2 s each,
		// two new units; the previous minute's are gone.
		for _, pid := range live {
			os.RemoveAll(filepath.Join(root, "proc", fmt.Sprint(pid)))
		}
		// Units live two minutes: a group first seen is a baseline.
		if len(units) > 2 {
			for _, u := range units[:2] {
				os.RemoveAll(filepath.Join(root, "sys", "fs", "cgroup", "system.slice", u))
			}
			units = append(units[:0], units[2:]...)
		}
		for _, u := range units {
			writeFile(t, filepath.Join(root, "sys", "fs", "cgroup", "system.slice", u, "cpu.stat"), fmt.Sprintf("usage_usec %d\n", 4_000_000))
		}
		live = live[:0]
		var used uint64
		nginx += 300
		writeFile(t, filepath.Join(root, "proc", "50", "stat"), procStat(50, "nginx", nginx, 10))
		writeFile(t, filepath.Join(root, "sys", "fs", "cgroup", "system.slice", "nginx.service", "cpu.stat"), fmt.Sprintf("usage_usec %d\n", nginx*10000))
		used += 300
		for range 70 {
			ticks := uint64(50 + rng.IntN(70))
			start++
			writeFile(t, filepath.Join(root, "proc", fmt.Sprint(nextPID), "stat"), procStat(nextPID, fmt.Sprintf("j%013x", rng.Uint64()>>12), ticks, start))
			live = append(live, nextPID)
			nextPID++
			used += ticks
			names++
		}
		for range 2 {
			u := fmt.Sprintf("run-r%016x.scope", rng.Uint64())
			writeFile(t, filepath.Join(root, "sys", "fs", "cgroup", "system.slice", u, "cpu.stat"), fmt.Sprintf("usage_usec %d\n", 2_000_000))
			units = append(units, u)
		}
		// 2 CPUs over a minute: 12,000 ticks; 100 W.
		used += 400 // the units
		busy += used + 500
		idle += 12000 - used - 500
		writeFile(t, filepath.Join(root, "proc", "stat"), fmt.Sprintf("cpu  %d 0 0 %d 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n", busy, idle))
		energy += 6000_000_000
		writeFile(t, filepath.Join(root, "sys", "class", "powercap", "intel-rapl:0", "energy_uj"), fmt.Sprint(energy))

		before := len(s.acc.Metrics)
		if err := s.plugin.Gather(s.acc); err != nil {
			t.Fatal(err)
		}
		gathers++
		day := s.clock.now.Unix() / 86400
		dn := perDay[day]
		if dn == nil {
			dn = &dayNames{map[string]bool{}, map[string]bool{}}
			perDay[day] = dn
		}
		var host float64
		sums := map[string]float64{}
		sawNginx := map[string]bool{}
		for _, m := range s.acc.Metrics[before:] {
			switch m.Measurement {
			case "power_host":
				host = m.Fields["energy_joules"].(float64)
			case "power_process":
				sums[m.Measurement] += m.Fields["energy_joules"].(float64)
				dn.process[m.Tags["process"]+"/"+m.Tags["kind"]] = true
				sawNginx[m.Measurement] = sawNginx[m.Measurement] || m.Tags["process"] == "nginx"
			case "power_service":
				sums[m.Measurement] += m.Fields["energy_joules"].(float64)
				dn.unit[m.Tags["unit"]+"/"+m.Tags["kind"]] = true
				sawNginx[m.Measurement] = sawNginx[m.Measurement] || m.Tags["unit"] == "nginx.service"
			}
		}
		if gathers == 1 {
			continue // the baseline
		}
		if host != 6000 {
			t.Fatalf("gather %d: power_host %v J, want 6000", gathers, host)
		}
		for _, m := range []string{"power_process", "power_service"} {
			if math.Round(sums[m]*1e6) != math.Round(host*1e6) {
				t.Fatalf("gather %d: %s adds up to %.6f J, power_host %.6f J", gathers, m, sums[m], host)
			}
			if !sawNginx[m] {
				t.Fatalf("gather %d (%s): nginx has no %s point", gathers, s.clock.now, m)
			}
		}
		s.acc.ClearMetrics()
	}
	if names < 100_000*2 {
		t.Fatalf("only %d random process names", names)
	}
	if len(perDay) != 2 {
		t.Fatalf("%d days", len(perDay))
	}
	for day, dn := range perDay {
		t.Logf("day %d: %d process series, %d unit series", day, len(dn.process), len(dn.unit))
		if len(dn.process) != 50+3 || len(dn.unit) != 50+3 {
			t.Errorf("day %d: %d process and %d unit series, want 50 + 3 each (the cap, full)", day, len(dn.process), len(dn.unit))
		}
	}
}
