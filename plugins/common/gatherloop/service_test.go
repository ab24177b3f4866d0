package gatherloop

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"
)

// service is an input like powerinput: Start takes a baseline (taking
// startTook), and the first gather waits until ReadyAt, wait after it.
type service struct {
	startTook, wait time.Duration

	mu      sync.Mutex
	events  []string
	readyAt time.Time
}

func (*service) SampleConfig() string { return "" }

func (s *service) log(e string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

func (s *service) Start(telegraf.Accumulator) error {
	time.Sleep(s.startTook)
	s.readyAt = time.Now().Add(s.wait)
	s.log("start")
	return nil
}

func (s *service) ReadyAt() time.Time { return s.readyAt }

func (s *service) Gather(acc telegraf.Accumulator) error {
	time.Sleep(time.Until(s.readyAt))
	s.log("gather")
	acc.AddGauge("power_host", map[string]any{"power_watts": 1.0}, nil, time.Unix(1, 0))
	return nil
}

func (s *service) Stop() { s.log("stop") }

func (s *service) seen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.events, " ")
}

// telegraf --test, as execd does it: the process starts, one line comes at
// once, and stdin closes right after. The line comes while Start still
// runs, and the gather then waits 300 ms for its first interval, longer
// than the grace: its point is written all the same, and Stop comes last.
func TestPromptThenEOFAtStartIsGathered(t *testing.T) {
	for _, tt := range []struct {
		name      string
		startTook time.Duration
	}{
		{"prompt while starting", 30 * time.Millisecond},
		{"prompt after the start", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := &service{startTook: tt.startTook, wait: 300 * time.Millisecond}
			out := &writes{}
			stdinR, stdinW := io.Pipe()
			done := make(chan error, 1)
			go func() {
				done <- Run(context.Background(), Config{Input: in, Stdin: stdinR, Stdout: out, Log: testutil.Logger{Quiet: true}, Grace: 50 * time.Millisecond})
			}()
			if tt.startTook == 0 {
				time.Sleep(20 * time.Millisecond) // the start has returned
			}
			io.WriteString(stdinW, "\n")
			stdinW.Close()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not end")
			}
			calls, text := out.snapshot()
			require.Equal(t, 1, calls, "one write")
			require.Equal(t, "power_host power_watts=1 1000000000\n", text)
			require.Equal(t, "start gather stop", in.seen())
		})
	}
}

// An input that is not a service input is gathered without a start.
func TestPlainInputIsNotStarted(t *testing.T) {
	in := &input{}
	out := &writes{}
	err := Run(context.Background(), Config{Input: in, Stdin: strings.NewReader("\n"), Stdout: out, Log: testutil.Logger{Quiet: true}, Grace: 10 * time.Second})
	require.NoError(t, err)
	calls, _ := out.snapshot()
	require.Equal(t, 1, calls)
}

// warnings keeps the loop's warnings.
type warnings struct {
	testutil.Logger
	mu  sync.Mutex
	got []string
}

func (w *warnings) Warn(a ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got = append(w.got, fmt.Sprint(a...))
}

// A start still running when stdin closes, past the grace: the loop leaves,
// saying it was the start that did not end, and stops nothing.
func TestSlowStartAtEOFIsNamed(t *testing.T) {
	in := &service{startTook: 300 * time.Millisecond, wait: time.Millisecond}
	log := &warnings{Logger: testutil.Logger{Quiet: true}}
	err := Run(context.Background(), Config{Input: in, Stdin: strings.NewReader("\n"), Stdout: io.Discard, Log: log, Grace: 50 * time.Millisecond})
	require.NoError(t, err)
	log.mu.Lock()
	defer log.mu.Unlock()
	require.Equal(t, []string{"the start (the baseline) did not end in time; leaving without a gather"}, log.got)
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, "start", in.seen(), "no gather and no Stop after the loop left")
}
