package powerinput

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"syscall"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guest"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/model"
	"github.com/greencampus/powerinput/internal/powercap"
	"github.com/influxdata/telegraf"
)

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
		p.once("zones", telegraf.Warn, fmt.Sprintf("some powercap zones were skipped: %v", err))
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
			Sustained:  sustained(tdp),
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
			Sustained:  sustained(tdp),
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
	if s.staleAt != nil && slices.Equal(s.staleAt, values) {
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
	s.tdpTotal = s.machineTDP()
	if _, err := s.p.statFile.Read(); err != nil {
		return fmt.Errorf("the model needs CPU utilisation: %w", err)
	}
	return nil
}

// machineTDP is the TDP of all the machine's packages: the sum over the
// powercap package zones, each with its own TDP or tdp_watts; with no zones,
// tdp_watts. It is 0 (unknown) if any package's TDP is unknown: the curve on
// part of the machine's TDP would under-estimate the whole.
func (s *modelSource) machineTDP() energy.Power {
	zones, _ := powercap.Discover(s.p.HostSys)
	var sum energy.Power
	packages := 0
	for _, z := range zones {
		if z.Domain != powercap.DomainPackage {
			continue
		}
		packages++
		tdp := s.p.packageTDP(z)
		if tdp <= 0 {
			return 0
		}
		sum += tdp
	}
	if packages == 0 {
		return energy.Power(s.p.TDPWatts)
	}
	return sum
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
