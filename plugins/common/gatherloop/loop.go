// Package gatherloop runs a Telegraf input as an execd process, in place of
// the execd shim: one gather per prompt (a line on stdin, or the signal
// execd is told to send), or per poll interval, and each gather's points in
// one write to stdout. The gather runs in its own goroutine, so the process
// ends promptly when stdin closes or on SIGTERM, whatever a gather is doing.
//
// It does what the shim's input side does, with less: no goroutine hand-off
// and no write per point (profiling showed both cost more CPU than the
// plugin's own work).
package gatherloop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
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

	prompt := make(chan struct{}, 1)
	push := func() {
		select {
		case prompt <- struct{}{}:
		default: // a gather is already asked for
		}
	}
	eof := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(c.Stdin)
		for sc.Scan() {
			push()
		}
		close(eof)
	}()
	var tick <-chan time.Time
	if c.PollInterval > 0 {
		t := time.NewTicker(c.PollInterval)
		defer t.Stop()
		tick = t.C
	}

	w := &worker{cfg: c, acc: NewAccumulator(), done: make(chan error, 1), grace: grace}
	service, _ := c.Input.(telegraf.ServiceInput)
	w.started = service == nil
	if service != nil {
		// Start has an accumulator of its own, not the gathers': this loop
		// writes only what Gather adds, so an input that adds points from
		// goroutines of its own after Start is not for it.
		w.run(func() error {
			if err := service.Start(NewAccumulator()); err != nil {
				return fmt.Errorf("start: %w", err)
			}
			return nil
		})
	}
	for {
		select {
		case <-prompt:
			w.start()
		case <-sigs:
			w.start()
		case <-c.Prompts:
			w.start()
		case <-tick:
			w.start()
		case err := <-w.done:
			if err := w.next(err); err != nil {
				return err
			}
		case <-eof:
			// The last line's prompt was pushed before stdin's end was
			// seen, but select may take the end first.
			taken(prompt, w.start)
			return w.finish(service)
		case <-ctx.Done():
			taken(prompt, w.start)
			return w.finish(service)
		}
	}
}

// taken calls f if a prompt waits in ch.
func taken(ch <-chan struct{}, f func()) {
	select {
	case <-ch:
		f()
	default:
	}
}

type worker struct {
	cfg   Config
	acc   *Accumulator
	said  bounded.Map[string, bool] // why points were left out, said once
	grace time.Duration

	done    chan error
	busy    bool // a job runs: the start or a gather
	pending bool // a gather is prompted and waits for the job under way
	started bool // the start has returned (or there is none): ReadyAt may be read
}

// run hands one job to a goroutine of its own.
func (w *worker) run(job func() error) {
	w.busy = true
	go func() { w.done <- job() }()
}

// start prompts a gather: now, or after the job under way.
func (w *worker) start() {
	if w.busy {
		w.pending = true // one more when this one is done
		return
	}
	w.run(w.gather)
}

// next takes the end of a job and starts the gather prompted meanwhile.
func (w *worker) next(err error) error {
	w.busy, w.started = false, true
	if err != nil {
		return err
	}
	if w.pending {
		w.pending = false
		w.run(w.gather)
	}
	return nil
}

// gather runs one gather and writes its points in one write.
func (w *worker) gather() error {
	w.acc.Reset()
	if err := w.cfg.Input.Gather(w.acc); err != nil {
		w.acc.AddError(err)
	}
	for _, err := range w.acc.Dropped() {
		if msg := err.Error(); !w.saidBefore(msg) {
			w.said.Put(msg, true)
			w.cfg.Log.Errorf("point left out: %s", msg)
		}
	}
	if b := w.acc.Bytes(); len(b) > 0 {
		if _, err := w.cfg.Stdout.Write(b); err != nil {
			return fmt.Errorf("write to stdout: %w", err)
		}
	}
	return nil
}

// finish lets the job under way end and a prompted gather run, within the
// grace (from the input's ReadyAt if that is later), then stops a service
// input. A job still running then is left: its reads hang.
func (w *worker) finish(service telegraf.ServiceInput) error {
	deadline := time.Now().Add(w.grace)
	timer := time.NewTimer(w.grace)
	defer timer.Stop()
	readier, _ := w.cfg.Input.(Readier)
	for w.busy {
		// Once the start has returned, the first gather's grace counts
		// from its ReadyAt.
		if readier != nil && w.started {
			if later := readier.ReadyAt().Add(w.grace); later.After(deadline) {
				deadline = later
				timer.Reset(time.Until(later))
			}
		}
		select {
		case err := <-w.done:
			if err := w.next(err); err != nil {
				return err
			}
		case <-timer.C:
			if w.started {
				w.cfg.Log.Warn("a gather did not end in time; leaving without its points")
			} else {
				w.cfg.Log.Warn("the start (the baseline) did not end in time; leaving without a gather")
			}
			return nil
		}
	}
	if service != nil {
		service.Stop()
	}
	return nil
}

func (w *worker) saidBefore(msg string) bool {
	_, ok := w.said.Get(msg)
	return ok
}
