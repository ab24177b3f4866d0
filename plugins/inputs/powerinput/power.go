package powerinput

import (
	"strconv"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/metaphor"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/powercap"
	"github.com/greencampus/powerinput/internal/sensors"
	"github.com/greencampus/powerinput/internal/source"
)

// Fields of power_host besides the metaphors.
const (
	fieldPower    = "power_watts"
	fieldEnergy   = "energy_joules"
	fieldInterval = "interval_seconds"
	fieldCO2      = "co2_grams"
	// Beside the CPUs: the GPUs' part of power_watts, the wall, and the
	// share of the wall that power_watts covers.
	fieldGPU        = "gpu_watts"
	fieldWall       = "wall_watts"
	fieldWallEnergy = "wall_joules"
	fieldCoverage   = "coverage"
)

// Tags of power_host that only machines with GPUs or a wall sensor write.
const (
	tagPartial = "partial" // "gpu": a GPU has no value for the interval
	tagBasis   = "basis"   // "wall": the metaphors and co2_grams are the wall's
)

func hostFields() []string {
	return []string{fieldPower, fieldEnergy, fieldInterval, fieldCO2, fieldGPU, fieldWall, fieldWallEnergy, fieldCoverage}
}

// reservedNames are what a metaphor's field may not be called: the other
// fields of the measurements that carry metaphors (power_host, power_vm,
// power_service, power_process), their tags (a field named like a tag hides
// the tag in InfluxQL), Telegraf's host tag, and InfluxDB's time.
func reservedNames() []string {
	names := append(hostFields(), vmFields()...)
	return append(names, "source", "model", tagPartial, tagBasis, "domain", "unit", "kind", "process", "host", "time")
}

// powerCollector writes powerstat_package (one point per CPU package, or
// die of a multi-die package) and power_host (the machine) from the
// readings of the CPU chain of sources (rapl, msr, vm, model), and
// power_gpu and power_platform from the sensors beside it. The GPUs join
// power_host's total, and the wall stands beside it, only where their
// readings cover the same gathers as the chain's interval.
type powerCollector struct {
	chain    *source.Chain
	powercap *powercap.Watcher // the chain's sources' zones, closed by Stop
	sensors  *sensors.Set      // nil when hwmon, gpus and psys are all off
	// sensorTimeout bounds the sensors' reads of a gather, from when they
	// start: a CPU source that used up its own bound does not cut theirs.
	sensorTimeout time.Duration
	basis         string // metaphor_basis: auto, parts, wall
	metaphors     metaphors

	gathers   int64 // gathers so far
	chainFrom int64 // the gather at which the chain's current interval began; 0: none
	// spans add up each sensor's readings since the chain's current
	// interval began, while they follow each other: a chain's interval
	// held over two gathers still finds the sensors that cover it.
	spans  []span
	joined []sensors.Reading

	fields  map[string]any
	tags    map[string]string
	devices []devicePower
}

// hostReading is the machine's energy over one interval, as power_host
// writes it, with where it comes from.
type hostReading struct {
	Energy   energy.Energy
	Interval time.Duration
	Source   string
	Model    string
	// Held: the gather had no value because the interval goes on into the
	// next one (a read that failed for a moment): the next reading covers
	// both gathers.
	Held bool
}

// Measured reports whether the gather wrote a power_host point.
func (h hostReading) Measured() bool { return h.Interval > 0 }

// metaphors are the metaphor table and the carbon intensity (g CO2 per
// kWh; 0: off): every point of energy carries them.
type metaphors struct {
	carbon float64
	table  []metaphor.Metaphor
}

// add adds the metaphor fields (and co2_grams where an intensity is set)
// of energy e at average power pw to fields.
func (m metaphors) add(fields map[string]any, pw energy.Power, e energy.Energy) {
	if m.carbon > 0 {
		fields[fieldCO2] = co2Grams(e, m.carbon)
	}
	for _, mt := range m.table {
		fields[mt.Field] = mt.Value(pw, e)
	}
}

// sample is one gather's reading of the chain and of the sensors.
type sample struct {
	reading source.Reading
	ok      bool
	// from is the gather at which the chain's interval began.
	from int64
	side *sensors.Result // nil without sensors
	// joined are the sensors' energies over exactly the chain's interval.
	joined []sensors.Reading
}

// span is a sensor's energy over the gathers from and to.
type span struct {
	sensor   *sensors.Sensor
	from, to int64
	energy   energy.Energy
	interval time.Duration
	seen     bool
}

func (c *powerCollector) sample() sample {
	c.gathers++
	r, ok := c.chain.Sample()
	s := sample{reading: r, ok: ok, from: c.chainFrom}
	if c.sensors != nil {
		s.side = c.sensors.Sample(time.Now().Add(c.sensorTimeout), c.gathers)
		s.joined = c.join(s.side, s.from)
	}
	switch {
	case !ok:
		c.chainFrom = 0
		c.spans = c.spans[:0]
	case !r.Result.Held:
		c.chainFrom = c.gathers // a baseline or a measured interval: the next begins here
		c.spans = c.spans[:0]
	}
	return s
}

