// Package gatherloop runs a Telegraf input as an execd process, in place of
// the execd shim: one gather per prompt (a line on stdin, or the signal
// execd is told to send), or per poll interval, and each gather's points in
// one write to stdout.
//
// A gather wakes the process once: one goroutine waits for stdin through
// the runtime's poller, gathers and writes, and waits again. No other
// goroutine or timer takes part in the common case, so the Go runtime has
// no thread to wake and no hand-off to make (profiling showed those, not
// the plugin's reads, to be most of a gather's CPU). The process still ends
// promptly when stdin closes or on SIGTERM, whatever a gather is doing: Run
// watches for both from a goroutine that sleeps until then.
package gatherloop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/bounded"
)

// Config of a loop.
type Config struct {
	Input  telegraf.Input
	Stdin  io.Reader
	Stdout io.Writer
	Log    telegraf.Logger
	// PollInterval gathers on a timer too; 0 gathers only when prompted.
	PollInterval time.Duration
	// Grace is how long an ending loop waits for a gather under way to
	// write its points; 0 means 500 ms.
	Grace time.Duration
	// Prompts are extra prompts (tests); signals are read by Run itself.
	Prompts <-chan struct{}
}

// Readier is an input whose first gather waits until a time after its
// Start (powerinput's, so that its first interval is long enough to be
// exact). An ending loop gives such a gather its grace from then.
type Readier interface {
	// ReadyAt is fixed once Start has returned.
	ReadyAt() time.Time
}

// Committer is an input whose gathers have effects outside the process
// that must follow their points only once these are written: powerinput's
// guest counters, which must advance by the energy of the power_vm rows
// Telegraf received, never by that of rows that were lost.
//
// The loop calls CommitAfterWrite once, before Start, then Committed after
// each gather whose points all went to stdout (or that had none). A gather
// whose write failed, or that the loop left at a stop, is never committed:
// the input drops its effects at its next Gather, as the points went
// nowhere. An input never told CommitAfterWrite (another runner: tests,
// Telegraf itself) commits at the end of each Gather.
type Committer interface {
	CommitAfterWrite()
	Committed()
}

// Run gathers until stdin closes, ctx ends, or SIGTERM or SIGINT comes.
// SIGHUP, SIGUSR1 and SIGUSR2, the signals execd can send, each prompt a
// gather. A service input (telegraf.ServiceInput) is started first, as
// Telegraf starts one after Init, and stopped at the end; prompts that come
// while it starts wait for it. When stdin closes or a stop signal comes, a
// gather under way, and one already prompted, write their points if they
// can within the grace.
func Run(ctx context.Context, c Config) error {
	grace := c.Grace
	if grace <= 0 {
		grace = 500 * time.Millisecond
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	var tick <-chan time.Time
	if c.PollInterval > 0 {
		t := time.NewTicker(c.PollInterval)
		defer t.Stop()
		tick = t.C
	}

	l := &loop{cfg: c, acc: NewAccumulator(), grace: grace,
		started: make(chan struct{}), drained: make(chan struct{})}
	l.service, _ = c.Input.(telegraf.ServiceInput)
	if l.committer, _ = c.Input.(Committer); l.committer != nil {
		l.committer.CommitAfterWrite()
	}
	// A write to a stdout whose reader has gone returns EPIPE instead of
	// killing the process without a word (Go's default for fd 1 and 2),
	// so that the loop can say why it ends, and commit nothing.
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE)
	defer signal.Stop(pipe)
	l.in = newPrompts(c.Stdin)
	defer l.in.close()
	go l.serve()
	for {
		select {
		case <-sigs:
			l.in.poke()
		case <-c.Prompts:
			l.in.poke()
		case <-tick:
			l.in.poke()
		case <-l.drained: // stdin's end (every prompt before it gathered), or a failure
			return l.finish()
		case <-l.in.ended():
			return l.finish()
		case <-ctx.Done():
			l.stopping.Store(true)
			l.in.wake()
			return l.finish()
		}
	}
}

// loop is the state Run and its gathering goroutine share.
type loop struct {
	cfg       Config
	service   telegraf.ServiceInput
	committer Committer // nil: the input commits as it gathers
	in        prompts
	acc       *Accumulator
	said      bounded.Map[string, bool] // why points were left out, said once
	grace     time.Duration

	stopping atomic.Bool   // a stop signal came: gather what is prompted, then end
	left     atomic.Bool   // Run has returned: no more gathers, no more writes
	writing  atomic.Bool   // a gather's points are being written, then committed
	started  chan struct{} // closed when the start has returned (or there is none)
	drained  chan struct{} // closed when serve has returned
	err      error         // why serve returned: the start or a write failed (read after drained)
}

