package powerinput

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/attribute"
	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/guestcounter"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/say"
	"github.com/greencampus/powerinput/internal/vmhost"
)

// Fields of power_vm besides power_host's; a metaphor may not take one of
// these names either.
const (
	fieldVCPUs      = "vcpus"
	fieldUnusedPart = "unused_capacity_joules"
)

func vmFields() []string { return []string{fieldCPUSeconds, fieldVCPUs, fieldUnusedPart} }

// Policies for the unused capacity (vm_unused_capacity).
const (
	unusedAsItIs   = "unused"
	unusedByVCPUs  = "vcpus"
	measurementVMs = "power_vm"
)

// vmsCollector writes power_vm on a hypervisor: this gather's host energy
// (power_host's, from the power collector) divided exactly over the VMs by
// CPU time over the capacity of the interval, with the host's own work and
// the unused capacity as parts of their own; and, when the host's energy
// is measured, adds each VM's part to the counter its guest reads.
type vmsCollector struct {
	w      *partWriter
	say    *say.Once
	policy string

	finder  *vmhost.Finder
	g       guard.Guard // the VMs' CPU times
	sample  vmhost.Sample
	readErr error
	read    func() // under g; a seam for tests
	// The machine's busy ticks and online CPUs from this gather's
	// /proc/stat (tick.cpu), for read; set only while g is idle.
	busyTicks uint64
	cpus      int

	counters *guestcounter.Writer // nil: no counters
	wg       guard.Guard          // the counters' writes
	// gathered is this gather's energy for the counters, by domain, held
	// until its power_vm rows are written (commit); pending is what was
	// committed and is not in the counters yet (a write under way).
	gathered map[string]energy.Energy
	// afterWrite: a loop commits each gather once its points are written
	// (gatherloop.Committer); otherwise a gather commits at its end.
	afterWrite bool
	pending    map[string]energy.Energy
	batch      []guestcounter.Add
	fails      []guestcounter.Failure
	// late: a write timed out; once it returns, its failures (fails) are
	// said at the next flush.
	late   bool
	apply  func()
	failed *say.Conditions // counters that could not be made

	tracker attribute.Tracker
	split   attribute.Split
	byVCPUs attribute.ByVCPUs
	at      time.Time
	primed  bool

	rows    []vmRow
	loads   []time.Duration
	vcpus   []int
	parts   []energy.Energy
	extra   []energy.Energy
	skipped *say.Conditions // VMs that could not be read
	unnamed *say.Conditions // VMs named from their machine name
}

// vmRow is one VM of a gather, by tag.
type vmRow struct {
	tag    string
	domain string // "" when VMs of different names share the tag: no counter
	vcpus  int
	cpu    time.Duration
	// counted: the VM has a CPU time for the interval (it is not new).
	counted bool
	// kept: named from its cgroup's machine name, kept (qemu's command
	// line could not be read for long): no counter, and no row when a VM
	// named from a command line has its tag.
	kept bool
}

func newVMsCollector(roots kfile.Roots, counterDir, policy string, clock func() time.Time, m metaphors, tell *say.Once) *vmsCollector {
	c := &vmsCollector{
		w: newPartWriter(measurementVMs, "domain", true, m), say: tell, policy: policy,
		finder:  vmhost.NewFinder(roots.Sys, roots.Proc, clock),
		pending: map[string]energy.Energy{}, gathered: map[string]energy.Energy{},
		failed: say.NewConditions(tell.Say), skipped: say.NewConditions(tell.Say),
		unnamed: say.NewConditions(tell.Say),
	}
	c.read = func() { c.readErr = c.finder.SampleFrom(&c.sample, c.busyTicks, c.cpus) }
	// Not inline: naming a VM reads its emulator's /proc/<pid>/cmdline,
	// which waits for the process's memory map lock, held as long as a
	// page fault of that process is stuck (a hung NFS or FUSE file).
	if counterDir != "" {
		c.counters = guestcounter.New(counterDir)
		c.apply = func() { c.fails = c.counters.Apply(c.batch) }
	}
	return c
}

func (c *vmsCollector) close(deadline time.Time) {
	c.g.Do(deadline, c.finder.Close)
	if c.counters != nil {
		c.flush(deadline) // energy committed, still waiting for a hung write
		c.wg.Do(deadline, c.counters.Close)
	}
}

