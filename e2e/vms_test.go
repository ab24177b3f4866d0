//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guestcounter"
)

// The hypervisor kvm-0 runs two VMs; their guests run powerinput with the
// vm source on the counters kvm-0 writes.
var guestVMs = []string{"greenit", "web"}

// vmPlan is each VM's vCPUs and the CPU time it uses per second; the
// machine (2 CPUs) is busy 0.625 CPU-second per second, as its /proc/stat
// says: 0.125 is the hypervisor's own.
var vmPlan = map[string]struct {
	vcpus int
	cpu   float64
}{
	"greenit": {2, 0.2},
	"web":     {4, 0.3},
}

const machineBusy = 0.625

// counterStart is where the counters stand when the run begins, as a
// previous run of kvm-0's powerinput left them: it goes on from there.
const counterStart = energy.Energy(7_000_000_000)

// addHypervisor gives kvm-0's tree libvirt's cgroups (v2) with the two VMs,
// their CPU time advancing every 100 ms, turns its hypervisor mode on, and
// returns the counters' folder.
func addHypervisor(t *testing.T, f *fixture) string {
	t.Helper()
	counters := filepath.Join(t.TempDir(), "scaphandre")
	f.conf = fmt.Sprintf("vms = true\nvm_counter_dir = %q\n", counters)
	cg := "sys/fs/cgroup/"
	f.write(t, cg+"cgroup.controllers", "cpu io memory\n")
	usage := func(cpuSeconds float64) string {
		return fmt.Sprintf("usage_usec %020d\nuser_usec 0\nsystem_usec 0\n", int64(cpuSeconds*1e6))
	}
	files := map[string]float64{"": machineBusy}
	for i, name := range guestVMs {
		scope := fmt.Sprintf(`machine.slice/machine-qemu\x2d%d\x2d%s.scope/`, i+1, name)
		for v := 0; v < vmPlan[name].vcpus; v++ {
			f.write(t, fmt.Sprintf("%s%slibvirt/vcpu%d/cpu.stat", cg, scope, v), usage(0))
		}
		files[scope] = vmPlan[name].cpu
		// Its qemu, whose command line names it (a machine name alone
		// counts as the hypervisor's own).
		pid := 4000 + i
		f.write(t, cg+scope+"cgroup.procs", fmt.Sprintf("%d\n", pid))
		f.write(t, fmt.Sprintf("proc/%d/cmdline", pid), "/usr/bin/qemu-system-x86_64\x00-name\x00guest="+name+"\x00")
		// A previous run's counter.
		var b [guestcounter.Width + 1]byte
		guestcounter.Format(&b, counterStart)
		dir := filepath.Join(counters, name, guestcounter.Zone)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "energy_uj"), b[:], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	open := map[string]*os.File{}
	for scope, rate := range files {
		f.write(t, cg+scope+"cpu.stat", usage(1000*rate))
		open[scope] = f.open(t, cg+scope+"cpu.stat")
	}
	f.every100ms = append(f.every100ms, func(el float64) {
		for scope, file := range open {
			file.WriteAt([]byte(usage(files[scope]*(1000+el))), 0)
		}
	})
	return counters
}

// newVMGuestFixture is a guest whose share of kvm-0 is mounted (here: a
// link) at its vm_powercap_path.
func newVMGuestFixture(t *testing.T, counters, name string) *fixture {
	t.Helper()
	f := newGuestFixture(t, 0)
	// A stop of kvm-0's powerinput (killed, restarted by Telegraf) holds
	// the counter for a few intervals: not stale.
	f.conf = "vm_stale_intervals = 10\n"
	if err := os.Symlink(filepath.Join(counters, name), filepath.Join(f.root, "vm")); err != nil {
		t.Fatal(err)
	}
	return f
}

// µJ is a point's energy_joules in microjoules: the counters' unit, exact.
func µJ(j float64) int64 { return int64(math.Round(j * 1e6)) }

