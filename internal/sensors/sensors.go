// Package sensors samples the power sensors that stand beside the CPU
// chain of sources: GPUs, whose energy is a part of the machine added to
// the host total, and platform sensors (the wall, psys, a board's
// monitors), which see the machine, or some of it, as a whole and are
// never added to its parts.
//
// Each sensor has its own interval: a GPU that cannot be read holds back
// neither the wall nor another GPU. A counter (energyN_input, psys) goes
// through the meter and its rules (wrap, reset, ceiling, a read held
// while it may come back); a power sensor (powerN_average, powerN_input)
// is integrated over the measured interval with the trapezoid rule, the
// mean of the readings that bound the interval times its length, and says
// so in its method. All reads of a gather run under one guard, so a
// sensor that hangs (an ACPI method that never returns) never blocks a
// gather.
//
// Every interval is numbered by the gathers that bound it, so that the
// plugin adds a GPU to the host total, or sets the wall beside it, only
// when its readings cover the same gathers as the CPUs'.
//
// NVIDIA GPUs (NVML) are not read yet. They would come in as another
// finder of GPU sensors beside the hwmon one (finders in discover.go),
// with driver "nvidia" and source "nvml"; the rest of the package, and
// what the plugin writes, stay as they are.
package sensors

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/say"
)

// Kind of sensor.
type Kind uint8

// Kinds: a GPU is a part of the machine; a platform sensor sees the
// machine, or some of it, whole.
const (
	GPU Kind = iota + 1
	Platform
)

// Methods: how a sensor's energy for an interval is known, written in the
// method tag.
const (
	// Counter: the difference of an energy counter, exact.
	Counter = "counter"
	// Average: the device's own average power, integrated over the
	// interval (trapezoid rule).
	Average = "average"
	// Sample: instantaneous power readings, integrated over the interval
	// (trapezoid rule): the roughest.
	Sample = "sample"
)

// Scopes of a platform sensor, written in the scope tag.
const (
	// Wall: the whole machine at the socket (the configured wall sensor,
	// by default the ACPI power meter).
	Wall = "wall"
	// Psys: the platform domain of RAPL on client parts (SoC, memory and
	// more, not the wall).
	Psys = "psys"
	// Other: a hwmon power sensor whose scope powerinput does not know (a
	// board's rail, a power supply's output).
	Other = "other"
)

// Sources of a sensor's numbers, written in the source tag.
const (
	SourceHwmon = "hwmon"
	SourceRAPL  = "rapl"
	SourceMSR   = "msr"
)

// Ceilings: a power sensor reading above them is garbage.
const (
	// GPUCeiling is above any GPU board's power (today's largest draw
	// about 1.5 kW).
	GPUCeiling = energy.Power(4000)
	// PlatformCeiling is above any machine a single sensor sees.
	PlatformCeiling = energy.Power(100_000)
	// PsysCeiling and PsysSustained bound a psys counter: its platform
	// is a client machine or one server.
	PsysCeiling   = energy.Power(10_000)
	PsysSustained = energy.Power(1000)
)

// Sensor is one sensor and its state.
type Sensor struct {
	Kind Kind
	// Name is the sensor's tag value: the gpu tag (the card's number) of a
	// GPU, the sensor tag of a platform sensor (the hwmon device's name,
	// with the channel where the device has several; "psys").
	Name string
	// Driver is a GPU's driver (amdgpu, i915, xe), a platform sensor's
	// hwmon device name; "" for psys.
	Driver string
	// Source, Method and Scope (platform only) are tag values.
	Source, Method, Scope string
	// Path is what is read: a file, or an MSR device and register.
	Path string
	// Label is the channel's label, for -doctor ("" when none).
	Label string
	// Averaging is the window of a device's average (powerN_average_interval).
	Averaging time.Duration

	// A counter's channel, kept unprimed to start a meter afresh; its
	// meter.
	channel meter.Channel
	counter *meter.Meter
	// A power sensor's reader and state.
	gauge *gauge
	// asleep reads a GPU's runtime_status; nil when it has none.
	asleep *kfile.Attr
	// from is the gather at which the current interval began; 0: none.
	from int64
	// fresh: restarted and not sampled since.
	fresh bool
}

// Additive says whether the sensor's energy is a part of the host total.
func (s *Sensor) Additive() bool { return s.Kind == GPU }

// Key is the sensor's key as a part of the machine.
func (s *Sensor) key(id int) meter.Key {
	if s.Kind == GPU {
		return meter.Key{Domain: meter.GPU, ID: id, Die: meter.NoDie}
	}
	return meter.Key{Domain: meter.Platform, ID: id, Die: meter.NoDie}
}

// Reading is a sensor's energy over an interval.
type Reading struct {
	Sensor   *Sensor
	Energy   energy.Energy
	Interval time.Duration
	// From is the gather at which the interval began; it ended at the
	// gather sampled.
	From int64
}