func (c *vmsCollector) gather(acc telegraf.Accumulator, t *tick) {
	// What an earlier gather held was never committed: its rows were not
	// written, so the guests do not get its energy either.
	clear(c.gathered)
	host, ts := t.host, t.ts
	deadline := t.deadline()
	if host.Held {
		// The power interval goes on into the next gather: so do the VMs'
		// baselines, or their CPU times would cover less than the energy.
		return
	}
	err := c.readVMs(t.cpu, deadline)
	if err != nil {
		c.say.Say("vms:read", say.Warn, fmt.Sprintf("cannot read the VMs' CPU times: %v; the interval's energy is written as domain=%s", err, vmhost.Unattributed))
		c.tracker, c.primed = attribute.Tracker{}, false // the next reading is a baseline
		if host.Measured() {
			c.writeWhole(acc, ts, host)
		}
		return
	}
	c.say.Say("vms:read", say.Info, "")
	s := &c.sample
	c.say.Say("vms:method", say.Info, fmt.Sprintf("VMs are found by %s under %s", s.Method, s.Where))
	c.reportSkipped(s)
	c.reportNames(s)
	if s.Truncated {
		c.say.Say("vms:truncated", say.Warn, fmt.Sprintf("more than %d VMs: the CPU time of the others counts as domain=%s", vmhost.MaxVMs, vmhost.Hypervisor))
	}

	c.tracker.Begin()
	busy, busyOK := c.tracker.Observe("\x00busy from "+s.BusyFrom, s.Busy)
	c.rows = c.rows[:0]
	for _, vm := range s.VMs {
		// Followed by its ID even while its name is a fallback, so that
		// its first interval under its name is counted whole.
		d, ok := c.tracker.Observe(vm.ID, vm.Usage)
		if vm.NameFrom == vmhost.NameFromMachine {
			// A machine name may be another VM's name (or none's): its CPU
			// time is the host's own work until qemu's names it.
			c.unnamed.Say("vms:unnamed:"+vm.ID, say.Warn, fmt.Sprintf("VM %q: its name could not be read from qemu's command line yet; its CPU time counts as %s until it can", vm.Domain, vmhost.Hypervisor))
			continue
		}
		if vm.NameFrom == vmhost.NameFromMachineKept {
			c.unnamed.Say("vms:unnamed:"+vm.ID, say.Warn, fmt.Sprintf("VM %q: its name could not be read from qemu's command line for long (a /proc that hides qemu?); it is written under its cgroup's machine name, domain=%s, with no guest counter, or counts as %s when a VM named from its command line has that name", vm.Domain, vmhost.TagName(vm.Domain), vmhost.Hypervisor))
		}
		c.rows = append(c.rows, vmRow{tag: vmhost.TagName(vm.Domain), domain: vm.Domain, vcpus: vm.VCPUs, cpu: d, counted: ok,
			kept: vm.NameFrom == vmhost.NameFromMachineKept})
	}
	c.unnamed.End()
	c.tracker.End()
	c.mergeRows()
	interval := s.At.Sub(c.at)
	wasPrimed := c.primed
	c.at, c.primed = s.At, true

	if !host.Measured() {
		return // no energy this gather: the baselines moved on with power's
	}
	measured := host.Model == ""
	if measured {
		c.say.Say("vms:model", say.Info, "")
	} else {
		c.say.Say("vms:model", say.Warn, fmt.Sprintf("the host's power is an estimate (model %s): power_vm carries source=%s, and the guests' counters are not advanced, so that no guest reports an estimate as a measurement", host.Model, host.Source))
	}
	if !busyOK || !wasPrimed || interval <= 0 {
		c.writeWhole(acc, ts, host)
		c.count(measured, nil, deadline)
		return
	}

	c.divide(acc, ts, host, busy, time.Duration(s.CPUs)*interval, measured, deadline)
}

// readVMs reads the VMs' CPU times under the guard, with the machine's
// from this gather's /proc/stat.
func (c *vmsCollector) readVMs(cpu cpuTotal, deadline time.Time) error {
	if !cpu.ok {
		return cpu.err
	}
	if !c.g.Busy() {
		c.busyTicks, c.cpus = cpu.busy, cpu.cpus
	}
	if err := c.g.Do(deadline, c.read); err != nil {
		return err
	}
	return c.readErr
}

