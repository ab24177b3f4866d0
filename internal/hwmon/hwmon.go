// Package hwmon finds the power sensors Linux exposes through hwmon: a
// platform's (the ACPI power meter of a rack server, a board's power
// monitors, a power supply's input) under class/hwmon, and each GPU's
// (amdgpu, i915, xe) under class/drm/cardN/device/hwmon. It reads their
// names, labels and averaging intervals, never their values: the sensors
// package samples them.
//
// Values follow the hwmon ABI: powerN_input (an instantaneous reading) and
// powerN_average (the device's own average over powerN_average_interval
// milliseconds) in microwatts, energyN_input (a counter) in microjoules.
package hwmon

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/greencampus/powerinput/internal/kfile"
)

// Kind is what a channel's file holds.
type Kind uint8

// Kinds of channel, in the order a device's channels are preferred: a
// counter is exact, the device's own average comes next, an instantaneous
// reading last.
const (
	Energy  Kind = iota + 1 // energyN_input: a counter in µJ
	Average                 // powerN_average: an average in µW
	Input                   // powerN_input: an instantaneous reading in µW
)

func (k Kind) String() string {
	switch k {
	case Energy:
		return "energy"
	case Average:
		return "average"
	case Input:
		return "input"
	}
	return "unknown"
}

// maxIndex bounds a channel's index: real devices have a handful.
const maxIndex = 999

// ParseChannel parses the name of a hwmon attribute that holds a power or
// energy value: "power1_average", "power2_input", "energy1_input". Other
// attributes (power1_average_interval, power1_cap, energy1_label) are not
// channels.
func ParseChannel(name string) (k Kind, index int, ok bool) {
	var rest string
	switch {
	case strings.HasPrefix(name, "power"):
		rest = name[len("power"):]
	case strings.HasPrefix(name, "energy"):
		rest, k = name[len("energy"):], Energy
	default:
		return 0, 0, false
	}
	num, suffix, found := strings.Cut(rest, "_")
	if !found {
		return 0, 0, false
	}
	v, ok := kfile.Uint([]byte(num))
	if !ok || v == 0 || v > maxIndex || num[0] == '0' {
		return 0, 0, false
	}
	switch {
	case k == Energy && suffix == "input":
	case k == 0 && suffix == "average":
		k = Average
	case k == 0 && suffix == "input":
		k = Input
	default:
		return 0, 0, false
	}
	return k, int(v), true
}

// Channel is one power or energy value of a device.
type Channel struct {
	Kind  Kind
	Index int
	// Path is the attribute file.
	Path string
	// Label is the channel's label (powerN_label, energyN_label), made
	// safe to print; "" when there is none.
	Label string
	// Averaging is powerN_average_interval, the window of an Average
	// channel; 0 when unknown.
	Averaging time.Duration
}

// Name is the channel's name: "power1", "energy2".
func (c Channel) Name() string {
	if c.Kind == Energy {
		return "energy" + strconv.Itoa(c.Index)
	}
	return "power" + strconv.Itoa(c.Index)
}

// Device is a hwmon device with power or energy channels.
type Device struct {
	// Dir is the device's directory (class/hwmon/hwmonN, or a GPU's).
	Dir string
	// Name is its name attribute (the driver's name for it), made safe for
	// a tag value by SanitizeName.
	Name string
	// Channels are the values to read, by index.
	Channels []Channel
}

// Skip is a device or file left out, and why.
type Skip struct {
	Path, Why string
}

// ErrNoHwmon: the sysfs tree has no hwmon class (no driver registered a
// device).
var ErrNoHwmon = errors.New("no hwmon devices")

// Bounds on what is looked at: real machines have a few devices of a few
// dozen attributes each.
const (
	maxEntries = 1024
	maxDevices = 64
)

// IsGPUDriver reports whether a hwmon device of that name belongs to a
// GPU. GPU drivers register their hwmon devices under the card too: they
// are found there, as GPUs, never as platform sensors.
func IsGPUDriver(name string) bool {
	switch name {
	case "amdgpu", "radeon", "nouveau", "i915", "xe":
		return true
	}
	return false
}

// isCPUDriver: drivers that measure the CPUs, as RAPL does: adding them to
// anything would count the CPUs twice, and they are no platform sensor.
func isCPUDriver(name string) bool {
	switch name {
	case "amd_energy", "zenpower", "zenergy", "fam15h_power":
		return true
	}
	return false
}

