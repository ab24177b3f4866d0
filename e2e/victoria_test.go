//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var victoriaBin = flag.String("victoria-metrics", "", "VictoriaMetrics single-node server (make victoria-metrics)")

// TestVictoriaMetrics: beyond one InfluxDB node, the real Telegraf with
// powerinput writes through the project's own outputs.influxdb fragment
// (InfluxDB's /write, line protocol) into VictoriaMetrics, and every
// measurement arrives as VictoriaMetrics names it, measurement_field with
// the tags as labels (docs/scale.md), with the power the host draws.
func TestVictoriaMetrics(t *testing.T) {
	if *telegrafBin == "" || *powerinputBin == "" {
		t.Skip("needs -telegraf and -powerinput (run make e2e)")
	}
	if *victoriaBin == "" {
		t.Skip("needs -victoria-metrics (run make e2e, which builds it with make victoria-metrics)")
	}
	if _, err := os.Stat(*victoriaBin); err != nil {
		t.Skipf("VictoriaMetrics is not built (make victoria-metrics could not build it here): %v", err)
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	dir := t.TempDir()
	log, err := os.Create(filepath.Join(dir, "victoria-metrics.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	vm := exec.Command(*victoriaBin, "-storageDataPath", filepath.Join(dir, "data"),
		"-httpListenAddr", fmt.Sprintf("127.0.0.1:%d", port), "-retentionPeriod", "1d")
	vm.Stdout, vm.Stderr = log, log
	vm.SysProcAttr = orphanless()
	if err := vm.Start(); err != nil {
		t.Fatalf("start victoria-metrics: %v", err)
	}
	t.Cleanup(func() { terminate(vm, 15*time.Second) })
	waitHealthy(t, base+"/health", log.Name())

	// One RAPL host (two packages, 40 and 60 W, DRAM 4 and 6 W) with its
	// services and processes, as in the pipeline test.
	f := newFixture(t, []float64{40, 60}, []float64{4, 6})
	f.apps = newAppsFixture(t, f)
	f.run()
	a := startAgent(t, "kvm-0", *telegrafBin, *powerinputBin, repo, base, f)
	time.Sleep(8 * time.Second)
	a.stop()
	f.halt()
	if resp, err := http.Get(base + "/internal/force_flush"); err == nil {
		resp.Body.Close()
	}

	got := exportVM(t, base, `{host="kvm-0"}`)
	// The names the docs give, with the labels each must carry.
	for _, want := range []struct {
		name   string
		labels []string
	}{
		{"power_host_power_watts", []string{"db", "host", "source"}},
		{"power_host_energy_joules", []string{"db", "host", "source"}},
		{"power_host_co2_grams", []string{"db", "host", "source"}},
		{"power_host_smartphone_charges", []string{"db", "host", "source"}},
		{"powerstat_package_current_power_consumption_watts", []string{"db", "host", "package_id", "source"}},
		{"powerstat_package_current_dram_power_consumption_watts", []string{"db", "host", "package_id", "source"}},
		{"cpu_usage_user", []string{"cpu", "db", "host"}},
		{"net_bytes_recv", []string{"db", "host", "interface"}},
		{"power_service_energy_joules", []string{"db", "host", "kind", "source", "unit"}},
		{"power_process_energy_joules", []string{"db", "host", "kind", "process", "source"}},
	} {
		ss := got[want.name]
		if len(ss) == 0 {
			t.Errorf("no series %s in VictoriaMetrics (it has %v)", want.name, names(got))
			continue
		}
		for _, s := range ss {
			if keys := labelKeys(s.Metric); strings.Join(keys, ",") != strings.Join(want.labels, ",") {
				t.Errorf("%s has labels %v, want %v", want.name, keys, want.labels)
			}
			if s.Metric["db"] != "" && s.Metric["db"] != "metrics_from_pau" {
				t.Errorf("%s: db=%q, want metrics_from_pau (the database Telegraf writes to)", want.name, s.Metric["db"])
			}
		}
	}
	// The values are powerinput's: 110 W. The median, since on a loaded
	// machine the helper writing the counters every 10 ms may lag behind
	// by tens of ms, which is several % of a 1 s interval.
	for _, s := range got["power_host_power_watts"] {
		if len(s.Values) < 3 {
			t.Errorf("power_host_power_watts: %d points in 8 s at a 1 s interval", len(s.Values))
			continue
		}
		vs := append([]float64(nil), s.Values...)
		sort.Float64s(vs)
		if m := vs[len(vs)/2]; math.Abs(m-110) > 110*0.02 {
			t.Errorf("power_host_power_watts: median %v of %v, want 110 ± 2 %%", m, s.Values)
		}
	}
	// And the parts add up as in InfluxDB: the services' energy is the
	// host's, gather by gather, so over the run too.
	sum := func(name string) float64 {
		total := 0.0
		for _, s := range got[name] {
			for _, v := range s.Values {
				total += v
			}
		}
		return total
	}
	if host, svc := sum("power_host_energy_joules"), sum("power_service_energy_joules"); host == 0 || math.Abs(svc-host) > 1e-6*host {
		t.Errorf("power_service_energy_joules adds up to %v J, power_host_energy_joules to %v J", svc, host)
	}
}

// vmSeries is one line of VictoriaMetrics' /api/v1/export.
type vmSeries struct {
	Metric     map[string]string `json:"metric"`
	Values     []float64         `json:"values"`
	Timestamps []int64           `json:"timestamps"`
}

func exportVM(t *testing.T, base, match string) map[string][]vmSeries {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/export?match[]=" + url.QueryEscape(match))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: VictoriaMetrics answered %s", resp.Status)
	}
	out := map[string][]vmSeries{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var s vmSeries
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("export line: %v", err)
		}
		name := s.Metric["__name__"]
		delete(s.Metric, "__name__")
		out[name] = append(out[name], s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func labelKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func names(m map[string][]vmSeries) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func waitHealthy(t *testing.T, u, logName string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within 30 s; see %s", u, logName)
}
