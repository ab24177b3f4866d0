package powerinput

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guest"
	"github.com/greencampus/powerinput/internal/meter"
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

// unknownSustained bounds the long-term average of a package whose TDP is
// unknown: above the TDP of today's largest server CPUs (500 W).
const unknownSustained = energy.Power(500)

// sustained is the highest average a package keeps up over a long interval:
// its long-term limit (TDP), which RAPL enforces.
func sustained(tdp energy.Power) energy.Power {
	if tdp > 0 {
		return tdp
	}
	return unknownSustained
}

// ceiling returns the highest believable power for a counter of a package.
func ceiling(tdp energy.Power) energy.Power {
	if tdp > 0 {
		return ceilingPerTDP * tdp
	}
	return fixedCeiling
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
	p.once("using", telegraf.Error, "no power source works; powerinput writes no power until one does (run powerinput -doctor)")
}

// tryProbe probes a source and says, once per condition, why it does not work.
func (p *PowerInput) tryProbe(s powerSource) bool {
	if err := s.probe(); err != nil {
		p.sayUnavailable(s, err)
		return false
	}
	p.once("source:"+s.name(), telegraf.Info, "")
	return true
}

// sayUnavailable logs why a source does not work, once per condition.
func (p *PowerInput) sayUnavailable(s powerSource, err error) {
	level, msg := unavailable(p, s.name(), err)
	p.once("source:"+s.name(), level, msg)
}

func (p *PowerInput) use(i int) {
	p.current = i
	p.once("using", telegraf.Info, fmt.Sprintf("power source now: %s%s", p.sources[i].name(), modelSuffix(p.sources[i])))
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
			p.sayUnavailable(s, err)
			p.current = -1
			continue
		}
		p.logProblems(r)
		return powerReading{src: s, res: r}, true
	}
	p.once("using", telegraf.Error, "no power source works; powerinput writes no power until one does (run powerinput -doctor)")
	return powerReading{}, false
}

func modelSuffix(s powerSource) string {
	if m := s.model(); m != "" {
		return " (estimate: " + m + " model)"
	}
	return ""
}

// logProblems says what went wrong with the interval's counters: once per
// channel and condition, and again only after that channel has had an
// interval without a problem, so a counter that misbehaves at every gather
// is no log storm, and one that recovers and fails again is heard again.
func (p *PowerInput) logProblems(r *meter.Result) {
	for _, pr := range r.Problems {
		level, msg := telegraf.Warn, ""
		switch pr.Kind {
		case meter.ReadFailed:
			level, msg = telegraf.Error, fmt.Sprintf("cannot read %s: %v; its package gets no value until it can be read", pr.Channel, pr.Err)
		case meter.Reset:
			msg = fmt.Sprintf("%s went backwards (counter reset or driver reload): no value for this interval", pr.Channel)
		case meter.Implausible:
			msg = fmt.Sprintf("%s implies %.0f W, which no package draws (counter reset?): no value for this interval", pr.Channel, pr.Power.Watts())
		case meter.Ambiguous:
			msg = fmt.Sprintf("%s: the interval is long enough for the counter to wrap more than once, so its energy is unknown: no value for it; gather more often", pr.Channel)
		case meter.Stale:
			msg = fmt.Sprintf("%s has stopped advancing: its package gets no value until it moves", pr.Channel)
		case meter.ZeroInterval: // the only problem without a channel
			msg = "no time passed since the previous gather: this gather has no power value; its energy goes into the next"
		}
		p.once("problem:"+pr.Channel, level, msg)
	}
	for key := range p.said {
		if channel, ok := strings.CutPrefix(key, "problem:"); ok && !hasProblem(r, channel) {
			delete(p.said, key)
		}
	}
}

func hasProblem(r *meter.Result, channel string) bool {
	for _, pr := range r.Problems {
		if pr.Channel == channel {
			return true
		}
	}
	return false
}

// unavailable says why a source does not work and how to fix it.
func unavailable(p *PowerInput, source string, err error) (level telegraf.LogLevel, msg string) {
	why, fix := explain(p, source, err)
	level = telegraf.Warn
	if errors.Is(err, fs.ErrPermission) {
		level = telegraf.Error
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
	total := res.Total()
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
