//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixture is a sysfs/procfs tree whose counters a goroutine advances at
// known powers: package and DRAM energy every 10 ms, CPU ticks and network
// bytes every 100 ms. Values are written in place at a fixed width (zero
// padded), so a reader never sees a file emptied by truncation. A host may
// also have a GPU (an Intel xe card, whose energy counter advances with
// the others) and an ACPI power meter at the wall (a constant average).
type fixture struct {
	root    string
	sources string // the powerinput sources option for this tree
	// conf is more of the powerinput configuration (the hypervisor mode).
	conf string
	// every100ms are more writers of the tree (a hypervisor's cgroups).
	every100ms []func(el float64)
	pkgW       []float64
	dramW      []float64
	energy     []*os.File // package 0, DRAM 0, package 1, DRAM 1, …, the GPU
	watts      []float64  // the power of each of those
	gpuW       float64    // the GPU's power; 0 without one
	wallW      float64    // the wall's power; 0 without a power meter
	// rewrite: the guest counter's path, rewritten every 500 ms by
	// truncate-then-write (Scaphandre's qemu exporter's way), not in place.
	rewrite string
	mu      sync.Mutex
	written []sample // each rewrite: when, and the value written
	// apps: control groups and processes, where services and processes
	// are on (see apps_test.go).
	apps     *appsFixture
	stat     *os.File
	dev      *os.File
	start    time.Time
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

const (
	baseEnergy = 1_000_000_000 // µJ at the start
	tdpMicroW  = 150_000_000
)

// wantSource is the source every power point of this tree must have.
func (f *fixture) wantSource() string {
	switch {
	case f.sources == `["rapl"]`:
		return "rapl"
	case len(f.watts) > 0:
		return "vm"
	default:
		return "model"
	}
}

func (f *fixture) totalW() float64 {
	sum := 0.0
	for _, w := range f.watts {
		sum += w
	}
	return sum
}

func newFixture(t *testing.T, pkgW, dramW []float64) *fixture {
	t.Helper()
	f := &fixture{root: t.TempDir(), pkgW: pkgW, dramW: dramW, sources: `["rapl"]`, stop: make(chan struct{}), done: make(chan struct{})}
	f.build(t)
	for i := range pkgW {
		zone := fmt.Sprintf("sys/class/powercap/intel-rapl:%d", i)
		f.write(t, zone+"/name", fmt.Sprintf("package-%d\n", i))
		f.write(t, zone+"/energy_uj", counter(baseEnergy))
		f.write(t, zone+"/max_energy_range_uj", "262143328850\n")
		f.write(t, zone+"/constraint_0_name", "long_term\n")
		f.write(t, zone+"/constraint_0_max_power_uw", fmt.Sprintf("%d\n", tdpMicroW))
		f.write(t, zone+":0/name", "dram\n")
		f.write(t, zone+":0/energy_uj", counter(baseEnergy))
		f.write(t, zone+":0/max_energy_range_uj", "65712999613\n")
		f.energy = append(f.energy, f.open(t, zone+"/energy_uj"), f.open(t, zone+":0/energy_uj"))
		f.watts = append(f.watts, pkgW[i], dramW[i])
	}
	return f
}

// withWallAndGPU gives a host an xe GPU drawing gpuW (card0, its counter
// labelled card) and an ACPI power meter reading wallW (power1_average,
// averaged over 1 s).
func (f *fixture) withWallAndGPU(t *testing.T, wallW, gpuW float64) *fixture {
	t.Helper()
	card := "sys/class/drm/card0/device"
	f.write(t, card+"/power/runtime_status", "active\n")
	f.write(t, card+"/hwmon/hwmon1/name", "xe\n")
	f.write(t, card+"/hwmon/hwmon1/energy1_label", "card\n")
	f.write(t, card+"/hwmon/hwmon1/energy1_input", counter(baseEnergy))
	f.write(t, "sys/class/hwmon/hwmon1/name", "xe\n")
	// The ACPI power meter registers the old way: its attributes are the
	// ACPI device's, under hwmon0/device.
	f.write(t, "sys/class/hwmon/hwmon0/device/name", "power_meter\n")
	f.write(t, "sys/class/hwmon/hwmon0/device/power1_average", fmt.Sprintf("%d\n", int64(wallW*1e6)))
	f.write(t, "sys/class/hwmon/hwmon0/device/power1_average_interval", "1000\n")
	f.write(t, "sys/class/hwmon/hwmon0/device/power1_is_battery", "0\n")
	f.energy = append(f.energy, f.open(t, card+"/hwmon/hwmon1/energy1_input"))
	f.watts = append(f.watts, gpuW)
	f.gpuW, f.wallW = gpuW, wallW
	return f
}

// newGuestFixture is a VM: a guest counter from the hypervisor advancing at
// vmW, rewritten every 500 ms by truncate-then-write as Scaphandre's qemu
// exporter does; or, with vmW 0, nothing but /proc/stat (the model).
func newGuestFixture(t *testing.T, vmW float64) *fixture {
	t.Helper()
	f := &fixture{root: t.TempDir(), sources: `["vm", "model"]`, stop: make(chan struct{}), done: make(chan struct{})}
	f.build(t)
	if vmW > 0 {
		f.rewrite = filepath.Join(f.root, "vm", "intel-rapl:0", "energy_uj")
		f.write(t, "vm/intel-rapl:0/energy_uj", fmt.Sprintf("%d\n", baseEnergy))
		f.watts = append(f.watts, vmW)
	}
	return f
}

func (f *fixture) write(t *testing.T, rel, text string) {
	t.Helper()
	path := filepath.Join(f.root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) open(t *testing.T, rel string) *os.File {
	t.Helper()
	file, err := os.OpenFile(filepath.Join(f.root, rel), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	return file
}

// build writes what every tree has: sys and proc with CPUs and network.
func (f *fixture) build(t *testing.T) {
	t.Helper()
	f.write(t, "sys/class/net/eth0/speed", "10000\n")
	f.write(t, "sys/class/net/eth0/type", "1\n")
	f.write(t, "sys/class/net/lo/type", "772\n")
	f.write(t, "proc/stat", statText(0))
	f.write(t, "proc/net/dev", devText(0))
	f.stat, f.dev = f.open(t, "proc/stat"), f.open(t, "proc/net/dev")
	t.Cleanup(f.halt)
}

func counter(v uint64) string { return fmt.Sprintf("%020d\n", v) }

// sample is one value the helper wrote, and when.
type sample struct {
	at    time.Time
	value uint64
}

// added is the energy in joules the helper's counters gained between two
// times: for counters written every 10 ms, the power times the span; for a
// rewritten counter, the difference of the values a reader found then.
func (f *fixture) added(from, to time.Time) float64 {
	if f.rewrite == "" {
		return f.totalW() * to.Sub(from).Seconds()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	at := func(t time.Time) uint64 {
		v := uint64(baseEnergy)
		for _, s := range f.written {
			if s.at.After(t) {
				break
			}
			v = s.value
		}
		return v
	}
	return float64(at(to)-at(from)) / 1e6
}

// statText is /proc/stat after el seconds: two CPUs, each 25 % user and
// 6.25 % system, at 100 ticks a second.
func statText(el float64) string {
	var b strings.Builder
	line := func(name string, n float64) {
		fmt.Fprintf(&b, "%s %012d %012d %012d %012d %012d %012d %012d %012d %012d %012d\n", name,
			int64(1000*n+25*n*el), 0, int64(500*n+6.25*n*el), int64(50000*n+68.75*n*el), 0, 0, 0, 0, 0, 0)
	}
	line("cpu ", 2)
	line("cpu0", 1)
	line("cpu1", 1)
	b.WriteString("intr 0\nctxt 0\n")
	return b.String()
}

// devText is /proc/net/dev after el seconds: eth0 receives 125 kB/s
// (1 Mbit/s) and sends 62.5 kB/s.
func devText(el float64) string {
	rx, tx := int64(1e6+125000*el), int64(5e5+62500*el)
	return "Inter-|   Receive                                                |  Transmit\n" +
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
		fmt.Sprintf("    lo: %015d %012d 0 0 0 0 0 0 %015d %012d 0 0 0 0 0 0\n", 1000, 10, 1000, 10) +
		fmt.Sprintf("  eth0: %015d %012d 0 0 0 0 0 0 %015d %012d 0 0 0 0 0 0\n", rx, rx/1000, tx, tx/1000)
}

// run advances the counters until halt.
func (f *fixture) run() {
	f.start = time.Now()
	go func() {
		defer close(f.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-f.stop:
				return
			case <-tick.C:
			}
			el := time.Since(f.start).Seconds()
			for i, file := range f.energy {
				file.WriteAt([]byte(counter(baseEnergy+uint64(f.watts[i]*el*1e6))), 0)
			}
			if f.rewrite != "" && n%50 == 0 {
				v := baseEnergy + uint64(f.watts[0]*el*1e6)
				os.WriteFile(f.rewrite, []byte(fmt.Sprintf("%d\n", v)), 0o644) // O_TRUNC, then write
				f.mu.Lock()
				f.written = append(f.written, sample{at: time.Now(), value: v})
				f.mu.Unlock()
			}
			if n%10 == 0 {
				for _, fn := range f.every100ms {
					fn(el)
				}
				f.stat.WriteAt([]byte(statText(el)), 0)
				f.dev.WriteAt([]byte(devText(el)), 0)
			}
		}
	}()
}

func (f *fixture) halt() {
	f.stopOnce.Do(func() {
		close(f.stop)
		if !f.start.IsZero() {
			<-f.done
		}
	})
}
