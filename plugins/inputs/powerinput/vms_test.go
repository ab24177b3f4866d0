package powerinput

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guestcounter"
	"github.com/greencampus/powerinput/internal/vmhost"
)

// powerVM returns the power_vm points of acc by domain, and their sum.
func powerVM(t *testing.T, acc *testutil.Accumulator) (map[string]float64, float64) {
	t.Helper()
	out, sum := map[string]float64{}, 0.0
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() != measurementVMs {
			continue
		}
		d, _ := m.GetTag("domain")
		e, _ := m.GetField(fieldEnergy)
		out[d] += e.(float64)
		sum += e.(float64)
	}
	return out, sum
}

// startStopTwoGathers runs the first two gathers of vms-start-stop (a
// baseline, then a and b's shares) with read_timeout 50ms.
func startStopTwoGathers(t *testing.T) *scenario {
	s := loadScenario(t, filepath.Join("testdata", "scenarios", "vms-start-stop.txtar"))
	s.plugin.ReadTimeout = Duration(50 * time.Millisecond)
	steps := s.steps
	s.steps = steps[:strings.Index(steps, "gather\nset sys/class/powercap/intel-rapl:0/energy_uj 1400000000")+len("gather\n")]
	s.run(t)
	return s
}

// A read of the VMs' CPU times that hangs (a hung /proc or cgroup mount)
// gives no VM a value for the interval: the interval's energy is written
// whole as _unattributed (so that power_vm still adds up to power_host),
// the gather is not held beyond read_timeout, and the next reading is a
// baseline.
func TestVMsHungRead(t *testing.T) {
	s := startStopTwoGathers(t)
	rapl := "set sys/class/powercap/intel-rapl:0/energy_uj "
	got, sum := powerVM(t, s.acc)
	if sum != 200 || got["a"] != 20 || got["b"] != 20 {
		t.Fatalf("before the hang: %v (sum %v)", got, sum)
	}

	block := make(chan struct{})
	read := s.plugin.vms.read
	s.plugin.vms.read = func() { <-block; read() }
	s.acc.ClearMetrics()
	s.steps = rapl + "1400000000\ngather\n"
	start := time.Now()
	s.run(t)
	if d := time.Since(start); d > time.Second {
		t.Errorf("the gather took %s with read_timeout 50ms", d)
	}
	got, sum = powerVM(t, s.acc)
	if len(got) != 1 || got[vmhost.Unattributed] != 200 || sum != 200 {
		t.Fatalf("during the hang: %v, want all 200 J as %s", got, vmhost.Unattributed)
	}
	if !strings.Contains(s.log.String(), "W! cannot read the VMs' CPU times: did not return in time") {
		t.Errorf("no warning of the hang in the log:\n%s", s.log)
	}

	// Still hung: the guard refuses new work; the same again, said once.
	s.acc.ClearMetrics()
	s.steps = rapl + "1600000000\ngather\n"
	s.run(t)
	if got, _ = powerVM(t, s.acc); got[vmhost.Unattributed] != 200 {
		t.Fatalf("while still hung: %v", got)
	}

	// The read returns: a baseline (still unattributed), then shares again.
	close(block)
	for s.plugin.vms.g.Busy() {
		time.Sleep(time.Millisecond)
	}
	s.acc.ClearMetrics()
	a := `line sys/fs/cgroup/machine.slice/machine-qemu\x2d1\x2da.scope/cpu.stat usage_usec `
	s.steps = rapl + "1800000000\n" + a + "20000000\ngather\n" + rapl + "2000000000\n" + a + "22000000\ngather\n"
	s.run(t)
	got, sum = powerVM(t, s.acc)
	if sum != 400 || got[vmhost.Unattributed] != 200 || got["a"] == 0 {
		t.Fatalf("after the hang: %v (sum %v)", got, sum)
	}
}

// A write of the guests' counters that returns after its deadline (a
// mount that hung for a while) has its failures said at the next flush,
// not dropped with it.
func TestVMCountersLateFailuresSaid(t *testing.T) {
	s := startStopTwoGathers(t)
	rapl := "set sys/class/powercap/intel-rapl:0/energy_uj "
	c := s.plugin.vms
	block := make(chan struct{})
	apply := c.apply
	c.apply = func() {
		<-block
		apply()
		c.fails = append(c.fails, guestcounter.Failure{Domain: "a", Err: fmt.Errorf("write: %w", syscall.ENOSPC), Kept: true})
	}
	s.steps = rapl + "1400000000\ngather\n"
	s.run(t)
	if !strings.Contains(s.log.String(), "did not return in time") {
		t.Fatalf("no timeout said:\n%s", s.log)
	}
	close(block)
	for c.wg.Busy() {
		time.Sleep(time.Millisecond)
	}
	c.apply = apply
	s.steps = rapl + "1600000000\ngather\n"
	s.run(t)
	want := `W! VM "a": its guest's counter could not be written: write: no space left on device`
	if n := strings.Count(s.log.String(), want); n != 1 {
		t.Fatalf("the late write's failure said %d times, want once:\n%s", n, s.log)
	}
}

