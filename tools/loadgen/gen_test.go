package main

import (
	"context"
	"errors"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/telegraf/plugins/parsers/influx"
)

// shape is a measurement's tag keys and its fields with their types, as
// a point of it is parsed by Telegraf.
type shape map[string]map[string]string

func shapeOf(t testing.TB, text []byte) (shape, int) {
	t.Helper()
	p := &influx.Parser{}
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	ms, err := p.Parse(text)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	out := shape{}
	for _, m := range ms {
		keys := out[m.Name()]
		if keys == nil {
			keys = map[string]string{}
			out[m.Name()] = keys
		}
		for k := range m.Tags() {
			if k != "host" { // Telegraf adds it; the real run's output has none
				keys["tag "+k] = "string"
			}
		}
		for k, v := range m.Fields() {
			switch v.(type) {
			case float64:
				keys[k] = "float"
			case int64, uint64:
				keys[k] = "integer"
			default:
				keys[k] = "other"
			}
		}
	}
	return out, len(ms)
}

// TestShapeIsARealRun: the generator writes the measurements, tags, fields
// and field types of powerinput's own output.
func TestShapeIsARealRun(t *testing.T) {
	real, err := os.ReadFile("testdata/real-gather.lp")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := shapeOf(t, real)
	f := Features{CPUs: 4, Interfaces: 2, Packages: 2, VMs: 3, Services: 5, Processes: 7}
	g := NewGenerator(3, "sim", f, 10*time.Second, 1)
	var b []byte
	for h := range g.Hosts() {
		b = g.AppendGather(b, h, time.Unix(1_800_000_000, 0))
	}
	got, n := shapeOf(t, b)
	if n != 3*f.PointsPerGather() {
		t.Errorf("3 hosts wrote %d points, want 3 × %d", n, f.PointsPerGather())
	}
	for _, m := range slices.Sorted(maps.Keys(want)) {
		if !maps.Equal(got[m], want[m]) {
			t.Errorf("%s: got %v, want %v", m, got[m], want[m])
		}
	}
	for m := range got {
		if _, ok := want[m]; !ok {
			t.Errorf("%s is not in the real run's output", m)
		}
	}
}

// TestRollupShape: with Rollup, a host writes the power_* points only,
// with the rollups' power_watts_max, and power_host's energy is the
// interval's.
func TestRollupShape(t *testing.T) {
	f := Features{CPUs: 16, Interfaces: 1, Packages: 2, VMs: 2, Services: 3, Processes: 4, Rollup: true}
	g := NewGenerator(1, "sim", f, time.Hour, 1)
	got, n := shapeOf(t, g.AppendGather(nil, 0, time.Unix(1_800_000_000, 0)))
	if want := 1 + 4 + 6 + 7; n != want || f.PointsPerGather() != want {
		t.Errorf("%d points, PointsPerGather %d, want %d", n, f.PointsPerGather(), want)
	}
	for _, m := range slices.Sorted(maps.Keys(got)) {
		if !strings.HasPrefix(m, "power_") || got[m]["power_watts_max"] != "float" {
			t.Errorf("%s: %v, want a power_* measurement with power_watts_max", m, got[m])
		}
	}
	// mean(vcpus) is a float: an integer there would conflict with what
	// the continuous queries write.
	if got["power_vm"]["vcpus"] != "float" {
		t.Errorf("power_vm vcpus is %q in the rollups, want float", got["power_vm"]["vcpus"])
	}
	p := &influx.Parser{}
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	ms, err := p.Parse(g.AppendGather(nil, 0, time.Unix(1_800_003_600, 0)))
	if err != nil {
		t.Fatal(err)
	}
	w, _ := ms[0].GetField("power_watts")
	e, _ := ms[0].GetField("energy_joules")
	if ms[0].Name() != "power_host" || math.Abs(e.(float64)-w.(float64)*3600) > 1e-3 {
		t.Errorf("%s: energy_joules %v for power_watts %v over an hour", ms[0].Name(), e, w)
	}
}

