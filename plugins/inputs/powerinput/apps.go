package powerinput

import (
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/attribute"
	"github.com/greencampus/powerinput/internal/energy"
)

// The parts of an interval's energy that are not a workload of their own,
// as power_service and power_process write them (name and kind tags
// alike). No workload can take these names: kinds are fixed words, and a
// point is known by its name and its kind together.
const (
	// partOther: the workloads outside the top N, under the minimum
	// share, or beyond the day's names.
	partOther = "other"
	// partUnattributed: busy CPU time in no listed workload: the kernel's
	// own work (interrupts, and for services kernel threads and whatever
	// runs in the root group or in groups named like nothing known), and
	// what a process did between its last scan and its exit.
	partUnattributed = "unattributed"
	// partUnused: the CPU capacity nobody used in the interval. Its
	// energy is the part of the machine's draw that goes with idle time
	// under a split by CPU time: it is not the machine's idle (static)
	// power, which does not shrink as load grows.
	partUnused = "unused_capacity"
)

// Fields of power_service and power_process besides co2_grams and the
// metaphors.
const fieldCPUSeconds = "cpu_seconds"

// maxNameLen caps unit and process names, in bytes.
const maxNameLen = 64

// divider divides a gather's host energy over workloads by CPU time and
// writes one point per part: the workloads with a series of their own,
// other, unattributed and unused capacity. They add up to power_host's
// energy_joules of the same gather exactly, in integer microjoules.
type divider struct {
	clock func() time.Time
	sel   attribute.Selector
	w     *partWriter

	// base is the machine's CPU time when the workloads were last read.
	base  cpuTotal
	split attribute.Split
	cpuT  []time.Duration
	parts []energy.Energy
}

func newDivider(measurement, nameTag string, c Config, m metaphors, clock func() time.Time) *divider {
	return &divider{clock: clock, w: newPartWriter(measurement, nameTag, false, m),
		sel: attribute.Selector{TopN: c.TopN, MinShare: c.MinShare, PerDay: c.MaxNamesPerDay, MaxLen: maxNameLen}}
}

// span moves the baseline of the machine's CPU time to this gather's (call
// it at each gather the workloads were read) and returns the busy time and
// the capacity (online CPUs × interval) since the previous baseline, the
// span the workloads' CPU times cover too. ok is false when there is none.
func (dv *divider) span(now cpuTotal) (busy, capacity time.Duration, ok bool) {
	prev := dv.base
	dv.base = now
	if !now.ok || !prev.ok || now.all <= prev.all || now.busy < prev.busy || !now.at.After(prev.at) || now.cpus <= 0 {
		return 0, 0, false
	}
	capacity = time.Duration(now.cpus) * now.at.Sub(prev.at)
	// Busy time comes as a share of ticks; rounded to the microsecond,
	// the unit the split weighs in, so float error moves no microsecond.
	busy = time.Duration(float64(now.busy-prev.busy) / float64(now.all-prev.all) * float64(capacity)).Round(time.Microsecond)
	return busy, capacity, true
}

// reset: the workloads could not be read; the next span starts afresh.
func (dv *divider) reset() { dv.base.ok = false }

// divisible reports whether the gather's power_host interval can be
// divided by CPU times over capacity: power_host was written, and the
// workloads' span covers the same interval (a gather that missed a power
// reading would otherwise spread two intervals' CPU time over one
// interval's energy).
func divisible(host hostReading, capacity time.Duration, cpus int) bool {
	if !host.Measured() || capacity <= 0 || cpus <= 0 {
		return false
	}
	d := host.Interval - capacity/time.Duration(cpus)
	return d <= host.Interval/4 && -d <= host.Interval/4
}

// divide adds the points of the gather, when its power_host interval can
// be divided: busy and capacity from span.
func (dv *divider) divide(acc telegraf.Accumulator, ts time.Time, host hostReading, loads []attribute.Load, busy, capacity time.Duration, ok bool) {
	if ok && divisible(host, capacity, dv.base.cpus) {
		dv.write(acc, ts, host, loads, busy, capacity)
	}
}

// write divides host's energy over loads and adds the points.
func (dv *divider) write(acc telegraf.Accumulator, ts time.Time, host hostReading, loads []attribute.Load, busy, capacity time.Duration) {
	out, n := dv.sel.Select(dv.clock(), loads, busy)
	dv.cpuT = dv.cpuT[:0]
	var other time.Duration
	for i, l := range out {
		if i < n {
			dv.cpuT = append(dv.cpuT, l.CPU)
		} else {
			other += l.CPU
		}
	}
	dv.cpuT = append(dv.cpuT, other)
	d := dv.split.ByCPUTime(host.Energy, dv.cpuT, busy, capacity, dv.parts)
	dv.parts = d.Parts
	for i, l := range out[:n] {
		dv.w.part(acc, ts, host, l.Name, l.Kind, d.Parts[i], l.CPU)
	}
	dv.w.part(acc, ts, host, partOther, partOther, d.Parts[n], other)
	dv.w.rest(acc, ts, host, d, [2]string{partUnattributed, partUnattributed}, [2]string{partUnused, partUnused})
}