// Power is the reading's average power.
func (r Reading) Power() energy.Power { return energy.Average(r.Energy, r.Interval) }

// gauge integrates a power sensor.
type gauge struct {
	attr     *kfile.Attr
	ceiling  energy.Power
	zeroIsNo bool // a reading of 0 W is no reading (the wall)
	prev     energy.Power
	prevAt   time.Time
	primed   bool
}

// condition is what is wrong with a sensor this gather; it is said once.
type condition struct {
	level say.Level
	msg   string
}

// verdict of one sensor's sample.
type verdict struct {
	value  bool
	energy energy.Energy
	span   time.Duration
	from   int64
	cond   *condition
	gone   bool // its file went away: find the sensors again
}

// sampleGauge reads a power sensor and integrates it since its previous
// reading. A failed or unbelievable reading starts it afresh.
func (s *Sensor) sampleGauge(clock func() time.Time, gather int64) verdict {
	g := s.gauge
	uw, err := g.attr.Uint()
	now := clock()
	if err != nil {
		g.primed, s.from = false, 0
		return verdict{cond: readFailed(s.Path, err), gone: gone(err)}
	}
	p := energy.FromMicrowatts(uw)
	switch {
	case p > g.ceiling:
		g.primed, s.from = false, 0
		return verdict{cond: &condition{say.Warn, fmt.Sprintf("%s reads more than %.0f W, which no such sensor measures (a garbled value?): no value for it until it reads believably", s.Path, g.ceiling.Watts())}}
	case p == 0 && g.zeroIsNo:
		g.primed, s.from = false, 0
		return verdict{cond: &condition{say.Warn, fmt.Sprintf("%s reads 0 W: the meter has no reading (a machine never draws 0 W at the wall); no value for it until it has", s.Path)}}
	}
	if !g.primed {
		g.prev, g.prevAt, g.primed, s.from = p, now, true, gather
		return verdict{}
	}
	span := now.Sub(g.prevAt)
	if span <= 0 {
		return verdict{} // no time passed: the next reading covers this gather too
	}
	e := ((g.prev + p) / 2).Over(span)
	v := verdict{value: true, energy: e, span: span, from: s.from}
	g.prev, g.prevAt, s.from = p, now, gather
	return v
}

// sampleCounter samples a counter through its meter.
func (s *Sensor) sampleCounter(gather int64) verdict {
	r := s.counter.Sample()
	var v verdict
	for _, p := range r.Problems {
		level, msg := p.Message()
		v.cond = &condition{level, msg}
		if p.Err != nil && gone(p.Err) {
			v.gone = true
		}
	}
	switch {
	case r.Held:
		return v
	case r.Interval == 0:
		if v.cond == nil {
			s.from = gather // the baseline
		}
		return v
	}
	for _, p := range r.Parts {
		v.value, v.energy, v.span, v.from = true, p.Energy, r.Interval, s.from
	}
	s.from = gather
	return v
}

// sleeping reports whether a GPU sleeps (runtime suspend). A GPU's sensor
// is not read then: Intel's drivers would wake it to answer, AMD's refuse.
func (s *Sensor) sleeping() bool {
	if s.asleep == nil {
		return false
	}
	b, err := s.asleep.Text()
	if err != nil {
		if !meter.Transient(err) {
			s.asleep.Close()
			s.asleep = nil // no runtime power management here
		}
		return false
	}
	return string(b) == "suspended"
}

// restart forgets a sensor's baseline: the next sample takes a new one.
func (s *Sensor) restart(clock func() time.Time) {
	if s.fresh {
		return
	}
	s.from, s.fresh = 0, true
	if s.gauge != nil {
		s.gauge.primed = false
	}
	if s.counter != nil {
		s.counter = meter.New([]meter.Channel{s.channel}, clock)
	}
}

func (s *Sensor) close() {
	if s.counter != nil {
		s.counter.Close()
	}
	if s.gauge != nil {
		s.gauge.attr.Close()
	}
	if s.asleep != nil {
		s.asleep.Close()
	}
}

func readFailed(path string, err error) *condition {
	level := say.Warn
	if errors.Is(err, fs.ErrPermission) {
		level = say.Error
	}
	return &condition{level, fmt.Sprintf("cannot read %s: %s; no value for it until it can be read", path, kfile.Reason(err, path))}
}

// gone: the error says the file went away (a driver unloaded).
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENODEV)
}

// Result of a gather's sample. Its slices are reused by the next one.
type Result struct {
	// Readings are the sensors with a value for an interval that ended at
	// this gather.
	Readings []Reading
	// GPUs are the names of every GPU found since the start, in order:
	// one of them without a reading is missing from the host total.
	GPUs []string
}