// Platform finds the devices under hostSys/class/hwmon that measure power
// or energy, GPUs and CPUs left out. A device with energy counters is read
// through them alone (they are exact); otherwise each power channel through
// its average where it has one, else its instantaneous reading.
func Platform(hostSys kfile.SysRoot) ([]Device, []Skip, error) {
	dir := hostSys.Path("class", "hwmon")
	names, err := list(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s: %w", dir, ErrNoHwmon)
		}
		return nil, nil, err
	}
	var devs []Device
	var skips []Skip
	for _, n := range names {
		if !strings.HasPrefix(n, "hwmon") {
			continue
		}
		d, err := device(filepath.Join(dir, n))
		switch {
		case err != nil:
			skips = append(skips, Skip{Path: filepath.Join(dir, n), Why: err.Error()})
			continue
		case len(d.Channels) == 0:
			continue
		case IsGPUDriver(d.Name):
			continue // read as a GPU, under its card
		case isCPUDriver(d.Name):
			skips = append(skips, Skip{Path: d.Dir, Why: d.Name + " measures the CPUs, as RAPL does: not a platform sensor"})
			continue
		}
		if len(devs) == maxDevices {
			skips = append(skips, Skip{Path: d.Dir, Why: fmt.Sprintf("more than %d power devices", maxDevices)})
			continue
		}
		devs = append(devs, choose(d))
	}
	return devs, skips, nil
}

// choose keeps the channels to read: the energy counters if there are any,
// else per index the average, or the instantaneous reading.
func choose(d Device) Device {
	energy := slices.ContainsFunc(d.Channels, func(c Channel) bool { return c.Kind == Energy })
	out := d.Channels[:0:0]
	for _, c := range d.Channels {
		switch {
		case energy && c.Kind != Energy, !energy && c.Kind == Energy:
			continue
		case c.Kind == Input && slices.ContainsFunc(d.Channels, func(o Channel) bool { return o.Kind == Average && o.Index == c.Index }):
			continue
		}
		out = append(out, c)
	}
	d.Channels = out
	return d
}

// GPU is the hwmon device of a drm card.
type GPU struct {
	// Card is N of class/drm/cardN.
	Card int
	// Device holds the one channel read: the card's energy counter (the
	// one labelled "card" where there are several: Intel's xe also counts
	// its package, which lies inside the card), else power1's average,
	// else its instantaneous reading.
	Device
	// RuntimeStatus is the card's device/power/runtime_status, which says
	// whether it sleeps (runtime suspend).
	RuntimeStatus string
}

// Driver is the GPU's driver: its hwmon device's name.
func (g GPU) Driver() string { return g.Name }

// GPUs finds the cards under hostSys/class/drm with a hwmon device that
// measures power or energy. A card whose power sensor measures more than
// the GPU (an AMD APU's, labelled slowPPT or fastPPT, covers the whole
// chip, CPU cores included) is skipped with the reason.
func GPUs(hostSys kfile.SysRoot) ([]GPU, []Skip, error) {
	dir := hostSys.Path("class", "drm")
	names, err := list(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil // no DRM: no GPU
		}
		return nil, nil, err
	}
	var gpus []GPU
	var skips []Skip
	for _, n := range names {
		card, ok := cardNumber(n)
		if !ok {
			continue
		}
		devDir := filepath.Join(dir, n, "device")
		hw, err := list(filepath.Join(devDir, "hwmon"))
		if err != nil {
			continue // a card without hwmon (a virtual or display-only one)
		}
		for _, h := range hw {
			if !strings.HasPrefix(h, "hwmon") {
				continue
			}
			d, err := device(filepath.Join(devDir, "hwmon", h))
			if err != nil || len(d.Channels) == 0 {
				if err != nil {
					skips = append(skips, Skip{Path: filepath.Join(devDir, "hwmon", h), Why: err.Error()})
				}
				continue
			}
			c := gpuChannel(d.Channels)
			if c.Kind != Energy && (strings.EqualFold(c.Label, "slowPPT") || strings.EqualFold(c.Label, "fastPPT")) {
				skips = append(skips, Skip{Path: c.Path, Why: "an APU's sensor: it measures the whole chip, CPU cores included, which RAPL's package already counts"})
				break
			}
			d.Channels = []Channel{c}
			if len(gpus) < maxDevices {
				gpus = append(gpus, GPU{Card: card, Device: d, RuntimeStatus: filepath.Join(devDir, "power", "runtime_status")})
			}
			break
		}
	}
	slices.SortFunc(gpus, func(a, b GPU) int { return a.Card - b.Card })
	return gpus, skips, nil
}

