package sensors

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/hwmon"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/msr"
	"github.com/greencampus/powerinput/internal/powercap"
	"github.com/greencampus/powerinput/internal/say"
)

// Config says which sensors to look for, and where.
type Config struct {
	Roots kfile.Roots
	// Hwmon: the platform's power sensors under class/hwmon.
	Hwmon bool
	// GPUs: the GPUs under class/drm.
	GPUs bool
	// Psys: RAPL's platform domain (a powercap zone, else the MSR).
	Psys bool
	// WallSensor is the name of the platform sensor that measures the
	// whole machine at the wall; "" for none.
	WallSensor string
	// Clock is the monotonic clock, read right after each sensor's read.
	Clock func() time.Time
	// Open opens files and OpenDev MSR devices (seams for tests).
	Open, OpenDev kfile.Opener
	// LookEvery is how many gathers pass between two looks for devices
	// that came (a driver loaded); 0 for DefaultLookEvery. A device that
	// goes is noticed at once, by its failed read.
	LookEvery int
}

// DefaultLookEvery: a GPU driver loaded is noticed within a minute at
// Telegraf's default 10 s interval, and a gather of a machine without
// sensors does no I/O for them five times out of six.
const DefaultLookEvery = 6

// StaleIntervals: a counter that has not moved for this many intervals
// has stopped; until then an unchanged counter holds its sample (some
// devices update their counter less often than the gathers).
const StaleIntervals = 3

// discovery is what a search found besides the sensors, for -doctor.
type discovery struct {
	skips []hwmon.Skip
	// psysOff is where psys was found while the psys option is off.
	psysOff string
	errs    []error
}

// finders are the ways to find sensors, in order. NVML would be a finder
// of GPUs here.
func (s *Set) finders() []func(*discovery) []*Sensor {
	var out []func(*discovery) []*Sensor
	if s.cfg.Hwmon {
		out = append(out, s.findPlatform)
	}
	if s.cfg.GPUs {
		out = append(out, s.findHwmonGPUs)
	}
	out = append(out, s.findPsys) // found even when off, for -doctor
	return out
}

// discover finds the sensors. A sensor found before (the same file) keeps
// its state, so a search after a change elsewhere loses no interval.
func (s *Set) discover() {
	s.searched, s.again = true, false
	s.changed() // note the directories as they are now: a change from here on is seen
	var found []*Sensor
	var d discovery
	for _, f := range s.finders() {
		found = append(found, f(&d)...)
	}
	for _, n := range found {
		for i, o := range s.sensors {
			if o != nil && o.Path == n.Path && o.Method == n.Method {
				n.adopt(o)
				s.sensors[i] = nil
				break
			}
		}
	}
	for _, o := range s.sensors {
		if o != nil {
			o.close()
		}
	}
	s.sensors, s.found = found, d
	for _, n := range found {
		if n.Kind == GPU && !slices.Contains(s.gpus, n.Name) {
			s.gpus = append(s.gpus, n.Name)
		}
	}
	var names []string
	for _, n := range found {
		names = append(names, n.String())
	}
	if len(names) > 0 {
		s.say("sensors", say.Info, "sensors beside the CPUs: "+strings.Join(names, ", "))
	}
	for _, sk := range d.skips {
		s.say("sensors:skip:"+sk.Path, say.Info, fmt.Sprintf("%s is not read: %s", sk.Path, sk.Why))
	}
}

// adopt takes over the readers and state of o, the same sensor found
// before: what changes is only how it is named.
func (s *Sensor) adopt(o *Sensor) {
	s.close()
	s.channel, s.counter, s.gauge, s.asleep, s.from, s.fresh = o.channel, o.counter, o.gauge, o.asleep, o.from, o.fresh
}

// String names a sensor for people: "wall power_meter (hwmon, average)".
func (s *Sensor) String() string {
	if s.Kind == GPU {
		return fmt.Sprintf("gpu %s %s (%s, %s)", s.Name, s.Driver, s.Source, s.Method)
	}
	if s.Scope == s.Name {
		return fmt.Sprintf("%s (%s, %s)", s.Name, s.Source, s.Method)
	}
	return fmt.Sprintf("%s %s (%s, %s)", s.Scope, s.Name, s.Source, s.Method)
}

