package meter

import (
	"time"

	"github.com/greencampus/powerinput/internal/energy"
)

// Ceilings: the highest believable average power of a channel. A higher one
// means the counter was reset or reloaded (a reset can look like a wrap when
// the counter's range is known), and the interval is dropped.
const (
	// PackageCeilingPerTDP: RAPL limits let a package exceed its TDP for a
	// while (PL2, about 1.25 × TDP), never fourfold.
	PackageCeilingPerTDP = 4
	// DRAMCeilingPerTDP: DRAM draws well below its package's TDP; twice the
	// package's TDP is beyond any memory configuration of such a package.
	DRAMCeilingPerTDP = 2
	// HostCeilingPerTDP bounds the host total (all packages with their
	// DRAM) against the sum of the packages' TDPs.
	HostCeilingPerTDP = 4
	// UnknownTDPCeiling: a package whose TDP is unknown: more than any CPU
	// package draws. Its DRAM gets half of it.
	UnknownTDPCeiling = energy.Power(1000)
	// UnknownTDPSustained: the long-term average of a package whose TDP is
	// unknown, above the TDP of today's largest server CPUs.
	UnknownTDPSustained = energy.Power(500)
	// GuestPerVCPU and GuestFloor bound a guest's counter (GuestLimits): a
	// hypervisor divides its energy by CPU time, and a vCPU is at most one
	// of its CPUs busy all the time. 250 W is more than the share of one
	// CPU of any host, GPUs included (eight 1 kW GPUs over 32 CPUs). A
	// hypervisor may also give a small VM the unused capacity of the whole
	// host (vm_unused_capacity = "vcpus" with one VM): 2000 W is more than
	// the packages and memory of any two-socket server draw. A higher bound
	// would take more of a migration's jump for energy (docs/how-it-works.md).
	GuestPerVCPU = energy.Power(250)
	GuestFloor   = energy.Power(2000)
)

// Limits say what a believable reading of one channel is.
type Limits struct {
	// Max is where the counter wraps; 0 when unknown (then a counter that
	// goes backwards is a reset).
	Max energy.Energy
	// Ceiling is the highest believable average power; 0: no ceiling.
	Ceiling energy.Power
	// Sustained is the highest average power the channel keeps up over a
	// long interval (a package's TDP). With Max it bounds the interval in
	// which at most one wrap can have happened; 0: no such bound.
	Sustained energy.Power
	// Share: the counter is the share of a hypervisor's energy that it
	// gives a guest. A move above the ceiling, or backwards, is then the
	// VM moved to another hypervisor or its counter replaced (the messages
	// say so), and a counter found stale may be resumed (Meter.Resume).
	Share bool
}

// PackageLimits are the limits of a CPU package's own counter.
func PackageLimits(maxRange energy.Energy, tdp energy.Power) Limits {
	if tdp <= 0 {
		return Limits{Max: maxRange, Ceiling: UnknownTDPCeiling, Sustained: UnknownTDPSustained}
	}
	return Limits{Max: maxRange, Ceiling: PackageCeilingPerTDP * tdp, Sustained: tdp}
}

// DRAMLimits are the limits of the DRAM counter of a package of that TDP.
func DRAMLimits(maxRange energy.Energy, packageTDP energy.Power) Limits {
	if packageTDP <= 0 {
		return Limits{Max: maxRange, Ceiling: UnknownTDPCeiling / 2, Sustained: UnknownTDPSustained / 2}
	}
	return Limits{Max: maxRange, Ceiling: DRAMCeilingPerTDP * packageTDP, Sustained: packageTDP}
}

// GuestCeiling is the bound of a guest's counter with vcpus online CPUs (0:
// unknown): GuestPerVCPU per vCPU, at least GuestFloor. It cannot follow
// the guest's tdp_watts: a hypervisor gives a VM a share of its whole
// machine, which the guest does not see.
func GuestCeiling(vcpus int) energy.Power {
	return max(GuestFloor, energy.Power(vcpus)*GuestPerVCPU)
}

// GuestLimits are the limits of a counter a hypervisor gives a guest with
// vcpus online CPUs.
func GuestLimits(maxRange energy.Energy, vcpus int) Limits {
	c := GuestCeiling(vcpus)
	return Limits{Max: maxRange, Ceiling: c, Sustained: c, Share: true}
}

// HostCeiling bounds the host total of packages whose TDPs sum to tdpSum,
// count of them of unknown TDP.
func HostCeiling(tdpSum energy.Power, unknown int) energy.Power {
	return HostCeilingPerTDP*tdpSum + energy.Power(unknown)*UnknownTDPCeiling
}

// Verdict is what the move of a counter over an interval means.
type Verdict uint8

// Verdicts of Judge.
const (
	// Measured: the energy is the channel's exact use over the interval.
	Measured Verdict = iota
	// Unchanged: the counter did not move. Its energy is not known to be
	// zero: a counter that updates more slowly than the gathers, or one that
	// stopped, reads the same.
	Unchanged
	// Reset: the counter went backwards and cannot have wrapped.
	Reset
	// Implausible: the difference implies more than the ceiling.
	Implausible
	// Ambiguous: the interval was long enough for the counter to wrap more
	// than once, so its energy cannot be known.
	Ambiguous
)

func (v Verdict) String() string {
	names := [...]string{"measured", "unchanged", "reset", "implausible", "ambiguous", "read failed", "stale", "zero interval", "missing", "moved"}
	if int(v) < len(names) {
		return names[v]
	}
	return "unknown"
}

// Judge says what a counter's move from prev to cur over interval (> 0)
// means, with the energy when Measured and the implied power when
// Implausible. It is pure: the meter's rules for one channel, all here.
func Judge(prev, cur energy.Energy, interval time.Duration, lim Limits) (energy.Energy, Verdict, energy.Power) {
	if lim.Max > 0 && lim.Sustained > 0 && lim.Sustained.Over(interval) >= lim.Max {
		return 0, Ambiguous, 0
	}
	d, status := energy.Delta(prev, cur, lim.Max)
	switch {
	case status == energy.Reset:
		return 0, Reset, 0
	case d == 0:
		return 0, Unchanged, 0
	}
	if p := energy.Average(d, interval); lim.Ceiling > 0 && p > lim.Ceiling {
		return 0, Implausible, p
	}
	return d, Measured, 0
}
