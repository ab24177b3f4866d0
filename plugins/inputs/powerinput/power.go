package powerinput

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"syscall"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guest"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/model"
	"github.com/greencampus/powerinput/internal/powercap"
)

// powerSource is one way of knowing the energy a machine uses.
type powerSource interface {
	name() string
	// probe says whether the source can work now, and why not.
	probe() error
	// sample returns the energy of each package since its previous call; its
	// first call after probe is a baseline with no packages. An error means
	// the source stopped working.
	sample(cpu *cpuSample) (*meter.Result, error)
	// tdp of a package; 0 when unknown.
	tdp(pkg int) energy.Power
	// model names the estimate used (source "model" only).
	model() string
}

// raplStaleIntervals: a real CPU package or DRAM always uses energy, so
// RAPL counters that have not moved for this many intervals are not real
// (some hypervisors expose a powercap tree whose counters stay at zero).
// Until then equal readings are 0 W, as the counters say.
const raplStaleIntervals = 3

// Ceilings for a believable average power of one counter: a multiple of
// TDP (RAPL limits let a package exceed TDP for a while, never fourfold),
// or, where TDP is unknown, more than any CPU package or DRAM draws.
const (
	ceilingPerTDP = 4
	fixedCeiling  = energy.Power(1000)
)

var (
	errNoPackages = errors.New("powercap has zones but no package zone")
	errStale      = errors.New("counter has stopped advancing")
)

func (p *PowerInput) buildSources() error {
	if len(p.Sources) == 0 {
		return fmt.Errorf("sources is empty; give an order such as [%q, %q, %q]: %w", SourceRAPL, SourceVM, SourceModel, ErrConfig)
	}
	seen := map[string]bool{}
	p.sources = p.sources[:0]
	for _, s := range p.Sources {
		if seen[s] {
			return fmt.Errorf("sources lists %q twice: %w", s, ErrConfig)
		}
		seen[s] = true
		switch s {
		case SourceRAPL:
			p.sources = append(p.sources, &counterSource{kind: SourceRAPL, discover: p.raplChannels, clock: p.clock})
		case SourceVM:
			p.sources = append(p.sources, &counterSource{kind: SourceVM, discover: p.vmChannels, clock: p.clock})
		case SourceModel:
			p.sources = append(p.sources, &modelSource{p: p})
		default:
			return fmt.Errorf("sources: unknown source %q (known: %q, %q, %q): %w", s, SourceRAPL, SourceVM, SourceModel, ErrConfig)
		}
	}
	p.needStats = p.CPU || seen[SourceModel]
	return nil
}

// ceiling returns the highest believable power for a counter of a package.
func ceiling(tdp energy.Power) energy.Power {
	if tdp > 0 {
		return ceilingPerTDP * tdp
	}
	return fixedCeiling
}

// packageTDP is a zone's TDP, else the configured one.
func (p *PowerInput) packageTDP(z powercap.Zone) energy.Power {
	if z.TDP > 0 {
		return z.TDP
	}
	return energy.Power(p.TDPWatts)
}

func (p *PowerInput) raplChannels() ([]meter.Channel, map[int]energy.Power, error) {
	zones, err := powercap.Discover(p.HostSys)
	if len(zones) == 0 {
		if err == nil {
			err = fmt.Errorf("%s/class/powercap: %w", p.HostSys, powercap.ErrNoPowercap)
		}
		return nil, nil, err
	}
	if err != nil {
		p.once("zones", "W", fmt.Sprintf("some powercap zones were skipped: %v", err))
	}
	tdps := map[int]energy.Power{}
	for _, z := range zones {
		if z.Domain == powercap.DomainPackage {
			tdps[z.Package] = p.packageTDP(z)
		}
	}
	var ch []meter.Channel
	for _, z := range zones {
		var kind meter.Kind
		switch z.Domain {
		case powercap.DomainPackage:
			kind = meter.Package
		case powercap.DomainDRAM:
			kind = meter.DRAM
		default:
			continue // core and uncore are inside the package; psys is not a package
		}
		tdp, ok := tdps[z.Package]
		if !ok {
			continue // a DRAM zone without its package
		}
		ch = append(ch, meter.Channel{
			Package:    z.Package,
			Kind:       kind,
			Name:       z.EnergyPath(),
			Reader:     powercap.NewCounter(z.EnergyPath(), p.open),
			Max:        z.MaxRange,
			Ceiling:    ceiling(tdp),
			StaleAfter: raplStaleIntervals,
		})
	}
	if len(ch) == 0 {
		return nil, nil, errNoPackages
	}
	return ch, tdps, nil
}