// TestPartsAddUp: as in powerinput, each measurement of parts adds up to
// power_host's energy, to the µJ.
func TestPartsAddUp(t *testing.T) {
	g := NewGenerator(2, "sim", Features{CPUs: 1, Packages: 2, VMs: 2, Services: 3, Processes: 4}, 10*time.Second, 7)
	at := time.Unix(1_800_000_000, 0)
	for step := range 50 {
		b := g.AppendGather(nil, step%2, at.Add(time.Duration(step)*10*time.Second))
		p := &influx.Parser{}
		if err := p.Init(); err != nil {
			t.Fatal(err)
		}
		ms, err := p.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		sums := map[string]float64{}
		for _, m := range ms {
			if e, ok := m.GetField("energy_joules"); ok {
				sums[m.Name()] += e.(float64)
			}
		}
		for _, m := range []string{"power_vm", "power_service", "power_process"} {
			if math.Abs(sums[m]-sums["power_host"]) > 1e-6 {
				t.Errorf("gather %d: %s adds up to %v J, power_host %v J", step, m, sums[m], sums["power_host"])
			}
		}
	}
}

// TestRunBatches: run hands post batches of at least the asked size (the
// last one may be smaller), every gather of every host once, and stops at the first error.
func TestRunBatches(t *testing.T) {
	f := Features{CPUs: 2, Interfaces: 1, Packages: 1}
	start := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name             string
		hosts, batch     int
		gathers          int
		fail             bool
		wantPoints, want int // want: lines seen by post
		wantPosts        int // 0: not checked
	}{
		{name: "one batch", hosts: 2, batch: 5000, gathers: 3, wantPoints: 2 * 3 * 6, want: 36},
		{name: "many batches", hosts: 10, batch: 100, gathers: 61, wantPoints: 10 * 61 * 6, want: 3660},
		{name: "per host and gather", hosts: 10, batch: 1, gathers: 5, wantPoints: 10 * 5 * 6, want: 300, wantPosts: 50},
		{name: "error stops", hosts: 10, batch: 100, gathers: 61, fail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var lines []string
			small, posts := 0, 0
			post := func(b []byte) error {
				if tc.fail {
					return errors.New("refused")
				}
				mu.Lock()
				defer mu.Unlock()
				got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
				posts++
				if tc.batch == 1 {
					if hosts := hostsIn(got); len(hosts) != 1 {
						t.Errorf("a per-host request holds hosts %v", hosts)
					}
				}
				if len(got) < tc.batch {
					small++
				}
				lines = append(lines, got...)
				return nil
			}
			g := NewGenerator(tc.hosts, "sim", f, 10*time.Second, 1)
			end := start.Add(time.Duration(tc.gathers-1) * 10 * time.Second)
			n, err := run(context.Background(), g, start, end, 10*time.Second, tc.batch, 3, post)
			if tc.fail {
				if err == nil {
					t.Fatal("no error from a refusing server")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.wantPoints || len(lines) != tc.want {
				t.Errorf("got %d points counted, %d posted, want %d", n, len(lines), tc.want)
			}
			if tc.wantPosts > 0 && posts != tc.wantPosts {
				t.Errorf("%d requests, want %d (one per host and gather)", posts, tc.wantPosts)
			}
			if small > 1 {
				t.Errorf("%d batches smaller than %d, want the last one only", small, tc.batch)
			}
			sort.Strings(lines)
			for i := 1; i < len(lines); i++ {
				if lines[i] == lines[i-1] {
					t.Fatalf("a point posted twice: %s", lines[i])
				}
			}
		})
	}
}

// hostsIn is the distinct host tags of line protocol lines.
func hostsIn(lines []string) []string {
	seen := map[string]bool{}
	var hosts []string
	for _, l := range lines {
		key, _, _ := strings.Cut(l, " ")
		for _, kv := range strings.Split(key, ",")[1:] {
			if v, ok := strings.CutPrefix(kv, "host="); ok && !seen[v] {
				seen[v] = true
				hosts = append(hosts, v)
			}
		}
	}
	return hosts
}

// BenchmarkGather is the generator's own cost per point, so that it can
// be told apart from InfluxDB's in the measurements: one gather of a host
// with 16 CPUs, VMs, services and processes.
func BenchmarkGather(b *testing.B) {
	f := Features{CPUs: 16, Interfaces: 1, Packages: 2, VMs: 4, Services: 10, Processes: 10}
	g := NewGenerator(100, "sim", f, 10*time.Second, 1)
	buf := make([]byte, 0, 64<<10)
	at := time.Unix(1_800_000_000, 0)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		buf = g.AppendGather(buf[:0], n%100, at)
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*f.PointsPerGather()), "ns/point")
	b.SetBytes(int64(len(buf)))
}
