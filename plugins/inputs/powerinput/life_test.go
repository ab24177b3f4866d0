package powerinput

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/internal/guestcounter"
	"github.com/greencampus/powerinput/plugins/common/gatherloop"
)

// Step kinds of the whole-life test that wait for fixes on other branches
// of issue 20. The lead turns them on after merging.
const (
	// lifeFolderRemoved: the counter folder is removed (rm -rf) while
	// the host runs, and sometimes made again empty. Needs the vmwrite
	// branch (item 1: the writer notices, makes the folder again and goes
	// on from the energy it holds).
	lifeFolderRemoved = true
	// lifeStaleKept: a guest whose counter went stale (the host down for
	// vm_stale_intervals of the guest's gathers or more) keeps the first
	// advance after it as measured. Needs the vmguest branch (item 8);
	// without it that interval is left out, as docs/how-it-works.md says,
	// and the test checks that exactly that is left out.
	lifeStaleKept = true
)

// The whole life of a hypervisor and its guests, as random steps from a
// seed (POWERINPUT_LIFE_SEED replays one): gathers with random energy and
// CPU times, VMs that start, stop and restart under the same name, host
// agents stopped at a random point of a gather (nothing after it, as at a
// SIGTERM or a broken pipe) and started again on the same counter folder
// after a random time, and a guest agent in each running VM reading its
// counter through its own plugin instance. After every step each VM's
// counter has advanced by exactly the energy of its written power_vm rows
// (µJ); each guest row equals its counter's advance over the row's
// interval, and the guest leaves out only the intervals it documents
// (the move to a counter made anew, with a new counter_id, and the first
// advance of a stale counter unless lifeStaleKept).
func TestWholeLife(t *testing.T) {
	// A fixed seed by default, so that make test and CI are repeatable;
	// POWERINPUT_LIFE_SEED=random explores (a failure lists the last
	// events). No seed is known to fail. Seed 1796519938617498778 did,
	// by the model's fault: it expected a guest to keep the move of a
	// counter at 0 made anew (TestLifeZeroCounterMadeAnew).
	seed := int64(1)
	if s := os.Getenv("POWERINPUT_LIFE_SEED"); s == "random" {
		seed = time.Now().UnixNano()
	} else if s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("POWERINPUT_LIFE_SEED: %v", err)
		}
	}
	steps := 2000
	if testing.Short() {
		steps = 300
	}
	w := newLife(t, seed)
	defer func() {
		if t.Failed() {
			t.Logf("seed %d (POWERINPUT_LIFE_SEED=%d replays it); its last events:\n%s\nhost log:\n%s", seed, seed, w.lastEvents(), w.hostLog)
		}
	}()
	for w.step = 1; w.step <= steps && !t.Failed(); w.step++ {
		w.next()
	}
	for name := range w.guests {
		w.endGuest(name)
	}
	t.Logf("seed %d (vm_unused_capacity %q): %d steps, %d host gathers written, %d host restarts, %d VM starts, %d guest lives, %d guest rows, %d guest intervals left out at a counter made anew (gone with its folder while no host held it)",
		seed, w.policy, steps, w.n.written, w.n.restarts, w.n.starts, w.n.guests, w.n.guestRows, w.n.leftOut)
}