func (p *PowerInput) vmChannels() ([]meter.Channel, map[int]energy.Power, error) {
	counters, err := guest.Discover(p.VMPowercapPath)
	if err != nil {
		return nil, nil, err
	}
	tdps := map[int]energy.Power{}
	ch := make([]meter.Channel, 0, len(counters))
	for _, c := range counters {
		tdp := energy.Power(p.TDPWatts)
		if tdp > 0 {
			tdps[c.Package] = tdp
		}
		ch = append(ch, meter.Channel{
			Package:    c.Package,
			Kind:       meter.Package,
			Name:       c.Path,
			Reader:     powercap.NewCounter(c.Path, p.open),
			Max:        c.MaxRange,
			Ceiling:    ceiling(tdp),
			StaleAfter: p.VMStaleIntervals,
		})
	}
	return ch, tdps, nil
}

// counterSource measures with cumulative energy counters: RAPL zones, or
// the guest counter a hypervisor provides.
type counterSource struct {
	kind     string
	discover func() ([]meter.Channel, map[int]energy.Power, error)
	clock    func() time.Time

	m    *meter.Meter
	tdps map[int]energy.Power
	// staleAt holds the readings at which the counters were found stale; the
	// source is not taken again until they move.
	staleAt []energy.Energy
}

func (s *counterSource) name() string             { return s.kind }
func (s *counterSource) model() string            { return "" }
func (s *counterSource) tdp(pkg int) energy.Power { return s.tdps[pkg] }

func (s *counterSource) probe() error {
	s.close()
	ch, tdps, err := s.discover()
	if err != nil {
		return err
	}
	values := make([]energy.Energy, len(ch))
	for i := range ch {
		v, err := ch[i].Reader.Read()
		if err != nil {
			closeChannels(ch)
			return err
		}
		values[i] = v
	}
	if s.staleAt != nil && equalReadings(s.staleAt, values) {
		closeChannels(ch)
		return errStale
	}
	s.staleAt = nil
	s.m = meter.New(ch, s.clock)
	s.tdps = tdps
	return nil
}

func (s *counterSource) sample(*cpuSample) (*meter.Result, error) {
	if s.m == nil {
		return nil, errors.New("not probed")
	}
	r := s.m.Sample()
	failed := 0
	var first error
	for _, pr := range r.Problems {
		if pr.Kind != meter.ReadFailed {
			continue
		}
		failed++
		if first == nil {
			first = pr.Err
		}
		if errors.Is(pr.Err, fs.ErrNotExist) || errors.Is(pr.Err, syscall.ENODEV) {
			// A zone went away (driver reloaded, guest share unmounted): look
			// for the zones again from the next gather on.
			s.close()
			return r, pr.Err
		}
	}
	if failed == len(s.m.Channels) {
		s.close()
		return r, first
	}
	if len(r.Packages) == 0 && s.m.Stale() {
		s.staleAt = make([]energy.Energy, len(s.m.Channels))
		for i := range s.m.Channels {
			s.staleAt[i], _ = s.m.Channels[i].Reader.Read()
		}
		s.close()
		return r, errStale
	}
	return r, nil
}

func (s *counterSource) close() {
	if s.m != nil {
		closeChannels(s.m.Channels)
		s.m = nil
	}
}

func closeChannels(ch []meter.Channel) {
	for i := range ch {
		if c, ok := ch[i].Reader.(interface{ Close() error }); ok {
			c.Close()
		}
	}
}

func equalReadings(a, b []energy.Energy) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Model names, written in the model tag.
const (
	modelTDPCurve = "tdp_curve"
	modelVCPU     = "vcpu"
)

// modelSource estimates power from CPU utilisation: with the TDP curve
// where a TDP is known (powercap constraints are often readable when the
// energy counters are not, or tdp_watts), else per vCPU.
type modelSource struct {
	p        *PowerInput
	tdpTotal energy.Power
	res      meter.Result
}

func (s *modelSource) name() string { return SourceModel }

func (s *modelSource) model() string {
	if s.tdpTotal > 0 {
		return modelTDPCurve
	}
	return modelVCPU
}

func (s *modelSource) tdp(pkg int) energy.Power {
	if pkg == 0 {
		return s.tdpTotal
	}
	return 0
}

