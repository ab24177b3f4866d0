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
	l.in = newPrompts(c.Stdin)
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
	cfg     Config
	service telegraf.ServiceInput
	in      prompts
	acc     *Accumulator
	said    bounded.Map[string, bool] // why points were left out, said once
	grace   time.Duration

	stopping atomic.Bool   // a stop signal came: gather what is prompted, then end
	left     atomic.Bool   // Run has returned: no more gathers
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

// gather runs one gather and writes its points in one write.
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
	if b := l.acc.Bytes(); len(b) > 0 {
		if _, err := l.cfg.Stdout.Write(b); err != nil {
			return fmt.Errorf("write to stdout: %w", err)
		}
	}
	return nil
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
