// Package msr measures CPU packages and their DRAM by reading the RAPL
// energy registers directly (/dev/cpu/N/msr), where the powercap driver
// is missing: a kernel built without intel_rapl, or one where it is
// blacklisted. The counters are those the rapl source reads through
// powercap, without the kernel's help: 32 bits wide, in the CPU's own
// energy unit, read on one CPU of each package.
package msr

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/meter"
	regs "github.com/greencampus/powerinput/internal/msr"
	"github.com/greencampus/powerinput/internal/source"
)

// Name is the source tag's value.
const Name = "msr"

// Spec registers the source.
var Spec = source.Spec{Name: Name, New: New}

// StaleIntervals: as for rapl, a real package's counter always moves; one
// that has not for this many intervals is not real. The source also stops
// after this many intervals without any value.
const StaleIntervals = 3

// ErrNoDevice: no CPU has an msr device file.
var ErrNoDevice = errors.New("no MSR device files")

// Source is the msr source.
type Source struct {
	env      source.Env
	counters source.Counters
	id       regs.ID
	leads    []regs.Lead
	unit     regs.Unit
	tdps     map[meter.Key]energy.Power
	// permanent is a reason that only another machine would change (a CPU
	// without RAPL registers): probes that follow fail at once with it.
	permanent error
}

// New returns the source over env's devices.
func New(env source.Env) source.Source {
	return &Source{env: env, counters: source.Counters{Clock: env.Clock, StopAfter: StaleIntervals}}
}

func (s *Source) Name() string  { return Name }
func (s *Source) Model() string { return "" }

// TDP of a package (or die): MSR_PKG_POWER_INFO's on Intel, else the
// configured one.
func (s *Source) TDP(k meter.Key) energy.Power {
	return s.tdps[meter.Key{Domain: meter.Package, ID: k.ID, Die: k.Die}]
}

func (s *Source) Probe(deadline time.Time) error {
	return s.counters.Probe(deadline, s.discover)
}

// discover opens the msr device of one CPU per package (per die on Intel's
// multi-die packages) and makes a channel of each package counter and of
// each DRAM counter that reads non-zero (a CPU without DRAM RAPL reads 0,
// which is how the kernel tells too).
func (s *Source) discover() (ch []meter.Channel, ceiling energy.Power, err error) {
	if s.permanent != nil {
		return nil, 0, s.permanent
	}
	if !regs.HasDevices(s.env.Roots.Dev) {
		return nil, 0, fmt.Errorf("%s: %w", s.env.Roots.Dev.Path("cpu"), ErrNoDevice)
	}
	id, err := regs.ReadID(s.env.Roots.Proc)
	if err != nil {
		return nil, 0, fmt.Errorf("which CPU: %w", err)
	}
	layout, err := regs.LayoutOf(id)
	if err != nil {
		s.permanent = fmt.Errorf("%s: %w", id, err)
		return nil, 0, s.permanent
	}
	leads, err := regs.Leads(s.env.Roots.Sys, layout.Vendor == regs.Intel)
	if err != nil {
		return nil, 0, err
	}
	var devs []*regs.Device
	defer func() {
		if err != nil {
			for _, d := range devs {
				d.Close()
			}
		}
	}()
	tdps := map[meter.Key]energy.Power{}
	var sum energy.Power
	unknown := 0
	var unit regs.Unit
	for _, l := range leads {
		dev, err := regs.Open(s.env.Roots.Dev, l.CPU, s.env.OpenDev)
		if err != nil {
			return nil, 0, err
		}
		devs = append(devs, dev)
		raw, err := dev.Read(layout.Unit)
		if err != nil {
			if errors.Is(err, regs.ErrNoRegister) {
				s.permanent = fmt.Errorf("%s: %w", id, err)
			}
			return nil, 0, err
		}
		unit, err = regs.EnergyUnit(raw)
		if err != nil {
			s.permanent = fmt.Errorf("%s: %w", dev.Path(), err)
			return nil, 0, s.permanent
		}
		tdp := s.env.TDPWatts
		if layout.PowerInfo != 0 {
			if v, err := dev.Read(layout.PowerInfo); err == nil && regs.TDP(v, raw) > 0 {
				tdp = regs.TDP(v, raw)
			}
		}
		key := meter.Key{Domain: meter.Package, ID: l.Package, Die: l.Die}
		tdps[key] = tdp
		if tdp > 0 {
			sum += tdp
		} else {
			unknown++
		}
		ch = append(ch, channel(dev, layout.Package, unit, key, meter.PackageLimits(unit.Range(), tdp)))
		if layout.DRAM == 0 {
			continue
		}
		if v, err := dev.Read(layout.DRAM); err != nil || v&0xffff_ffff == 0 {
			continue // no DRAM counter on this CPU
		}
		du := unit
		if layout.DRAMUnit != (regs.Unit{}) {
			du = layout.DRAMUnit
		}
		key.Domain = meter.DRAM
		ch = append(ch, channel(dev, layout.DRAM, du, key, meter.DRAMLimits(du.Range(), tdp)))
	}
	s.id, s.leads, s.unit, s.tdps = id, leads, unit, tdps
	return ch, meter.HostCeiling(sum, unknown), nil
}

