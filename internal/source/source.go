// Package source defines what a power source is: one way of knowing the
// energy a machine's parts use (RAPL zones, a counter from the hypervisor,
// an estimate, a wall-power sensor). Each source lives in a package of its
// own under internal/source and knows everything about itself: how to find
// its counters, sample them, describe itself for -doctor and -summary, and
// explain a failure with its fix. It receives what it needs in an Env when
// it is made, never the plugin.
//
// A Chain tries sources in an order of preference (rapl, then vm, then the
// model) and keeps the first that works.
package source

import (
	"errors"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/powercap"
)

// Source is one way of measuring (or estimating) power.
type Source interface {
	// Name is the value of the source tag: rapl, vm, model.
	Name() string
	// Model names the estimate used, written in the model tag; "" for a
	// measurement.
	Model() string
	// Probe says whether the source works now. The first Sample after it
	// takes a baseline (a counter source) or measures (the model).
	Probe(deadline time.Time) error
	// Sample returns the energy of each part since the previous sample. A
	// result with no parts is an interval without a value.
	// An error means the source has stopped working (stale, gone): the
	// chain then moves to the next one.
	Sample(deadline time.Time) (*meter.Result, error)
	// TDP of a device (the key's domain is ignored); 0 when unknown.
	TDP(k meter.Key) energy.Power
	// Describe says what a working source found, for -doctor.
	Describe() string
	// Explain gives why the source does not work (err from Probe or
	// Sample) and how to fix it, for the log and -doctor.
	Explain(err error) (why, fix string)
	// Label says in lang (en, fr) where the numbers come from, for people.
	Label(lang string) string
	// Close releases what the source holds open.
	Close()
}

// CPUTime gives the machine's CPU utilisation over the last interval, as
// the cpu collector measured it; the model is driven by it.
type CPUTime interface {
	// Utilisation over the last interval; ok is false when there is none
	// yet (the first gather). err says why there can be none at all (CPU
	// times unreadable, or without the all-CPU line).
	Utilisation() (u Utilisation, ok bool, err error)
}

// Utilisation is the machine's CPU use over an interval.
type Utilisation struct {
	Busy     float64 // share of all CPUs busy, 0 to 1
	CPUs     int     // online CPUs
	Interval time.Duration
}

// Env is what a source may use. Sources take what they need from it when
// they are made.
type Env struct {
	// Roots are the host's sysfs, procfs and device roots: the msr source
	// reads Roots.Dev/cpu/N/msr.
	Roots          kfile.Roots
	VMPowercapPath string // a hypervisor-provided counter tree, in a guest
	// TDPWatts is the configured TDP of each package; 0: unknown.
	TDPWatts energy.Power
	// VCPUMinWatts and VCPUMaxWatts are the per-vCPU model's bounds.
	VCPUMinWatts, VCPUMaxWatts float64
	// StaleIntervals: intervals without any advance, or without a value,
	// after which a hypervisor's counter is taken as stopped.
	StaleIntervals int
	// Clock is the monotonic clock, read right after the counters.
	Clock func() time.Time
	// Open opens counter files (a seam for tests).
	Open kfile.Opener
	// OpenDev opens device files, such as /dev/cpu/N/msr (a seam for tests).
	OpenDev kfile.Opener
	// CPU gives CPU utilisation.
	CPU CPUTime
	// Powercap is the machine's powercap zones, shared by the sources that
	// look at them.
	Powercap *powercap.Watcher
}

// Spec makes a source; registering a source is one Spec in the list the
// plugin keeps.
type Spec struct {
	Name string
	New  func(Env) Source
}

// ErrStale: the source's counters have stopped advancing.
var ErrStale = errors.New("counters have stopped advancing")

// ErrNotProbed: Sample before a successful Probe.
var ErrNotProbed = errors.New("not probed")
