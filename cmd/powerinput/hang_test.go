package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/plugins/inputs/powerinput"
)

// proc writes a /proc tree (two CPUs) under root, so every gather has cpu
// points to show that it returned.
func procTree(t *testing.T, root string, tick int) {
	t.Helper()
	text := fmt.Sprintf("cpu  %d 0 %d %d 0 0 0 0 0 0\ncpu0 %d 0 %d %d 0 0 0 0 0 0\ncpu1 %d 0 %d %d 0 0 0 0 0 0\n",
		200*tick, 100*tick, 1000*tick, 100*tick, 50*tick, 500*tick, 100*tick, 50*tick, 500*tick)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "proc"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "sys"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "proc", "stat"), []byte(text), 0o644))
}

// agent is the built binary running under test, prompted like execd does.
type agent struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *syncBuffer
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startAgent(t *testing.T, config string) *agent {
	t.Helper()
	a := &agent{t: t, lines: make(chan string, 1000), stderr: &syncBuffer{}, done: make(chan error, 1)}
	a.cmd = exec.Command(buildBinary(t), "-config", config, "-poll_interval_disabled")
	a.stdin, _ = a.cmd.StdinPipe()
	stdout, _ := a.cmd.StdoutPipe()
	a.cmd.Stderr = a.stderr
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, a.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			a.lines <- sc.Text()
		}
		close(a.lines)
		a.done <- a.cmd.Wait()
	}()
	t.Cleanup(func() { a.cmd.Process.Kill() })
	return a
}

// baseline lets the process take its baseline (Start, before any
// prompt) and prompts the first gather, which measures from there after
// MinFirstInterval; what it writes is drained, so the test's changes fall
// into the next interval.
func (a *agent) baseline() {
	time.Sleep(200 * time.Millisecond)
	io.WriteString(a.stdin, "\n")
	time.Sleep(powerinput.MinFirstInterval + 300*time.Millisecond)
	for len(a.lines) > 0 {
		<-a.lines
	}
}

// gather prompts one gather and returns the measurements it wrote, waiting
// at most within for its cpu-total point.
func (a *agent) gather(within time.Duration) []string {
	a.t.Helper()
	io.WriteString(a.stdin, "\n")
	var got []string
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-a.lines:
			if !ok {
				a.t.Fatalf("powerinput ended; stderr:\n%s", a.stderr.String())
			}
			got = append(got, l)
			if strings.HasPrefix(l, "cpu,cpu=cpu-total") {
				// The rest of the gather came in the same write.
				for {
					select {
					case l, ok := <-a.lines:
						if !ok {
							return got
						}
						got = append(got, l)
					case <-time.After(100 * time.Millisecond):
						return got
					}
				}
			}
		case <-deadline:
			a.t.Fatalf("no cpu point within %s of the prompt: the gather is blocked; stderr:\n%s", within, a.stderr.String())
		}
	}
}

// ended waits for the process to exit after a signal or stdin closing.
func (a *agent) ended(within time.Duration) {
	a.t.Helper()
	select {
	case err := <-a.done:
		require.NoError(a.t, err, "exit status; stderr:\n%s", a.stderr.String())
	case <-time.After(within):
		a.t.Fatalf("still running %s after being told to stop; stderr:\n%s", within, a.stderr.String())
	}
}

