package powerinput

import (
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/sensors"
	srcmsr "github.com/greencampus/powerinput/internal/source/msr"
	"github.com/greencampus/powerinput/internal/source/rapl"
)

// Metaphor bases (metaphor_basis).
const (
	basisAuto  = "auto"  // the wall where it has a value, else the parts
	basisParts = "parts" // power_watts: CPU packages, DRAM and GPUs
	basisWall  = "wall"  // the wall only: no metaphor where it has no value
)

// host is a gather's host total: the chain's parts, the GPUs measured over
// the same interval, and the wall beside them.
type host struct {
	total    energy.Energy // packages, DRAM and the GPUs included
	interval time.Duration
	gpu      energy.Energy // the GPUs' part of total
	gpus     bool          // the machine has GPUs
	partial  bool          // a GPU has no value for the interval
	wall     *sensors.Reading
}

// host adds up a gather's parts. ok is false where the chain gives no
// whole total (a part missing or doubtful): there is then no host total.
func (c *powerCollector) host(s sample) (h host, ok bool) {
	res := s.reading.Result
	if !res.Complete || res.Interval <= 0 {
		return host{}, false
	}
	h.total, h.interval = res.Total(), res.Interval
	if s.side == nil {
		return h, true
	}
	h.gpus = len(s.side.GPUs) > 0
	for _, name := range s.side.GPUs {
		r := joined(s, func(sn *sensors.Sensor) bool { return sn.Kind == sensors.GPU && sn.Name == name })
		if r == nil {
			h.partial = true
			continue
		}
		h.gpu += r.Energy
	}
	h.total += h.gpu
	h.wall = joined(s, func(sn *sensors.Sensor) bool { return sn.Scope == sensors.Wall })
	return h, true
}

// joined is the energy over the chain's interval of the sensor that match
// picks; nil if it has none for exactly that interval.
func joined(s sample, match func(*sensors.Sensor) bool) *sensors.Reading {
	for i := range s.joined {
		if match(s.joined[i].Sensor) {
			return &s.joined[i]
		}
	}
	return nil
}

// coverage is the share of the wall's power that the parts account for,
// where both are whole measurements of the same interval: the parts
// measured on this machine (rapl or msr), every GPU included.
func (h host) coverage(src string) (float64, bool) {
	if h.wall == nil || h.partial || (src != rapl.Name && src != srcmsr.Name) {
		return 0, false
	}
	w := h.wall.Power()
	if w <= 0 {
		return 0, false
	}
	return energy.Average(h.total, h.interval).Watts() / w.Watts(), true
}

// basis is the power and energy the metaphors and co2_grams count, and
// whether they are the wall's; ok is false when the basis has no value
// (metaphor_basis = "wall" and no wall reading).
func (h host) basis(mode string) (p energy.Power, e energy.Energy, wall, ok bool) {
	switch {
	case h.wall != nil && mode != basisParts:
		return h.wall.Power(), h.wall.Energy, true, true
	case mode == basisWall:
		return 0, 0, false, false
	}
	return energy.Average(h.total, h.interval), h.total, false, true
}

// writeSensors writes power_gpu and power_platform: one point per sensor
// with a value for an interval that ended now.
func (c *powerCollector) writeSensors(acc telegraf.Accumulator, side *sensors.Result, ts time.Time) {
	if len(side.Readings) == 0 {
		return
	}
	if c.fields == nil {
		c.fields, c.tags = map[string]any{}, map[string]string{}
	}
	for _, r := range side.Readings {
		sn := r.Sensor
		clear(c.fields)
		c.fields[fieldPower] = r.Power().Watts()
		c.fields[fieldEnergy] = r.Energy.Joules()
		c.fields[fieldInterval] = r.Interval.Seconds()
		clear(c.tags)
		c.tags["source"] = sn.Source
		c.tags["method"] = sn.Method
		if sn.Kind == sensors.GPU {
			c.tags["gpu"] = sn.Name
			c.tags["driver"] = sn.Driver
			acc.AddGauge("power_gpu", c.fields, c.tags, ts)
			continue
		}
		c.tags["sensor"] = sn.Name
		c.tags["scope"] = sn.Scope
		acc.AddGauge("power_platform", c.fields, c.tags, ts)
	}
}
