package vm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/powercap"
)

// ErrNoCounter says the directory holds no guest counter (not mounted, or
// the host's exporter is not running).
var ErrNoCounter = errors.New("no guest energy counter")

// Counter is one guest counter.
type Counter struct {
	Package  int
	Path     string        // its energy_uj file
	MaxRange energy.Energy // 0: unknown, the usual case
}

// maxZones bounds the entries looked at: a guest has one or a few.
const maxZones = 256

// Discover lists the top-level zones (<type>:<N>) of dir that have an
// energy_uj file. The package number comes from the zone's name file where
// there is one ("package-N"), else from N.
func Discover(dir string) ([]Counter, error) {
	names, err := kfile.ListDir(dir, maxZones)
	if err != nil && !errors.Is(err, kfile.ErrTooLarge) {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist: %w", dir, ErrNoCounter)
		}
		return nil, fmt.Errorf("list guest counters: %w", err)
	}
	var out []Counter
	for _, name := range names {
		typ, num, ok := strings.Cut(name, ":")
		if !ok || typ == "" || strings.Contains(num, ":") {
			continue
		}
		n, ok := kfile.Uint([]byte(num))
		if !ok || n > 65535 {
			continue
		}
		zone := filepath.Join(dir, name)
		path := filepath.Join(zone, "energy_uj")
		if st, err := os.Lstat(path); err != nil || !st.Mode().IsRegular() {
			continue
		}
		c := Counter{Package: int(n), Path: path}
		if b, err := kfile.ReadAttr(filepath.Join(zone, "name")); err == nil {
			if d, pkg, _, err := powercap.ParseZoneName(b); err == nil && d == powercap.DomainPackage {
				c.Package = pkg
			}
		}
		if v, err := kfile.ReadUint(filepath.Join(zone, "max_energy_range_uj")); err == nil {
			c.MaxRange = energy.Energy(v)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no <type>:<N>/energy_uj: %w", dir, ErrNoCounter)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Package < out[j].Package })
	return out, nil
}