// A FIFO where a counter should be (RAPL's energy_uj, the guest's) is
// refused at once: every gather returns, and the process ends on SIGTERM.
func TestFIFOCountersDoNotBlock(t *testing.T) {
	root := t.TempDir()
	procTree(t, root, 1)
	zone := filepath.Join(root, "sys", "class", "powercap", "intel-rapl:0")
	guest := filepath.Join(root, "vm", "intel-rapl:0")
	require.NoError(t, os.MkdirAll(zone, 0o755))
	require.NoError(t, os.MkdirAll(guest, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(zone, "name"), []byte("package-0\n"), 0o644))
	require.NoError(t, syscall.Mkfifo(filepath.Join(zone, "energy_uj"), 0o644))
	require.NoError(t, syscall.Mkfifo(filepath.Join(guest, "energy_uj"), 0o644))
	config := filepath.Join(root, "powerinput.conf")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(
		"[[inputs.powerinput]]\nhost_sys = %q\nhost_proc = %q\nvm_powercap_path = %q\nnet = false\n",
		filepath.Join(root, "sys"), filepath.Join(root, "proc"), filepath.Join(root, "vm"))), 0o644))

	a := startAgent(t, config)
	a.baseline()
	procTree(t, root, 2)
	got := a.gather(3 * time.Second)
	require.Contains(t, strings.Join(got, "\n"), "source=model", "the model stands in, labelled")
	require.Contains(t, a.stderr.String(), "energy_uj: not a regular file")
	start := time.Now()
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
	a.ended(time.Second)
	t.Logf("ended %s after SIGTERM", time.Since(start).Round(time.Millisecond))
}

// hungFS is a guest share (intel-rapl:0/energy_uj) whose host side stops
// answering reads when hang is set, as a virtiofs or 9p share does when
// the hypervisor's side is stuck. A stuck read ends only when the kernel
// interrupts it (the reader is being killed) or release is closed.
type hungFS struct {
	fs.Inode
	value   atomic.Uint64
	hang    atomic.Bool
	release chan struct{}
	reads   atomic.Int64
}

type hungDir struct{ fs.Inode }
type hungFile struct {
	fs.Inode
	fsys *hungFS
}

func (r *hungFS) OnAdd(ctx context.Context) {
	dir := r.NewPersistentInode(ctx, &hungDir{}, fs.StableAttr{Mode: syscall.S_IFDIR})
	r.AddChild("intel-rapl:0", dir, false)
	file := r.NewPersistentInode(ctx, &hungFile{fsys: r}, fs.StableAttr{Mode: syscall.S_IFREG})
	dir.AddChild("energy_uj", file, false)
}

func (f *hungFile) Getattr(_ context.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFREG | 0o444
	out.Size = 4096
	return 0
}

func (f *hungFile) Open(context.Context, uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return nil, fuse.FOPEN_DIRECT_IO, 0
}

func (f *hungFile) Read(ctx context.Context, _ fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f.fsys.reads.Add(1)
	if f.fsys.hang.Load() {
		select {
		case <-ctx.Done():
			return nil, syscall.EINTR
		case <-f.fsys.release:
		}
	}
	text := fmt.Sprintf("%d\n", f.fsys.value.Load())
	if off >= int64(len(text)) {
		return fuse.ReadResultData(nil), 0
	}
	return fuse.ReadResultData([]byte(text)[off:]), 0
}

func mountHung(t *testing.T) (*hungFS, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a FUSE file system needs root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("skipped: no /dev/fuse (%v)", err)
	}
	dir := t.TempDir()
	root := &hungFS{release: make(chan struct{})}
	root.value.Store(1_000_000_000)
	srv, err := fs.Mount(dir, root, &fs.Options{MountOptions: fuse.MountOptions{DirectMount: true, Name: "hungshare"}})
	if err != nil {
		t.Skipf("skipped: cannot mount a FUSE file system here: %v", err)
	}
	t.Cleanup(func() {
		close(root.release)
		srv.Unmount()
	})
	return root, dir
}

