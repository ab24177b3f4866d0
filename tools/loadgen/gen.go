package main

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/metaphor"
)

// Features is what each simulated host has and writes, as a powerinput
// host configured so: the per-CPU cpu points and the total, one net point
// per interface, one powerstat_package point per package, power_host, and,
// where their count is above 0, power_vm (the VMs, _hypervisor, _unused),
// power_service and power_process (the named ones plus other,
// unattributed, unused_capacity).
//
// With Rollup, a host writes what the rollups hold instead (docs/scale.md):
// the power_* points only, each with power_watts_max, one per interval of
// 5 minutes or an hour; their energy_joules is the interval's sum, as a
// rollup's is. It fills rollup_5m and rollup_1h for a year in minutes,
// where writing the raw points and running the continuous queries would
// take days.
type Features struct {
	CPUs, Interfaces, Packages int
	VMs, Services, Processes   int
	Rollup                     bool
}

// PointsPerGather is how many points one host writes at each gather, and
// so how many series it has.
func (f Features) PointsPerGather() int {
	n := 1
	if !f.Rollup {
		n += f.CPUs + 1 + f.Interfaces + f.Packages
	}
	if f.VMs > 0 {
		n += f.VMs + 2
	}
	if f.Services > 0 {
		n += f.Services + 3
	}
	if f.Processes > 0 {
		n += f.Processes + 3
	}
	return n
}

// host is one simulated machine's state between gathers.
type host struct {
	name   string
	watts  float64 // the packages' power, on a random walk
	phase  float64
	bytes  [2]uint64 // net counters, received and sent
	packet [2]uint64
}

// Generator writes the line protocol of N hosts, gather after gather.
type Generator struct {
	f        Features
	interval time.Duration
	carbon   float64 // g CO2 per kWh
	hosts    []host
	rng      *rand.Rand
	meta     []metaphor.Metaphor
	vmNames  []string
	svcNames []string
	prcNames []string
}

// NewGenerator makes n hosts named prefix-0 … prefix-(n-1). The output is
// the same for the same seed.
func NewGenerator(n int, prefix string, f Features, interval time.Duration, seed uint64) *Generator {
	g := &Generator{f: f, interval: interval, carbon: 56, rng: rand.New(rand.NewPCG(seed, 23)), meta: metaphor.Defaults()}
	for i := range n {
		g.hosts = append(g.hosts, host{name: prefix + "-" + strconv.Itoa(i), watts: 40 + 80*g.rng.Float64(), phase: 2 * math.Pi * g.rng.Float64()})
	}
	names := func(kind string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = kind + "-" + strconv.Itoa(i)
		}
		return out
	}
	g.vmNames, g.svcNames, g.prcNames = names("vm", f.VMs), names("svc", f.Services), names("prog", f.Processes)
	for i := range g.svcNames {
		g.svcNames[i] += ".service"
	}
	return g
}

// Hosts is how many hosts the generator simulates.
func (g *Generator) Hosts() int { return len(g.hosts) }

// AppendGather appends host i's points of the gather at time at.
func (g *Generator) AppendGather(b []byte, i int, at time.Time) []byte {
	h := &g.hosts[i]
	ts := at.UnixNano()
	sec := g.interval.Seconds()
	// A day's swing around the host's own walk.
	h.watts = math.Max(10, h.watts+4*(g.rng.Float64()-0.5))
	busy := 0.3 + 0.25*math.Sin(h.phase+2*math.Pi*float64(ts%86_400e9)/86_400e9)

	// The packages' power and their DRAM's (a tenth).
	total := h.watts * (1 + busy) * 1.1
	if !g.f.Rollup {
		b = g.appendHardware(b, h, busy, ts)
	}
	e := energy.Power(total).Over(g.interval)
	b = append(b, "power_host,host="...)
	b = append(b, h.name...)
	b = append(b, ",source=rapl"...)
	b = g.appendPowerFields(b, total, e, sec, -1, true, 0, ts)
	if g.f.VMs > 0 {
		b = g.appendParts(b, h, vmPart, g.vmNames, []string{"_hypervisor", "_unused"}, e, busy, ts)
	}
	if g.f.Services > 0 {
		b = g.appendParts(b, h, servicePart, g.svcNames, fixedParts, e, busy, ts)
	}
	if g.f.Processes > 0 {
		b = g.appendParts(b, h, processPart, g.prcNames, fixedParts, e, busy, ts)
	}
	return b
}