// fakeVMs makes c read vms (their CPU times moved on by step(i) at each
// reading) on cpus CPUs whose busy time moves on by busy, 10 s apart,
// without I/O.
func fakeVMs(c *vmsCollector, vms []vmhost.VM, cpus int, busy time.Duration, step func(i int) time.Duration) {
	at := time.Unix(1_700_000_000, 0)
	c.read = func() {
		smp := &c.sample
		smp.Method, smp.CPUs, smp.BusyFrom = vmhost.CgroupV2, cpus, vmhost.BusyCgroupRoot
		smp.VMs = smp.VMs[:0]
		for i := range vms {
			vms[i].Usage += step(i)
			smp.VMs = append(smp.VMs, vms[i])
		}
		smp.Busy += busy
		at = at.Add(10 * time.Second)
		smp.At = at
		c.readErr = nil
	}
}

// A VM whose command line could never be read keeps its machine name
// (NameFromMachineKept): it is written under it with no guest counter,
// unless a VM named from its command line has that tag: then it is left
// in _hypervisor, never added to that VM's row or counter. A VM named
// from its machine name only for now has neither row nor counter.
func TestVMsMachineNamesKeptApart(t *testing.T) {
	s := loadScenario(t, filepath.Join("testdata", "scenarios", "vms-split.txtar"))
	s.plugin.Log = testutil.Logger{Quiet: true}
	s.start(t)
	c := s.plugin.vms
	vms := []vmhost.VM{
		{ID: "scope 1", Domain: "myvm", NameFrom: vmhost.NameFromEmulator},
		{ID: "scope 2", Domain: "myvm", NameFrom: vmhost.NameFromMachineKept},  // my_vm's machine name
		{ID: "scope 3", Domain: "other", NameFrom: vmhost.NameFromMachineKept}, // alone with its tag
		{ID: "scope 4", Domain: "young", NameFrom: vmhost.NameFromMachine},
	}
	per := []time.Duration{2 * time.Second, 3 * time.Second, time.Second, 2 * time.Second}
	fakeVMs(c, vms, 2, 10*time.Second, func(i int) time.Duration { return per[i] })
	tk := tick{ts: time.Now(), cpu: cpuTotal{ok: true, cpus: 2},
		host: hostReading{Energy: 200_000_000, Interval: 10 * time.Second, Source: "rapl"}}
	acc := &testutil.Accumulator{}
	c.gather(acc, &tk) // the baseline
	acc.ClearMetrics()
	c.gather(acc, &tk)
	got, sum := powerVM(t, acc)
	// 20 s of capacity for 200 J: 10 J a CPU-second. The hypervisor has
	// the 3 s of the second "myvm", the 2 s of "young" and the 2 s left.
	want := map[string]float64{"myvm": 20, "other": 10, vmhost.Hypervisor: 70, vmhost.Unused: 100}
	if sum != 200 || len(got) != len(want) {
		t.Fatalf("power_vm %v (sum %v), want %v", got, sum, want)
	}
	for d, e := range want {
		if got[d] != e {
			t.Errorf("domain=%s: %v J, want %v J (all: %v)", d, got[d], e, got)
		}
	}
	dir := s.plugin.VMCounterDir
	b, err := os.ReadFile(guestcounter.Path(dir, "myvm"))
	if err != nil || strings.TrimSpace(string(b)) != "20000000" {
		t.Errorf("myvm's counter: %q, %v; want 20 J, its own row's", b, err)
	}
	for _, d := range []string{"other", "young"} {
		if _, err := os.Stat(filepath.Join(dir, d)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a counter folder for %s, named from its machine name: %v", d, err)
		}
	}
}

