package powerinput

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/metaphor"
	"github.com/greencampus/powerinput/internal/source/model"
	"github.com/greencampus/powerinput/internal/vmhost"
)

// Config is the [[inputs.powerinput]] section.
type Config struct {
	HostSys          string   `toml:"host_sys"`
	HostProc         string   `toml:"host_proc"`
	VMPowercapPath   string   `toml:"vm_powercap_path"`
	HostDev          string   `toml:"host_dev"`
	Sources          []string `toml:"sources"`
	TDPWatts         float64  `toml:"tdp_watts"`
	VCPUMinWatts     float64  `toml:"vcpu_min_watts"`
	VCPUMaxWatts     float64  `toml:"vcpu_max_watts"`
	VMStaleIntervals int      `toml:"vm_stale_intervals"`
	// ReadTimeout bounds the reads of the CPU source in a gather, and
	// then those of the sensors beside it: reads that do not answer in
	// time (a hung mount, a hung ACPI method) give no value for the
	// interval.
	ReadTimeout Duration `toml:"read_timeout"`

	CPU        bool     `toml:"cpu"`
	PerCPU     bool     `toml:"percpu"`
	TotalCPU   bool     `toml:"totalcpu"`
	Net        bool     `toml:"net"`
	Interfaces []string `toml:"interfaces"`

	// Hypervisor mode: each VM's share of this host's energy (power_vm), and
	// a counter of it that its guest reads.
	VMs              bool   `toml:"vms"`
	VMCounterDir     string `toml:"vm_counter_dir"`
	VMUnusedCapacity string `toml:"vm_unused_capacity"`
	// The users whose qemu processes are VMs where they are found as
	// processes, looked up in host_etc's passwd.
	VMQemuUser Users  `toml:"vm_qemu_user"`
	HostEtc    string `toml:"host_etc"`
	// Sensors beside the CPU packages: hwmon power sensors (the wall),
	// GPUs, and the psys platform domain; which one the metaphors use.
	Hwmon         bool   `toml:"hwmon"`
	GPUs          bool   `toml:"gpus"`
	Psys          bool   `toml:"psys"`
	WallSensor    string `toml:"wall_sensor"`
	MetaphorBasis string `toml:"metaphor_basis"`
	// Applications: the host's energy divided over services and
	// containers (control groups) and over programs (processes).
	Services       bool    `toml:"services"`
	Processes      bool    `toml:"processes"`
	TopN           int     `toml:"top_n"`
	MinShare       float64 `toml:"min_share"`
	MaxNamesPerDay int     `toml:"max_names_per_day"`

	CarbonIntensity  float64             `toml:"carbon_intensity_g_per_kwh"`
	DefaultMetaphors bool                `toml:"default_metaphors"`
	Metaphors        []metaphor.Metaphor `toml:"metaphor"`
}

// Roots are host_sys, host_proc and host_dev, typed.
func (c Config) Roots() kfile.Roots {
	return kfile.Roots{Sys: kfile.SysRoot(c.HostSys), Proc: kfile.ProcRoot(c.HostProc), Dev: kfile.DevRoot(c.HostDev)}
}

// defaults are the options a configuration leaves out.
func defaults() Config {
	return Config{
		HostSys:          "/sys",
		HostProc:         "/proc",
		VMPowercapPath:   "/var/scaphandre",
		HostDev:          "/dev",
		Sources:          []string{"rapl", "msr", "vm", "model"},
		VCPUMinWatts:     model.DefaultVCPUMinWatts,
		VCPUMaxWatts:     model.DefaultVCPUMaxWatts,
		VMStaleIntervals: 3,
		ReadTimeout:      Duration(time.Second),
		CPU:              true,
		PerCPU:           true,
		TotalCPU:         true,
		Net:              true,
		VMCounterDir:     "/var/lib/libvirt/scaphandre",
		VMUnusedCapacity: unusedAsItIs,
		VMQemuUser:       vmhost.DefaultQemuUsers(),
		HostEtc:          "/etc",
		Hwmon:            true,
		GPUs:             true,
		WallSensor:       "power_meter",
		MetaphorBasis:    "auto",
		TopN:             10,
		MinShare:         0.01,
		MaxNamesPerDay:   50,
		DefaultMetaphors: true,
	}
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("invalid configuration")

// LoadConfig reads the plugin's configuration file: one [[inputs.powerinput]]
// section. An empty path gives the defaults.
func LoadConfig(path string) (*PowerInput, error) {
	if path == "" {
		return New(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	p, err := ParseConfig(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParseConfig decodes a configuration. Unlike the execd shim, which ignores
// what it does not know, it refuses unknown keys, naming them, as Telegraf
// does, so a mistyped option is never silently dropped.
//
// Environment variables ($VAR, ${VAR}) are expanded inside string values,
// after decoding, as Telegraf expands them: a variable that is not set is
// left as written, and $$ is a literal $. A value from the environment is
// data: it cannot change the TOML around it.
func ParseConfig(text string) (*PowerInput, error) {
	var conf struct {
		Inputs map[string][]toml.Primitive `toml:"inputs"`
	}
	md, err := toml.Decode(text, &conf)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	p := New()
	for name, sections := range conf.Inputs {
		if name != "powerinput" {
			return nil, fmt.Errorf("unknown input %q (this program runs inputs.powerinput only): %w", name, ErrConfig)
		}
		if len(sections) != 1 {
			return nil, fmt.Errorf("%d [[inputs.powerinput]] sections, want one: %w", len(sections), ErrConfig)
		}
		if err := md.PrimitiveDecode(sections[0], &p.Config); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	var unknown []string
	for _, k := range md.Undecoded() {
		unknown = append(unknown, k.String())
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown option(s) %s: %w", strings.Join(unknown, ", "), ErrConfig)
	}
	expandStrings(reflect.ValueOf(&p.Config).Elem(), os.LookupEnv)
	return p, nil
}

// expandStrings expands environment variables in every string of v.
func expandStrings(v reflect.Value, lookup func(string) (string, bool)) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(ExpandEnv(v.String(), lookup))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			expandStrings(v.Field(i), lookup)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			expandStrings(v.Index(i), lookup)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			expandStrings(v.Elem(), lookup)
		}
	}
}

// ExpandEnv replaces $NAME and ${NAME} by the variable's value where it is
// set (NAME: a letter or '_', then letters, digits, '_'); anything else,
// such as "$5" or an unset variable, stays as written. "$$" is one "$".
func ExpandEnv(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		var name string
		var end int
		if s[i+1] == '{' {
			close := strings.IndexByte(s[i+2:], '}')
			if close < 0 {
				b.WriteByte(s[i])
				continue
			}
			name, end = s[i+2:i+2+close], i+3+close
		} else {
			j := i + 1
			for j < len(s) && isNameByte(s[j], j == i+1) {
				j++
			}
			name, end = s[i+1:j], j
		}
		if value, ok := lookup(name); ok && validName(name) {
			b.WriteString(value)
			i = end - 1
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9')
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i], i == 0) {
			return false
		}
	}
	return true
}
