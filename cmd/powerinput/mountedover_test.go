package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lxcfs puts FUSE files over /proc/stat in containers: /proc is procfs,
// but its stat is not, so it must be read under its deadline, not inline,
// or a hung lxcfs stops every gather without a word.
func TestFileMountedOverProcStatKeepsItsDeadline(t *testing.T) {
	share, mnt := mountHung(t)
	root := t.TempDir()
	proc := filepath.Join(root, "proc")
	require.NoError(t, os.MkdirAll(proc, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "sys"), 0o755))
	require.NoError(t, syscall.Mount("proc", proc, "proc", 0, ""))
	t.Cleanup(func() { syscall.Unmount(proc, syscall.MNT_DETACH) })
	require.NoError(t, syscall.Mount(filepath.Join(mnt, "intel-rapl:0", "energy_uj"), filepath.Join(proc, "stat"), "", syscall.MS_BIND, ""))
	t.Cleanup(func() { syscall.Unmount(filepath.Join(proc, "stat"), syscall.MNT_DETACH) })
	config := filepath.Join(root, "powerinput.conf")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(
		"[[inputs.powerinput]]\nhost_sys = \"/sys\"\nhost_proc = %q\nsources = [\"model\"]\nnet = true\nread_timeout = \"300ms\"\n",
		proc)), 0o644))
	a := startAgent(t, config)
	a.baseline()
	share.hang.Store(true)
	for i := 0; i < 3; i++ {
		io.WriteString(a.stdin, "\n")
		time.Sleep(time.Second)
	}
	got := len(a.lines)
	t.Logf("3 prompts, 1 s apart, /proc/stat hung: %d lines written; stderr:\n%s", got, a.stderr.String())
	st := time.Now()
	a.cmd.Process.Signal(syscall.SIGTERM)
	a.ended(2 * time.Second)
	t.Logf("ended %s after SIGTERM; stderr tail: %q", time.Since(st), a.stderr.String()[len(a.stderr.String())-80:])
	require.Contains(t, a.stderr.String(), "did not return in time", "a hung read is said and bounded by read_timeout")
	require.NotZero(t, got, "the gathers go on")
}