// divide writes the interval's host energy divided by CPU time: each VM by
// its CPU time, the host's own work by the rest of the busy time, the
// unused capacity by what is left of CPUs × interval.
func (c *vmsCollector) divide(acc telegraf.Accumulator, ts time.Time, host hostReading, busy, capacity time.Duration, measured bool, deadline time.Time) {
	c.loads, c.vcpus = c.loads[:0], c.vcpus[:0]
	for _, r := range c.rows {
		if r.counted {
			c.loads = append(c.loads, r.cpu)
			c.vcpus = append(c.vcpus, r.vcpus)
		}
	}
	d := c.split.ByCPUTime(host.Energy, c.loads, busy, capacity, c.parts)
	c.parts = d.Parts
	c.extra = slices.Grow(c.extra[:0], len(c.parts))[:len(c.parts)]
	clear(c.extra)
	if c.policy == unusedByVCPUs {
		d.Unused = c.byVCPUs.Give(d.Unused, c.vcpus, c.extra)
	}
	i := 0
	for _, r := range c.rows {
		if !r.counted {
			continue
		}
		if c.policy == unusedByVCPUs && r.vcpus == 0 {
			c.say.Say("vms:vcpus:"+r.tag, say.Warn, fmt.Sprintf("VM %s: its number of vCPUs is unknown, so it gets no share of the unused capacity (vm_unused_capacity = %q)", r.tag, unusedByVCPUs))
		}
		c.writeVM(acc, ts, host, r, c.parts[i]+c.extra[i], c.extra[i])
		i++
	}
	c.w.rest(acc, ts, host, d, [2]string{vmhost.Hypervisor, ""}, [2]string{vmhost.Unused, ""})
	c.count(measured, c.parts, deadline)
}

// mergeRows sorts the rows by tag and adds up VMs that share one (two runs
// of a domain a moment apart, or, in practice never, two names that make
// the same tag). A kept machine name's row is dropped when a VM named from
// its command line has its tag (its CPU time then counts as the
// hypervisor's): it is never added to another VM's.
func (c *vmsCollector) mergeRows() {
	slices.SortFunc(c.rows, func(a, b vmRow) int {
		if n := cmp.Compare(a.tag, b.tag); n != 0 {
			return n
		}
		switch {
		case a.kept == b.kept:
			return 0
		case b.kept: // named from a command line first
			return -1
		}
		return 1
	})
	out := c.rows[:0]
	for _, r := range c.rows {
		if n := len(out); n > 0 && out[n-1].tag == r.tag {
			last := &out[n-1]
			if r.kept && !last.kept {
				continue
			}
			if last.domain != r.domain {
				last.domain = ""
			}
			last.vcpus = max(last.vcpus, r.vcpus)
			if r.counted {
				last.cpu += r.cpu
				last.counted = true
			}
			continue
		}
		out = append(out, r)
		if r.tag != r.domain && !r.kept {
			c.say.Say("vms:tag:"+r.domain, say.Info, fmt.Sprintf("VM %q is written as domain=%q (a name that begins with '_', or that line protocol cannot carry as it is)", r.domain, r.tag))
		}
	}
	c.rows = out
}

func (c *vmsCollector) reportSkipped(s *vmhost.Sample) {
	for _, err := range s.Skipped {
		msg := fmt.Sprintf("a VM could not be read this time: %v; its CPU time counts as domain=%s until it can", err, vmhost.Hypervisor)
		c.skipped.Say("vms:skip:"+msg, say.Warn, msg)
	}
	// A VM no longer skipped is let go (its key holds its group's path:
	// kept, they would pile up while another VM stays unreadable), and
	// said again if it comes back.
	c.skipped.End()
}

// writeVM writes one VM's point.
func (c *vmsCollector) writeVM(acc telegraf.Accumulator, ts time.Time, host hostReading, r vmRow, e, unusedShare energy.Energy) {
	c.w.begin(host, e)
	c.w.cpu(r.cpu)
	if r.vcpus > 0 {
		c.w.fields[fieldVCPUs] = int64(r.vcpus)
	}
	if c.policy == unusedByVCPUs {
		c.w.fields[fieldUnusedPart] = unusedShare.Joules()
	}
	c.w.emit(acc, ts, host, r.tag, "")
}

// writeWhole writes the interval's whole energy as unattributed.
func (c *vmsCollector) writeWhole(acc telegraf.Accumulator, ts time.Time, host hostReading) {
	c.w.begin(host, host.Energy)
	c.w.emit(acc, ts, host, vmhost.Unattributed, "")
}

// count holds the VMs' parts (parts: by counted row; nil: none) for their
// guests' counters, when the host's energy is measured, and commits them
// now unless a loop commits them once the gather's rows are written. A VM
// without a part this interval (new) has its counter made, at 0 more.
func (c *vmsCollector) count(measured bool, parts []energy.Energy, deadline time.Time) {
	if c.counters == nil || !measured {
		return
	}
	i := 0
	for _, r := range c.rows {
		var e energy.Energy
		if r.counted && parts != nil {
			e = parts[i] + c.extra[i]
			i++
		}
		if r.domain != "" && !r.kept {
			c.gathered[r.domain] += e
		}
	}
	if !c.afterWrite {
		c.commit(deadline)
	}
}

// commit gives the counters what this gather held: its rows are written.
func (c *vmsCollector) commit(deadline time.Time) {
	if c.counters == nil {
		return
	}
	for d, e := range c.gathered {
		c.pending[d] += e
	}
	clear(c.gathered)
	c.flush(deadline)
}

