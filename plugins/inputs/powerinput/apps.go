package powerinput

import (
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/attribute"
	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/source"
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
	measurement, nameTag string
	power                *powerCollector
	clock                func() time.Time
	sel                  attribute.Selector

	split  attribute.Split
	cpu    []time.Duration
	parts  []energy.Energy
	fields map[string]any
	tags   map[string]string
}

func newDivider(measurement, nameTag string, c Config, power *powerCollector, clock func() time.Time) *divider {
	return &divider{measurement: measurement, nameTag: nameTag, power: power, clock: clock,
		sel:    attribute.Selector{TopN: c.TopN, MinShare: c.MinShare, PerDay: c.MaxNamesPerDay, MaxLen: maxNameLen},
		fields: map[string]any{}, tags: map[string]string{}}
}

// divisible reports whether the gather's power_host interval can be
// divided by the CPU times of the same interval: power_host was written,
// CPU use is known, and both cover the same interval (a gather that
// missed a power reading would otherwise spread two intervals' CPU time
// over one interval's energy).
func divisible(host hostReading, u source.Utilisation, ok bool) bool {
	if !host.Measured() || !ok || u.Interval <= 0 || u.CPUs <= 0 {
		return false
	}
	d := host.Interval - u.Interval
	return d <= host.Interval/4 && -d <= host.Interval/4
}

// write divides host's energy over loads and adds the points.
func (dv *divider) write(acc telegraf.Accumulator, ts time.Time, host hostReading, u source.Utilisation, loads []attribute.Load) {
	capacity := time.Duration(u.CPUs) * u.Interval
	// Busy time comes as a share of CPU time (from ticks); rounded to the
	// microsecond, the unit the split weighs in, so float error does not
	// move a microsecond from one part to another.
	busy := time.Duration(u.Busy * float64(capacity)).Round(time.Microsecond)
	out, n := dv.sel.Select(dv.clock(), loads, busy)
	dv.cpu = dv.cpu[:0]
	var sum, other time.Duration
	for i, l := range out {
		sum += l.CPU
		if i < n {
			dv.cpu = append(dv.cpu, l.CPU)
		} else {
			other += l.CPU
		}
	}
	dv.cpu = append(dv.cpu, other)
	var own, unused energy.Energy
	dv.parts, own, unused = dv.split.ByCPUTime(host.Energy, dv.cpu, busy, capacity, dv.parts)
	// The CPU time of the two remaining parts, as ByCPUTime counts them.
	busy = max(busy, sum)
	capacity = max(capacity, busy)
	for i, l := range out[:n] {
		dv.add(acc, ts, l.Name, l.Kind, dv.parts[i], l.CPU, host.Interval)
	}
	dv.add(acc, ts, partOther, partOther, dv.parts[n], other, host.Interval)
	dv.add(acc, ts, partUnattributed, partUnattributed, own, busy-sum, host.Interval)
	dv.add(acc, ts, partUnused, partUnused, unused, capacity-busy, host.Interval)
}

func (dv *divider) add(acc telegraf.Accumulator, ts time.Time, name, kind string, e energy.Energy, cpu, interval time.Duration) {
	clear(dv.fields)
	dv.fields[fieldPower] = energy.Average(e, interval).Watts()
	dv.fields[fieldEnergy] = e.Joules()
	dv.fields[fieldCPUSeconds] = cpu.Seconds()
	dv.power.metaphorFields(dv.fields, e, interval)
	clear(dv.tags)
	dv.tags[dv.nameTag] = name
	dv.tags["kind"] = kind
	acc.AddGauge(dv.measurement, dv.fields, dv.tags, ts)
}
