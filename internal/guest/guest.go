// Package guest finds the energy counters a hypervisor gives a VM: a
// powercap-style tree such as the one Scaphandre's qemu exporter writes on
// the host and the guest mounts (intel-rapl:0/energy_uj).
package guest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/powercap"
)

// ErrNoCounter says the directory holds no guest counter (not mounted, or
// the host exporter is not running).
var ErrNoCounter = errors.New("no guest energy counter")

// Counter is one guest counter.
type Counter struct {
	Package  int
	Path     string        // its energy_uj file
	MaxRange energy.Energy // 0: unknown, the usual case
}

// Discover lists the top-level zones (<type>:<N>) of dir that have an
// energy_uj file. The package number comes from the zone's name file where
// there is one ("package-N"), else from N.
func Discover(dir string) ([]Counter, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist: %w", dir, ErrNoCounter)
		}
		return nil, fmt.Errorf("list guest counters: %w", err)
	}
	var out []Counter
	for _, e := range entries {
		parts := strings.Split(e.Name(), ":")
		if len(parts) != 2 {
			continue
		}
		n, err := strconv.ParseUint(parts[1], 10, 16)
		if err != nil {
			continue
		}
		zone := filepath.Join(dir, e.Name())
		path := filepath.Join(zone, "energy_uj")
		if _, err := os.Stat(path); err != nil {
			continue
		}
		c := Counter{Package: int(n), Path: path}
		if b, err := os.ReadFile(filepath.Join(zone, "name")); err == nil {
			if d, pkg, err := powercap.ParseZoneName(b); err == nil && d == powercap.DomainPackage {
				c.Package = pkg
			}
		}
		if b, err := os.ReadFile(filepath.Join(zone, "max_energy_range_uj")); err == nil {
			if v, err := powercap.ParseUint(b); err == nil {
				c.MaxRange = energy.Energy(v)
			}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no <type>:<N>/energy_uj: %w", dir, ErrNoCounter)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Package < out[j].Package })
	return out, nil
}