// changed reports whether devices came or went since the last look.
func (s *Set) changed() bool {
	if s.watches == nil {
		for _, d := range []string{"hwmon", "drm"} {
			s.watches = append(s.watches, newDirWatch(s.cfg.Roots.Sys.Path("class", d)))
		}
	}
	changed := false
	for _, w := range s.watches {
		if w.changed() {
			changed = true
		}
	}
	return changed
}

func methodOf(k hwmon.Kind) string {
	switch k {
	case hwmon.Energy:
		return Counter
	case hwmon.Average:
		return Average
	}
	return Sample
}

// findPlatform makes a sensor of each power channel under class/hwmon.
func (s *Set) findPlatform(d *discovery) []*Sensor {
	devs, skips, err := hwmon.Platform(s.cfg.Roots.Sys)
	d.skips = append(d.skips, skips...)
	if err != nil {
		if !errors.Is(err, hwmon.ErrNoHwmon) {
			d.errs = append(d.errs, err)
		}
		return nil
	}
	var out []*Sensor
	seen := map[string]int{}
	for _, dev := range devs {
		for _, c := range dev.Channels {
			name := dev.Name
			if len(dev.Channels) > 1 {
				name += "/" + c.Name()
			}
			if seen[name]++; seen[name] > 1 {
				name += "_" + strconv.Itoa(seen[name])
			}
			sn := &Sensor{Kind: Platform, Name: name, Driver: dev.Name, Source: SourceHwmon, Method: methodOf(c.Kind),
				Scope: Other, Path: c.Path, Label: c.Label, Averaging: c.Averaging}
			if name == s.cfg.WallSensor {
				sn.Scope = Wall
			}
			s.reader(sn, len(out), PlatformCeiling, sn.Scope == Wall)
			out = append(out, sn)
		}
	}
	return out
}

// findHwmonGPUs makes a sensor of each GPU's hwmon channel.
func (s *Set) findHwmonGPUs(d *discovery) []*Sensor {
	gpus, skips, err := hwmon.GPUs(s.cfg.Roots.Sys)
	d.skips = append(d.skips, skips...)
	if err != nil {
		d.errs = append(d.errs, err)
		return nil
	}
	var out []*Sensor
	for _, g := range gpus {
		c := g.Channels[0]
		sn := &Sensor{Kind: GPU, Name: strconv.Itoa(g.Card), Driver: g.Driver(), Source: SourceHwmon, Method: methodOf(c.Kind),
			Path: c.Path, Label: c.Label, Averaging: c.Averaging}
		s.reader(sn, g.Card, GPUCeiling, false)
		sn.asleep = kfile.NewAttr(g.RuntimeStatus, s.cfg.Open)
		out = append(out, sn)
	}
	return out
}

// reader gives a hwmon sensor its counter or gauge.
func (s *Set) reader(sn *Sensor, id int, ceiling energy.Power, zeroIsNo bool) {
	if sn.Method == Counter {
		sn.channel = meter.Channel{
			Key:        sn.key(id),
			Name:       sn.Path,
			Reader:     meter.Counter{Attr: kfile.NewAttr(sn.Path, s.cfg.Open)},
			Limits:     meter.Limits{Ceiling: ceiling},
			StaleAfter: StaleIntervals,
		}
		sn.counter = meter.New([]meter.Channel{sn.channel}, s.cfg.Clock)
		return
	}
	sn.gauge = &gauge{attr: kfile.NewAttr(sn.Path, s.cfg.Open), ceiling: ceiling, zeroIsNo: zeroIsNo}
}

// findPsys finds RAPL's platform domain: a powercap psys zone, else, on
// Intel, MSR_PLATFORM_ENERGY_STATUS where it reads non-zero. With the psys
// option off it is only noted, for -doctor.
func (s *Set) findPsys(d *discovery) []*Sensor {
	sn := s.psysZone()
	if sn == nil {
		sn = s.psysMSR()
	}
	if sn == nil {
		return nil
	}
	if !s.cfg.Psys {
		d.psysOff = sn.Path
		sn.close()
		return nil
	}
	return []*Sensor{sn}
}

func (s *Set) psysZone() *Sensor {
	zones, _ := powercap.Discover(s.cfg.Roots.Sys)
	for _, z := range zones {
		if z.Domain != powercap.DomainPsys {
			continue
		}
		sn := &Sensor{Kind: Platform, Name: "psys", Source: SourceRAPL, Method: Counter, Scope: Psys, Path: z.EnergyPath()}
		sn.channel = meter.Channel{
			Key:        sn.key(0),
			Name:       sn.Path,
			Reader:     meter.Counter{Attr: kfile.NewAttr(sn.Path, s.cfg.Open)},
			Limits:     meter.Limits{Max: z.MaxRange, Ceiling: PsysCeiling, Sustained: PsysSustained},
			StaleAfter: StaleIntervals,
		}
		sn.counter = meter.New([]meter.Channel{sn.channel}, s.cfg.Clock)
		return sn
	}
	return nil
}

