package powercap

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/kfile"
)

// Zone is one powercap zone with the limits read at discovery.
type Zone struct {
	// Dir is the zone's directory: root/class/powercap/<Entry>.
	Dir string
	// Entry is the directory entry, such as "intel-rapl:0:2".
	Entry string
	// ControlType is the part of Entry before the first ':'.
	ControlType string
	Domain      Domain
	// Package is the CPU package the zone belongs to: the number in its own
	// name for a package zone, its parent's for a subzone; -1 when none.
	Package int
	// Die is the die of a multi-die package (from "package-N-die-M", or the
	// parent's for a subzone); NoDie otherwise.
	Die int
	// MaxRange is max_energy_range_uj, where the counter wraps; 0 when
	// unknown.
	MaxRange energy.Energy
	// TDP is the long-term power limit's maximum (constraint_N_max_power_uw
	// of the constraint named long_term), of package zones; 0 when unknown.
	TDP energy.Power
}

// EnergyPath is the zone's energy counter file.
func (z Zone) EnergyPath() string { return filepath.Join(z.Dir, "energy_uj") }

// Dir is the powercap class directory under a sysfs root.
func Dir(root kfile.SysRoot) string { return root.Path("class", "powercap") }

// maxEntries bounds the zones looked at: real machines have a few dozen.
const maxEntries = 4096

// entries lists the names in the powercap directory, sorted.
func entries(root kfile.SysRoot) ([]string, error) {
	names, err := kfile.ListDir(Dir(root), maxEntries)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", Dir(root), ErrNoPowercap)
		}
		return nil, fmt.Errorf("list powercap zones: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// Discover lists the zones under root/class/powercap, finding them by their
// name file (zone directories are symlinks on a real system, so IsDir is of
// no use). Where two control types expose the same domain of the same
// package and die (intel-rapl and intel-rapl-mmio), the intel-rapl one is
// kept. Zones come back sorted by package, die, then domain. The error
// lists zones that were skipped, beside the zones found.
func Discover(root kfile.SysRoot) ([]Zone, error) {
	names, err := entries(root)
	if err != nil {
		return nil, err
	}
	zones, _, err := discover(root, names)
	return zones, err
}

// discover reads the zones of the entries. incomplete reports an entry
// that looks like a zone (type:N…) but has no name or energy_uj yet: the
// kernel makes a zone's directory before its attributes, so a listing can
// catch one half made.
func discover(root kfile.SysRoot, names []string) (out []Zone, incomplete bool, err error) {
	byEntry := map[string]*Zone{}
	var zones []*Zone
	var errs []error
	for _, name := range names {
		dir := filepath.Join(Dir(root), name)
		nameBytes, err := kfile.ReadAttr(filepath.Join(dir, "name"))
		if err != nil {
			if strings.Contains(name, ":") {
				incomplete = true // a zone whose attributes are not there yet
			}
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				errs = append(errs, fmt.Errorf("zone %s: %w", name, err))
			}
			continue // a control type directory (intel-rapl) has no name
		}
		domain, pkg, die, err := ParseZoneName(nameBytes)
		if err != nil {
			errs = append(errs, fmt.Errorf("zone %s: name: %w", name, err))
			continue
		}
		z := &Zone{Dir: dir, Entry: name, ControlType: controlType(name), Domain: domain, Package: pkg, Die: die}
		if domain == DomainPackage || domain == DomainDRAM {
			if _, err := os.Lstat(z.EnergyPath()); errors.Is(err, fs.ErrNotExist) {
				incomplete = true
			}
		}
		if v, err := kfile.ReadUint(filepath.Join(dir, "max_energy_range_uj")); err == nil {
			z.MaxRange = energy.Energy(v)
		}
		if domain == DomainPackage {
			z.TDP = longTermMax(dir)
		}
		byEntry[name] = z
		zones = append(zones, z)
	}

	// Subzones take their package and die from their parent
	// ("intel-rapl:0:2" is inside "intel-rapl:0").
	for _, z := range zones {
		if z.Domain == DomainPackage {
			continue
		}
		if p, ok := byEntry[parentEntry(z.Entry)]; ok && p.Domain == DomainPackage {
			z.Package, z.Die = p.Package, p.Die
		}
	}

	sort.SliceStable(zones, func(i, j int) bool {
		a, b := zones[i], zones[j]
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		if a.Die != b.Die {
			return a.Die < b.Die
		}
		if a.Domain != b.Domain {
			return a.Domain < b.Domain
		}
		return preference(a.ControlType) < preference(b.ControlType)
	})

	type key struct {
		d        Domain
		pkg, die int
	}
	seen := map[key]bool{}
	out = make([]Zone, 0, len(zones))
	for _, z := range zones {
		k := key{z.Domain, z.Package, z.Die}
		if z.Package >= 0 && (z.Domain == DomainPackage || z.Domain == DomainDRAM) {
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, *z)
	}
	return out, incomplete, errors.Join(errs...)
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
		name, err := kfile.ReadAttr(filepath.Join(dir, fmt.Sprintf("constraint_%d_name", i)))
		if err != nil {
			if i == 0 && errors.Is(err, fs.ErrNotExist) {
				break // no names at all: fall back to constraint 0
			}
			continue
		}
		if string(name) != "long_term" {
			continue
		}
		return maxPower(dir, i)
	}
	return maxPower(dir, 0)
}