func (s *modelSource) probe() error {
	s.tdpTotal = 0
	if zones, _ := powercap.Discover(s.p.HostSys); len(zones) > 0 {
		for _, z := range zones {
			if z.Domain == powercap.DomainPackage {
				s.tdpTotal += s.p.packageTDP(z)
			}
		}
	}
	if s.tdpTotal == 0 {
		s.tdpTotal = energy.Power(s.p.TDPWatts)
	}
	if _, err := s.p.statFile.Read(); err != nil {
		return fmt.Errorf("the model needs CPU utilisation: %w", err)
	}
	return nil
}

func (s *modelSource) sample(cpu *cpuSample) (*meter.Result, error) {
	r := &s.res
	r.Packages, r.Problems, r.Complete, r.Interval = r.Packages[:0], r.Problems[:0], false, 0
	if cpu == nil || !cpu.hasBusy {
		return r, nil // no utilisation yet (first gather)
	}
	var pw energy.Power
	if s.tdpTotal > 0 {
		pw = model.FromTDP(s.tdpTotal, cpu.busy)
	} else {
		pw = model.FromVCPUs(cpu.vcpus, cpu.busy, s.p.VCPUMinWatts, s.p.VCPUMaxWatts)
	}
	r.Interval = cpu.interval
	r.Packages = append(r.Packages, meter.PackageEnergy{Package: 0, Energy: pw.Over(cpu.interval)})
	r.Complete = true
	return r, nil
}

// powerReading is one interval's result with where it came from.
type powerReading struct {
	src powerSource
	res *meter.Result
}

// choose probes the sources in order and makes the first that works the
// current one; Init calls it so the log says at start where power will come
// from. Its baseline is taken by the first gather.
func (p *PowerInput) choose() {
	for i, s := range p.sources {
		if p.tryProbe(s) {
			p.use(i)
			return
		}
	}
	p.once("using", "E", "no power source works; powerinput writes no power until one does (run powerinput -doctor)")
}

// tryProbe probes a source and says, once per condition, why it does not work.
func (p *PowerInput) tryProbe(s powerSource) bool {
	if err := s.probe(); err != nil {
		level, msg := unavailable(p, s.name(), err)
		p.once("source:"+s.name(), level, msg)
		return false
	}
	p.once("source:"+s.name(), "", "")
	return true
}

func (p *PowerInput) use(i int) {
	p.current = i
	p.once("using", "I", fmt.Sprintf("power source now: %s%s", p.sources[i].name(), modelSuffix(p.sources[i])))
}

// samplePower uses the first source, in the configured order, that works
// now. Sources before the current one are probed again at every gather, so
// a fixed permission or a guest mount that appears is picked up; a switch
// starts from a new baseline, so it never yields a spike.
func (p *PowerInput) samplePower(cpu *cpuSample) (powerReading, bool) {
	for i, s := range p.sources {
		if i != p.current {
			if !p.tryProbe(s) {
				continue
			}
			p.use(i)
		}
		r, err := s.sample(cpu)
		if err != nil {
			level, msg := unavailable(p, s.name(), err)
			p.once("source:"+s.name(), level, msg)
			p.current = -1
			continue
		}
		p.logProblems(r)
		return powerReading{src: s, res: r}, true
	}
	p.once("using", "E", "no power source works; powerinput writes no power until one does (run powerinput -doctor)")
	return powerReading{}, false
}

func modelSuffix(s powerSource) string {
	if m := s.model(); m != "" {
		return " (estimate: " + m + " model)"
	}
	return ""
}

func (p *PowerInput) logProblems(r *meter.Result) {
	for _, pr := range r.Problems {
		switch pr.Kind {
		case meter.ReadFailed:
			p.once("read:"+pr.Channel, "E", fmt.Sprintf("cannot read %s: %v; its package gets no value until it can be read", pr.Channel, pr.Err))
		case meter.Reset:
			p.Log.Warnf("%s went backwards (counter reset or driver reload): no value for this interval", pr.Channel)
		case meter.Implausible:
			p.Log.Warnf("%s implies %.0f W, which no package draws (counter reset?): no value for this interval", pr.Channel, pr.Power.Watts())
		case meter.Stale:
			p.once("stale:"+pr.Channel, "W", fmt.Sprintf("%s has not advanced for %d intervals: is the exporter on the host running?", pr.Channel, p.VMStaleIntervals))
		case meter.ZeroInterval:
			p.Log.Warn("no time passed since the previous gather: this gather has no power value; its energy goes into the next")
		}
	}
}