// join adds this gather's readings to the sensors' spans and returns, as
// readings, the spans that cover exactly the gathers from from to now.
func (c *powerCollector) join(side *sensors.Result, from int64) []sensors.Reading {
	for i := range c.spans {
		c.spans[i].seen = false
	}
	for _, r := range side.Readings {
		i := 0
		for i < len(c.spans) && c.spans[i].sensor != r.Sensor {
			i++
		}
		if i == len(c.spans) {
			c.spans = append(c.spans, span{sensor: r.Sensor, seen: true}) // seen: new
		}
		sp := &c.spans[i]
		if sp.seen || sp.to != r.From { // new, or not contiguous: start again
			sp.from, sp.energy, sp.interval = r.From, 0, 0
		}
		sp.to, sp.energy, sp.interval, sp.seen = c.gathers, sp.energy+r.Energy, sp.interval+r.Interval, true
	}
	kept := c.spans[:0]
	for _, sp := range c.spans {
		if sp.seen {
			kept = append(kept, sp)
		}
	}
	c.spans = kept
	c.joined = c.joined[:0]
	if from == 0 {
		return c.joined
	}
	for _, sp := range c.spans {
		if sp.from == from {
			c.joined = append(c.joined, sensors.Reading{Sensor: sp.sensor, Energy: sp.energy, Interval: sp.interval, From: sp.from})
		}
	}
	return c.joined
}

// gather measures the interval, writes its points, and leaves the host
// reading in t for the collectors that divide it.
func (c *powerCollector) gather(acc telegraf.Accumulator, t *tick) {
	s := c.sample()
	if s.side != nil {
		c.writeSensors(acc, s.side, t.ts)
	}
	if !s.ok {
		return
	}
	t.host = hostReading{Held: s.reading.Result.Held}
	if h, ok := c.write(acc, s, t.ts); ok {
		t.host = h
	}
}

// close releases the sources' and the sensors' files, each under their
// own guard and bound.
func (c *powerCollector) close(time.Time) {
	c.chain.Close()
	c.powercap.Close()
	if c.sensors != nil {
		c.sensors.Close()
	}
}

// package points: each device's package and DRAM parts together.
type devicePower struct {
	key             meter.Key
	pkg, dram       energy.Energy
	hasPkg, hasDRAM bool
}

// writePackages writes powerstat_package: each package's (or die's)
// package and DRAM parts together, with its TDP.
func (c *powerCollector) writePackages(acc telegraf.Accumulator, r source.Reading, ts time.Time) {
	res := r.Result
	devices := c.devices[:0]
	defer func() { c.devices = devices }()
	for _, p := range res.Parts {
		if p.Key.Domain != meter.Package && p.Key.Domain != meter.DRAM {
			continue
		}
		dev := p.Key.Device()
		i := 0
		for i < len(devices) && devices[i].key != dev {
			i++
		}
		if i == len(devices) {
			devices = append(devices, devicePower{key: dev})
		}
		if p.Key.Domain == meter.DRAM {
			devices[i].dram, devices[i].hasDRAM = devices[i].dram+p.Energy, true
		} else {
			devices[i].pkg, devices[i].hasPkg = devices[i].pkg+p.Energy, true
		}
	}
	for _, d := range devices {
		clear(c.fields)
		if d.hasPkg {
			c.fields["current_power_consumption_watts"] = energy.Average(d.pkg, res.Interval).Watts()
		}
		if d.hasDRAM {
			c.fields["current_dram_power_consumption_watts"] = energy.Average(d.dram, res.Interval).Watts()
		}
		if tdp := r.Source.TDP(d.key); tdp > 0 {
			c.fields["thermal_design_power_watts"] = tdp.Watts()
		}
		clear(c.tags)
		c.tags["package_id"] = strconv.Itoa(d.key.ID)
		if d.key.Die != meter.NoDie {
			c.tags["die"] = strconv.Itoa(d.key.Die)
		}
		c.sourceTags(r.Source.Name(), r.Source.Model())
		acc.AddGauge("powerstat_package", c.fields, c.tags, ts)
	}
}

// write writes the interval's points; ok when it wrote power_host, whose
// reading it returns.
func (c *powerCollector) write(acc telegraf.Accumulator, s sample, ts time.Time) (hostReading, bool) {
	r := s.reading
	res := r.Result
	if res.Interval <= 0 || len(res.Parts) == 0 {
		return hostReading{}, false
	}
	if c.fields == nil {
		c.fields, c.tags = map[string]any{}, map[string]string{}
	}
	src, mdl := r.Source.Name(), r.Source.Model()
	c.writePackages(acc, r, ts)
	h, ok := c.host(s)
	if !ok {
		return hostReading{}, false // a part is missing or doubtful: a host total would be false
	}
	pw := energy.Average(h.total, h.interval)
	clear(c.fields)
	c.fields[fieldPower] = pw.Watts()
	c.fields[fieldEnergy] = h.total.Joules()
	c.fields[fieldInterval] = h.interval.Seconds()
	clear(c.tags)
	c.sourceTags(src, mdl)
	if h.gpus {
		c.fields[fieldGPU] = energy.Average(h.gpu, h.interval).Watts()
		if h.partial {
			c.tags[tagPartial] = "gpu"
		}
	}
	if h.wall != nil {
		c.fields[fieldWall] = h.wall.Power().Watts()
		c.fields[fieldWallEnergy] = h.wall.Energy.Joules()
		if cov, ok := h.coverage(src); ok {
			c.fields[fieldCoverage] = cov
		}
	}
	if mp, me, wall, ok := h.basis(c.basis); ok {
		if wall {
			c.tags[tagBasis] = "wall"
		}
		c.metaphors.add(c.fields, mp, me)
	}
	acc.AddGauge("power_host", c.fields, c.tags, ts)
	return hostReading{Energy: h.total, Interval: h.interval, Source: src, Model: mdl}, true
}

func (c *powerCollector) sourceTags(src, mdl string) {
	c.tags["source"] = src
	if mdl != "" {
		c.tags["model"] = mdl
	}
}

// co2Grams is the carbon of e at an intensity in grams per kWh.
func co2Grams(e energy.Energy, gPerKWh float64) float64 {
	return e.WattHours() / 1000 * gPerKWh
}
