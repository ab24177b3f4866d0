package gatherloop

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"
)

// committer is an input that records what the loop tells it, in order,
// with the gather number: "defer", "gather 1", "commit 1"...; hang, when
// set, holds a gather until it is closed.
type committer struct {
	mu     sync.Mutex
	n      int
	events []string
	hang   chan struct{}
	done   chan struct{} // closed at the end of the gather that hung
}

func (*committer) SampleConfig() string { return "" }

func (c *committer) log(e string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, e)
}

func (c *committer) seen() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.events, " ")
}

func (c *committer) CommitAfterWrite() { c.log("defer") }

func (c *committer) Gather(acc telegraf.Accumulator) error {
	c.mu.Lock()
	c.n++
	n := c.n
	c.events = append(c.events, "gather "+string(rune('0'+n)))
	hang := c.hang
	c.mu.Unlock()
	if hang != nil {
		<-hang
		defer close(c.done)
	}
	acc.AddGauge("power_vm", map[string]any{"energy_joules": float64(n)}, map[string]string{"domain": "a"}, time.Unix(1, 0))
	return nil
}

func (c *committer) Committed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, "commit "+string(rune('0'+c.n)))
}

// failAfter writes ok times, then fails with err; each write is signalled.
type failAfter struct {
	mu    sync.Mutex
	ok    int
	err   error
	wrote chan struct{}
	block chan struct{} // when set, a write waits for it first
}

func (w *failAfter) Write(b []byte) (int, error) {
	if w.block != nil {
		<-w.block
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	defer func() { w.wrote <- struct{}{} }()
	if w.ok == 0 {
		return 0, w.err
	}
	w.ok--
	return len(b), nil
}

// A gather is committed after its points are written, never before and
// never when the write failed; a broken pipe ends the loop with an error
// that says Telegraf closed it, and the uncommitted gather stays so.
func TestCommittedOnlyOnceWritten(t *testing.T) {
	in := &committer{}
	out := &failAfter{ok: 2, err: &os.PathError{Op: "write", Path: "|1", Err: syscall.EPIPE}, wrote: make(chan struct{}, 10)}
	prompts := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Config{Input: in, Stdin: blockingReader{}, Stdout: out, Log: testutil.Logger{Quiet: true}, Prompts: prompts})
	}()
	for i := 0; i < 3; i++ {
		prompts <- struct{}{}
		<-out.wrote
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end at a broken pipe")
	}
	require.ErrorIs(t, err, syscall.EPIPE)
	require.Contains(t, err.Error(), "Telegraf closed the pipe")
	require.Equal(t, "defer gather 1 commit 1 gather 2 commit 2 gather 3", in.seen())
}

// blockingReader is a stdin that never gives a line nor ends.
type blockingReader struct{}

func (blockingReader) Read([]byte) (int, error) { select {} }

// A stop while a gather runs past the grace: the loop leaves without its
// points, and the gather, when it ends later, neither writes nor commits.
func TestGatherAfterTheLoopLeftIsNotWritten(t *testing.T) {
	in := &committer{hang: make(chan struct{}), done: make(chan struct{})}
	out := &writes{}
	ctx, cancel := context.WithCancel(context.Background())
	prompts := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Input: in, Stdin: blockingReader{}, Stdout: out, Log: testutil.Logger{Quiet: true}, Prompts: prompts, Grace: 20 * time.Millisecond})
	}()
	prompts <- struct{}{}
	require.Eventually(t, func() bool { return in.seen() == "defer gather 1" }, 5*time.Second, time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	close(in.hang)
	<-in.done
	time.Sleep(50 * time.Millisecond) // what the loop would do next
	calls, _ := out.snapshot()
	require.Zero(t, calls, "points written after the loop left")
	require.Equal(t, "defer gather 1", in.seen())
}

// A stop while a gather's points are being written: the write is not cut
// short by the grace (its points may already be with Telegraf), and the
// commit follows it before the loop ends.
func TestStopDuringTheWriteWaitsForItsCommit(t *testing.T) {
	in := &committer{}
	out := &failAfter{ok: 1, wrote: make(chan struct{}, 10), block: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	prompts := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Input: in, Stdin: blockingReader{}, Stdout: out, Log: testutil.Logger{Quiet: true}, Prompts: prompts, Grace: 50 * time.Millisecond})
	}()
	prompts <- struct{}{}
	require.Eventually(t, func() bool { return in.seen() == "defer gather 1" }, 5*time.Second, time.Millisecond)
	cancel()
	time.Sleep(70 * time.Millisecond) // past the grace, within the second
	close(out.block)
	require.NoError(t, <-done)
	require.Equal(t, "defer gather 1 commit 1", in.seen())
}

// An input that is no Committer is gathered and written as before. (One
// prompt: two lines read before the first gather starts are one prompt,
// as a prompt asked for while one waits is.)
func TestPlainInputIsNotCommitted(t *testing.T) {
	out := &writes{}
	err := Run(context.Background(), Config{Input: &input{}, Stdin: strings.NewReader("\n"), Stdout: out, Log: testutil.Logger{Quiet: true}, Grace: 10 * time.Second})
	require.NoError(t, err)
	calls, _ := out.snapshot()
	require.Equal(t, 1, calls)
}

// A write to a pipe whose reader has gone returns EPIPE (with SIGPIPE
// handled) and is said plainly; Run then ends with it.
func TestBrokenPipeIsSaid(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	r.Close()
	defer w.Close()
	in := &committer{}
	err = Run(context.Background(), Config{Input: in, Stdin: strings.NewReader("\n"), Stdout: w, Log: testutil.Logger{Quiet: true}, Grace: 10 * time.Second})
	require.True(t, errors.Is(err, syscall.EPIPE), "got %v", err)
	require.Contains(t, err.Error(), "Telegraf closed the pipe")
	require.Equal(t, "defer gather 1", in.seen())
}

// Run leaves no file open: the duplicate of stdin it reads prompts from
// is closed when it ends.
func TestRunClosesItsStdin(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	pipe, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(r.Fd())))
	require.NoError(t, err)
	// The files open on stdin's pipe: other tests' goroutines may open and
	// close files of their own meanwhile, so all files are not counted.
	onPipe := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		n := 0
		for _, e := range ents {
			if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && l == pipe {
				n++
			}
		}
		return n
	}
	before := onPipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Input: &input{}, Stdin: r, Stdout: io.Discard, Log: testutil.Logger{Quiet: true}})
	}()
	io.WriteString(w, "\n")
	require.Eventually(t, func() bool { return onPipe() > before }, 5*time.Second, time.Millisecond, "Run reads a duplicate of stdin")
	cancel()
	require.NoError(t, <-done)
	require.Equal(t, before, onPipe(), "Run left its duplicate of stdin open")
}