// gpuChannel picks a GPU's channel (channels are sorted by kind, then
// index).
func gpuChannel(cs []Channel) Channel {
	for _, c := range cs {
		if c.Kind == Energy && strings.EqualFold(c.Label, "card") {
			return c
		}
	}
	return cs[0]
}

// cardNumber parses "card0" (not "card0-DP-1", "renderD128").
func cardNumber(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "card")
	if !ok {
		return 0, false
	}
	v, ok := kfile.Uint([]byte(rest))
	if !ok || v > 65535 {
		return 0, false
	}
	return int(v), true
}

// device reads a hwmon device's name and finds its channels, sorted by
// kind and index. A device registered the old way (hwmon_device_register,
// as the ACPI power meter still is) keeps its name and values among its
// parent device's attributes, under dir/device. A device with neither has
// no channels.
func device(dir string) (d Device, err error) {
	d.Dir = dir
	attrs := dir
	name, err := kfile.ReadAttr(filepath.Join(dir, "name"))
	if errors.Is(err, fs.ErrNotExist) {
		attrs = filepath.Join(dir, "device")
		name, err = kfile.ReadAttr(filepath.Join(attrs, "name"))
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return d, nil
		}
		return d, fmt.Errorf("name: %w", err)
	}
	d.Name = SanitizeName(name)
	entries, err := list(attrs)
	if err != nil {
		return d, err
	}
	for _, e := range entries {
		k, i, ok := ParseChannel(e)
		if !ok {
			continue
		}
		c := Channel{Kind: k, Index: i, Path: filepath.Join(attrs, e)}
		c.Label = label(filepath.Join(attrs, c.Name()+"_label"))
		if c.Label == "" && k != Energy {
			// The ACPI power meter says what it measures in its OEM
			// information (NVIDIA's Grace Hopper: "Module Power Socket 0").
			c.Label = label(filepath.Join(attrs, c.Name()+"_oem_info"))
		}
		if k == Average {
			if ms, err := kfile.ReadUint(filepath.Join(attrs, c.Name()+"_average_interval")); err == nil && ms > 0 && ms < 1<<31 {
				c.Averaging = time.Duration(ms) * time.Millisecond
			}
		}
		d.Channels = append(d.Channels, c)
	}
	slices.SortFunc(d.Channels, func(a, b Channel) int {
		if a.Kind != b.Kind {
			return int(a.Kind) - int(b.Kind)
		}
		return a.Index - b.Index
	})
	return d, nil
}

// label reads a channel's label, kept to what prints safely.
func label(path string) string {
	b, err := kfile.ReadAttr(path)
	if err != nil {
		return ""
	}
	return SanitizeLabel(b)
}

// list returns a directory's entries, sorted so that hwmon10 comes after
// hwmon9, at most maxEntries of them.
func list(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(maxEntries + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	if len(names) > maxEntries {
		return nil, fmt.Errorf("%s has more than %d entries: %w", dir, maxEntries, kfile.ErrTooLarge)
	}
	slices.SortFunc(names, naturalLess)
	return names, nil
}

// naturalLess orders names by their text, then by the number that ends
// them: hwmon2 before hwmon10.
func naturalLess(a, b string) int {
	pa, na := splitNumber(a)
	pb, nb := splitNumber(b)
	if pa != pb {
		return strings.Compare(pa, pb)
	}
	if na != nb {
		if na < nb {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func splitNumber(s string) (string, uint64) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	v, _ := kfile.Uint([]byte(s[i:]))
	return s[:i], v
}

// maxName bounds a name made into a tag value.
const maxName = 32

// SanitizeName makes a hwmon device's name (kernel data) a tag value that
// reads well and back unchanged: letters, digits and '_' are kept, any
// other byte becomes '_', and it is cut at 32 bytes. An empty name is
// "hwmon".
func SanitizeName(b []byte) string {
	b = kfile.TrimSpace(b)
	if len(b) > maxName {
		b = b[:maxName]
	}
	if len(b) == 0 {
		return "hwmon"
	}
	out := make([]byte, len(b))
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
			out[i] = c
		default:
			out[i] = '_'
		}
	}
	return string(out)
}

// SanitizeLabel keeps a channel's label (kernel data) printable for
// messages: printable ASCII, at most 32 bytes.
func SanitizeLabel(b []byte) string {
	b = kfile.TrimSpace(b)
	if len(b) > maxName {
		b = b[:maxName]
	}
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			out = append(out, c)
		} else {
			out = append(out, '?')
		}
	}
	return string(out)
}
