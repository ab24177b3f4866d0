//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/greencampus/powerinput/internal/fixtures"
)

// guide is the document that walks a new user through the set-up.
const guide = "docs/getting-started.md"

// guideTestLine is the guide's own check of a new installation (step 5):
// the telegraf --test line, as written, and the measurements of the output
// it shows, in their order.
func guideTestLine(t *testing.T, repo string) (line, shown []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, guide))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?m)^ *(telegraf --test [^`\n]+)$").FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s has no telegraf --test … line in a code block", guide)
	}
	for _, p := range regexp.MustCompile(`(?m)^ *> ([a-z_]+),`).FindAllSubmatch(b, -1) {
		shown = append(shown, string(p[1]))
	}
	if len(shown) == 0 {
		t.Fatalf("%s shows no output of telegraf --test", guide)
	}
	return strings.Fields(string(m[1])), shown
}

// parseTestOutput reads the points telegraf --test printed ("> " and a
// line of line protocol each).
func parseTestOutput(t *testing.T, out []byte) []fixtures.Point {
	t.Helper()
	var pts []fixtures.Point
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "> "); ok {
			got, err := fixtures.ParsePoints([]byte(line + "\n"))
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			pts = append(pts, got...)
		}
	}
	return pts
}

// upInterface says whether this machine has a network interface that is
// up and not loopback: Telegraf's choice, and powerinput's, of what net
// shows without an interfaces option.
func upInterface() bool {
	entries, _ := os.ReadDir("/sys/class/net")
	for _, e := range entries {
		if e.Name() == "lo" {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/sys/class/net", e.Name(), "operstate")); err == nil && strings.TrimSpace(string(b)) == "up" {
			return true
		}
	}
	return false
}

// A new user's first check, run as the guide writes it: the deploy
// fragments copied into a telegraf.d, powerinput's configuration copied
// from sample.conf (step 2), and the guide's telegraf --test line, once
// as it is and once with --test-wait, with a main telegraf.conf and
// without one (a Telegraf not installed from InfluxData's package). The one gather Telegraf prompts
// already shows power with its everyday equivalents, cpu and net: on this
// machine (a VM without RAPL: the labelled model), and on a RAPL tree whose
// counters advance at 40 + 60 W (packages) and 4 + 6 W (DRAM).
func TestTelegrafTestShowsPower(t *testing.T) {
	if *telegrafBin == "" || *powerinputBin == "" {
		t.Skip("needs -telegraf and -powerinput (run make e2e)")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	readme, shown := guideTestLine(t, repo)

	rapl := newFixture(t, []float64{40, 60}, []float64{4, 6})
	rapl.run()
	raplConf := filepath.Join(t.TempDir(), "powerinput.conf")
	text := fmt.Sprintf("[[inputs.powerinput]]\nhost_sys = %q\nhost_proc = %q\nsources = [\"rapl\"]\ninterfaces = [\"eth*\"]\n",
		filepath.Join(rapl.root, "sys"), filepath.Join(rapl.root, "proc"))
	if err := os.WriteFile(raplConf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile(filepath.Join(repo, "sample.conf"))
	if err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(t.TempDir(), "powerinput.conf")
	if err := os.WriteFile(own, sample, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name, conf, source string
		net, mainConf      bool
		wait               []string
	}{
		{"this machine", own, "", upInterface(), true, nil},
		{"this machine without a main config", own, "", upInterface(), false, nil},
		{"this machine with test-wait", own, "", upInterface(), true, []string{"--test-wait", "3"}},
		{"rapl", raplConf, "rapl", true, true, nil},
		{"rapl with test-wait", raplConf, "rapl", true, false, []string{"--test-wait", "3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// /etc/telegraf as a user has it: a telegraf.conf (here only
			// the agent section: this Telegraf is built with execd and the
			// outputs only) and the fragments in telegraf.d.
			etc := t.TempDir()
			if tt.mainConf {
				if err := os.WriteFile(filepath.Join(etc, "telegraf.conf"), []byte("[agent]\n  interval = \"10s\"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.MkdirAll(filepath.Join(etc, "telegraf.d"), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"inputs-powerinput.conf", "outputs-influxdb-pau.conf"} {
				b, err := os.ReadFile(filepath.Join(repo, "deploy", "telegraf", f))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(etc, "telegraf.d", f), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{}
			for _, a := range readme[1:] {
				args = append(args, strings.Replace(a, "/etc/telegraf", etc, 1))
			}
			args = append(args, tt.wait...)
			cmd := exec.Command(*telegrafBin, args...)
			cmd.Env = append(os.Environ(), "POWERINPUT_BIN="+*powerinputBin, "POWERINPUT_CONF="+tt.conf)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(readme, " "), err, out)
			}
			t.Logf("%s %s:\n%s", strings.Join(readme, " "), strings.Join(tt.wait, " "), out)
			checkTestOutput(t, out, tt.source, tt.net)
			if tt.conf == own && tt.net {
				// The guide shows this machine's output: the same
				// measurements, in the same order (one cpu point per
				// CPU and the total).
				var got []string
				for _, p := range parseTestOutput(t, out) {
					got = append(got, p.Name)
				}
				if got, shown := slices.Compact(got), slices.Compact(slices.Clone(shown)); !slices.Equal(got, shown) {
					t.Errorf("telegraf --test printed %v; %s shows %v", got, guide, shown)
				}
			}
		})
	}
}

func checkTestOutput(t *testing.T, out []byte, source string, wantNet bool) {
	t.Helper()
	pts := parseTestOutput(t, out)
	by := map[string][]fixtures.Point{}
	for _, p := range pts {
		by[p.Name] = append(by[p.Name], p)
	}
	if len(by["powerstat_package"]) == 0 || len(by["power_host"]) != 1 {
		t.Fatalf("want powerstat_package points and one power_host point; got %d and %d", len(by["powerstat_package"]), len(by["power_host"]))
	}
	host := by["power_host"][0]
	if source != "" && host.Tags["source"] != source {
		t.Errorf("power_host source = %q, want %q", host.Tags["source"], source)
	}
	if host.Tags["source"] == "model" && host.Tags["model"] == "" {
		t.Errorf("a model's point without its model tag: %v", host.Tags)
	}
	if iv := host.Fields["interval_seconds"]; iv < 0.5 || iv > 5 {
		t.Errorf("interval_seconds = %v: want the first interval, from the start's baseline, at least 0.5 s", iv)
	}
	for _, f := range []string{"power_watts", "energy_joules", "led_bulbs", "smartphone_charges"} {
		if _, ok := host.Fields[f]; !ok {
			t.Errorf("power_host has no %s: %v", f, host.Fields)
		}
	}
	if source == "rapl" {
		// Counters written every 10 ms, read over half a second or more:
		// within 5 %.
		want := map[string]float64{"0": 40, "1": 60}
		for _, p := range by["powerstat_package"] {
			if w, got := want[p.Tags["package_id"]], p.Fields["current_power_consumption_watts"]; got < 0.95*w || got > 1.05*w {
				t.Errorf("package %s: %.2f W, want %.0f W", p.Tags["package_id"], got, w)
			}
		}
		if got := host.Fields["power_watts"]; got < 0.95*110 || got > 1.05*110 {
			t.Errorf("power_host: %.2f W, want 110 W", got)
		}
	}
	total := false
	for _, p := range by["cpu"] {
		if p.Tags["cpu"] == "cpu-total" {
			total = true
			// Guest time is inside user and nice, as Telegraf counts it.
			sum := 0.0
			for _, f := range []string{"user", "system", "idle", "nice", "iowait", "irq", "softirq", "steal"} {
				sum += p.Fields["usage_"+f]
			}
			if sum < 99.9 || sum > 100.1 {
				t.Errorf("cpu-total adds up to %.1f %%: %v", sum, p.Fields)
			}
		}
	}
	if !total {
		t.Error("no cpu-total point")
	}
	if wantNet && len(by["net"]) == 0 {
		t.Error("no net point")
	}
	if n := strings.Count(string(out), "[inputs.execd] powerinput "); n != 1 {
		t.Errorf("the version line is in Telegraf's log %d times, want once", n)
	}
	if strings.Contains(string(out), " E! ") {
		t.Errorf("an error in Telegraf's log:\n%s", out)
	}
}
