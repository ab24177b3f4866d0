package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/tools/txtar"

	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/internal/guestcounter"
)

// A hypervisor's powerinput whose stdout Telegraf has closed: the next
// gather's write fails, and the process ends with one message saying so
// and exit status 1 (not killed by SIGPIPE without a word), and the
// guests' counters stay where the last written gather left them.
func TestBrokenStdoutEndsWithOneMessage(t *testing.T) {
	root := t.TempDir()
	ar, err := txtar.ParseFile(filepath.Join("..", "..", "plugins", "inputs", "powerinput", "testdata", "scenarios", "vms-start-stop.txtar"))
	require.NoError(t, err)
	tree := func(name string) bool { return strings.HasPrefix(name, "sys/") || strings.HasPrefix(name, "proc/") }
	for i, f := range ar.Files {
		if filepath.Base(f.Name) == "cmdline" { // NUL-separated, one a line in the archive
			ar.Files[i].Data = bytes.ReplaceAll(f.Data, []byte("\n"), []byte{0})
		}
	}
	require.NoError(t, fixtures.Unpack(ar, root, tree))
	counters := filepath.Join(root, "counters")
	config := filepath.Join(root, "powerinput.conf")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(
		"[[inputs.powerinput]]\nhost_sys = %q\nhost_proc = %q\nsources = [\"rapl\"]\ncpu = false\nnet = false\ndefault_metaphors = false\nvms = true\nvm_counter_dir = %q\n",
		filepath.Join(root, "sys"), filepath.Join(root, "proc"), counters)), 0o644))
	set := func(path, text string) {
		t.Helper()
		require.NoError(t, os.WriteFile(filepath.Join(root, path), []byte(text+"\n"), 0o644))
	}
	scope := func(vm string) string {
		return fmt.Sprintf(`sys/fs/cgroup/machine.slice/machine-qemu\x2d%s.scope/cpu.stat`, vm)
	}
	// a's counter in joules; -1 before it is made.
	counterA := func() float64 {
		b, err := os.ReadFile(guestcounter.Path(counters, "a"))
		if os.IsNotExist(err) {
			return -1
		}
		require.NoError(t, err)
		var uj uint64
		_, err = fmt.Sscan(string(b), &uj)
		require.NoError(t, err)
		return float64(uj) / 1e6
	}

	cmd := exec.Command(buildBinary(t), "-config", config, "-poll_interval_disabled")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	outR, outW, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdout = outW
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	outW.Close()
	t.Cleanup(func() { cmd.Process.Kill() })

	// A gather written: a's 20 J are in its row and in its counter.
	time.Sleep(200 * time.Millisecond)
	set("sys/class/powercap/intel-rapl:0/energy_uj", "1200000000")
	set("sys/fs/cgroup/cpu.stat", "usage_usec 106000000")
	set(scope(`1\x2da`), "usage_usec 12000000")
	set(scope(`2\x2db`), "usage_usec 12000000")
	io.WriteString(stdin, "\n")
	pts := readPoints(t, bufio.NewReader(outR), 6)
	var rowA float64
	for _, p := range pts {
		if p.Name == "power_vm" && p.Tags["domain"] == "a" {
			rowA = p.Fields["energy_joules"]
		}
	}
	require.Positive(t, rowA, "a's written row")
	// The counter follows the write.
	require.Eventually(t, func() bool { return counterA() == rowA }, 5*time.Second, time.Millisecond, "a's counter and its written row")

	// Telegraf closes its end; the next gather cannot be written.
	outR.Close()
	set("sys/class/powercap/intel-rapl:0/energy_uj", "1201000000") // 1 J: under the ceiling
	time.Sleep(100 * time.Millisecond)
	set("sys/fs/cgroup/cpu.stat", "usage_usec 114000000")
	set(scope(`1\x2da`), "usage_usec 16000000")
	io.WriteString(stdin, "\n")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10 s after its stdout was closed; stderr:\n%s", stderr.String())
	}
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "exit: %v", err)
	require.True(t, exit.Exited(), "killed by %v instead of exiting with a message; stderr:\n%s", exit, stderr.String())
	require.Equal(t, 1, exit.ExitCode())
	var errs []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(l, "E! ") {
			errs = append(errs, l)
		}
	}
	require.Len(t, errs, 1, "stderr:\n%s", stderr.String())
	require.Contains(t, errs[0], "Telegraf closed the pipe")
	require.Equal(t, rowA, counterA(), "a's counter moved with a gather that was not written")
}
