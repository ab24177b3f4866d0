package powercap

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/internal/kfile"
)

func TestParseZoneName(t *testing.T) {
	tests := []struct {
		in       string
		domain   Domain
		pkg, die int
		wantErr  bool
	}{
		{"package-0\n", DomainPackage, 0, NoDie, false},
		{"package-12", DomainPackage, 12, NoDie, false},
		{"package-1-die-0\n", DomainPackage, 1, 0, false},
		{"package-0-die-3", DomainPackage, 0, 3, false},
		{"dram\n", DomainDRAM, -1, NoDie, false},
		{"psys", DomainPsys, -1, NoDie, false},
		{"core", DomainCore, -1, NoDie, false},
		{"uncore", DomainUncore, -1, NoDie, false},
		{"package-", DomainUnknown, -1, NoDie, true},
		{"package-x", DomainUnknown, -1, NoDie, true},
		{"package--1", DomainUnknown, -1, NoDie, true},
		{"package-+1", DomainUnknown, -1, NoDie, true},
		{"package-99999", DomainUnknown, -1, NoDie, true},
		{"package-0-die-", DomainUnknown, -1, NoDie, true},
		{"package-0-die-x", DomainUnknown, -1, NoDie, true},
		{"package-0-die-1-die-2", DomainUnknown, -1, NoDie, true},
		{"", DomainUnknown, -1, NoDie, true},
		{"gpu", DomainUnknown, -1, NoDie, false},
	}
	for _, tt := range tests {
		d, pkg, die, err := ParseZoneName([]byte(tt.in))
		require.Equal(t, tt.wantErr, err != nil, "ParseZoneName(%q): %v", tt.in, err)
		require.Equal(t, []int{int(tt.domain), tt.pkg, tt.die}, []int{int(d), pkg, die}, "ParseZoneName(%q)", tt.in)
		if err != nil {
			require.ErrorIs(t, err, ErrName)
		}
	}
}

func FuzzParseZoneName(f *testing.F) {
	for _, b := range fixtures.Files("name") {
		f.Add(b)
	}
	for _, s := range []string{"package-0\n", "package-1-die-1", "dram\n", "psys", "core", "uncore", "package-", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, pkg, die, err := ParseZoneName(b)
		if err != nil && !errors.Is(err, ErrName) {
			t.Fatalf("error %v does not wrap ErrName", err)
		}
		if (d == DomainPackage) != (pkg >= 0) {
			t.Fatalf("ParseZoneName(%q) = %v, %d: a package number only for packages", b, d, pkg)
		}
		if die != NoDie && (d != DomainPackage || die < 0 || die > 65535) {
			t.Fatalf("ParseZoneName(%q) = %v, die %d", b, d, die)
		}
		if d == DomainPackage && pkg > 65535 {
			t.Fatalf("ParseZoneName(%q): package %d", b, pkg)
		}
	})
}

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		path := filepath.Join(root, "class", "powercap", name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text+"\n"), 0o644))
	}
	return root
}

// Two packages of two dies each, a psys zone between them, an mmio copy of
// package 0 die 0: dies keep their package, DRAM takes its parent's die,
// the mmio duplicate is dropped.
func TestDiscoverMultiDie(t *testing.T) {
	root := tree(t, map[string]string{
		"intel-rapl:0/name": "package-0-die-0", "intel-rapl:0/energy_uj": "1", "intel-rapl:0/constraint_0_max_power_uw": "100000000",
		"intel-rapl:0:0/name": "dram", "intel-rapl:0:0/energy_uj": "1",
		"intel-rapl:1/name": "package-0-die-1", "intel-rapl:1/energy_uj": "1",
		"intel-rapl:2/name": "psys", "intel-rapl:2/energy_uj": "1",
		"intel-rapl:3/name": "package-1-die-0", "intel-rapl:3/energy_uj": "1",
		"intel-rapl:4/name": "package-1-die-1", "intel-rapl:4/energy_uj": "1",
		"intel-rapl-mmio:0/name": "package-0-die-0", "intel-rapl-mmio:0/energy_uj": "1",
		"intel-rapl/enabled": "1",
	})
	zones, err := Discover(kfile.SysRoot(root))
	require.NoError(t, err)
	type z struct {
		entry    string
		d        Domain
		pkg, die int
	}
	var got []z
	for _, zz := range zones {
		got = append(got, z{zz.Entry, zz.Domain, zz.Package, zz.Die})
	}
	require.Equal(t, []z{
		{"intel-rapl:2", DomainPsys, -1, NoDie},
		{"intel-rapl:0", DomainPackage, 0, 0},
		{"intel-rapl:0:0", DomainDRAM, 0, 0},
		{"intel-rapl:1", DomainPackage, 0, 1},
		{"intel-rapl:3", DomainPackage, 1, 0},
		{"intel-rapl:4", DomainPackage, 1, 1},
	}, got)
	require.Equal(t, energy.Power(100), zones[1].TDP)
}

func TestDiscoverNoPowercap(t *testing.T) {
	_, err := Discover(kfile.SysRoot(t.TempDir()))
	require.ErrorIs(t, err, ErrNoPowercap)
}

// A bad zone name is skipped with an error naming the zone, never its
// content; the other zones are found.
func TestDiscoverSkipsBadNames(t *testing.T) {
	root := tree(t, map[string]string{
		"intel-rapl:0/name": "package-0", "intel-rapl:0/energy_uj": "1",
		"intel-rapl:1/name": "package-x$secret", "intel-rapl:1/energy_uj": "1",
	})
	zones, err := Discover(kfile.SysRoot(root))
	require.Len(t, zones, 1)
	require.ErrorIs(t, err, ErrName)
	require.Contains(t, err.Error(), "intel-rapl:1")
	require.NotContains(t, err.Error(), "secret")
}

// The watcher finds the zones again when the set of entries changes: a
// package whose zone went away and came back.
func TestWatcher(t *testing.T) {
	root := tree(t, map[string]string{
		"intel-rapl:0/name": "package-0", "intel-rapl:1/name": "package-1",
	})
	w := NewWatcher(kfile.SysRoot(root))
	zones, changed, _, err := w.Zones()
	require.NoError(t, err)
	require.True(t, changed)
	require.Len(t, zones, 2)
	_, changed, _, _ = w.Zones()
	require.False(t, changed)

	gone := filepath.Join(root, "class", "powercap", "intel-rapl:1")
	require.NoError(t, os.Rename(gone, filepath.Join(root, "away")))
	zones, changed, _, _ = w.Zones()
	require.True(t, changed)
	require.Len(t, zones, 1)
	require.NoError(t, os.Rename(filepath.Join(root, "away"), gone))
	zones, changed, _, _ = w.Zones()
	require.True(t, changed)
	require.Len(t, zones, 2)
}

// Two sources share one Watcher from their own goroutines (run with -race).
func TestWatcherConcurrent(t *testing.T) {
	root := tree(t, map[string]string{"intel-rapl:0/name": "package-0", "intel-rapl:0/energy_uj": "1"})
	w := NewWatcher(kfile.SysRoot(root))
	done := make(chan struct{})
	for g := 0; g < 2; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 200; i++ {
				if i%50 == 0 {
					w.Forget()
				}
				zones, _, _, err := w.Zones()
				if err != nil || len(zones) != 1 {
					t.Errorf("Zones: %v %v", zones, err)
					return
				}
			}
		}()
	}
	<-done
	<-done
}
