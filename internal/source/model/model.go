package model

import (
	"errors"
	"fmt"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/powercap"
	"github.com/greencampus/powerinput/internal/source"
)

// Name is the source tag's value.
const Name = "model"

// Model names, written in the model tag.
const (
	TDPCurve = "tdp_curve"
	VCPU     = "vcpu"
)

// Spec registers the source.
var Spec = source.Spec{Name: Name, New: New}

var errNoCPU = errors.New("no CPU times: the cpu collector is off")

// Source estimates power from CPU utilisation: with the TDP curve where a
// TDP is known (powercap constraints are often readable when the energy
// counters are not, or tdp_watts), else per vCPU. Its numbers are
// estimates, and its tags say so.
type Source struct {
	env      source.Env
	g        guard.Guard
	tdpTotal energy.Power
	res      meter.Result
}

// New returns the model over env's CPU utilisation.
func New(env source.Env) source.Source { return &Source{env: env} }

func (s *Source) Name() string { return Name }

func (s *Source) Model() string {
	if s.tdpTotal > 0 {
		return TDPCurve
	}
	return VCPU
}

// TDP: the estimate is written as package 0, with the machine's TDP.
func (s *Source) TDP(k meter.Key) energy.Power {
	if k.ID == 0 {
		return s.tdpTotal
	}
	return 0
}

// Probe finds the machine's TDP and checks that CPU utilisation is known.
// Where the powercap constraints cannot be read in time (a hung sysfs),
// the configured TDP is used: the last resort must not fail for want of a
// refinement.
func (s *Source) Probe(deadline time.Time) error {
	var tdp energy.Power
	if err := s.g.Do(deadline, func() { tdp = s.machineTDP() }); err != nil {
		tdp = s.env.TDPWatts
	}
	s.tdpTotal = tdp
	if s.env.CPU == nil {
		return errNoCPU
	}
	if _, _, err := s.env.CPU.Utilisation(); err != nil {
		return fmt.Errorf("the model needs CPU utilisation: %w", err)
	}
	return nil
}

// machineTDP is the TDP of all the machine's packages (see
// powercap.MachineTDP); tdp_watts where the zones cannot be listed.
func (s *Source) machineTDP() energy.Power {
	zones, _, _, err := s.env.Powercap.Zones()
	if err != nil {
		return s.env.TDPWatts
	}
	return powercap.MachineTDP(zones, s.env.TDPWatts)
}

// Sample estimates the machine's power over the CPU's last interval.
func (s *Source) Sample(time.Time) (*meter.Result, error) {
	r := &s.res
	r.Parts, r.Problems, r.Complete, r.Held, r.Interval = r.Parts[:0], r.Problems[:0], false, false, 0
	u, ok, err := s.env.CPU.Utilisation()
	if err != nil {
		return r, fmt.Errorf("the model needs CPU utilisation: %w", err)
	}
	if !ok {
		return r, nil // no utilisation for this interval (the first gather)
	}
	var pw energy.Power
	if s.tdpTotal > 0 {
		pw = FromTDP(s.tdpTotal, u.Busy)
	} else {
		pw = FromVCPUs(u.CPUs, u.Busy, s.env.VCPUMinWatts, s.env.VCPUMaxWatts)
	}
	r.Interval = u.Interval
	r.Parts = append(r.Parts, meter.Part{Key: meter.Key{Domain: meter.Package, ID: 0, Die: meter.NoDie}, Energy: pw.Over(u.Interval)})
	r.Complete = true
	return r, nil
}

func (s *Source) Close() {}

func (s *Source) Describe() string {
	if s.tdpTotal > 0 {
		return fmt.Sprintf("estimate with the TDP curve (TDP %g W)", s.tdpTotal.Watts())
	}
	from := "as set by vcpu_min_watts and vcpu_max_watts"
	if s.env.VCPUMinWatts == DefaultVCPUMinWatts && s.env.VCPUMaxWatts == DefaultVCPUMaxWatts {
		from = "idle to full load: Cloud Carbon Footprint's averages for cloud servers"
	}
	return fmt.Sprintf("estimate per vCPU (%g to %g W per vCPU, %s); set tdp_watts to use the TDP curve instead", s.env.VCPUMinWatts, s.env.VCPUMaxWatts, from)
}

func (s *Source) Explain(err error) (why, fix string) {
	return err.Error(), fmt.Sprintf("make %s/stat readable, with its all-CPU \"cpu \" line (host_proc)", s.env.Roots.Proc)
}

func (s *Source) Label(lang string) string {
	if lang == "fr" {
		return fmt.Sprintf("modèle %s à partir de l’utilisation du processeur (model) — ESTIMATION, pas une mesure", s.Model())
	}
	return fmt.Sprintf("%s model from CPU utilisation (model) — ESTIMATE, not a measurement", s.Model())
}