// A counter at 0 made anew: its VM started and the host agent, killed
// after the gather that made the counter (at 0: a new VM has no CPU time
// yet), started again; the counter folder is removed before the agent's
// first write. The agent does not hold that counter, so it makes it anew,
// from 0 with a new counter_id, and the guest, which knew the old one,
// leaves out the interval of the move: nothing tells it the new counter
// started at 0. The whole-life model once expected that interval kept
// because the old counter held no energy (seed 1796519938617498778).
func TestLifeZeroCounterMadeAnew(t *testing.T) {
	for _, again := range []bool{false, true} {
		t.Run(fmt.Sprintf("made again %v", again), func(t *testing.T) {
			w := newLife(t, 1)
			defer func() {
				if t.Failed() {
					t.Logf("events:\n%s\nhost log:\n%s", w.lastEvents(), w.hostLog)
				}
			}()
			dir := filepath.Join(w.root, "counters")
			var first string
			for w.step = 1; w.step <= 4; w.step++ {
				w.advance()
				switch w.step {
				case 1:
					w.startVMNamed("d")
					w.stopHostAt(stopAfterCommit, true, 0)
					first = counterID(t, dir, "d")
				case 2:
					w.removeFolderAgain(again)
					w.hostGather(true)
					if id := counterID(t, dir, "d"); id == first {
						t.Fatalf("the counter made anew kept its counter_id %s", id)
					}
				default:
					w.hostGather(true)
				}
				w.checkCounters()
				w.guestsGather()
			}
			if w.guests["d"] == nil || len(w.guests["d"].reads) != 4 {
				t.Fatalf("want a guest in d from step 1, gathering at steps 2 to 4")
			}
			log := w.guests["d"].log
			w.endGuest("d")
			if w.n.leftOut != 1 || w.n.guestRows != 2 {
				t.Errorf("%d interval(s) left out and %d row(s), want 1 (the move to the counter made anew) and 2", w.n.leftOut, w.n.guestRows)
			}
			if !strings.Contains(log.String(), "made anew: this interval is left out") {
				t.Errorf("the guest did not say it left out the move to a counter made anew; log:\n%s", log)
			}
		})
	}
}

// vmNames are the VMs' names; a name comes back when its VM restarts.
var vmNames = []string{"a", "b", "c", "d", "e"}

const (
	lifeStep  = 10 * time.Second
	raplRange = 262143328850 // max_energy_range_uj
)

type life struct {
	t     *testing.T
	rng   *rand.Rand
	step  int
	root  string
	clock *fakeClock

	policy string // vm_unused_capacity, drawn once
	rapl   uint64 // the RAPL counter, µJ
	busy   uint64 // the machine's CPU time (root cgroup), µs
	nextID int
	vms    map[string]*lifeVM // running, by name

	host    *PowerInput // nil while the host agent is down
	down    int         // steps the host agent stays down
	hostLog *bytes.Buffer
	// written is the energy of each VM's power_vm rows that were
	// written, since the beginning; the counters must hold exactly it.
	written map[string]energy.Energy
	// gone is the energy of stopped VMs' counters when the folder was
	// removed: made again or not (removeFolder).
	gone   map[string]energy.Energy
	guests map[string]*lifeGuest

	n struct{ written, restarts, starts, guests, guestRows, leftOut int }
	// events are the last lifeEvents things that happened, for a failure.
	events []string
}

const lifeEvents = 60

// event notes what happened at this step.
func (w *life) event(format string, args ...any) {
	if len(w.events) == lifeEvents {
		w.events = append(w.events[:0], w.events[1:]...)
	}
	w.events = append(w.events, fmt.Sprintf("step %d: %s", w.step, fmt.Sprintf(format, args...)))
}

func (w *life) lastEvents() string { return strings.Join(w.events, "\n") }

type lifeVM struct {
	id    int
	usage uint64 // µs
}

// lifeGuest is the guest agent of one VM's boot.
type lifeGuest struct {
	p   *PowerInput
	log *bytes.Buffer
	// reads[g] is the counter after gather g (0: Start), as the guest
	// read it; covered[g] says whether a row covered gather g-1 to g.
	reads   []energy.Energy
	covered []bool
	// lost[g]: the counter was gone with its folder before gather g (the
	// host did not hold it), so it may start again from 0 there, with a
	// new counter_id: the guest leaves that interval out, whether the new
	// counter is below the old (a reset) or above it (its identity says it
	// is another counter: its advance is no energy).
	lost map[int]bool
}