// BenchmarkAttribute100 is the attribution step of a gather on a
// hypervisor with 100 VMs: their CPU times (given without I/O) turned into
// intervals, the exact split of the host's energy, and 102 power_vm points
// with their metaphor fields handed to the accumulator. "counters" adds
// the 100 guest counters' writes (pwrite on the test's file system).
func BenchmarkAttribute100(b *testing.B) {
	for _, counters := range []bool{false, true} {
		name := "points"
		if counters {
			name = "points+counters"
		}
		b.Run(name, func(b *testing.B) {
			s := loadScenario(b, filepath.Join("testdata", "scenarios", "vms-split.txtar"))
			s.plugin.Log = testutil.Logger{Quiet: true}
			s.plugin.DefaultMetaphors = true
			if !counters {
				s.plugin.VMCounterDir = ""
			}
			s.start(b)
			c := s.plugin.vms
			vms := make([]vmhost.VM, 100)
			for i := range vms {
				vms[i] = vmhost.VM{ID: fmt.Sprintf("scope %d", i), Domain: fmt.Sprintf("vm%03d", i), NameFrom: vmhost.NameFromEmulator, VCPUs: 2}
			}
			fakeVMs(c, vms, 64, 150*time.Second, func(i int) time.Duration { return time.Duration(i+1) * 20 * time.Millisecond })
			// The gather's /proc/stat and power_host readings, passed to the
			// VMs as values; no read timeout (a zero deadline).
			t := tick{ts: time.Now(), cpu: cpuTotal{ok: true, cpus: 64},
				host: hostReading{Energy: 3_000_000_007, Interval: 10 * time.Second, Source: "rapl"}}
			acc := &testutil.Accumulator{Discard: true}
			c.gather(acc, &t)
			c.gather(acc, &t)
			b.ReportAllocs()
			for b.Loop() {
				c.gather(acc, &t)
			}
			acc.Discard = false
			c.gather(acc, &t)
			got, sum := powerVM(&testing.T{}, acc)
			if len(got) != 102 || energy.Energy(sum*1e6+0.5) != 3_000_000_007 {
				b.Fatalf("%d parts adding up to %v J", len(got), sum)
			}
		})
	}
}

// Two instances on one counters' folder (two Telegraf configurations, or
// Telegraf and a hand-run powerinput): the second refuses the folder, says
// once which PID writes it, and writes no counter, so each guest's counter
// is the first's power_vm sum, not twice it; its power_vm rows still go
// out.
func TestVMCountersTwoInstances(t *testing.T) {
	file := filepath.Join("testdata", "scenarios", "vms-start-stop.txtar")
	first := loadScenario(t, file)
	second := loadScenarioIn(t, file, first.root)
	for _, line := range strings.Split(first.steps, "\n") {
		first.steps = line + "\n"
		first.run(t)
		if strings.TrimSpace(line) == "gather" {
			second.steps = "gather\n"
			second.run(t)
		}
	}
	a, sumA := powerVM(t, first.acc)
	b, sumB := powerVM(t, second.acc)
	if sumA != 1000 || sumB != 1000 || a["a"] != b["a"] {
		t.Errorf("power_vm: first %v (%v J), second %v (%v J): both want 1000 J, the same", a, sumA, b, sumB)
	}
	want := fmt.Sprintf("W! guest counters: %s: held by another powerinput (PID %d), which writes the guests' counters; this powerinput writes no counter there (its power_vm rows are still written)", filepath.Join(first.root, "counters"), os.Getpid())
	if n := strings.Count(second.log.String(), want); n != 1 {
		t.Errorf("the second's log says %d times %q:\n%s", n, want, second.log)
	}
	if strings.Contains(first.log.String(), "held by another") {
		t.Errorf("the first's log speaks of a lock:\n%s", first.log)
	}
}

// Under umask 077 the folders and files still get 0755 and 0644, so that
// qemu's file server (another user) reads them; -doctor names a folder
// that other users cannot read (made under such a umask by an older
// version, or by hand) and the PID that holds the folder.
func TestVMCountersUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	s := loadScenario(t, filepath.Join("testdata", "scenarios", "vms-start-stop.txtar"))
	for _, d := range []string{s.root, filepath.Dir(s.root)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.run(t)
	dir := filepath.Join(s.root, "counters")
	for path, want := range map[string]os.FileMode{
		dir: 0o755, filepath.Join(dir, "a"): 0o755, filepath.Join(dir, "a", guestcounter.Zone): 0o755,
		guestcounter.Path(dir, "a"): 0o644, filepath.Join(dir, "a", guestcounter.Zone, "name"): 0o644,
	} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v, mode %v, want %v", path, err, st.Mode().Perm(), want)
		}
	}
	var out bytes.Buffer
	s.plugin.Doctor(&out)
	for _, want := range []string{
		"vms    guest counters: other users (such as the one qemu's file server runs as) can reach and read them\n",
		fmt.Sprintf("vms    guest counters: the powerinput of PID %d writes them", os.Getpid()),
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-doctor does not say %q:\n%s", want, out.String())
		}
	}
	if err := os.Chmod(filepath.Join(dir, "b"), 0o700); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	s.plugin.Doctor(&out)
	want := fmt.Sprintf("vms    guest counters: 1 folder(s) or file(s) under %s cannot be read by other users (such as the one qemu's file server runs as), such as %s (made under a restrictive umask?)\n       fix: chmod -R a+rX %s\n", dir, filepath.Join(dir, "b"), dir)
	if !strings.Contains(out.String(), want) {
		t.Errorf("-doctor does not say %q:\n%s", want, out.String())
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	s.plugin.Doctor(&out)
	want = fmt.Sprintf("vms    guest counters: %s has mode 0700: other users (such as the one qemu's file server runs as) cannot pass through it to the counters, so the guests fall back to an estimate\n       fix: chmod 0755 %s\n", dir, dir)
	if !strings.Contains(out.String(), want) {
		t.Errorf("-doctor does not say %q:\n%s", want, out.String())
	}
}