// unavailable says why a source does not work and how to fix it.
func unavailable(p *PowerInput, source string, err error) (level, msg string) {
	why, fix := explain(p, source, err)
	level = "W"
	if errors.Is(err, fs.ErrPermission) {
		level = "E"
	}
	return level, fmt.Sprintf("source %s unavailable: %s; fix: %s", source, why, fix)
}

// explain gives the reason a source does not work and the fix, for log
// lines and for -doctor.
func explain(p *PowerInput, source string, err error) (why, fix string) {
	switch {
	case source == SourceRAPL && errors.Is(err, powercap.ErrNoPowercap):
		return fmt.Sprintf("no powercap zones under %s/class/powercap", p.HostSys),
			"on bare metal load the RAPL driver (modprobe intel_rapl_msr, for Intel and AMD); a VM has no RAPL: use the vm source or the model"
	case source == SourceRAPL && errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("%v (since Linux 5.10 only root may read energy_uj)", err),
			"run Telegraf's execd command as root, or install deploy/tmpfiles.d/powerinput.conf so the telegraf group can read the counters (see README, Permissions)"
	case source == SourceRAPL && errors.Is(err, errNoPackages):
		return err.Error(), "this kernel exposes only platform (psys) or core zones; set tdp_watts and use the model"
	case source == SourceVM && errors.Is(err, guest.ErrNoCounter):
		return err.Error(),
			fmt.Sprintf("on the hypervisor run Scaphandre's qemu exporter and share its per-VM folder into this guest, mounted at %s (see README, Virtual machines)", p.VMPowercapPath)
	case source == SourceRAPL && errors.Is(err, errStale):
		return fmt.Sprintf("the RAPL counters under %s/class/powercap have not advanced for %d intervals: they are not real (a VM's fake powercap tree?)", p.HostSys, raplStaleIntervals),
			"nothing to fix on a VM: the next source is used; on bare metal, check the intel_rapl drivers"
	case errors.Is(err, errStale):
		return fmt.Sprintf("the counter under %s has not advanced for %d intervals", p.VMPowercapPath, p.VMStaleIntervals),
			"check that the exporter on the hypervisor is running and the share is mounted"
	case source == SourceModel:
		return err.Error(), fmt.Sprintf("make %s/stat readable (host_proc)", p.HostProc)
	default:
		return err.Error(), "see README, Troubleshooting"
	}
}

func (p *PowerInput) addPower(acc telegraf.Accumulator, r powerReading, ts time.Time) {
	res := r.res
	if len(res.Packages) == 0 || res.Interval <= 0 {
		return
	}
	src := r.src.name()
	mdl := r.src.model()
	for _, pk := range res.Packages {
		clear(p.fields)
		p.fields["current_power_consumption_watts"] = energy.Average(pk.Energy, res.Interval).Watts()
		if pk.HasDRAM {
			p.fields["current_dram_power_consumption_watts"] = energy.Average(pk.DRAM, res.Interval).Watts()
		}
		if tdp := r.src.tdp(pk.Package); tdp > 0 {
			p.fields["thermal_design_power_watts"] = tdp.Watts()
		}
		acc.AddGauge("powerstat_package", p.fields, p.sourceTags(strconv.Itoa(pk.Package), src, mdl), ts)
	}
	if !res.Complete {
		return // a package is missing: a host total would be false
	}
	var total energy.Energy
	for _, pk := range res.Packages {
		total += pk.Total()
	}
	pw := energy.Average(total, res.Interval)
	clear(p.fields)
	p.fields["power_watts"] = pw.Watts()
	p.fields["energy_joules"] = total.Joules()
	p.fields["interval_seconds"] = res.Interval.Seconds()
	if p.CarbonIntensity > 0 {
		p.fields["co2_grams"] = co2Grams(total, p.CarbonIntensity)
	}
	for _, m := range p.table {
		p.fields[m.Field] = m.Value(pw, total)
	}
	acc.AddGauge("power_host", p.fields, p.sourceTags("", src, mdl), ts)
}

// co2Grams is the carbon of e at an intensity in grams per kWh.
func co2Grams(e energy.Energy, gPerKWh float64) float64 {
	return e.WattHours() / 1000 * gPerKWh
}

func (p *PowerInput) sourceTags(pkg, src, mdl string) map[string]string {
	clear(p.tags)
	if pkg != "" {
		p.tags["package_id"] = pkg
	}
	p.tags["source"] = src
	if mdl != "" {
		p.tags["model"] = mdl
	}
	return p.tags
}
