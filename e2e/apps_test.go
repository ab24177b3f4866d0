//go:build e2e

package e2e

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// appsFixture is a host's control groups and processes, whose CPU times
// advance at known rates (CPU seconds per second) inside the 0.625 CPU
// seconds per second the fixture's /proc/stat says the machine is busy.
// Counters are written in place at a fixed width, like the others.
type appsFixture struct {
	groups []appCounter // sys/fs/cgroup/<path>/cpu.stat, usage in µs
	procs  []appCounter // proc/<pid>/stat, utime in ticks
}

type appCounter struct {
	path string  // under the fixture's root
	name string  // the tag powerinput should write
	kind string  // its kind tag
	rate float64 // CPU seconds per second
	pid  int     // processes
	file *os.File
}

const containerID = "3f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f"

func newAppsFixture(t *testing.T, f *fixture) *appsFixture {
	t.Helper()
	a := &appsFixture{}
	f.write(t, "sys/fs/cgroup/cgroup.controllers", "cpu io memory pids\n")
	for _, g := range []appCounter{
		{path: "system.slice/nginx.service", name: "nginx.service", kind: "service", rate: 0.25},
		{path: "system.slice/postgresql.service", name: "postgresql.service", kind: "service", rate: 0.125},
		{path: "system.slice/docker-" + containerID + ".scope", name: containerID[:12], kind: "container", rate: 0.0625},
		{path: "user.slice/user-1000.slice", name: "user-1000.slice", kind: "user", rate: 0.03125},
	} {
		rel := filepath.Join("sys/fs/cgroup", g.path, "cpu.stat")
		f.write(t, rel, cpuStat(0))
		g.file = f.open(t, rel)
		a.groups = append(a.groups, g)
	}
	for _, p := range []appCounter{
		{pid: 812, name: "nginx", kind: "program", rate: 0.25},
		{pid: 990, name: "postgres", kind: "program", rate: 0.125},
		{pid: 1200, name: "python3", kind: "program", rate: 0.0625},
		{pid: 40, name: "kworker", kind: "kernel", rate: 0.03125},
	} {
		rel := filepath.Join("proc", fmt.Sprint(p.pid), "stat")
		f.write(t, rel, p.stat(0))
		p.file = f.open(t, rel)
		a.procs = append(a.procs, p)
	}
	f.every100ms = append(f.every100ms, a.write)
	return a
}

func cpuStat(usec uint64) string {
	return fmt.Sprintf("usage_usec %015d\nuser_usec %015d\nsystem_usec 000000000000000\n", usec, usec)
}

func (p appCounter) stat(ticks uint64) string {
	comm, flags := p.name, 0x400100
	if p.kind == "kernel" {
		comm, flags = "kworker/0:1-events", flags|0x00200000
	}
	return fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 %d 100 0 0 0 %015d 0 0 0 20 0 1 0 %d 10000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		p.pid, comm, p.pid, p.pid, flags, ticks, 1000+p.pid)
}

// write sets the counters after el seconds.
func (a *appsFixture) write(el float64) {
	for _, g := range a.groups {
		g.file.WriteAt([]byte(cpuStat(uint64(g.rate*el*1e6))), 0)
	}
	for _, p := range a.procs {
		p.file.WriteAt([]byte(p.stat(uint64(p.rate*el*100))), 0)
	}
}