func (s *Set) psysMSR() *Sensor {
	if s.cfg.Roots.Dev == "" || s.cfg.OpenDev == nil || !msr.HasDevices(s.cfg.Roots.Dev) {
		return nil
	}
	id, err := msr.ReadID(s.cfg.Roots.Proc)
	if err != nil {
		return nil
	}
	layout, err := msr.LayoutOf(id)
	if err != nil || layout.Platform == 0 {
		return nil
	}
	leads, err := msr.Leads(s.cfg.Roots.Sys, false)
	if err != nil {
		return nil
	}
	dev, err := msr.Open(s.cfg.Roots.Dev, leads[0].CPU, s.cfg.OpenDev)
	if err != nil {
		return nil
	}
	raw, err := dev.Read(layout.Unit)
	unit, uerr := msr.EnergyUnit(raw)
	v, verr := dev.Read(layout.Platform)
	if err != nil || uerr != nil || verr != nil || v&0xffff_ffff == 0 {
		dev.Close()
		return nil
	}
	if layout.PlatformUnit != (msr.Unit{}) {
		unit = layout.PlatformUnit
	}
	sn := &Sensor{Kind: Platform, Name: "psys", Source: SourceMSR, Method: Counter, Scope: Psys,
		Path: fmt.Sprintf("%s register %#x", dev.Path(), layout.Platform)}
	sn.channel = meter.Channel{
		Key:        sn.key(0),
		Name:       sn.Path,
		Reader:     msr.Counter{Dev: dev, Addr: layout.Platform, Unit: unit},
		Limits:     meter.Limits{Max: unit.Range(), Ceiling: PsysCeiling, Sustained: PsysSustained},
		StaleAfter: StaleIntervals,
	}
	sn.counter = meter.New([]meter.Channel{sn.channel}, s.cfg.Clock)
	return sn
}

// Describe says what a sensor measures and how, for -doctor.
func (s *Sensor) Describe() string {
	file := filepath.Base(s.Path)
	if s.Source == SourceMSR {
		file = "register " + s.Path[strings.LastIndexByte(s.Path, ' ')+1:]
	}
	if s.Label != "" {
		file += ", labelled " + s.Label
	}
	var how string
	switch s.Method {
	case Counter:
		how = fmt.Sprintf("an energy counter (%s): exact (method=counter)", file)
	case Average:
		over := ""
		if s.Averaging > 0 {
			over = " over " + s.Averaging.String()
		}
		how = fmt.Sprintf("the device's own average power%s (%s), integrated over each interval (method=average)", over, file)
	default:
		how = fmt.Sprintf("instantaneous power (%s), integrated over each interval (method=sample: the roughest)", file)
	}
	switch {
	case s.Kind == GPU:
		return "the GPU: " + how + "; added to the host total"
	case s.Scope == Wall:
		return "the whole machine at the wall: " + how + "; beside the host total, never added to it"
	case s.Scope == Psys:
		return "RAPL's platform domain (the SoC, memory and more, not the wall): " + how + "; never added to the packages"
	}
	return "a sensor whose scope powerinput does not know: " + how + "; written, never added"
}

// Check finds the sensors, if no sample has yet, and reads each once, for
// -doctor: it returns the error of each sensor that cannot be read. It
// leaves the sensors' intervals alone.
func (s *Set) Check(deadline time.Time) (map[*Sensor]error, error) {
	errs := map[*Sensor]error{}
	err := s.g.Do(deadline, func() {
		if !s.searched {
			s.discover()
		}
		for _, sn := range s.sensors {
			var err error
			switch {
			case sn.gauge != nil:
				_, err = sn.gauge.attr.Uint()
			default:
				_, err = sn.channel.Reader.Read()
			}
			if err != nil {
				errs[sn] = err
			}
		}
	})
	return errs, err
}

// Skipped are the devices found and left out, with why.
func (s *Set) Skipped() []hwmon.Skip { return s.found.skips }

// PsysOff is where psys was found while the psys option is off; "" if it
// was not found.
func (s *Set) PsysOff() string { return s.found.psysOff }