func channel(dev *regs.Device, addr int64, u regs.Unit, key meter.Key, lim meter.Limits) meter.Channel {
	return meter.Channel{
		Key:        key,
		Name:       fmt.Sprintf("%s register %#x", dev.Path(), addr),
		Reader:     regs.Counter{Dev: dev, Addr: addr, Unit: u},
		Limits:     lim,
		StaleAfter: StaleIntervals,
	}
}

func (s *Source) Sample(deadline time.Time) (*meter.Result, error) {
	return s.counters.Sample(deadline)
}

func (s *Source) Close() { s.counters.Close() }

// Describe lists the packages and DRAM counters found, with their TDPs,
// the CPUs read, and how long a counter takes to wrap.
func (s *Source) Describe() string {
	m := s.counters.Meter()
	out := source.DescribeChannels(m, s.TDP)
	if m == nil {
		return out
	}
	var cpus []string
	for _, l := range s.leads {
		cpus = append(cpus, fmt.Sprint(l.CPU))
	}
	// The counter that wraps first, at the highest power the meter takes
	// it to keep up (its package's TDP, or the bound for an unknown TDP):
	// an interval longer than that gives no value.
	var wrap time.Duration
	var at energy.Power
	var rng energy.Energy
	for _, c := range m.Channels {
		lim := c.Limits
		if lim.Max == 0 || lim.Sustained <= 0 {
			continue
		}
		d := time.Duration(lim.Max.Joules() / lim.Sustained.Watts() * float64(time.Second))
		if wrap == 0 || d < wrap {
			wrap, at, rng = d, lim.Sustained, lim.Max
		}
	}
	return fmt.Sprintf("%s; %s, registers read on CPU %s; energy unit %.4g µJ; the first counter to wrap does after %.0f J, %s at %g W (gather more often than that)",
		out, s.id, strings.Join(cpus, ", "), s.unit.Microjoules(), rng.Joules(), wrap.Round(time.Second), at.Watts())
}

// Explain gives why the registers cannot be read here and the fix.
func (s *Source) Explain(err error) (why, fix string) {
	dev := s.env.Roots.Dev.Path("cpu")
	switch {
	case errors.Is(err, ErrNoDevice):
		return fmt.Sprintf("no MSR device files under %s", dev),
			"on bare metal load the msr module (modprobe msr; list it in /etc/modules-load.d to keep it); a VM has no RAPL registers: use the vm source or the model"
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EPERM):
		return fmt.Sprintf("%v (reading MSRs needs read access to %s/N/msr and the CAP_SYS_RAWIO capability)", err, dev),
			"run Telegraf's execd command as root, or give powerinput the capability (setcap cap_sys_rawio=ep /usr/local/bin/powerinput) and the telegraf group read access to the msr files (see README, Permissions)"
	case errors.Is(err, regs.ErrUnsupported), errors.Is(err, regs.ErrNoRAPL), errors.Is(err, regs.ErrNoRegister):
		return fmt.Sprintf("%v: this CPU, or the hypervisor answering for it, has no RAPL energy registers", err),
			"nothing to fix here: the next source is used"
	case errors.Is(err, source.ErrStale):
		return fmt.Sprintf("the RAPL registers have not advanced for %d intervals: they are not real (a hypervisor answering with a constant?)", StaleIntervals),
			"nothing to fix on a VM: the next source is used"
	default:
		return err.Error(), fmt.Sprintf("check %s and the CPU topology under host_sys (see README, Troubleshooting)", dev)
	}
}

// Label says where the numbers come from.
func (s *Source) Label(lang string) string {
	if lang == "fr" {
		return "mesurée par les registres d’énergie RAPL du processeur, lus directement (msr)"
	}
	return "measured by the CPU's RAPL energy registers, read directly (msr)"
}
