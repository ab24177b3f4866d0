package procs

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/kfile"
)

func TestParseLastPID(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint32 // 0: refused
	}{
		{"0.52 0.58 0.59 3/219 12003\n", 12003},
		{"0.00 0.00 0.00 1/1 1", 1},
		{"1.00\t2.00 3.00 10/2000 4194304\n", 4194304},
		{"0.00 0.00 0.00 1/1 4194305\n", 0}, // past the kernel's PID limit
		{"0.00 0.00 0.00 1/1 0\n", 0},
		{"0.00 0.00 0.00 1/1\n", 0},
		{"0.00 0.00 0.00 11 12\n", 0},
		{"0.00 0.00 0.00 1/1 -3\n", 0},
		{"", 0},
	} {
		got, err := ParseLastPID([]byte(c.in))
		if c.want == 0 {
			require.ErrorIs(t, err, ErrSyntax, "%q", c.in)
			continue
		}
		require.NoError(t, err, "%q", c.in)
		require.Equal(t, c.want, got, "%q", c.in)
	}
}

// On this machine's /proc the last PID moves when a process is made; a
// loadavg that is absent or not as expected fails at every Read, without
// being opened again.
func TestLastPID(t *testing.T) {
	l := NewLastPID("/proc")
	defer l.Close()
	first, err := l.Read()
	if err != nil {
		t.Skipf("no /proc/loadavg to read here: %v", err)
	}
	require.NoError(t, exec.Command("true").Run())
	second, err := l.Read()
	require.NoError(t, err)
	require.NotEqual(t, first, second, "a process was made between the reads")

	dir := t.TempDir()
	bad := NewLastPID(kfile.ProcRoot(dir))
	_, err = bad.Read()
	require.Error(t, err, "no loadavg")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "loadavg"), []byte("0.00 0.00 0.00 1/1 7\n"), 0o644))
	_, err = bad.Read()
	require.Error(t, err, "not tried again once it failed")

	good := NewLastPID(kfile.ProcRoot(dir))
	defer good.Close()
	pid, err := good.Read()
	require.NoError(t, err)
	require.Equal(t, uint32(7), pid)
}