// A guest share whose host side stops answering: gathers go on returning
// within the read timeout, the counter is reported once as not answering,
// the model stands in only after vm_stale_intervals intervals without a
// value, and SIGTERM ends the process within a second while a read hangs.
func TestHungShareDoesNotBlock(t *testing.T) {
	share, mnt := mountHung(t)
	root := t.TempDir()
	procTree(t, root, 1)
	config := filepath.Join(root, "powerinput.conf")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(
		"[[inputs.powerinput]]\nhost_sys = %q\nhost_proc = %q\nvm_powercap_path = %q\nsources = [\"vm\", \"model\"]\nnet = false\nread_timeout = \"300ms\"\n",
		filepath.Join(root, "sys"), filepath.Join(root, "proc"), mnt)), 0o644))

	a := startAgent(t, config)
	a.baseline()
	for i := 0; i < 2; i++ {
		share.value.Add(20_000_000)
		procTree(t, root, i+2)
		got := a.gather(3 * time.Second)
		require.Contains(t, strings.Join(got, "\n"), "power_host,source=vm", "gather %d", i)
	}
	share.hang.Store(true)
	sources := []string{}
	for i := 0; i < 5; i++ {
		procTree(t, root, i+10)
		start := time.Now()
		got := a.gather(3 * time.Second)
		require.Less(t, time.Since(start), 2*time.Second, "a gather waits for a hung read at most the read timeout")
		for _, l := range got {
			if strings.HasPrefix(l, "power_host") {
				sources = append(sources, strings.Fields(l)[0])
			}
		}
	}
	log := a.stderr.String()
	require.Contains(t, log, "did not return in time")
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		require.False(t, seen[l] && !strings.HasPrefix(l, "I! power source now"), "said twice: %q; log:\n%s", l, log)
		seen[l] = true
	}
	require.NotEmpty(t, sources)
	for _, s := range sources {
		require.Contains(t, s, "source=model", "no measured point can come from a hung share")
	}
	require.Contains(t, log, "no value for 3 intervals")
	start := time.Now()
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
	a.ended(time.Second)
	t.Logf("ended %s after SIGTERM with a read hung; %d reads reached the share", time.Since(start).Round(time.Millisecond), share.reads.Load())
}

// Closing stdin ends the process while a read hangs, too.
func TestHungShareEndsOnStdinEOF(t *testing.T) {
	share, mnt := mountHung(t)
	root := t.TempDir()
	procTree(t, root, 1)
	config := filepath.Join(root, "powerinput.conf")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(
		"[[inputs.powerinput]]\nhost_sys = %q\nhost_proc = %q\nvm_powercap_path = %q\nsources = [\"vm\"]\nnet = false\nread_timeout = \"200ms\"\n",
		filepath.Join(root, "sys"), filepath.Join(root, "proc"), mnt)), 0o644))
	a := startAgent(t, config)
	a.baseline()
	share.hang.Store(true)
	procTree(t, root, 2)
	a.gather(3 * time.Second)
	start := time.Now()
	a.stdin.Close()
	a.ended(time.Second)
	t.Logf("ended %s after stdin closed with a read hung", time.Since(start).Round(time.Millisecond))
}

// The signals Telegraf's execd can be told to send (signal = "SIGHUP",
// "SIGUSR1", "SIGUSR2") each prompt a gather; they do not end the process.
func TestSignalsPromptAGather(t *testing.T) {
	root := t.TempDir()
	procTree(t, root, 1)
	config := filepath.Join(root, "powerinput.conf")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(
		"[[inputs.powerinput]]\nhost_sys = %q\nhost_proc = %q\nsources = [\"model\"]\nnet = false\n",
		filepath.Join(root, "sys"), filepath.Join(root, "proc"))), 0o644))
	a := startAgent(t, config)
	a.baseline()
	for i, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2} {
		procTree(t, root, i+2)
		require.NoError(t, a.cmd.Process.Signal(sig))
		select {
		case l := <-a.lines:
			require.True(t, strings.HasPrefix(l, "cpu,") || strings.HasPrefix(l, "power"), "after %v: %q", sig, l)
		case <-time.After(3 * time.Second):
			t.Fatalf("no gather after %v; stderr:\n%s", sig, a.stderr.String())
		}
		for len(a.lines) > 0 {
			<-a.lines
		}
		time.Sleep(100 * time.Millisecond)
		for len(a.lines) > 0 {
			<-a.lines
		}
	}
	a.stdin.Close()
	a.ended(time.Second)
}

func TestBadPollInterval(t *testing.T) {
	out, err := exec.Command(buildBinary(t), "-poll_interval", "-1s").CombinedOutput()
	require.Error(t, err)
	require.Equal(t, "E! -poll_interval -1s: want a positive duration, or -poll_interval_disabled\n", string(out))
}
