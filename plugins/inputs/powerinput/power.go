package powerinput

import (
	"strconv"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/metaphor"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/source"
)

// Fields of power_host besides the metaphors.
const (
	fieldPower    = "power_watts"
	fieldEnergy   = "energy_joules"
	fieldInterval = "interval_seconds"
	fieldCO2      = "co2_grams"
)

// reservedNames are what a metaphor's field may not be called: the other
// fields of power_host, its tags (a field named like a tag hides the tag
// in InfluxQL), Telegraf's host tag, and InfluxDB's time.
func reservedNames() []string {
	return []string{fieldPower, fieldEnergy, fieldInterval, fieldCO2, "source", "model", "host", "time"}
}

// powerCollector writes powerstat_package (one point per CPU package, or
// die of a multi-die package) and power_host (the machine) from the
// readings of the CPU chain of sources (rapl, vm, model).
type powerCollector struct {
	chain  *source.Chain
	carbon float64 // g CO2 per kWh; 0: off
	table  []metaphor.Metaphor

	fields  map[string]any
	tags    map[string]string
	devices []devicePower
	// host is this gather's power_host reading, for the collectors that
	// divide it (VMs, services); zero when there was none.
	host hostReading
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

func (c *powerCollector) gather(acc telegraf.Accumulator, ts time.Time) {
	c.host = hostReading{}
	r, ok := c.chain.Sample()
	if !ok {
		return
	}
	c.host.Held = r.Result.Held
	c.write(acc, r, ts)
}

// package points: each device's package and DRAM parts together.
type devicePower struct {
	key             meter.Key
	pkg, dram       energy.Energy
	hasPkg, hasDRAM bool
}

func (c *powerCollector) write(acc telegraf.Accumulator, r source.Reading, ts time.Time) {
	res := r.Result
	if res.Interval <= 0 || len(res.Parts) == 0 {
		return
	}
	if c.fields == nil {
		c.fields, c.tags = map[string]any{}, map[string]string{}
	}
	src, mdl := r.Source.Name(), r.Source.Model()
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
		c.sourceTags(src, mdl)
		acc.AddGauge("powerstat_package", c.fields, c.tags, ts)
	}
	if !res.Complete {
		return // a part is missing or doubtful: a host total would be false
	}
	total := res.Total()
	pw := energy.Average(total, res.Interval)
	clear(c.fields)
	c.fields[fieldPower] = pw.Watts()
	c.fields[fieldEnergy] = total.Joules()
	c.fields[fieldInterval] = res.Interval.Seconds()
	c.metaphorFields(c.fields, total, res.Interval)
	clear(c.tags)
	c.sourceTags(src, mdl)
	acc.AddGauge("power_host", c.fields, c.tags, ts)
	c.host = hostReading{Energy: total, Interval: res.Interval, Source: src, Model: mdl}
}

// metaphorFields adds the metaphor fields (and co2_grams where an
// intensity is set) of energy e over interval d to fields.
func (c *powerCollector) metaphorFields(fields map[string]any, e energy.Energy, d time.Duration) {
	pw := energy.Average(e, d)
	if c.carbon > 0 {
		fields[fieldCO2] = co2Grams(e, c.carbon)
	}
	for _, m := range c.table {
		fields[m.Field] = m.Value(pw, e)
	}
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
