package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/modfile"
	modzip "golang.org/x/mod/zip"

	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/plugins/inputs/powerinput"
)

// binary is powerinput built once for this test run by TestMain.
var binary string

func TestMain(m *testing.M) {
	// POWERINPUT_TEST_BINARY runs the tests against another build (an
	// older commit's, to show what a test catches).
	if b := os.Getenv("POWERINPUT_TEST_BINARY"); b != "" {
		binary = b
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "powerinput-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "powerinput")
	if out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildBinary(*testing.T) string { return binary }

// tree writes a one-package powercap tree and a config using it.
func tree(t *testing.T) (config, energyFile string) {
	t.Helper()
	root := t.TempDir()
	zone := filepath.Join(root, "sys", "class", "powercap", "intel-rapl:0")
	if err := os.MkdirAll(zone, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{
		"name": "package-0", "energy_uj": "1000000", "max_energy_range_uj": "262143328850",
		"constraint_0_name": "long_term", "constraint_0_max_power_uw": "150000000",
	} {
		if err := os.WriteFile(filepath.Join(zone, name), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	config = filepath.Join(root, "powerinput.conf")
	text := fmt.Sprintf("[[inputs.powerinput]]\nhost_sys = %q\nsources = [\"rapl\"]\nnet = false\ncpu = false\n", filepath.Join(root, "sys"))
	if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return config, filepath.Join(zone, "energy_uj")
}

func readPoints(t *testing.T, r *bufio.Reader, n int) []fixtures.Point {
	t.Helper()
	var pts []fixtures.Point
	for len(pts) < n {
		line, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("reading stdout: %v (have %d points)", err, len(pts))
		}
		got, err := fixtures.ParsePoints(line)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		pts = append(pts, got...)
	}
	return pts
}

func TestExecdProtocol(t *testing.T) {
	bin := buildBinary(t)
	config, energyFile := tree(t)
	cmd := exec.Command(bin, "-config", config, "-poll_interval_disabled")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdout)

	// powerinput takes its baseline as it starts. Change the counter by
	// 5 J, prompt once: that first gather writes one package point and
	// one host point, over at least MinFirstInterval since the start.
	time.Sleep(200 * time.Millisecond)
	if err := os.WriteFile(energyFile, []byte("6000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "\n")
	pts := readPoints(t, out, 2)
	stdin.Close()
	if rest, _ := io.ReadAll(out); len(bytes.TrimSpace(rest)) != 0 {
		t.Errorf("unexpected extra output: %q", rest)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit on stdin EOF: %v; stderr:\n%s", err, stderr.String())
	}

	byName := map[string]fixtures.Point{}
	for _, p := range pts {
		byName[p.Name] = p
	}
	pkg, host := byName["powerstat_package"], byName["power_host"]
	if pkg.Tags["package_id"] != "0" || pkg.Tags["source"] != "rapl" || pkg.Fields["thermal_design_power_watts"] != 150 {
		t.Errorf("powerstat_package = %+v", pkg)
	}
	if got := host.Fields["energy_joules"]; got != 5 {
		t.Errorf("energy_joules = %v, want exactly 5 (the counter's change)", got)
	}
	iv := host.Fields["interval_seconds"]
	if min := powerinput.MinFirstInterval.Seconds(); iv < min || iv > 10 {
		t.Errorf("interval_seconds = %v, want the time from the start to the prompt, at least %v", iv, min)
	}
	if w := host.Fields["power_watts"]; w < 5/iv*0.999999 || w > 5/iv*1.000001 {
		t.Errorf("power_watts = %v, want energy/interval = %v", w, 5/iv)
	}
	if n := strings.Count(stderr.String(), "I! powerinput "); n != 1 {
		t.Errorf("the version line is said %d times, want once as the process starts; stderr:\n%s", n, stderr.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l != "" && !(strings.HasPrefix(l, "E! ") || strings.HasPrefix(l, "W! ") || strings.HasPrefix(l, "I! ") || strings.HasPrefix(l, "D! ")) {
			t.Errorf("stderr line without a level prefix (execd would log it as an error): %q", l)
		}
	}
}

func TestExitsCleanlyOnSIGTERM(t *testing.T) {
	bin := buildBinary(t)
	config, _ := tree(t)
	cmd := exec.Command(bin, "-config", config, "-poll_interval_disabled")
	stdin, _ := cmd.StdinPipe() // kept open: only the signal can end it
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit on SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("still running 10 s after SIGTERM")
	}
}

func TestBadConfigFailsWithOneMessage(t *testing.T) {
	bin := buildBinary(t)
	config := filepath.Join(t.TempDir(), "bad.conf")
	os.WriteFile(config, []byte("[[inputs.powerinput]]\nsoruces = [\"rapl\"]\n"), 0o644)
	out, err := exec.Command(bin, "-config", config).CombinedOutput()
	if err == nil {
		t.Fatal("a mistyped option must stop the plugin")
	}
	// The version line first (what Telegraf's log shows as powerinput
	// starts), then one message.
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "I! powerinput ") || !strings.HasPrefix(lines[1], "E! ") || !strings.Contains(lines[1], "inputs.powerinput.soruces") {
		t.Fatalf("output %q: want the version line, then one E! line naming the key", out)
	}
}

// TestGoInstallable checks what `go install …/cmd/powerinput@latest` needs:
// every file of the module passes the module zip's rules (a file named
// intel-rapl:0 would not), and go.mod has no replace or exclude directive.
func TestGoInstallable(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked, err := modzip.CheckDir(root)
	if err != nil && len(checked.Invalid) == 0 {
		t.Fatalf("CheckDir: %v", err)
	}
	for _, f := range checked.Invalid {
		t.Errorf("not allowed in a module zip: %s (%v)", f.Path, f.Err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", gomod, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Replace) > 0 || len(f.Exclude) > 0 {
		t.Error("go.mod has replace or exclude directives: go install …@version refuses them")
	}
	if f.Module.Mod.Path != "github.com/greencampus/powerinput" {
		t.Errorf("module path %q", f.Module.Mod.Path)
	}
}