// flush writes the pending energy to the counters, under the guard: a
// counter folder on a mount that hangs must not hold the gather. While an
// earlier write has not returned, energy stays pending.
func (c *vmsCollector) flush(deadline time.Time) {
	busy := c.wg.Busy()
	if c.late && !busy {
		// The write that timed out has returned since: what befell it.
		c.late = false
		c.reportWrite()
	}
	if len(c.pending) == 0 && (busy || !c.counters.Active()) {
		return
	}
	if busy {
		c.say.Say("vms:counters", say.Warn, fmt.Sprintf("writing the guests' counters under %s has not returned (a hung mount?): their energy is kept until it does", c.counters.Dir()))
		return
	}
	c.batch = c.batch[:0]
	for d, e := range c.pending {
		c.batch = append(c.batch, guestcounter.Add{Domain: d, Energy: e})
	}
	clear(c.pending)
	if err := c.wg.Do(deadline, c.apply); err != nil {
		c.say.Say("vms:counters", say.Warn, fmt.Sprintf("writing the guests' counters under %s did not return in time: %v", c.counters.Dir(), err))
		c.late = true
		return
	}
	c.reportWrite()
}

// reportWrite says what befell the last write of the counters, once it
// has returned.
func (c *vmsCollector) reportWrite() {
	c.say.Say("vms:counters", say.Info, "")
	if c.counters.Made() {
		c.say.Say("vms:made", say.Info, fmt.Sprintf("made %s: the guests' counters start at 0 there", c.counters.Dir()))
	}
	for _, f := range c.fails {
		c.failed.Say("vms:counter:"+f.Domain, say.Warn, counterFailure(f))
	}
	c.failed.End()
	if c.counters.NoDefinitions() {
		c.say.Say("vms:sweep", say.Info, fmt.Sprintf("the counter folders of VMs gone are not cleaned up: there is no folder of libvirt's definitions %s to tell a VM gone from one powered off (set host_etc to the host's /etc)", c.counters.Definitions()))
	}
	if swept := c.counters.Swept(); len(swept) > 0 {
		c.say.Say("vms:swept", say.Info, fmt.Sprintf("removed the counter folders of %d VM(s) under %s not written for %d days (VMs gone): %q", len(swept), c.counters.Dir(), guestcounter.StaleAfter/(24*time.Hour), swept))
	}
}

// counterFailure says what a guest counter's failure means for its energy.
func counterFailure(f guestcounter.Failure) string {
	switch {
	case f.Domain == "" && errors.Is(f.Err, guestcounter.ErrLocked):
		return fmt.Sprintf("guest counters: %v; this powerinput writes no counter there (its power_vm rows are still written): stop one of the two, or give each its own vm_counter_dir", f.Err)
	case f.Domain == "" && errors.Is(f.Err, guestcounter.ErrRemade):
		return fmt.Sprintf("guest counters: %v", f.Err)
	case f.Domain == "" && f.Lost > 0:
		return fmt.Sprintf("guest counters: %v; %s J held for an hour are given up (the guests will miss them)", f.Err, joules(f.Lost))
	case f.Domain == "":
		return fmt.Sprintf("guest counters: %v; the guests' energy is kept and written when the folder can be (for an hour at most)", f.Err)
	case f.Kept:
		return fmt.Sprintf("VM %q: its guest's counter could not be written: %v; its energy is kept and written when it can be (for an hour at most)", f.Domain, f.Err)
	case f.Lost > 0 && !errors.Is(f.Err, guestcounter.ErrName) && !errors.Is(f.Err, guestcounter.ErrTooMany):
		return fmt.Sprintf("VM %q: its guest's counter could not be written for an hour: %v; the %s J it held are given up (its guest will miss them)", f.Domain, f.Err, joules(f.Lost))
	}
	return fmt.Sprintf("no counter for VM %q: %v", f.Domain, f.Err)
}

// joules writes e in joules for a message.
func joules(e energy.Energy) string { return strconv.FormatFloat(e.Joules(), 'f', -1, 64) }

// checkVMOptions validates the hypervisor mode's options.
func checkVMOptions(policy, counterDir string) error {
	if policy != unusedAsItIs && policy != unusedByVCPUs {
		return fmt.Errorf("vm_unused_capacity = %q: want %q (written as domain=%s) or %q (given to the VMs in proportion to their vCPUs): %w", policy, unusedAsItIs, vmhost.Unused, unusedByVCPUs, ErrConfig)
	}
	if counterDir != "" && !filepath.IsAbs(counterDir) {
		return fmt.Errorf("vm_counter_dir = %q: want an absolute path, or \"\" for no guest counters: %w", counterDir, ErrConfig)
	}
	return nil
}
