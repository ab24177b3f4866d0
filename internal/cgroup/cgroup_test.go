package cgroup

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/internal/kfile"
)

func TestParseCPUStat(t *testing.T) {
	d, err := ParseCPUStat([]byte("usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\nnr_periods 0\n"))
	require.NoError(t, err)
	require.Equal(t, 1500*time.Millisecond, d)
	for _, bad := range []string{"", "user_usec 5\n", "usage_usec x\n", "usage_usec\n", "usage_usec 99999999999999999999\n"} {
		_, err := ParseCPUStat([]byte(bad))
		require.ErrorIs(t, err, ErrSyntax, "%q", bad)
	}
}

func TestParseUsage(t *testing.T) {
	d, err := ParseUsage([]byte("2500000000\n"))
	require.NoError(t, err)
	require.Equal(t, 2500*time.Millisecond, d)
	_, err = ParseUsage([]byte("-1\n"))
	require.ErrorIs(t, err, ErrSyntax)
}

func TestUnescape(t *testing.T) {
	require.Equal(t, "machine-qemu-1-greenit.scope", Unescape(`machine-qemu\x2d1\x2dgreenit.scope`))
	require.Equal(t, `a\x2`, Unescape(`a\x2`))
	require.Equal(t, `a\xzz`, Unescape(`a\xzz`))
	require.Equal(t, `back\slash`, Unescape(`back\x5cslash`))
}

func TestFindAndUsage(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	_, err := Find(kfile.SysRoot(root))
	require.ErrorIs(t, err, ErrNoCgroup)

	write("fs/cgroup/cpuacct/cpuacct.usage", "100\n")
	write("fs/cgroup/cpuacct/machine.slice/cpuacct.usage", "3000000000\n")
	h, err := Find(kfile.SysRoot(root))
	require.NoError(t, err)
	require.False(t, h.V2)
	d, _, err := h.Usage(filepath.Join(h.Dir, "machine.slice"), nil)
	require.NoError(t, err)
	require.Equal(t, 3*time.Second, d)

	write("fs/cgroup/unified/cgroup.controllers", "\n")
	write("fs/cgroup/unified/system.slice/cpu.stat", "usage_usec 42\n")
	h, err = Find(kfile.SysRoot(root))
	require.NoError(t, err)
	require.True(t, h.V2)
	d, _, err = h.Usage(filepath.Join(h.Dir, "system.slice"), nil)
	require.NoError(t, err)
	require.Equal(t, 42*time.Microsecond, d)
	kids, err := Children(h.Dir, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"system.slice"}, kids)
}

func FuzzParseCPUStat(f *testing.F) {
	for _, b := range fixtures.Files("cpu.stat") {
		f.Add(b)
	}
	f.Add([]byte("usage_usec 1500000\nuser_usec 1000000\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseCPUStat(b)
		if err == nil && d < 0 {
			t.Fatalf("negative usage %v", d)
		}
	})
}

func TestParseDescendants(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"nr_descendants 0\nnr_dying_descendants 0\n", 0, true},
		{"nr_descendants 12\nnr_dying_descendants 3\nnr_subsys_cpu 1\n", 12, true},
		{"nr_dying_descendants 3\nnr_descendants 2\n", 2, true},
		{"nr_dying_descendants 3\n", 0, false},
		{"nr_descendants x\n", 0, false},
		{"", 0, false},
	} {
		got, err := ParseDescendants([]byte(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDescendants(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseDescendants(f *testing.F) {
	for _, b := range fixtures.Files("cgroup.stat") {
		f.Add(b)
	}
	f.Add([]byte("nr_descendants 4\nnr_dying_descendants 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseDescendants(b)
		if err == nil && n < 0 {
			t.Fatalf("negative count %d", n)
		}
	})
}
