package guestcounter

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestParseLocks(t *testing.T) {
	const table = `1: POSIX  ADVISORY  WRITE 900 fd:01:4071 0 EOF
2: FLOCK  ADVISORY  WRITE 1234 fd:01:4071 0 EOF
2: -> FLOCK  ADVISORY  WRITE 1300 fd:01:4071 0 EOF
3: FLOCK  ADVISORY  READ  77 103:02:88 0 EOF
4: OFDLCK ADVISORY  READ  -1 00:05:12 0 EOF
garbage
5: FLOCK  ADVISORY  WRITE x 00:2d:9 0 EOF
`
	for _, tc := range []struct {
		name         string
		major, minor uint32
		ino          uint64
		pid          int
		held         bool
	}{
		{"the holder, not the waiter nor a POSIX lock", 0xfd, 1, 4071, 1234, true},
		{"a major of three hex digits", 0x103, 2, 88, 77, true},
		{"an OFD lock is not ours", 0, 5, 12, 0, false},
		{"a PID that is not a number", 0, 0x2d, 9, 0, true},
		{"no lock on the file", 0xfd, 1, 4072, 0, false},
	} {
		pid, held, err := ParseLocks(strings.NewReader(table), tc.major, tc.minor, tc.ino)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.held, held, tc.name)
		require.Equal(t, tc.pid, pid, tc.name)
	}
}

// TestLockHolderReadsTheKernelTable: a writer's lock is found with its
// PID, even with the PID file gone, and a free folder is free.
func TestLockHolderReadsTheKernelTable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "counters")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.Equal(t, 0, LockHolder(procLocks, dir))
	w := New(dir)
	require.Empty(t, w.Apply([]Add{{"vm", 1}}))
	require.NoError(t, os.Remove(filepath.Join(dir, LockName)))
	require.Equal(t, os.Getpid(), LockHolder(procLocks, dir))
	w.Close()
	require.Equal(t, 0, LockHolder(procLocks, dir))
}

// procLocks is the kernel's table of locks of the machine the tests run on.
const procLocks = "/proc/locks"

// TestLockHolderReadsTheTableGiven: the table is read where host_proc
// puts it, not always at /proc/locks.
func TestLockHolderReadsTheTableGiven(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "counters")
	require.NoError(t, os.Mkdir(dir, 0o755))
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(dir, &st))
	table := filepath.Join(t.TempDir(), "locks")
	line := fmt.Sprintf("7: FLOCK  ADVISORY  WRITE 4242 %02x:%02x:%d 0 EOF\n", unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev)), st.Ino)
	require.NoError(t, os.WriteFile(table, []byte(line), 0o644))
	require.Equal(t, 4242, LockHolder(table, dir), "the holder named by the table given")
	require.Equal(t, 0, LockHolder(procLocks, dir), "the machine's own table: nobody holds it")
}

func FuzzParseLocks(f *testing.F) {
	f.Add("2: FLOCK  ADVISORY  WRITE 1234 fd:01:4071 0 EOF\n", uint32(0xfd), uint32(1), uint64(4071))
	f.Add("1: -> FLOCK ADVISORY WRITE 1 00:00:0 0 EOF\n3: FLOCK ADVISORY READ 77 103:02:88 0 EOF\n", uint32(0x103), uint32(2), uint64(88))
	if b, err := os.ReadFile("/proc/locks"); err == nil {
		var st syscall.Stat_t
		syscall.Stat("/", &st)
		f.Add(string(b), uint32(0), uint32(0), st.Ino)
	}
	f.Fuzz(func(t *testing.T, table string, major, minor uint32, ino uint64) {
		pid, held, err := ParseLocks(strings.NewReader(table), major, minor, ino)
		if err == nil && (pid < 0 || !held && pid != 0) {
			t.Fatalf("pid %d, held %v", pid, held)
		}
	})
}