func maxPower(dir string, i int) energy.Power {
	v, err := kfile.ReadUint(filepath.Join(dir, fmt.Sprintf("constraint_%d_max_power_uw", i)))
	if err != nil || v == 0 {
		return 0
	}
	return energy.FromMicrowatts(v)
}

// Watcher keeps the zones of a sysfs tree and finds them again when the set
// of entries changes (a cheap check: one directory listing at each call),
// or while a zone was caught half made. It is safe for concurrent use: the
// sources that share it read it from goroutines of their own.
type Watcher struct {
	root       kfile.SysRoot
	mu         sync.Mutex
	names      []string
	zones      []Zone
	skip       error
	incomplete bool
	// The cheap check: the class directory kept open, its entries read raw
	// into buf, and a digest of their names (how many, the sum and the xor
	// of their hashes), so an unchanged set costs no allocation.
	dir    *kfile.Dir
	buf    []byte
	digest [3]uint64
}

var dot = []byte(".")

// same reads the class directory's entries and reports whether their
// names are those of the last call.
func (w *Watcher) same() bool {
	if w.dir == nil {
		d, err := kfile.OpenDir(Dir(w.root))
		if err != nil {
			return false
		}
		w.dir = d
	}
	b, err := w.dir.ReadDir(dot, w.buf, 64*maxEntries)
	w.buf = b
	if err != nil {
		w.dir.Close()
		w.dir = nil
		return false
	}
	var d [3]uint64
	for rest := b; ; {
		e, r, ok := kfile.NextEntry(rest)
		if !ok {
			break
		}
		h := fnv.New64a()
		h.Write(e.Name)
		v := h.Sum64()
		d[0], d[1], d[2] = d[0]+1, d[1]+v, d[2]^v
		rest = r
	}
	same := d == w.digest
	w.digest = d
	return same
}

// NewWatcher returns a watcher of root's powercap zones.
func NewWatcher(root kfile.SysRoot) *Watcher { return &Watcher{root: root} }

// Root is the sysfs root watched.
func (w *Watcher) Root() kfile.SysRoot { return w.root }

// Zones returns the current zones and whether they changed since the last
// call. err is ErrNoPowercap (wrapped) when there are none; skipped lists
// zones that could not be read. The slice must not be modified.
func (w *Watcher) Zones() (zones []Zone, changed bool, skipped, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.names != nil && !w.incomplete && w.same() {
		return w.zones, false, w.skip, nil
	}
	names, err := entries(w.root)
	if err != nil {
		changed = w.names != nil
		w.names, w.zones, w.skip, w.incomplete = nil, nil, nil, false
		return nil, changed, nil, err
	}
	if w.names != nil && !w.incomplete && slices.Equal(names, w.names) {
		return w.zones, false, w.skip, nil
	}
	zones, incomplete, skip := discover(w.root, names)
	changed = w.names == nil || !slices.Equal(zones, w.zones)
	w.names, w.zones, w.skip, w.incomplete = names, zones, skip, incomplete
	return zones, changed, skip, nil
}

// Close releases the class directory kept open; the next call to Zones
// reads every zone again. A Zones call still under way (a read that hangs)
// keeps it: Close then does nothing, and never waits.
func (w *Watcher) Close() {
	if !w.mu.TryLock() {
		return
	}
	defer w.mu.Unlock()
	w.dir.Close()
	w.dir, w.names, w.digest = nil, nil, [3]uint64{}
}

// Forget makes the next call to Zones read every zone again.
func (w *Watcher) Forget() {
	w.mu.Lock()
	w.names = nil
	w.mu.Unlock()
}
