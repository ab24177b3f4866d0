package cgroup

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A process started with a low open-file limit keeps room to open: the
// walker keeps no more than a quarter of the limit.
func TestWalkerBudgetFollowsRlimit(t *testing.T) {
	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old))
	lim := syscall.Rlimit{Cur: 64, Max: old.Max}
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	c := newCgtree(t, true)
	for i := 0; i < 100; i++ {
		c.set(t, fmt.Sprintf("system.slice/s%d.service", i), time.Second)
	}
	w := NewWalker(Hierarchy{Dir: c.root, V2: true})
	defer w.Close()
	res, err := w.Walk()
	require.NoError(t, err)
	_, perr := w.Procs(true)
	fds, _ := os.ReadDir("/proc/self/fd")
	t.Logf("budget %d, kept %d, fds open %d, unreadable %d (%v), procs err %v", w.files, w.kept, len(fds), res.Unreadable, res.Err, perr)
	require.LessOrEqual(t, w.files, 16, "an eighth/quarter of RLIMIT_NOFILE=64")
	require.Zero(t, res.Unreadable)
}