func newLife(t *testing.T, seed int64) *life {
	w := &life{t: t, rng: rand.New(rand.NewSource(seed)), root: t.TempDir(),
		clock: &fakeClock{now: time.Unix(1_700_000_000, 0)}, rapl: 1_000_000_000,
		vms: map[string]*lifeVM{}, hostLog: &bytes.Buffer{},
		written: map[string]energy.Energy{}, gone: map[string]energy.Energy{}, guests: map[string]*lifeGuest{}}
	w.policy = []string{unusedAsItIs, unusedByVCPUs}[w.rng.Intn(2)]
	zone := "sys/class/powercap/intel-rapl:0/"
	for path, text := range map[string]string{
		"sys/class/powercap/intel-rapl/enabled": "1",
		zone + "name":                           "package-0",
		zone + "max_energy_range_uj":            strconv.Itoa(raplRange),
		zone + "constraint_0_name":              "long_term",
		zone + "constraint_0_max_power_uw":      "150000000",
		"proc/stat":                             "cpu  4000 0 2000 14000 0 0 0 0 0 0\ncpu0 2000 0 1000 7000 0 0 0 0 0 0\ncpu1 2000 0 1000 7000 0 0 0 0 0 0",
		"sys/fs/cgroup/cgroup.controllers":      "cpu",
		"guest/sys/.keep":                       "",
		"guest/proc/.keep":                      "",
	} {
		w.write(path, text)
	}
	w.write("sys/class/powercap/intel-rapl:0/energy_uj", strconv.FormatUint(w.rapl, 10))
	w.write("sys/fs/cgroup/cpu.stat", cpuStat(w.busy))
	w.startHost()
	return w
}

func (w *life) fatalf(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("step %d: %s", w.step, fmt.Sprintf(format, args...))
}

func (w *life) write(path, text string) {
	w.t.Helper()
	if err := writeTree(filepath.Join(w.root, path), text+"\n"); err != nil {
		w.fatalf("%v", err)
	}
}

func scopeOf(name string, id int) string {
	return fmt.Sprintf(`sys/fs/cgroup/machine.slice/machine-qemu\x2d%d\x2d%s.scope`, id, name)
}

func cpuStat(usec uint64) string {
	return fmt.Sprintf("usage_usec %d\nuser_usec %d\nsystem_usec 0", usec, usec)
}

// files writes the machine as it is now, in place (its folders exist).
func (w *life) files() {
	w.update("sys/class/powercap/intel-rapl:0/energy_uj", strconv.FormatUint(w.rapl, 10))
	w.update("sys/fs/cgroup/cpu.stat", cpuStat(w.busy))
	for name, vm := range w.vms {
		w.update(scopeOf(name, vm.id)+"/cpu.stat", cpuStat(vm.usage))
	}
}

func (w *life) update(path, text string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.root, path), []byte(text+"\n"), 0o644); err != nil {
		w.fatalf("%v", err)
	}
}

// advance moves the world on by one step: the clock, the package's
// energy (20 to 300 W), each VM's CPU time (up to 3 s of 10, never none,
// so that a running VM's counter moves at each written gather) and the
// machine's (the VMs' and up to 2 s of the host's own).
func (w *life) advance() {
	w.clock.now = w.clock.now.Add(lifeStep)
	watts := 20 + w.rng.Intn(281)
	w.rapl = (w.rapl + uint64(watts)*uint64(lifeStep/time.Microsecond) + uint64(w.rng.Intn(1_000_000))) % raplRange
	w.busy += uint64(w.rng.Intn(2_000_001))
	for _, name := range vmNames { // in order: a seed replays exactly
		if vm := w.vms[name]; vm != nil {
			d := 1000 + uint64(w.rng.Intn(3_000_000))
			vm.usage += d
			w.busy += d
		}
	}
	w.files()
}

// next runs one step: the world moves, things happen to it, the host
// agent gathers (or is stopped in its gather), the guests gather.
func (w *life) next() {
	w.advance()
	switch r := w.rng.Intn(100); {
	case r < 8 && len(w.vms) < len(vmNames):
		w.startVM()
	case r < 14 && len(w.vms) > 0:
		w.stopVM()
	}
	switch {
	case w.host == nil:
		if w.down--; w.down <= 0 {
			w.startHost() // at the end of this step: its baseline
		}
	case w.rng.Intn(100) < 5:
		w.stopHost()
	default:
		if lifeFolderRemoved && w.rng.Intn(100) < 2 {
			w.removeFolder() // the host's gather finds it gone
		}
		w.hostGather(true)
	}
	w.checkCounters()
	w.guestsGather()
}

func (w *life) startVM() {
	var free []string
	for _, n := range vmNames {
		if w.vms[n] == nil {
			free = append(free, n)
		}
	}
	w.startVMNamed(free[w.rng.Intn(len(free))])
}