func checkVMs(t *testing.T, srv *influxServer, fixtures map[string]*fixture) {
	// The reference's query (docs/reference.md): VMs and the remainder add up to the host.
	vmSum := srv.query(t, `SELECT sum("energy_joules") FROM "metrics_from_pau"."forever"."power_vm" WHERE "host" = 'kvm-0'`)
	hostSum := srv.query(t, `SELECT sum("energy_joules") FROM "metrics_from_pau"."forever"."power_host" WHERE "host" = 'kvm-0'`)
	vj, hj := floats(t, vmSum[0].Values[0][1:])[0], floats(t, hostSum[0].Values[0][1:])[0]
	t.Logf("kvm-0: sum(power_vm.energy_joules) = %.6f J, sum(power_host.energy_joules) = %.6f J, difference %.3g J", vj, hj, vj-hj)
	if math.Abs(vj-hj) > 1e-6 {
		t.Errorf("power_vm adds up to %.6f J, power_host to %.6f J", vj, hj)
	}

	// Interval by interval, exactly (µJ), and each part's mean power.
	hostRes := srv.query(t, `SELECT energy_joules FROM "metrics_from_pau"."forever"."power_host" WHERE "host" = 'kvm-0'`)
	host := map[int64]int64{}
	for i, ts := range times(t, hostRes[0]) {
		host[ts.UnixNano()] = µJ(floats(t, column(t, hostRes[0], "energy_joules"))[i])
	}
	vmRes := srv.query(t, `SELECT energy_joules, power_watts, vcpus FROM "metrics_from_pau"."forever"."power_vm" WHERE "host" = 'kvm-0' GROUP BY "domain"`)
	parts := map[int64]int64{}
	byDomain := map[string][]point{}
	meanW := map[string]float64{}
	for _, s := range vmRes {
		d := s.Tags["domain"]
		es := floats(t, column(t, s, "energy_joules"))
		ws := floats(t, column(t, s, "power_watts"))
		for i, ts := range times(t, s) {
			parts[ts.UnixNano()] += µJ(es[i])
			byDomain[d] = append(byDomain[d], point{ts, µJ(es[i])})
			meanW[d] += ws[i] / float64(len(ws))
		}
		if v, ok := vmPlan[d]; ok {
			for _, n := range column(t, s, "vcpus") {
				if n == nil || n.(json.Number).String() != fmt.Sprint(v.vcpus) {
					t.Errorf("%s: vcpus %v, want %d", d, n, v.vcpus)
					break
				}
			}
		}
	}
	bad := 0
	for ts, e := range host {
		if parts[ts] != e {
			bad++
			t.Errorf("interval at %s: the parts add up to %d µJ, the host used %d", time.Unix(0, ts), parts[ts], e)
		}
	}
	t.Logf("kvm-0: %d intervals, each divided exactly (%d not)", len(host), bad)
	hostW := fixtures["kvm-0"].totalW()
	want := map[string]float64{
		"_hypervisor": hostW * (machineBusy - vmPlan["greenit"].cpu - vmPlan["web"].cpu) / 2,
		"_unused":     hostW * (1 - machineBusy/2),
	}
	for d, v := range vmPlan {
		want[d] = hostW * v.cpu / 2
	}
	for d, w := range want {
		t.Logf("kvm-0 %s: mean %.3f W (the fixture's CPU times make it %.3f W)", d, meanW[d], w)
		if math.Abs(meanW[d]-w)/w > 0.03 {
			t.Errorf("kvm-0 %s: mean %.3f W, want %.3f W ± 3 %%", d, meanW[d], w)
		}
	}

	// Each guest measured what the hypervisor gave its domain, to the µJ.
	for _, name := range guestVMs {
		res := srv.query(t, fmt.Sprintf(`SELECT energy_joules, "source" FROM "metrics_from_pau"."forever"."power_host" WHERE "host" = '%s'`, name))
		var guest int64
		for i, e := range floats(t, column(t, res[0], "energy_joules")) {
			guest += µJ(e)
			if src := column(t, res[0], "source")[i]; src != "vm" {
				t.Errorf("%s: a point with source %v: it must read its counter, never fall back", name, src)
				break
			}
		}
		guestTimes := times(t, res[0])
		pts := byDomain[name]
		sort.Slice(pts, func(i, j int) bool { return pts[i].at.Before(pts[j].at) })
		// The guest started reading at some point of the hypervisor's run:
		// find the hypervisor's intervals whose sum is the guest's.
		from, to, found := window(pts, guest)
		var total int64
		for _, p := range pts {
			total += p.e
		}
		t.Logf("%s: sum(energy_joules) over its %d points = %.6f J; kvm-0's power_vm for domain=%s over the same window (its intervals %d to %d of %d) = %.6f J; over the whole run %.6f J",
			name, len(guestTimes), float64(guest)/1e6, name, from+1, to, len(pts), float64(windowSum(pts, from, to))/1e6, float64(total)/1e6)
		if !found || to-from < len(pts)-5 {
			t.Errorf("%s: no window of kvm-0's intervals adds up to the guest's %d µJ (the whole run gives %d)", name, guest, total)
		}
	}
}

type point struct {
	at time.Time
	e  int64
}

// window finds the intervals (from, to] of pts whose energy adds up to
// want exactly, preferring the longest.
func window(pts []point, want int64) (from, to int, ok bool) {
	prefix := make([]int64, len(pts)+1)
	for i, p := range pts {
		prefix[i+1] = prefix[i] + p.e
	}
	best := -1
	for j := len(pts); j >= 0; j-- {
		for i := 0; i < j; i++ {
			if prefix[j]-prefix[i] == want && j-i > best {
				from, to, best = i, j, j-i
			}
		}
	}
	return from, to, best >= 0
}

func windowSum(pts []point, from, to int) int64 {
	var s int64
	for _, p := range pts[from:to] {
		s += p.e
	}
	return s
}
