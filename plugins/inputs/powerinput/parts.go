package powerinput

import (
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/attribute"
	"github.com/greencampus/powerinput/internal/energy"
)

// partWriter writes the parts of a host reading divided by CPU time
// (power_vm, power_service, power_process): one point per part, with its
// power, energy, CPU time and metaphors, and the host's source (and model)
// tags: a part of an estimated host's energy is an estimate too, and says
// so. The division itself is attribute.Split's; the writer computes
// nothing but the fields of each part.
type partWriter struct {
	measurement string
	nameTag     string // domain, unit, process
	interval    bool   // write interval_seconds (power_vm does)
	metaphors   metaphors

	fields map[string]any
	tags   map[string]string
}

func newPartWriter(measurement, nameTag string, interval bool, m metaphors) *partWriter {
	return &partWriter{measurement: measurement, nameTag: nameTag, interval: interval, metaphors: m,
		fields: map[string]any{}, tags: map[string]string{}}
}

// begin starts the point of a part of energy e of host's interval; the
// caller may add fields before emit.
func (w *partWriter) begin(host hostReading, e energy.Energy) {
	clear(w.fields)
	pw := energy.Average(e, host.Interval)
	w.fields[fieldPower] = pw.Watts()
	w.fields[fieldEnergy] = e.Joules()
	if w.interval {
		w.fields[fieldInterval] = host.Interval.Seconds()
	}
	w.metaphors.add(w.fields, pw, e)
}

// cpu adds the part's CPU time.
func (w *partWriter) cpu(d time.Duration) { w.fields[fieldCPUSeconds] = d.Seconds() }

// emit adds the point of the part named name (of kind kind; "" for a
// measurement without the kind tag).
func (w *partWriter) emit(acc telegraf.Accumulator, ts time.Time, host hostReading, name, kind string) {
	clear(w.tags)
	w.tags[w.nameTag] = name
	if kind != "" {
		w.tags["kind"] = kind
	}
	w.tags["source"] = host.Source
	if host.Model != "" {
		w.tags["model"] = host.Model
	}
	acc.AddGauge(w.measurement, w.fields, w.tags, ts)
}

// part writes a part with its CPU time.
func (w *partWriter) part(acc telegraf.Accumulator, ts time.Time, host hostReading, name, kind string, e energy.Energy, cpu time.Duration) {
	w.begin(host, e)
	w.cpu(cpu)
	w.emit(acc, ts, host, name, kind)
}

// rest writes the two parts a division leaves beside the workloads, with
// the CPU time ByCPUTime weighed them by: the host's own work (own) and
// the unused capacity (unused), each a name and a kind.
func (w *partWriter) rest(acc telegraf.Accumulator, ts time.Time, host hostReading, d attribute.Division, own, unused [2]string) {
	w.part(acc, ts, host, own[0], own[1], d.Own, d.OwnCPU)
	w.part(acc, ts, host, unused[0], unused[1], d.Unused, d.UnusedCPU)
}