// appendHardware appends the cpu, net and powerstat_package points of a
// gather.
func (g *Generator) appendHardware(b []byte, h *host, busy float64, ts int64) []byte {
	sec := g.interval.Seconds()
	b = g.appendCPU(b, h, "cpu-total", busy, ts)
	for c := range g.f.CPUs {
		b = g.appendCPU(b, h, "cpu"+strconv.Itoa(c), busy, ts)
	}
	for n := range g.f.Interfaces {
		rate := 1e6 * (0.5 + g.rng.Float64())
		h.bytes[0] += uint64(rate * sec)
		h.bytes[1] += uint64(rate * sec / 4)
		h.packet[0] += uint64(rate * sec / 1000)
		h.packet[1] += uint64(rate * sec / 4000)
		b = append(b, "net,host="...)
		b = append(b, h.name...)
		b = append(b, ",interface=eth"...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = appendInt(b, " bytes_recv=", h.bytes[0])
		b = appendInt(b, ",bytes_sent=", h.bytes[1])
		b = appendInt(b, ",drop_in=", 0)
		b = appendInt(b, ",drop_out=", 0)
		b = appendInt(b, ",err_in=", 0)
		b = appendInt(b, ",err_out=", 0)
		b = appendInt(b, ",packets_recv=", h.packet[0])
		b = appendInt(b, ",packets_sent=", h.packet[1])
		b = append(b, ",speed=10000i "...)
		b = strconv.AppendInt(b, ts, 10)
		b = append(b, '\n')
	}
	for p := range g.f.Packages {
		w := h.watts * (1 + busy) / float64(g.f.Packages)
		dram := w / 10
		b = append(b, "powerstat_package,host="...)
		b = append(b, h.name...)
		b = append(b, ",package_id="...)
		b = strconv.AppendInt(b, int64(p), 10)
		b = append(b, ",source=rapl"...)
		b = appendFloat(b, " current_power_consumption_watts=", w)
		b = appendFloat(b, ",current_dram_power_consumption_watts=", dram)
		b = append(b, ",thermal_design_power_watts=150 "...)
		b = strconv.AppendInt(b, ts, 10)
		b = append(b, '\n')
	}
	return b
}

func (g *Generator) appendCPU(b []byte, h *host, cpu string, busy float64, ts int64) []byte {
	u := math.Min(100, math.Max(0, 100*busy*(0.8+0.4*g.rng.Float64())))
	b = append(b, "cpu,host="...)
	b = append(b, h.name...)
	b = append(b, ",cpu="...)
	b = append(b, cpu...)
	b = append(b, " usage_guest=0,usage_guest_nice=0"...)
	b = appendFloat(b, ",usage_idle=", 100-u)
	b = append(b, ",usage_iowait=0,usage_irq=0,usage_nice=0"...)
	b = appendFloat(b, ",usage_softirq=", u*0.01)
	b = append(b, ",usage_steal=0"...)
	b = appendFloat(b, ",usage_system=", u*0.29)
	b = appendFloat(b, ",usage_user=", u*0.7)
	b = append(b, ' ')
	b = strconv.AppendInt(b, ts, 10)
	return append(b, '\n')
}

// part is one measurement of workloads: its name, the tag that names a
// workload, and the kind of the named ones ("" where it has no kind tag).
type part struct{ measurement, tag, kind string }

var (
	vmPart      = part{"power_vm", "domain", ""}
	servicePart = part{"power_service", "unit", "service"}
	processPart = part{"power_process", "process", "program"}
)

// fixedParts are the parts of power_service and power_process that are
// no workload.
var fixedParts = []string{"other", "unattributed", "unused_capacity"}

// appendParts divides the host's energy e over the named workloads and the
// fixed parts, in integer µJ so that the parts add up to e exactly, as
// powerinput does.
func (g *Generator) appendParts(b []byte, h *host, p part, named, fixed []string, e energy.Energy, busy float64, ts int64) []byte {
	sec := g.interval.Seconds()
	left := e
	n := len(named) + len(fixed)
	for k := range n {
		name, kind := "", p.kind
		share := busy / float64(len(named)+1)
		if k < len(named) {
			name = named[k]
		} else {
			// other, unattributed, unused_capacity: the same value in both tags.
			name, kind = fixed[k-len(named)], fixed[k-len(named)]
			share = (1 - busy) / float64(len(fixed))
		}
		used := energy.Energy(float64(e) * share)
		if k == n-1 || used > left {
			used = left
		}
		left -= used
		b = append(b, p.measurement...)
		b = append(b, ",host="...)
		b = append(b, h.name...)
		if p.kind != "" {
			b = append(b, ",kind="...)
			b = append(b, kind...)
		}
		b = append(b, ',')
		b = append(b, p.tag...)
		b = append(b, '=')
		b = append(b, name...)
		b = append(b, ",source=rapl"...)
		vcpus := 0
		if p == vmPart && k < len(named) {
			vcpus = 2 + k%3*2
		}
		b = g.appendPowerFields(b, used.Joules()/sec, used, sec, share*busy*sec, p == vmPart, vcpus, ts)
	}
	return b
}

// appendPowerFields writes the fields of a power_* point: power, energy,
// the interval where the measurement has it, CPU time where it is a part,
// CO2 and the default metaphors.
func (g *Generator) appendPowerFields(b []byte, watts float64, e energy.Energy, sec, cpu float64, interval bool, vcpus int, ts int64) []byte {
	b = appendFloat(b, " power_watts=", watts)
	if g.f.Rollup {
		b = appendFloat(b, ",power_watts_max=", watts*1.2)
	}
	b = appendFloat(b, ",energy_joules=", e.Joules())
	if interval {
		b = appendFloat(b, ",interval_seconds=", sec)
	}
	if cpu >= 0 {
		b = appendFloat(b, ",cpu_seconds=", cpu)
	}
	switch {
	case vcpus > 0 && g.f.Rollup:
		// mean(vcpus): a float in the rollups, an integer in the raw points.
		b = appendFloat(b, ",vcpus=", float64(vcpus))
	case vcpus > 0:
		b = appendInt(b, ",vcpus=", uint64(vcpus))
	}
	b = appendFloat(b, ",co2_grams=", e.WattHours()/1000*g.carbon)
	for _, m := range g.meta {
		b = append(b, ',')
		b = append(b, m.Field...)
		b = appendFloat(b, "=", m.Value(energy.Power(watts), e))
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, ts, 10)
	return append(b, '\n')
}

func appendFloat(b []byte, key string, v float64) []byte {
	b = append(b, key...)
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func appendInt(b []byte, key string, v uint64) []byte {
	b = append(b, key...)
	b = strconv.AppendUint(b, v, 10)
	return append(b, 'i')
}
