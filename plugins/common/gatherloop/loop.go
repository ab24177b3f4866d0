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

// Run gathers until stdin closes, ctx ends, or SIGTERM or SIGINT comes.
// SIGHUP, SIGUSR1 and SIGUSR2, the signals execd can send, each prompt a
// gather.
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

	w := &worker{cfg: c, acc: NewAccumulator()}
	done := make(chan error, 1)
	busy := false
	pending := false
	start := func() {
		if busy {
			pending = true // one more when this one is done
			return
		}
		busy = true
		go func() { done <- w.gather() }()
	}
	for {
		select {
		case <-prompt:
			start()
		case <-sigs:
			start()
		case <-c.Prompts:
			start()
		case <-tick:
			start()
		case err := <-done:
			busy = false
			if err != nil {
				return err
			}
			if pending {
				pending = false
				start()
			}
		case <-eof:
			return w.finish(busy, done, grace)
		case <-ctx.Done():
			return w.finish(busy, done, grace)
		}
	}
}

type worker struct {
	cfg  Config
	acc  *Accumulator
	said bounded.Map[string, bool] // why points were left out, said once
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

// finish lets a gather under way write its points, for at most grace.
func (w *worker) finish(busy bool, done <-chan error, grace time.Duration) error {
	if !busy {
		return nil
	}
	select {
	case err := <-done:
		return err
	case <-time.After(grace):
		w.cfg.Log.Warn("a gather did not end in time; leaving without its points")
		return nil
	}
}

func (w *worker) saidBefore(msg string) bool {
	_, ok := w.said.Get(msg)
	return ok
}
