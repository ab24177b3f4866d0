package powercap

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/greencampus/powerinput/internal/energy"
)

// ErrNoPowercap says the sysfs tree has no powercap class: the kernel lacks
// the intel_rapl drivers (not loaded, or a VM without RAPL).
var ErrNoPowercap = errors.New("no powercap zones")

// Zone is one powercap zone with the limits read at discovery.
type Zone struct {
	// Dir is the zone's directory: root/class/powercap/<Entry>.
	Dir string
	// Entry is the directory entry, such as "intel-rapl:0:2".
	Entry string
	// ControlType is the part of Entry before the first ':' ("intel-rapl",
	// "intel-rapl-mmio").
	ControlType string
	Domain      Domain
	// Package is the CPU package the zone belongs to: the number in its own
	// name for a package zone, its parent's for a subzone; -1 when none.
	Package int
	// MaxRange is max_energy_range_uj, where the counter wraps; 0 when unknown.
	MaxRange energy.Energy
	// TDP is the long-term power limit's maximum (constraint_N_max_power_uw of
	// the constraint named long_term); 0 when unknown.
	TDP energy.Power
}

// EnergyPath is the zone's energy counter file.
func (z Zone) EnergyPath() string { return filepath.Join(z.Dir, "energy_uj") }

// Discover lists the zones under root/class/powercap, finding them by their
// name file (zone directories are symlinks on a real system, so IsDir is of
// no use). Where two control types expose the same domain of the same
// package (intel-rapl and intel-rapl-mmio), the intel-rapl one is kept.
// Zones come back sorted by package, then domain.
func Discover(root string) ([]Zone, error) {
	base := filepath.Join(root, "class", "powercap")
	entries, err := os.ReadDir(base)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", base, ErrNoPowercap)
		}
		return nil, fmt.Errorf("list powercap zones: %w", err)
	}

	byEntry := map[string]*Zone{}
	var zones []*Zone
	var errs []error
	for _, e := range entries {
		dir := filepath.Join(base, e.Name())
		nameBytes, err := os.ReadFile(filepath.Join(dir, "name"))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				errs = append(errs, fmt.Errorf("zone %s: %w", e.Name(), err))
			}
			continue // a control type directory (intel-rapl) has no name
		}
		domain, pkg, err := ParseZoneName(nameBytes)
		if err != nil {
			errs = append(errs, fmt.Errorf("zone %s: %w", e.Name(), err))
			continue
		}
		z := &Zone{
			Dir:         dir,
			Entry:       e.Name(),
			ControlType: strings.SplitN(e.Name(), ":", 2)[0],
			Domain:      domain,
			Package:     pkg,
		}
		if v, err := readUintFile(filepath.Join(dir, "max_energy_range_uj")); err == nil {
			z.MaxRange = energy.Energy(v)
		}
		if domain == DomainPackage {
			z.TDP = longTermMax(dir)
		}
		byEntry[z.Entry] = z
		zones = append(zones, z)
	}

	// Subzones take their package from their parent ("intel-rapl:0:2" is
	// inside "intel-rapl:0").
	for _, z := range zones {
		if z.Domain == DomainPackage {
			continue
		}
		if i := strings.LastIndexByte(z.Entry, ':'); i > 0 {
			if p, ok := byEntry[z.Entry[:i]]; ok && p.Domain == DomainPackage {
				z.Package = p.Package
			}
		}
	}

	sort.SliceStable(zones, func(i, j int) bool {
		a, b := zones[i], zones[j]
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		if a.Domain != b.Domain {
			return a.Domain < b.Domain
		}
		return preference(a.ControlType) < preference(b.ControlType)
	})

	type key struct {
		d   Domain
		pkg int
	}
	seen := map[key]bool{}
	out := make([]Zone, 0, len(zones))
	for _, z := range zones {
		k := key{z.Domain, z.Package}
		if z.Package >= 0 && (z.Domain == DomainPackage || z.Domain == DomainDRAM) {
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, *z)
	}
	return out, errors.Join(errs...)
}

// preference orders control types: the MSR interface first, MMIO after.
func preference(controlType string) int {
	if strings.Contains(controlType, "mmio") {
		return 1
	}
	return 0
}

// longTermMax returns the maximum power of the constraint named long_term;
// where constraint names are missing, constraint 0's (the kernel's order
// puts long_term first). Zero when unknown.
func longTermMax(dir string) energy.Power {
	for i := 0; i < 4; i++ {
		name, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("constraint_%d_name", i)))
		if err != nil {
			if i == 0 && errors.Is(err, fs.ErrNotExist) {
				break // no names at all: fall back to constraint 0
			}
			continue
		}
		if strings.TrimSpace(string(name)) != "long_term" {
			continue
		}
		v, err := readUintFile(filepath.Join(dir, fmt.Sprintf("constraint_%d_max_power_uw", i)))
		if err != nil || v == 0 {
			return 0
		}
		return energy.FromMicrowatts(v)
	}
	v, err := readUintFile(filepath.Join(dir, "constraint_0_max_power_uw"))
	if err != nil || v == 0 {
		return 0
	}
	return energy.FromMicrowatts(v)
}

func readUintFile(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	v, err := ReadUint(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// File is what a Counter reads: an open attribute that can be read again
// from offset 0 (pread), as sysfs and procfs files can.
type File interface {
	io.ReaderAt
	io.Closer
}

// Opener opens a file for a Counter. The default opens it read-only; tests
// pass their own to simulate a permission error.
type Opener func(path string) (File, error)

// OpenFile is the default Opener.
func OpenFile(path string) (File, error) { return os.Open(path) }

// Counter reads one energy_uj-style counter. It keeps the file open and
// re-reads it from offset 0, so a read after the first does not allocate.
// After a failed read the file is closed and opened again on the next read,
// which is how a changed permission or a reloaded driver is noticed.
type Counter struct {
	path string
	open Opener
	f    File
	buf  [maxAttrSize]byte
}

// NewCounter returns a counter for path; open may be nil for OpenFile.
func NewCounter(path string, open Opener) *Counter {
	if open == nil {
		open = OpenFile
	}
	return &Counter{path: path, open: open}
}

// Read returns the counter's current value.
func (c *Counter) Read() (energy.Energy, error) {
	if c.f == nil {
		f, err := c.open(c.path)
		if err != nil {
			return 0, err
		}
		c.f = f
	}
	n, err := c.f.ReadAt(c.buf[:], 0)
	if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
		c.Close()
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("%s: empty value: %w", c.path, ErrSyntax)
		}
		return 0, err
	}
	v, err := ParseUint(c.buf[:n])
	if err != nil {
		c.Close()
		return 0, fmt.Errorf("%s: %w", c.path, err)
	}
	return energy.Energy(v), nil
}

// Close releases the file; a later Read opens it again.
func (c *Counter) Close() error {
	if c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.f = nil
	return err
}