func (w *life) startVMNamed(name string) {
	w.event("VM %s starts", name)
	w.nextID++
	vm := &lifeVM{id: w.nextID, usage: uint64(w.rng.Intn(5_000_000))}
	w.vms[name] = vm
	w.n.starts++
	w.write(scopeOf(name, vm.id)+"/cpu.stat", cpuStat(vm.usage))
	// Its qemu, which names it (an -smp it cannot read: the vCPUs are
	// the groups'); PIDs as IDs, never reused.
	pid := 10000 + vm.id
	w.write(scopeOf(name, vm.id)+"/cgroup.procs", strconv.Itoa(pid))
	w.write(fmt.Sprintf("proc/%d/cmdline", pid), "/usr/bin/qemu-system-x86_64\x00-name\x00guest="+name+"\x00-smp\x00cpus=unknown")
	for i := range w.rng.Intn(5) { // 0: vCPUs unknown, no share of the unused
		w.write(fmt.Sprintf("%s/libvirt/vcpu%d/cpu.stat", scopeOf(name, vm.id), i), cpuStat(0))
	}
}

func (w *life) stopVM() {
	var names []string
	for n := range w.vms {
		names = append(names, n)
	}
	slices.Sort(names)
	name := names[w.rng.Intn(len(names))]
	w.event("VM %s stops", name)
	if err := os.RemoveAll(filepath.Join(w.root, scopeOf(name, w.vms[name].id))); err != nil {
		w.fatalf("%v", err)
	}
	delete(w.vms, name)
	if w.guests[name] != nil {
		w.endGuest(name) // the guest's last gather was the step before
	}
}

// removeFolder removes the counter folder, as rm -rf does, and sometimes
// makes it again, empty. The host goes on with the counters it holds
// from the energy it holds, exactly; a counter it does not hold (a VM
// stopped, or running since before the host restarted and not yet
// written by it) is gone with the folder: the host makes it anew, from 0
// and with a new counter_id, and its guest leaves out the interval of
// that move, even when the old counter held 0 (nothing tells the host
// what it held, nor the guest that the new one started at 0).
func (w *life) removeFolder() { w.removeFolderAgain(w.rng.Intn(2) == 0) }

// removeFolderAgain removes the counter folder, and makes it again, empty,
// when again.
func (w *life) removeFolderAgain(again bool) {
	w.event("counter folder removed")
	for _, name := range vmNames {
		if _, held := w.host.vms.counters.Value(name); held {
			continue
		}
		w.gone[name] += w.written[name]
		w.written[name] = 0
		if g := w.guests[name]; g != nil {
			g.lost[len(g.reads)] = true
		}
	}
	dir := filepath.Join(w.root, "counters")
	if err := os.RemoveAll(dir); err != nil {
		w.fatalf("%v", err)
	}
	if again {
		w.event("counter folder made again, empty")
		if err := os.Mkdir(dir, 0o755); err != nil {
			w.fatalf("%v", err)
		}
	}
}

func (w *life) startHost() {
	w.event("host agent starts")
	p, err := ParseConfig(fmt.Sprintf("[[inputs.powerinput]]\nhost_sys = %q\nhost_proc = %q\nsources = [\"rapl\"]\ncpu = false\nnet = false\ndefault_metaphors = false\nvms = true\nvm_counter_dir = %q\nvm_unused_capacity = %q\n",
		filepath.Join(w.root, "sys"), filepath.Join(w.root, "proc"), filepath.Join(w.root, "counters"), w.policy))
	if err != nil {
		w.fatalf("host config: %v", err)
	}
	p.Log = NewLineLogger(w.hostLog, telegraf.Info)
	p.clock = w.clock.Now
	p.sleep = func(d time.Duration) { w.clock.now = w.clock.now.Add(d) }
	if err := p.Init(); err != nil {
		w.fatalf("host Init: %v", err)
	}
	p.CommitAfterWrite() // as powerinput's loop does, before Start
	if err := p.Start(nil); err != nil {
		w.fatalf("host Start: %v", err)
	}
	w.host = p
}

