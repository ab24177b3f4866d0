package msr

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/kfile"
	regs "github.com/greencampus/powerinput/internal/msr"
	"github.com/greencampus/powerinput/internal/source"
)

// fakeDev answers register reads from a map, as the msr driver does: EIO
// for a register the CPU does not implement.
type fakeDev struct {
	regs  map[int64]uint64
	reads *atomic.Int64
}

func (d fakeDev) ReadAt(b []byte, addr int64) (int, error) {
	d.reads.Add(1)
	v, ok := d.regs[addr]
	if !ok {
		return 0, &fs.PathError{Op: "read", Path: "msr", Err: syscall.EIO}
	}
	binary.LittleEndian.PutUint64(b, v)
	return 8, nil
}

func (fakeDev) Close() error { return nil }

func machine(t *testing.T, cpuinfo string, regs map[int64]uint64) (source.Env, *atomic.Int64) {
	t.Helper()
	root := t.TempDir()
	for rel, text := range map[string]string{
		"proc/cpuinfo": cpuinfo,
		"sys/devices/system/cpu/cpu0/topology/physical_package_id": "0\n",
		"dev/cpu/0/msr": "",
	} {
		path := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
	reads := &atomic.Int64{}
	now := time.Unix(1_700_000_000, 0)
	return source.Env{
		Roots:   kfile.Roots{Sys: kfile.SysRoot(filepath.Join(root, "sys")), Proc: kfile.ProcRoot(filepath.Join(root, "proc")), Dev: kfile.DevRoot(filepath.Join(root, "dev"))},
		Clock:   func() time.Time { now = now.Add(10 * time.Second); return now },
		OpenDev: func(string) (kfile.Reader, error) { return fakeDev{regs: regs, reads: reads}, nil },
	}, reads
}

const intel = "vendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"

// A CPU, or a hypervisor answering for it, without RAPL registers is said
// once, and not probed again at every gather.
func TestNoRAPLIsPermanent(t *testing.T) {
	for name, tt := range map[string]struct {
		cpuinfo string
		regs    map[int64]uint64
		want    error
	}{
		"unit register not implemented": {intel, map[int64]uint64{}, regs.ErrNoRegister},
		"unit register reads 0":         {intel, map[int64]uint64{regs.IntelPowerUnit: 0}, regs.ErrNoRAPL},
		"not Intel or AMD":              {"vendor_id\t: CentaurHauls\ncpu family\t: 6\nmodel\t: 15\n", nil, regs.ErrUnsupported},
		"AMD before Zen":                {"vendor_id\t: AuthenticAMD\ncpu family\t: 21\nmodel\t: 2\n", nil, regs.ErrUnsupported},
	} {
		t.Run(name, func(t *testing.T) {
			env, reads := machine(t, tt.cpuinfo, tt.regs)
			s := New(env)
			err := s.Probe(time.Time{})
			require.ErrorIs(t, err, tt.want)
			n := reads.Load()
			require.ErrorIs(t, s.Probe(time.Time{}), tt.want)
			require.Equal(t, n, reads.Load(), "the second probe reads nothing")
			why, fix := s.Explain(err)
			require.Contains(t, why, "no RAPL energy registers")
			require.Contains(t, fix, "next source")
		})
	}
}

// A package whose DRAM counter reads 0 has none; the TDP comes from
// MSR_PKG_POWER_INFO; the description says when the first counter wraps.
func TestDiscoverAndDescribe(t *testing.T) {
	env, _ := machine(t, intel, map[int64]uint64{
		regs.IntelPowerUnit:    0xa0e03,
		regs.IntelPkgEnergy:    1 << 20,
		regs.IntelDRAMEnergy:   0,
		regs.IntelPkgPowerInfo: 2800, // 350 W in eighths
	})
	s := New(env)
	require.NoError(t, s.Probe(time.Time{}))
	defer s.Close()
	d := s.Describe()
	require.Contains(t, d, "1 package(s) [0], 0 DRAM zone(s), TDP 0: 350 W")
	require.Contains(t, d, "registers read on CPU 0")
	require.Contains(t, d, "wrap does after 262144 J, 12m29s at 350 W")
	require.Equal(t, Name, s.Name())
	require.Empty(t, s.Model())
	require.True(t, strings.HasSuffix(s.Label("en"), "(msr)"))
	require.True(t, strings.HasSuffix(s.Label("fr"), "(msr)"))
}

func TestExplain(t *testing.T) {
	env, _ := machine(t, intel, nil)
	s := New(env)
	for _, tt := range []struct {
		err  error
		want string
	}{
		{errors.New("x: " + ErrNoDevice.Error()), "check"},
		{&fs.PathError{Op: "open", Path: "/dev/cpu/0/msr", Err: fs.ErrPermission}, "setcap cap_sys_rawio"},
		{&fs.PathError{Op: "open", Path: "/dev/cpu/0/msr", Err: syscall.EPERM}, "setcap cap_sys_rawio"},
		{source.ErrStale, "next source"},
	} {
		_, fix := s.Explain(tt.err)
		require.Contains(t, fix, tt.want, "Explain(%v)", tt.err)
	}
	why, fix := s.Explain(ErrNoDevice)
	require.Contains(t, why, "no MSR device files")
	require.Contains(t, fix, "modprobe msr")
}
