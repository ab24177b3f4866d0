package powerinput

import (
	_ "embed"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/inputs"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/hwmon"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/metaphor"
	"github.com/greencampus/powerinput/internal/msr"
	"github.com/greencampus/powerinput/internal/powercap"
	"github.com/greencampus/powerinput/internal/say"
	"github.com/greencampus/powerinput/internal/sensors"
	"github.com/greencampus/powerinput/internal/source"
	"github.com/greencampus/powerinput/internal/source/model"
	srcmsr "github.com/greencampus/powerinput/internal/source/msr"
	"github.com/greencampus/powerinput/internal/source/rapl"
	"github.com/greencampus/powerinput/internal/source/vm"
)

//go:embed sample.conf
var sampleConfig string

// builtinSources are the power sources, in no particular order: the
// sources option orders them. Registering a source is one line here.
func builtinSources() []source.Spec {
	return []source.Spec{
		rapl.Spec,
		srcmsr.Spec,
		vm.Spec,
		model.Spec,
	}
}

// PowerInput is the Telegraf input: its configuration, and the collectors
// that each own their state and their points.
type PowerInput struct {
	Config
	Log telegraf.Logger `toml:"-"`

	// Seams for tests: the monotonic clock and how counters and device
	// files are opened.
	clock   func() time.Time
	sleep   func(time.Duration) // -summary's wait
	open    kfile.Opener
	openDev kfile.Opener

	// readyAt: the first gather after Start reads no sooner (start.go).
	readyAt   time.Time
	waitFirst bool
	// commitAfterWrite: the loop commits each written gather (start.go).
	commitAfterWrite bool

	roots     kfile.Roots // host_sys, host_proc and host_dev
	say       *say.Once
	cpu       *cpuCollector
	power     *powerCollector
	vms       *vmsCollector
	net       *netCollector
	services  *servicesCollector
	processes *processesCollector
	// collectors are those above that are on, in the order a gather runs
	// them (collect.go); tick is the gather's, kept here so that passing
	// it to them costs no allocation.
	collectors []collector
	tick       tick
}

// New returns the plugin with its defaults.
func New() *PowerInput { return &PowerInput{Config: defaults()} }

func init() {
	inputs.Add("powerinput", func() telegraf.Input { return New() })
}

// SampleConfig returns the embedded sample configuration.
func (*PowerInput) SampleConfig() string { return sampleConfig }

// Init checks the configuration and sets up the collectors. It measures
// nothing: a source that does not work yet is not an error here.
func (p *PowerInput) Init() error {
	if p.Log == nil {
		return fmt.Errorf("no logger set: %w", ErrConfig)
	}
	p.seams()
	if err := p.check(); err != nil {
		return err
	}
	specs, err := p.chosenSources()
	if err != nil {
		return err
	}
	table, err := p.metaphors()
	if err != nil {
		return err
	}
	p.roots = p.Roots()
	p.say = newSayer(p.Log)
	// /proc/stat is read once a gather, by the cpu collector, for all
	// that need it.
	needCPU := p.CPU || slices.Contains(p.Sources, model.Name) || p.VMs || p.Services || p.Processes
	p.cpu = newCPUCollector(p.roots.Proc, p.clock, p.CPU, p.PerCPU, p.TotalCPU, p.say)
	if needCPU {
		p.cpu.prime(p.deadline())
	}
	p.power = p.newPowerCollector(specs, table)
	parts := metaphors{carbon: p.CarbonIntensity, table: table}
	if p.VMs {
		p.vms = newVMsCollector(p.roots, p.VMCounterDir, p.VMUnusedCapacity, p.clock, parts, p.say)
		p.vms.afterWrite = p.commitAfterWrite
		p.vms.finder.QemuUsers(p.HostEtc, p.VMQemuUser)
		if p.vms.counters != nil {
			p.vms.counters.SetHostEtc(p.HostEtc)
		}
	}
	if !needCPU {
		p.cpu = nil
	}
	if p.Services || p.Processes {
		// Without services, the control groups still guide the process
		// scan (processes.go), writing nothing.
		p.services = newServicesCollector(p.Config, parts, p.clock, p.say)
	}
	if p.Processes {
		p.processes = newProcessesCollector(p.Config, parts, p.clock, p.say, p.services)
	}
	if p.Net {
		if p.net, err = newNetCollector(p.roots, p.Interfaces, os.Getenv("HOST_PROC") != "", p.say); err != nil {
			return err
		}
	}
	p.collectors = p.collectorsInOrder()
	return nil
}