// checkApps: power_service and power_process reach InfluxDB through
// Telegraf with their tags and types; at every gather their parts add up
// to power_host's energy, and so does the reference's query over the whole
// run; each workload's power is its share of the host's.
func checkApps(t *testing.T, srv *influxServer, host string, f *fixture) {
	for _, m := range []struct {
		name, tag string
		want      []appCounter
	}{{"power_service", "unit", f.apps.groups}, {"power_process", "process", f.apps.procs}} {
		t.Run(m.name+" "+host, func(t *testing.T) {
			res := srv.query(t, `SHOW FIELD KEYS ON metrics_from_pau FROM `+m.name)
			types := map[string]string{}
			for _, row := range res[0].Values {
				types[row[0].(string)] = row[1].(string)
			}
			for _, field := range []string{"power_watts", "energy_joules", "cpu_seconds", "co2_grams", "led_bulbs", "smartphone_charges"} {
				if types[field] != "float" {
					t.Errorf("%s.%s: type %q, want float", m.name, field, types[field])
				}
			}

			// Each gather: the parts against power_host at the same time.
			hostRes := srv.query(t, fmt.Sprintf(`SELECT energy_joules, power_watts FROM metrics_from_pau.forever.power_host WHERE "host" = '%s'`, host))
			hostE := map[int64]float64{}
			hostTimes := times(t, hostRes[0])
			hostJ := floats(t, column(t, hostRes[0], "energy_joules"))
			hostWs := floats(t, column(t, hostRes[0], "power_watts"))
			hostW := 0.0
			for i, ts := range hostTimes {
				hostE[ts.UnixNano()] = hostJ[i]
				hostW += hostWs[i]
			}
			hostW /= float64(len(hostWs))
			partRes := srv.query(t, fmt.Sprintf(`SELECT energy_joules FROM metrics_from_pau.forever.%s WHERE "host" = '%s'`, m.name, host))
			sums := map[int64]float64{}
			partJ := floats(t, column(t, partRes[0], "energy_joules"))
			for i, ts := range times(t, partRes[0]) {
				sums[ts.UnixNano()] += partJ[i]
			}
			gathers, worst := 0, 0.0
			for ts, sum := range sums {
				e, ok := hostE[ts]
				if !ok {
					t.Errorf("%s points at %d without a power_host point", m.name, ts)
					continue
				}
				gathers++
				worst = max(worst, math.Abs(sum-e))
			}
			t.Logf("%s %s: %d gathers, parts add up to power_host's energy within %.2g J", host, m.name, gathers, worst)
			if gathers < 30 || worst > 1e-6 {
				t.Errorf("%s %s: %d gathers, worst difference %g J; want every gather within 1 µJ", host, m.name, gathers, worst)
			}
			if missing := len(hostE) - gathers; missing > 0 {
				t.Errorf("%s: %d power_host points without %s points", host, missing, m.name)
			}

			// The reference's query (docs/reference.md), over the whole run.
			total := srv.query(t, fmt.Sprintf(`SELECT sum("energy_joules") FROM "metrics_from_pau"."forever"."%s" WHERE "host" = '%s'`, m.name, host))
			whole := srv.query(t, fmt.Sprintf(`SELECT sum("energy_joules") FROM "metrics_from_pau"."forever"."power_host" WHERE "host" = '%s'`, host))
			a := floats(t, total[0].Values[0][1:])[0]
			b := floats(t, whole[0].Values[0][1:])[0]
			t.Logf("%s: sum over %s %.6f J, over power_host %.6f J", host, m.name, a, b)
			if math.Abs(a-b) > 1e-6*b {
				t.Errorf("%s: %s adds up to %.6f J, power_host to %.6f J", host, m.name, a, b)
			}

			// Each workload's power: its CPU rate over the 2 CPUs' capacity.
			mean := srv.query(t, fmt.Sprintf(`SELECT mean(power_watts) FROM metrics_from_pau.forever.%s WHERE "host" = '%s' GROUP BY "%s", "kind"`, m.name, host, m.tag))
			got := map[string]float64{}
			var names []string
			for _, s := range mean {
				k := s.Tags[m.tag] + "/" + s.Tags["kind"]
				got[k] = floats(t, s.Values[0][1:])[0]
				names = append(names, k)
			}
			sort.Strings(names)
			t.Logf("%s %s series: %s", host, m.name, strings.Join(names, ", "))
			for _, w := range m.want {
				k := w.name + "/" + w.kind
				want := hostW * w.rate / 2
				if math.Abs(got[k]-want)/want > 0.1 {
					t.Errorf("%s %s %s: mean %.3f W, want %.3f W (%.4g of 2 CPUs of %.1f W) ± 10 %%", host, m.name, k, got[k], want, w.rate, hostW)
				}
			}
			for _, part := range []string{"other/other", "unattributed/unattributed", "unused_capacity/unused_capacity"} {
				if _, ok := got[part]; !ok {
					t.Errorf("%s %s: no %s series", host, m.name, part)
				}
			}
		})
	}
}
