package rapl

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/powercap"
	"github.com/greencampus/powerinput/internal/source"
)

func newSource(t *testing.T, files map[string]string) (*Source, string) {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		p := filepath.Join(root, "class", "powercap", name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text+"\n"), 0o644))
	}
	now := time.Unix(0, 0)
	env := source.Env{Roots: kfile.Roots{Sys: kfile.SysRoot(root)}, Clock: func() time.Time { return now }, Powercap: powercap.NewWatcher(kfile.SysRoot(root))}
	return New(env).(*Source), root
}

func TestDescribeMultiDie(t *testing.T) {
	s, _ := newSource(t, map[string]string{
		"intel-rapl:0/name": "package-0-die-0", "intel-rapl:0/energy_uj": "1", "intel-rapl:0/constraint_0_max_power_uw": "175000000",
		"intel-rapl:0:0/name": "dram", "intel-rapl:0:0/energy_uj": "1",
		"intel-rapl:1/name": "package-0-die-1", "intel-rapl:1/energy_uj": "1",
	})
	require.NoError(t, s.Probe(time.Time{}))
	require.Equal(t, "2 package(s) [0/die0 0/die1], 1 DRAM zone(s), TDP 0/die0: 175 W", s.Describe())
	require.Equal(t, 175.0, s.TDP(meter.Key{Domain: meter.DRAM, ID: 0, Die: 0}).Watts(), "a DRAM key finds its package's TDP")
}

func TestExplain(t *testing.T) {
	s, root := newSource(t, map[string]string{"intel-rapl:0/name": "psys", "intel-rapl:0/energy_uj": "1"})
	err := s.Probe(time.Time{})
	require.ErrorIs(t, err, errNoPackages)
	why, fix := s.Explain(err)
	require.Contains(t, why, "no package zone")
	require.Contains(t, fix, "tdp_watts")

	why, _ = s.Explain(&fs.PathError{Op: "open", Path: filepath.Join(root, "x"), Err: fs.ErrPermission})
	require.Contains(t, why, "only root may read energy_uj")
	why, _ = s.Explain(source.ErrStale)
	require.Contains(t, why, "have not advanced for 3 intervals")
	why, fix = s.Explain(errors.New("something else"))
	require.Equal(t, "something else", why)
	require.Contains(t, fix, "Troubleshooting")

	empty, _ := newSource(t, nil)
	err = empty.Probe(time.Time{})
	require.ErrorIs(t, err, powercap.ErrNoPowercap)
	_, fix = empty.Explain(err)
	require.Contains(t, fix, "modprobe intel_rapl_msr")
}
