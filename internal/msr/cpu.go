package msr

import (
	"bytes"
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

	"github.com/greencampus/powerinput/internal/kfile"
)

// Vendor of a CPU.
type Vendor uint8

// The vendors whose RAPL registers this package knows.
const (
	OtherVendor Vendor = iota
	Intel
	AMD // and Hygon, whose CPUs share AMD's registers
)

func (v Vendor) String() string {
	switch v {
	case Intel:
		return "Intel"
	case AMD:
		return "AMD"
	}
	return "other"
}

// ID is what says which registers a CPU has: its vendor, family and model.
type ID struct {
	Vendor        Vendor
	Family, Model int
}

func (id ID) String() string {
	return fmt.Sprintf("%s family %#x model %#x", id.Vendor, id.Family, id.Model)
}

// ErrCPUInfo is wrapped by the errors of ParseCPUInfo.
var ErrCPUInfo = errors.New("invalid cpuinfo")

// cpuInfoRead bounds what is read of /proc/cpuinfo: the first processor's
// block, whose flags line is the longest (about 2 KB today).
const cpuInfoRead = 16 << 10

// ParseCPUInfo reads the vendor, family and model of the first processor
// in the text of /proc/cpuinfo ("vendor_id\t: GenuineIntel", "cpu family\t:
// 6", "model\t\t: 143"). A vendor other than Intel, AMD or Hygon is
// OtherVendor; an x86 vendor without a family or a model is an error. The
// error says which line is wrong, never what it held.
func ParseCPUInfo(b []byte) (ID, error) {
	var id ID
	var vendor, family, model bool
	for len(b) > 0 {
		var line []byte
		line, b = kfile.NextLine(b)
		key, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			if len(bytes.TrimSpace(line)) == 0 && (vendor || family || model) {
				break // the end of the first processor's block
			}
			continue
		}
		value = bytes.TrimSpace(value)
		switch string(bytes.TrimSpace(key)) {
		case "vendor_id":
			if vendor {
				continue
			}
			vendor = true
			switch string(value) {
			case "GenuineIntel":
				id.Vendor = Intel
			case "AuthenticAMD", "HygonGenuine":
				id.Vendor = AMD
			}
		case "cpu family":
			if family {
				continue
			}
			v, ok := kfile.Uint(value)
			if !ok || v > 0xffff {
				return ID{}, fmt.Errorf("cpu family is not a number: %w", ErrCPUInfo)
			}
			id.Family, family = int(v), true
		case "model":
			if model {
				continue
			}
			v, ok := kfile.Uint(value)
			if !ok || v > 0xffff {
				return ID{}, fmt.Errorf("model is not a number: %w", ErrCPUInfo)
			}
			id.Model, model = int(v), true
		}
	}
	switch {
	case !vendor:
		return ID{}, fmt.Errorf("no vendor_id line (not an x86 CPU?): %w", ErrCPUInfo)
	case id.Vendor == OtherVendor:
		return id, nil
	case !family || !model:
		return ID{}, fmt.Errorf("no cpu family or model line: %w", ErrCPUInfo)
	}
	return id, nil
}

// ReadID reads the CPU's ID from hostProc/cpuinfo, reading no more than
// its start.
func ReadID(hostProc kfile.ProcRoot) (ID, error) {
	path := hostProc.Path("cpuinfo")
	f, err := kfile.Open(path)
	if err != nil {
		return ID{}, err
	}
	defer f.Close()
	buf := make([]byte, cpuInfoRead)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return ID{}, err
	}
	id, err := ParseCPUInfo(buf[:n])
	if err != nil {
		return ID{}, &fs.PathError{Op: "parse", Path: path, Err: err}
	}
	return id, nil
}

// NoDie is Lead.Die where a package is read whole.
const NoDie = -1

// Lead is the CPU whose registers are read for a package, or for one die
// of a package whose RAPL counters are kept per die.
type Lead struct {
	CPU, Package, Die int
}

// ErrNoTopology: the sysfs tree does not say which CPU is in which package.
var ErrNoTopology = errors.New("no CPU topology (devices/system/cpu/cpuN/topology)")

// maxCPUs bounds the CPU entries looked at.
const maxCPUs = 16384

// Leads finds the lowest-numbered online CPU of each package under
// hostSys/devices/system/cpu, from cpuN/topology/physical_package_id. With
// perDie, and where a package has several dies (topology/die_id), it finds
// one per die, as Intel keeps RAPL per die on such packages. Leads come
// sorted by package, then die.
func Leads(hostSys kfile.SysRoot, perDie bool) ([]Lead, error) {
	dir := hostSys.Path("devices", "system", "cpu")
	d, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", dir, ErrNoTopology)
		}
		return nil, fmt.Errorf("list CPUs: %w", err)
	}
	names, err := d.Readdirnames(maxCPUs + 64)
	d.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("list CPUs: %w", err)
	}
	var cpus []int
	for _, n := range names {
		if num, ok := cpuNumber(n); ok {
			cpus = append(cpus, num)
		}
	}
	slices.Sort(cpus)
	if len(cpus) > maxCPUs {
		cpus = cpus[:maxCPUs]
	}
	type key struct{ pkg, die int }
	first := map[key]int{}
	dies := map[int]map[int]bool{}
	var order []key
	for _, cpu := range cpus {
		base := filepath.Join(dir, "cpu"+strconv.Itoa(cpu))
		if v, err := kfile.ReadUint(filepath.Join(base, "online")); err == nil && v == 0 {
			continue
		}
		pkg, err := kfile.ReadUint(filepath.Join(base, "topology", "physical_package_id"))
		if err != nil || pkg > 65535 {
			continue // offline (no topology), or -1 (unknown)
		}
		die := uint64(0)
		if perDie {
			if v, err := kfile.ReadUint(filepath.Join(base, "topology", "die_id")); err == nil && v <= 65535 {
				die = v
			}
		}
		k := key{int(pkg), int(die)}
		if _, ok := first[k]; !ok {
			first[k] = cpu
			order = append(order, k)
		}
		if dies[k.pkg] == nil {
			dies[k.pkg] = map[int]bool{}
		}
		dies[k.pkg][k.die] = true
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoTopology)
	}
	slices.SortFunc(order, func(a, b key) int {
		if a.pkg != b.pkg {
			return a.pkg - b.pkg
		}
		return a.die - b.die
	})
	leads := make([]Lead, 0, len(order))
	for _, k := range order {
		die := k.die
		if len(dies[k.pkg]) < 2 {
			die = NoDie
		}
		leads = append(leads, Lead{CPU: first[k], Package: k.pkg, Die: die})
	}
	return leads, nil
}

// cpuNumber parses "cpu12" (not "cpufreq", "cpuidle").
func cpuNumber(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "cpu")
	if !ok {
		return 0, false
	}
	v, ok := kfile.Uint([]byte(rest))
	if !ok || v >= maxCPUs {
		return 0, false
	}
	return int(v), true
}

// HasDevices reports whether any CPU has an msr device file under
// hostDev/cpu: with none, the msr module is not loaded (or this is a
// container without /dev/cpu).
func HasDevices(hostDev kfile.DevRoot) bool {
	d, err := os.Open(hostDev.Path("cpu"))
	if err != nil {
		return false
	}
	defer d.Close()
	names, _ := d.Readdirnames(64)
	for _, n := range names {
		var st syscall.Stat_t
		if syscall.Lstat(hostDev.Path("cpu", n, "msr"), &st) == nil {
			return true
		}
	}
	return false
}