// stopHost stops the host agent at a random point of this step's gather,
// as a SIGTERM or a broken pipe does: before it, during it (nothing
// written, nothing committed), or after its write and commit. The agent
// stays down for 0 to 5 steps.
func (w *life) stopHost() {
	at := lifeStop(w.rng.Intn(3))
	killed := w.rng.Intn(2) != 0
	w.stopHostAt(at, killed, w.rng.Intn(6))
}

// lifeStop is where in its gather the host agent is stopped.
type lifeStop int

const (
	stopBeforeGather lifeStop = iota
	stopBeforeWrite           // gathered, nothing written
	stopAfterCommit           // written and committed
)

// stopHostAt stops the host agent at, killed (its files closed by the
// kernel, nothing more) or stopped by its loop; it starts again after
// down steps (0: at once, at the end of this step).
func (w *life) stopHostAt(at lifeStop, killed bool, down int) {
	how := "stopped by its loop"
	if killed {
		how = "killed"
	}
	w.event("host agent %s %s, down for %d steps", how, [...]string{"before its gather", "before its write", "after its commit"}[at], down)
	switch at {
	case stopBeforeWrite:
		w.hostGather(false)
	case stopAfterCommit:
		w.hostGather(true)
	}
	if !killed {
		w.host.Stop() // a loop that ends in time stops its input
	} else if c := w.host.vms.counters; c != nil {
		// Killed: the kernel closes its files, so the counter folder's
		// lock goes with them, and nothing held is written.
		c.Close()
	}
	w.host = nil
	w.n.restarts++
	if w.down = down; w.down == 0 {
		w.startHost()
	}
}

// hostGather runs one gather of the host agent; when written, its points
// go out (adding up the power_vm rows) and it is committed, as the loop
// does after a write that succeeded.
func (w *life) hostGather(written bool) {
	acc := gatherloop.NewAccumulator()
	if err := w.host.Gather(acc); err != nil {
		w.fatalf("host Gather: %v", err)
	}
	if !written {
		return
	}
	vmEnergy(w.t, acc.Bytes(), w.written)
	w.host.Committed()
	w.n.written++
}

// checkCounters: each VM's counter holds the energy of its written rows.
func (w *life) checkCounters() {
	dir := filepath.Join(w.root, "counters")
	for _, name := range vmNames {
		got, want := counterValue(w.t, dir, name), w.written[name]
		if g := w.gone[name]; g != 0 && got == want+g {
			w.written[name], w.gone[name] = want+g, 0 // made again
			continue
		} else if g != 0 && got != 0 {
			w.gone[name] = 0 // gone with the folder
		}
		if got != want {
			w.fatalf("VM %s: its counter holds %d µJ, its written power_vm rows %d µJ", name, got, want)
		}
	}
}

// guestsGather starts a guest in each running VM whose counter exists and
// has none, and has the others gather once.
func (w *life) guestsGather() {
	dir := filepath.Join(w.root, "counters")
	for _, name := range vmNames {
		if w.vms[name] == nil {
			continue
		}
		g := w.guests[name]
		if g == nil {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				w.startGuest(name)
			}
			continue
		}
		acc := gatherloop.NewAccumulator()
		if err := g.p.Gather(acc); err != nil {
			w.fatalf("guest %s: Gather: %v", name, err)
		}
		g.reads = append(g.reads, counterValue(w.t, dir, name))
		g.covered = append(g.covered, false)
		w.event("guest %s gathers (its gather %d): its counter %s at %d µJ", name, len(g.reads)-1, counterID(w.t, dir, name), g.reads[len(g.reads)-1])
		pts, err := fixtures.ParsePoints(acc.Bytes())
		if err != nil {
			w.fatalf("guest %s: %v", name, err)
		}
		for _, p := range pts {
			if p.Name != "power_host" {
				continue
			}
			if p.Tags["source"] != "vm" {
				w.fatalf("guest %s: a power_host row of source=%s", name, p.Tags["source"])
			}
			w.guestRow(name, g, microjoules(p.Fields[fieldEnergy]), p.Fields[fieldInterval])
		}
	}
}