// Folders of VMs gone for longer than guestcounter.StaleAfter are removed
// at the first write (then at most once an hour), said once; a folder not
// in the counters' layout, or recent, stays.
func TestVMCountersSweep(t *testing.T) {
	for _, defs := range []bool{true, false} {
		t.Run(fmt.Sprintf("libvirt definitions %v", defs), func(t *testing.T) { testVMCountersSweep(t, defs) })
	}
}

// testVMCountersSweep: with libvirt's definitions (none for "gone"), the
// folder of a VM gone for long is removed; without them, none is, and the
// log says why once.
func testVMCountersSweep(t *testing.T, defs bool) {
	s := loadScenario(t, filepath.Join("testdata", "scenarios", "vms-start-stop.txtar"))
	dir := filepath.Join(s.root, "counters")
	if defs {
		if err := os.MkdirAll(filepath.Join(s.root, "etc", "libvirt", "qemu"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-guestcounter.StaleAfter - time.Hour)
	var b [guestcounter.Width + 1]byte
	guestcounter.Format(&b, 123)
	for _, d := range []string{"gone", "recent", "notes"} {
		if err := os.MkdirAll(filepath.Join(dir, d, guestcounter.Zone), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(guestcounter.Path(dir, d), b[:], 0o644); err != nil {
			t.Fatal(err)
		}
		if d != "recent" {
			if err := os.Chtimes(guestcounter.Path(dir, d), long, long); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "notes", "README"), []byte("an admin's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.run(t)
	if !defs {
		if _, err := os.Stat(filepath.Join(dir, "gone")); err != nil {
			t.Errorf("without libvirt's definitions, a folder was removed: %v", err)
		}
		if n := strings.Count(s.log.String(), "are not cleaned up: there is no folder of libvirt's definitions"); n != 1 {
			t.Errorf("the log says %d times why nothing is cleaned up:\n%s", n, s.log)
		}
		return
	}
	if _, err := os.Stat(filepath.Join(dir, "gone")); !os.IsNotExist(err) {
		t.Errorf("the folder of a VM gone for long is still there (%v)", err)
	}
	for _, d := range []string{"recent", "notes", "a", "b", "c"} {
		if _, err := os.Stat(filepath.Join(dir, d)); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	want := fmt.Sprintf(`I! removed the counter folders of 1 VM(s) under %s not written for 30 days (VMs gone): ["gone"]`, dir)
	if n := strings.Count(s.log.String(), want); n != 1 {
		t.Errorf("the log says %d times %q:\n%s", n, want, s.log)
	}
}

// -doctor, read with a configuration without vms = true, knows that a
// powerinput writes the counters by the folder's lock, however long ago
// a counter moved (a host whose power is an estimate stands them still).
func TestRunningCountersByLock(t *testing.T) {
	dir := t.TempDir()
	w := guestcounter.New(dir)
	if f := w.Apply([]guestcounter.Add{{Domain: "a", Energy: 1}}); len(f) > 0 {
		t.Fatal(f[0].Err)
	}
	long := time.Now().Add(-time.Hour)
	filepath.WalkDir(dir, func(p string, _ fs.DirEntry, _ error) error { return os.Chtimes(p, long, long) })
	if !runningCounters("/proc/locks", dir, time.Now()) {
		t.Error("a held lock is not taken for a running writer")
	}
	w.Close()
	if runningCounters("/proc/locks", dir, time.Now()) {
		t.Error("a free lock and an old counter are taken for a running writer")
	}
}
