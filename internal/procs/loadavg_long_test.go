package procs

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/kfile"
)

// A loadavg that fills the reader's buffer (128 bytes) may have its fifth
// field cut: an error, not the PID's first digits.
func TestLastPIDTooLong(t *testing.T) {
	dir := t.TempDir()
	line := "0.00 0.00 0.00" + strings.Repeat(" ", 106) + " 1/1 123456\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "loadavg"), []byte(line), 0o644))
	l := NewLastPID(kfile.ProcRoot(dir))
	defer l.Close()
	got, err := l.Read()
	require.ErrorIs(t, err, kfile.ErrTooLarge, "read as last PID %d", got)
}

// A passing failure (here, no descriptor left: EMFILE) does not stop the
// reads: the next Read tries again.
func TestLastPIDAfterAPassingError(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "loadavg"), []byte("0.00 0.00 0.00 1/1 7\n"), 0o644))
	l := NewLastPID(kfile.ProcRoot(dir))
	defer l.Close()
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	free, err := syscall.Dup(0) // the lowest descriptor free
	require.NoError(t, err)
	syscall.Close(free)
	low := lim
	low.Cur = uint64(free)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
	_, err = l.Read()
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	require.ErrorIs(t, err, syscall.EMFILE)
	pid, err := l.Read()
	require.NoError(t, err)
	require.Equal(t, uint32(7), pid)
}