// seams sets what tests may replace to what the program uses.
func (p *PowerInput) seams() {
	if p.clock == nil {
		p.clock = time.Now
	}
	if p.sleep == nil {
		p.sleep = time.Sleep
	}
	if p.open == nil {
		p.open = kfile.OpenReader
	}
	if p.openDev == nil {
		p.openDev = kfile.DeviceOpener(msr.Major)
	}
}

// newPowerCollector makes the chosen power sources, their chain, and the
// sensors beside it. The sources receive what they need in an Env.
func (p *PowerInput) newPowerCollector(specs []source.Spec, table []metaphor.Metaphor) *powerCollector {
	env := source.Env{
		Roots:          p.roots,
		VMPowercapPath: p.VMPowercapPath,
		TDPWatts:       energy.Power(p.TDPWatts),
		VCPUMinWatts:   p.VCPUMinWatts,
		VCPUMaxWatts:   p.VCPUMaxWatts,
		StaleIntervals: p.VMStaleIntervals,
		Clock:          p.clock,
		Open:           p.open,
		OpenDev:        p.openDev,
		CPU:            p.cpu,
		Powercap:       powercap.NewWatcher(p.roots.Sys),
	}
	sources := make([]source.Source, len(specs))
	for i, s := range specs {
		sources[i] = s.New(env)
	}
	chain := source.NewChain(sources, p.say.Say, time.Duration(p.ReadTimeout))
	chain.Clock = p.clock
	side := sensors.New(sensors.Config{
		Roots:      p.roots,
		Hwmon:      p.Hwmon,
		GPUs:       p.GPUs,
		Psys:       p.Psys,
		WallSensor: p.WallSensor,
		Clock:      p.clock,
		Open:       p.open,
		OpenDev:    p.openDev,
	}, p.say.Say)
	return &powerCollector{chain: chain, powercap: env.Powercap, sensors: side, sensorTimeout: time.Duration(p.ReadTimeout),
		basis: p.MetaphorBasis, metaphors: metaphors{carbon: p.CarbonIntensity, table: table}}
}

// check validates the options that need no file.
func (p *PowerInput) check() error {
	checks := []struct {
		name string
		v    any
		ok   bool
		want string
	}{
		{"tdp_watts", p.TDPWatts, p.TDPWatts >= 0 && p.TDPWatts < 10000, "0 (unknown) or a positive number of watts below 10000"},
		{"vcpu_min_watts", p.VCPUMinWatts, p.VCPUMinWatts >= 0 && p.VCPUMinWatts <= p.VCPUMaxWatts, "between 0 and vcpu_max_watts"},
		{"vcpu_max_watts", p.VCPUMaxWatts, p.VCPUMaxWatts > 0 && p.VCPUMaxWatts < 1000, "a positive number of watts below 1000"},
		{"carbon_intensity_g_per_kwh", p.CarbonIntensity, p.CarbonIntensity >= 0 && p.CarbonIntensity < 10000, "0 (off) or grams of CO2 per kWh below 10000"},
		{"vm_stale_intervals", p.VMStaleIntervals, p.VMStaleIntervals >= 2 && p.VMStaleIntervals <= 1000, "between 2 and 1000 (one torn read must not stop the counter)"},
		{"top_n", p.TopN, p.TopN >= 1 && p.TopN <= 100, "between 1 and 100"},
		{"min_share", p.MinShare, p.MinShare >= 0 && p.MinShare < 1, "a share of busy CPU time from 0 to below 1 (0.01 is 1 %)"},
		{"max_names_per_day", p.MaxNamesPerDay, p.MaxNamesPerDay >= p.TopN && p.MaxNamesPerDay <= 10000, "between top_n and 10000"},
		{"read_timeout", time.Duration(p.ReadTimeout), time.Duration(p.ReadTimeout) >= 10*time.Millisecond && time.Duration(p.ReadTimeout) <= time.Minute, "between 10ms and 1m"},
	}
	for _, c := range checks {
		if !c.ok {
			return fmt.Errorf("%s = %v: want %s: %w", c.name, c.v, c.want, ErrConfig)
		}
	}
	for name, dir := range map[string]string{"host_sys": p.HostSys, "host_proc": p.HostProc} {
		if dir == "" {
			return fmt.Errorf("%s is empty: %w", name, ErrConfig)
		}
		// Even this stat is bounded in time: a root on a hung mount must
		// not keep the process from starting and hearing SIGTERM.
		var g guard.Guard
		var st os.FileInfo
		var err error
		if gerr := g.Do(time.Now().Add(time.Duration(p.ReadTimeout)), func() { st, err = os.Stat(dir) }); gerr != nil {
			return fmt.Errorf("%s = %q: %w", name, dir, gerr)
		}
		if err != nil || !st.IsDir() {
			return fmt.Errorf("%s = %q is not a readable directory: %w", name, dir, ErrConfig)
		}
	}
	if err := checkVMOptions(p.VMUnusedCapacity, p.VMCounterDir); err != nil {
		return err
	}
	if err := checkQemuUsers(p.VMQemuUser, p.HostEtc); err != nil {
		return err
	}
	if p.HostDev == "" {
		return fmt.Errorf("host_dev is empty: %w", ErrConfig)
	}
	if !slices.Contains([]string{basisAuto, basisParts, basisWall}, p.MetaphorBasis) {
		return fmt.Errorf("metaphor_basis = %q: want \"auto\", \"parts\" or \"wall\": %w", p.MetaphorBasis, ErrConfig)
	}
	if p.WallSensor != "" && !validSensorName(p.WallSensor) {
		return fmt.Errorf("wall_sensor = %q: want a sensor's name as -doctor lists it (letters, digits, _ and one /), or \"\" for none: %w", p.WallSensor, ErrConfig)
	}
	if p.CPU && !p.PerCPU && !p.TotalCPU {
		return fmt.Errorf("cpu is on but both percpu and totalcpu are off; set cpu = false instead: %w", ErrConfig)
	}
	return nil
}