// Set is the sensors of a machine.
type Set struct {
	cfg      Config
	say      say.Func
	g        guard.Guard
	sensors  []*Sensor
	found    discovery
	watches  []*dirWatch
	gpus     []string
	searched bool // discovery has run
	again    bool // find the sensors again before the next reads
	// restart: reads timed out, take new baselines. Set by the caller
	// while the late reads may still run.
	restart atomic.Bool
	said    *say.Conditions
	conds   map[string]*condition
	res     Result
	// fail is the result of a gather whose reads did not return, and
	// known the GPUs as the caller last saw them: both the caller's own.
	fail  Result
	known []string
	// gather is the number of the gather being sampled; run samples it
	// (a method value made once: the guard's work allocates nothing).
	gather int64
	look   bool // look for devices that came
	run    func()
}

// New returns the set of the sensors cfg enables; nil when it enables
// none. Nothing is read before the first Sample or Describe.
func New(cfg Config, tell say.Func) *Set {
	if !cfg.Hwmon && !cfg.GPUs && !cfg.Psys {
		return nil
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.LookEvery <= 0 {
		cfg.LookEvery = DefaultLookEvery
	}
	if tell == nil {
		tell = func(string, say.Level, string) {}
	}
	s := &Set{cfg: cfg, say: tell, said: say.NewConditions(tell), conds: map[string]*condition{}}
	s.run = s.sampleNow
	return s
}

// Sample reads every sensor under the guard, for the gather numbered
// gather (1, 2, …), and returns the readings of the intervals that ended
// now. A gather whose reads did not return in time has no reading, and
// every sensor then starts again from a new baseline.
//
// What the guarded work writes (the sensors, res, conds, gpus) is read
// here only once it has returned: a read that timed out may still be
// running, and Do refuses new work until it ends.
func (s *Set) Sample(deadline time.Time, gather int64) *Result {
	if s.g.Busy() {
		return s.failed(guard.ErrBusy)
	}
	look := gather%int64(s.cfg.LookEvery) == 0
	if s.searched && len(s.sensors) == 0 && !s.again && !look {
		s.res.Readings, s.res.GPUs = s.res.Readings[:0], s.gpus
		return &s.res // nothing to read, and no look due: no I/O at all
	}
	s.gather, s.look = gather, look
	if err := s.g.Do(deadline, s.run); err != nil {
		return s.failed(err)
	}
	s.sayConditions(s.conds)
	s.res.GPUs = s.gpus
	if len(s.known) != len(s.gpus) {
		s.known = slices.Clone(s.gpus)
	}
	return &s.res
}

// failed is the result of a gather whose reads did not return: no
// reading, and new baselines once they do.
func (s *Set) failed(err error) *Result {
	s.restart.Store(true)
	s.sayConditions(map[string]*condition{"sensors": {say.Warn, fmt.Sprintf("the sensors' reads %v: no sensor value for this gather", err)}})
	s.fail.GPUs = s.known
	return &s.fail
}

// sampleNow samples gather s.gather, under the guard.
func (s *Set) sampleNow() {
	gather := s.gather
	clear(s.conds)
	s.res.Readings = s.res.Readings[:0]
	if !s.searched || s.again || s.look && (s.cfg.Hwmon || s.cfg.GPUs) && s.changed() {
		s.discover()
	}
	if s.restart.Swap(false) {
		for _, sn := range s.sensors {
			sn.restart(s.cfg.Clock)
		}
	}
	for _, sn := range s.sensors {
		var v verdict
		switch {
		case sn.Kind == GPU && sn.sleeping():
			sn.restart(s.cfg.Clock)
			v.cond = &condition{say.Info, fmt.Sprintf("GPU %s (%s) sleeps (runtime suspend): it is not read, as reading would wake it; power_host leaves it out, with the tag partial=gpu, until it wakes", sn.Name, sn.Driver)}
		case sn.counter != nil:
			sn.fresh = false
			v = sn.sampleCounter(gather)
		default:
			sn.fresh = false
			v = sn.sampleGauge(s.cfg.Clock, gather)
		}
		if v.cond != nil {
			s.conds["sensor:"+sn.Path] = v.cond
		}
		if v.gone {
			s.again = true
		}
		if v.value {
			s.res.Readings = append(s.res.Readings, Reading{Sensor: sn, Energy: v.energy, Interval: v.span, From: v.from})
		}
	}
}

// sayConditions says each condition once, and ends those of sensors that
// are fine again.
func (s *Set) sayConditions(conds map[string]*condition) {
	for key, c := range conds {
		s.said.Say(key, c.level, c.msg)
	}
	s.said.End()
}

// Sensors are the sensors found; only for reading between samples.
func (s *Set) Sensors() []*Sensor { return s.sensors }

// Close releases the sensors' files.
func (s *Set) Close() {
	s.g.Do(time.Now().Add(100*time.Millisecond), func() {
		for _, sn := range s.sensors {
			sn.close()
		}
		s.sensors = nil
		for _, w := range s.watches {
			w.close()
		}
	})
}
