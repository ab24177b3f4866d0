package powerinput

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/filter"
	"github.com/influxdata/telegraf/plugins/inputs"

	"github.com/greencampus/powerinput/internal/metaphor"
	"github.com/greencampus/powerinput/internal/model"
	"github.com/greencampus/powerinput/internal/powercap"
	"github.com/greencampus/powerinput/internal/procfile"
)

//go:embed sample.conf
var sampleConfig string

// Source names, in the order of trust: a measurement on this machine, a
// counter the hypervisor provides, an estimate.
const (
	SourceRAPL  = "rapl"
	SourceVM    = "vm"
	SourceModel = "model"
)

// Built-in fields of power_host; metaphors may not take these names.
var hostFields = []string{"power_watts", "energy_joules", "interval_seconds", "co2_grams"}

// PowerInput is the Telegraf input.
type PowerInput struct {
	HostSys          string   `toml:"host_sys"`
	HostProc         string   `toml:"host_proc"`
	VMPowercapPath   string   `toml:"vm_powercap_path"`
	Sources          []string `toml:"sources"`
	TDPWatts         float64  `toml:"tdp_watts"`
	VCPUMinWatts     float64  `toml:"vcpu_min_watts"`
	VCPUMaxWatts     float64  `toml:"vcpu_max_watts"`
	VMStaleIntervals int      `toml:"vm_stale_intervals"`

	CPU        bool     `toml:"cpu"`
	PerCPU     bool     `toml:"percpu"`
	TotalCPU   bool     `toml:"totalcpu"`
	Net        bool     `toml:"net"`
	Interfaces []string `toml:"interfaces"`

	CarbonIntensity  float64             `toml:"carbon_intensity_g_per_kwh"`
	DefaultMetaphors bool                `toml:"default_metaphors"`
	Metaphors        []metaphor.Metaphor `toml:"metaphor"`

	Log telegraf.Logger `toml:"-"`

	// Seams for tests: the monotonic clock and how counters are opened.
	clock func() time.Time
	open  powercap.Opener

	table     []metaphor.Metaphor
	sources   []powerSource
	current   int // index in sources, -1 when none works
	said      map[string]string
	cpu       cpuState
	net       netState
	ifFilter  filter.Filter
	fields    map[string]interface{}
	tags      map[string]string
	statFile  *procfile.File
	netFile   *procfile.File
	needStats bool
}

// New returns the plugin with its defaults.
func New() *PowerInput {
	return &PowerInput{
		HostSys:          "/sys",
		HostProc:         "/proc",
		VMPowercapPath:   "/var/scaphandre",
		Sources:          []string{SourceRAPL, SourceVM, SourceModel},
		VCPUMinWatts:     model.DefaultVCPUMinWatts,
		VCPUMaxWatts:     model.DefaultVCPUMaxWatts,
		VMStaleIntervals: 3,
		CPU:              true,
		PerCPU:           true,
		TotalCPU:         true,
		Net:              true,
		DefaultMetaphors: true,
	}
}

func init() {
	inputs.Add("powerinput", func() telegraf.Input { return New() })
}

// SampleConfig returns the embedded sample configuration.
func (*PowerInput) SampleConfig() string { return sampleConfig }

// ErrConfig is wrapped by every configuration error from Init.
var ErrConfig = errors.New("invalid configuration")

// Init checks the configuration and sets up the sources. It measures
// nothing: a source that does not work yet is not an error here.
func (p *PowerInput) Init() error {
	if p.Log == nil {
		return fmt.Errorf("no logger set: %w", ErrConfig)
	}
	if p.clock == nil {
		p.clock = time.Now
	}
	if p.open == nil {
		p.open = powercap.OpenFile
	}
	for name, dir := range map[string]string{"host_sys": p.HostSys, "host_proc": p.HostProc} {
		if dir == "" {
			return fmt.Errorf("%s is empty: %w", name, ErrConfig)
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("%s = %q is not a readable directory: %w", name, dir, ErrConfig)
		}
	}
	if err := p.checkNumbers(); err != nil {
		return err
	}
	if err := p.buildSources(); err != nil {
		return err
	}
	if err := metaphor.Validate(p.Metaphors, hostFields); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	p.table = metaphor.Merge(p.DefaultMetaphors, p.Metaphors)
	if p.CPU && !p.PerCPU && !p.TotalCPU {
		return fmt.Errorf("cpu is on but both percpu and totalcpu are off; set cpu = false instead: %w", ErrConfig)
	}
	if len(p.Interfaces) > 0 {
		f, err := filter.Compile(p.Interfaces)
		if err != nil {
			return fmt.Errorf("interfaces %q: %w: %w", p.Interfaces, ErrConfig, err)
		}
		p.ifFilter = f
	}

	p.current = -1
	p.said = map[string]string{}
	p.fields = map[string]interface{}{}
	p.tags = map[string]string{}
	p.statFile = procfile.New(filepath.Join(p.HostProc, "stat"))
	p.netFile = procfile.New(filepath.Join(p.HostProc, "net", "dev"))
	p.choose()
	return nil
}

func (p *PowerInput) checkNumbers() error {
	checks := []struct {
		name string
		v    float64
		ok   bool
		want string
	}{
		{"tdp_watts", p.TDPWatts, p.TDPWatts >= 0 && p.TDPWatts < 10000, "0 (unknown) or a positive number of watts"},
		{"vcpu_min_watts", p.VCPUMinWatts, p.VCPUMinWatts >= 0 && p.VCPUMinWatts <= p.VCPUMaxWatts, "between 0 and vcpu_max_watts"},
		{"vcpu_max_watts", p.VCPUMaxWatts, p.VCPUMaxWatts > 0 && p.VCPUMaxWatts < 1000, "a positive number of watts"},
		{"carbon_intensity_g_per_kwh", p.CarbonIntensity, p.CarbonIntensity >= 0 && p.CarbonIntensity < 10000, "0 (off) or grams of CO2 per kWh"},
		{"vm_stale_intervals", float64(p.VMStaleIntervals), p.VMStaleIntervals >= 1, "at least 1"},
	}
	for _, c := range checks {
		if !c.ok {
			return fmt.Errorf("%s = %v: want %s: %w", c.name, c.v, c.want, ErrConfig)
		}
	}
	return nil
}

// Gather measures one interval and adds its points to acc.
func (p *PowerInput) Gather(acc telegraf.Accumulator) error {
	ts := time.Now()
	var cpu *cpuSample
	if p.needStats {
		cpu = p.sampleCPU()
	}
	if p.CPU && cpu != nil {
		p.addCPU(acc, cpu, ts)
	}
	if r, ok := p.samplePower(cpu); ok {
		p.addPower(acc, r, ts)
	}
	if p.Net {
		p.gatherNet(acc, ts)
	}
	return nil
}

// once logs msg at the given level unless the same message was the last one
// logged under key; an empty msg clears the key (the condition is over).
func (p *PowerInput) once(key string, level telegraf.LogLevel, msg string) {
	if p.said[key] == msg {
		return
	}
	p.said[key] = msg
	if msg == "" {
		return
	}
	switch level {
	case telegraf.Error:
		p.Log.Error(msg)
	case telegraf.Warn:
		p.Log.Warn(msg)
	default:
		p.Log.Info(msg)
	}
}