// validSensorName: a platform sensor's name as powerinput makes them
// (hwmon.SanitizeName, and "/" with the channel).
func validSensorName(s string) bool {
	if len(s) > 64 || strings.Count(s, "/") > 1 {
		return false
	}
	for _, part := range strings.Split(s, "/") {
		if part == "" || hwmon.SanitizeName([]byte(part)) != part {
			return false
		}
	}
	return true
}

// chosenSources returns the specs of the sources option, in its order.
func (p *PowerInput) chosenSources() ([]source.Spec, error) {
	builtin := builtinSources()
	var names []string
	for _, s := range builtin {
		names = append(names, fmt.Sprintf("%q", s.Name))
	}
	if len(p.Sources) == 0 {
		return nil, fmt.Errorf("sources is empty; give an order such as [%s]: %w", strings.Join(names, ", "), ErrConfig)
	}
	var out []source.Spec
	for i, name := range p.Sources {
		if slices.Contains(p.Sources[:i], name) {
			return nil, fmt.Errorf("sources lists %q twice: %w", name, ErrConfig)
		}
		j := slices.IndexFunc(builtin, func(s source.Spec) bool { return s.Name == name })
		if j < 0 {
			return nil, fmt.Errorf("sources: unknown source %q (known: %s): %w", name, strings.Join(names, ", "), ErrConfig)
		}
		out = append(out, builtin[j])
	}
	return out, nil
}

// metaphors validates the configured metaphors and merges them with the
// built-in table.
func (p *PowerInput) metaphors() ([]metaphor.Metaphor, error) {
	if err := metaphor.Validate(p.Metaphors, reservedNames()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return metaphor.Merge(p.DefaultMetaphors, p.Metaphors), nil
}

// deadline bounds reads that start now. Each collector (and each power
// source) has its own: one that hangs does not eat the time of the next.
func (p *PowerInput) deadline() time.Time { return time.Now().Add(time.Duration(p.ReadTimeout)) }

// Gather measures the interval since the previous gather (since Start for
// the first; without Start, the first gather only takes the baseline) and
// adds its points to acc.
func (p *PowerInput) Gather(acc telegraf.Accumulator) error {
	p.waitForFirst()
	p.gather(acc, time.Now())
	return nil
}

// gather runs every collector once, in their order, and adds their
// points to acc.
func (p *PowerInput) gather(acc telegraf.Accumulator, ts time.Time) {
	p.tick = tick{ts: ts, readTimeout: time.Duration(p.ReadTimeout)}
	for _, c := range p.collectors {
		c.gather(acc, &p.tick)
	}
}
