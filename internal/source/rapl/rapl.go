// Package rapl measures CPU packages and their DRAM with the RAPL energy
// counters the kernel's powercap drivers expose (intel-rapl and
// intel-rapl-mmio, on Intel and AMD).
package rapl

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"syscall"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/powercap"
	"github.com/greencampus/powerinput/internal/source"
)

// Name is the source tag's value.
const Name = "rapl"

// Spec registers the source.
var Spec = source.Spec{Name: Name, New: New}

// StaleIntervals: a real CPU package always uses energy, so RAPL counters
// that have not moved for this many intervals are not real (some
// hypervisors expose a powercap tree whose counters stay at zero). The
// source also stops after this many intervals without any value.
const StaleIntervals = 3

var errNoPackages = errors.New("powercap has zones but no package zone")

// errMissing: a package measured before has no zone any more.
var errMissing = errors.New("its zone went away (all its CPUs offline, or a driver reload)")

// Source is the rapl source.
type Source struct {
	env      source.Env
	counters source.Counters
	zones    []powercap.Zone
	tdps     map[meter.Key]energy.Power
	// known are the package devices ever measured: while one of them is
	// missing, no host total is complete.
	known []meter.Key
	res   meter.Result
}

// New returns the source over env's powercap zones.
func New(env source.Env) source.Source {
	s := &Source{env: env, counters: source.Counters{Clock: env.Clock, StopAfter: StaleIntervals,
		Inline: guard.InMemory(env.Roots.Sys.Path("class", "powercap"))}}
	s.counters.Refresh = s.refresh
	return s
}

func (s *Source) Name() string  { return Name }
func (s *Source) Model() string { return "" }

// TDP of a package (or die).
func (s *Source) TDP(k meter.Key) energy.Power {
	return s.tdps[meter.Key{Domain: meter.Package, ID: k.ID, Die: k.Die}]
}

// TDPs gives each package zone (a package, or a die of one) its TDP, as
// powercap.PackageTDPs does, keyed as the meter keys the package's channel.
func TDPs(zones []powercap.Zone, configured energy.Power) map[meter.Key]energy.Power {
	out := map[meter.Key]energy.Power{}
	for k, tdp := range powercap.PackageTDPs(zones, configured) {
		out[meter.Key{Domain: meter.Package, ID: k.Package, Die: k.Die}] = tdp
	}
	return out
}

func (s *Source) Probe(deadline time.Time) error {
	return s.counters.Probe(deadline, s.discover)
}

// discover makes a channel of each package and DRAM zone. Core and uncore
// lie inside their package and psys is not a package: they are not used.
func (s *Source) discover() ([]meter.Channel, energy.Power, error) {
	zones, _, skipped, err := s.env.Powercap.Zones()
	if err != nil {
		return nil, 0, err
	}
	if len(zones) == 0 {
		return nil, 0, fmt.Errorf("%s: %w", powercap.Dir(s.env.Roots.Sys), powercap.ErrNoPowercap)
	}
	_ = skipped
	tdps := TDPs(zones, s.env.TDPWatts)
	var sum energy.Power
	unknown := 0
	for _, tdp := range tdps {
		if tdp > 0 {
			sum += tdp
		} else {
			unknown++
		}
	}
	var ch []meter.Channel
	for _, z := range zones {
		key := meter.Key{ID: z.Package, Die: z.Die}
		tdp, ok := tdps[meter.Key{Domain: meter.Package, ID: z.Package, Die: z.Die}]
		if !ok {
			continue // a DRAM zone without its package
		}
		var lim meter.Limits
		switch z.Domain {
		case powercap.DomainPackage:
			key.Domain, lim = meter.Package, meter.PackageLimits(z.MaxRange, tdp)
		case powercap.DomainDRAM:
			key.Domain, lim = meter.DRAM, meter.DRAMLimits(z.MaxRange, tdp)
		default:
			continue
		}
		ch = append(ch, meter.Channel{
			Key:        key,
			Name:       z.EnergyPath(),
			Reader:     meter.Counter{Attr: kfile.NewAttr(z.EnergyPath(), s.env.Open)},
			Limits:     lim,
			StaleAfter: StaleIntervals,
		})
	}
	if len(ch) == 0 {
		return nil, 0, errNoPackages
	}
	s.zones, s.tdps = zones, tdps
	for k := range tdps {
		if !slices.Contains(s.known, k) {
			s.known = append(s.known, k)
		}
	}
	return ch, meter.HostCeiling(sum, unknown), nil
}