// guestRow checks one row of a guest against its counter: the row covers
// the last n of its gathers, and carries the counter's advance over them.
func (w *life) guestRow(name string, g *lifeGuest, e energy.Energy, seconds float64) {
	n := int(math.Round(seconds / lifeStep.Seconds()))
	last := len(g.reads) - 1
	if n < 1 || n > last || math.Abs(seconds-float64(n)*lifeStep.Seconds()) > 1e-6 {
		w.fatalf("guest %s: a row over %v s, not a whole number of its %d intervals", name, seconds, last)
	}
	if want := g.reads[last] - g.reads[last-n]; e != want {
		w.fatalf("guest %s: a row of %d µJ over its last %d intervals, its counter advanced by %d µJ", name, e, n, want)
	}
	for i := last - n + 1; i <= last; i++ {
		if g.covered[i] {
			w.fatalf("guest %s: interval %d in two rows", name, i)
		}
		g.covered[i] = true
	}
	w.n.guestRows++
}

func (w *life) startGuest(name string) {
	log := &bytes.Buffer{}
	p, err := ParseConfig(fmt.Sprintf("[[inputs.powerinput]]\nhost_sys = %q\nhost_proc = %q\nvm_powercap_path = %q\nsources = [\"vm\"]\ncpu = false\nnet = false\ndefault_metaphors = false\n",
		filepath.Join(w.root, "guest", "sys"), filepath.Join(w.root, "guest", "proc"), filepath.Join(w.root, "counters", name)))
	if err != nil {
		w.fatalf("guest config: %v", err)
	}
	p.Log = NewLineLogger(log, telegraf.Info)
	p.clock = w.clock.Now
	p.sleep = func(d time.Duration) { w.clock.now = w.clock.now.Add(d) }
	if err := p.Init(); err != nil {
		w.fatalf("guest %s: Init: %v", name, err)
	}
	if err := p.Start(nil); err != nil {
		w.fatalf("guest %s: Start: %v", name, err)
	}
	dir := filepath.Join(w.root, "counters")
	v := counterValue(w.t, dir, name)
	w.event("guest %s starts: its counter %s at %d µJ", name, counterID(w.t, dir, name), v)
	w.guests[name] = &lifeGuest{p: p, log: log, reads: []energy.Energy{v}, covered: []bool{true}, lost: map[int]bool{}}
	w.n.guests++
}

// endGuest checks a guest's whole life: every interval in which its
// counter moved is in one of its rows, except the first advance after the
// counter was stale (unchanged over vm_stale_intervals of its gathers),
// which it leaves out unless lifeStaleKept, and the move to a counter made
// anew, which no row may carry.
func (w *life) endGuest(name string) {
	g := w.guests[name]
	delete(w.guests, name)
	g.p.Stop()
	stale := g.p.VMStaleIntervals
	for i := 1; i < len(g.reads); i++ {
		if g.lost[i] && g.covered[i] && g.reads[i] != g.reads[i-1] {
			w.fatalf("guest %s: a row carries the move of its counter between its gathers %d and %d, though the counter was made anew; log:\n%s", name, i-1, i, g.log)
		}
		if g.covered[i] || g.reads[i] == g.reads[i-1] {
			continue
		}
		if g.lost[i] {
			w.n.leftOut++ // the counter was gone with its folder, made anew
			continue
		}
		wasStale := i-1 >= stale
		for j := i - 1; wasStale && j > i-1-stale; j-- {
			wasStale = g.reads[j] == g.reads[j-1]
		}
		if !wasStale || lifeStaleKept {
			w.fatalf("guest %s: its counter advanced by %d µJ between its gathers %d and %d, and no row carries it; log:\n%s", name, g.reads[i]-g.reads[i-1], i-1, i, g.log)
		}
		w.n.leftOut++
	}
}

// counterID is the first digits of a counter's counter_id, for an event.
func counterID(t testing.TB, dir, domain string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, domain, guestcounter.Zone, guestcounter.IDFile))
	switch {
	case os.IsNotExist(err):
		return "(no counter_id)"
	case err != nil:
		t.Fatalf("counter_id of %s: %v", domain, err)
	}
	return "id " + string(b[:min(len(b), 8)])
}