// serve starts a service input, then gathers once per prompt until stdin
// ends or a stop comes. It is the only goroutine that calls the input.
func (l *loop) serve() {
	defer close(l.drained)
	if l.service != nil {
		// Start has an accumulator of its own, not the gathers': this loop
		// writes only what Gather adds, so an input that adds points from
		// goroutines of its own after Start is not for it.
		err := l.service.Start(NewAccumulator())
		close(l.started)
		if err != nil {
			l.err = fmt.Errorf("start: %w", err)
			return
		}
	} else {
		close(l.started)
	}
	for {
		prompted, more := l.in.next()
		if l.stopping.Load() {
			// A prompt already written still gets its gather.
			prompted = prompted || l.in.pending()
			more = false
		}
		if l.left.Load() {
			return
		}
		if prompted {
			if l.err = l.gather(); l.err != nil {
				return
			}
		}
		if !more {
			return
		}
	}
}

// gather runs one gather, writes its points in one write, and commits it
// once they are written. A gather that ends after Run has left (its grace
// is over) writes and commits nothing: the loop said it left without it.
func (l *loop) gather() error {
	l.acc.Reset()
	if err := l.cfg.Input.Gather(l.acc); err != nil {
		l.acc.AddError(err)
	}
	for _, err := range l.acc.Dropped() {
		if msg := err.Error(); !l.saidBefore(msg) {
			l.said.Put(msg, true)
			l.cfg.Log.Errorf("point left out: %s", msg)
		}
	}
	// writing is set before left is looked at, and finish sets left
	// before it looks at writing: either this gather sees that the loop
	// has left, or the loop sees the write and waits for it.
	l.writing.Store(true)
	defer l.writing.Store(false)
	if l.left.Load() {
		return nil
	}
	if b := l.acc.Bytes(); len(b) > 0 {
		if _, err := l.cfg.Stdout.Write(b); err != nil {
			return writeError(err)
		}
	}
	if l.committer != nil {
		l.committer.Committed()
	}
	return nil
}

// writeError says why stdout could not be written, plainly when its
// reader has gone.
func writeError(err error) error {
	if errors.Is(err, syscall.EPIPE) {
		return fmt.Errorf("write to stdout: Telegraf closed the pipe this plugin writes its points to (it stopped or restarted the plugin): this gather's points are lost, and nothing is counted for them: %w", err)
	}
	return fmt.Errorf("write to stdout: this gather's points are lost, and nothing is counted for them: %w", err)
}

// finish lets the gathers prompted before the end run, within the grace
// (from the input's ReadyAt if that is later), then stops a service
// input. A gather still running then is left: its reads hang.
func (l *loop) finish() error {
	defer l.left.Store(true)
	deadline := time.Now().Add(l.grace)
	timer := time.NewTimer(l.grace)
	defer timer.Stop()
	started := l.started
	readier, _ := l.cfg.Input.(Readier)
	for {
		select {
		case <-started:
			// Once the start has returned, the first gather's grace
			// counts from its ReadyAt.
			started = nil
			if readier != nil {
				if later := readier.ReadyAt().Add(l.grace); later.After(deadline) {
					deadline = later
					timer.Reset(time.Until(later))
				}
			}
			continue
		case <-l.drained:
		case <-timer.C:
			l.left.Store(true) // before looking at writing: see gather
			if l.writing.Load() {
				// Its points are going out: let their write and the
				// commit after it end (the input bounds its own), for
				// one grace more at most.
				select {
				case <-l.drained:
					return l.end()
				case <-time.After(l.grace):
					l.cfg.Log.Warn("a gather's write to stdout, or what follows it, did not end in time; leaving")
					return nil
				}
			}
			select {
			case <-l.started:
				l.cfg.Log.Warn("a gather did not end in time; leaving without its points")
			default:
				l.cfg.Log.Warn("the start (the baseline) did not end in time; leaving without a gather")
			}
			return nil
		}
		break
	}
	return l.end()
}

// end is the end of a loop whose gathers are over: why serve stopped, if
// it failed, else the input stopped.
func (l *loop) end() error {
	if l.err != nil {
		return l.err
	}
	if l.service != nil {
		l.service.Stop()
	}
	return nil
}

func (l *loop) saidBefore(msg string) bool {
	_, ok := l.said.Get(msg)
	return ok
}