// Sample measures the interval. When the set of zones changed (a package
// came back, a driver was reloaded), the zones are found again first, and
// every counter that is still there keeps its baseline.
func (s *Source) Sample(deadline time.Time) (*meter.Result, error) {
	r, err := s.counters.Sample(deadline)
	if err != nil || r.Held || r.Interval == 0 {
		return r, err
	}
	// A package measured before whose zone is gone: the total is not whole.
	var missing []meter.Key
	for _, k := range s.known {
		if _, ok := s.tdps[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return r, nil
	}
	s.res.Interval, s.res.Held = r.Interval, r.Held
	s.res.Parts = append(s.res.Parts[:0], r.Parts...)
	s.res.Problems = append(s.res.Problems[:0], r.Problems...)
	s.res.Complete = false
	for _, k := range missing {
		s.res.Problems = append(s.res.Problems, meter.Problem{Kind: meter.Missing, Channel: k.String(), Err: errMissing})
	}
	return &s.res, nil
}

// refresh runs under the guard before the counters are read.
func (s *Source) refresh(m *meter.Meter) *meter.Meter {
	_, changed, _, err := s.env.Powercap.Zones()
	if !changed && !lostZone(m) {
		return m
	}
	if err == nil && lostZone(m) {
		s.env.Powercap.Forget()
	}
	ch, ceiling, err := s.discover()
	if err != nil {
		s.tdps = nil // every package is missing
		return m
	}
	n := meter.New(ch, s.env.Clock)
	n.HostCeiling = ceiling
	n.Adopt(m)
	return n
}

// lostZone: the last read of a channel said its file is gone.
func lostZone(m *meter.Meter) bool {
	for _, err := range m.Errs() {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENODEV) {
			return true
		}
	}
	return false
}

func (s *Source) Close() { s.counters.Close() }

// Describe lists the packages, dies and DRAM zones found, with their TDPs.
func (s *Source) Describe() string { return source.DescribeChannels(s.counters.Meter(), s.TDP) }

// Explain gives why RAPL does not work here and the fix.
func (s *Source) Explain(err error) (why, fix string) {
	dir := powercap.Dir(s.env.Roots.Sys)
	switch {
	case errors.Is(err, powercap.ErrNoPowercap):
		return fmt.Sprintf("no powercap zones under %s", dir),
			"on bare metal load the RAPL driver (modprobe intel_rapl_msr, for Intel and AMD); a VM has no RAPL: use the vm source or the model"
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("%v (since Linux 5.10 only root may read energy_uj)", err),
			"run Telegraf's execd command as root, or install deploy/tmpfiles.d/powerinput.conf so the telegraf group can read the counters (see README, Permissions)"
	case errors.Is(err, errNoPackages):
		return err.Error(), "this kernel exposes only platform (psys) or core zones; set tdp_watts and use the model"
	case errors.Is(err, source.ErrStale):
		return fmt.Sprintf("the RAPL counters under %s have not advanced for %d intervals: they are not real (a VM's fake powercap tree?)", dir, StaleIntervals),
			"nothing to fix on a VM: the next source is used; on bare metal, check the intel_rapl drivers"
	default:
		return err.Error(), fmt.Sprintf("check %s (see README, Troubleshooting)", dir)
	}
}

// Label says where the numbers come from.
func (s *Source) Label(lang string) string {
	if lang == "fr" {
		return "mesurée par les compteurs d’énergie RAPL du processeur (rapl)"
	}
	return "measured by the CPU's RAPL energy counters (rapl)"
}
