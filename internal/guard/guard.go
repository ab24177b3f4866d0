// Package guard bounds in time the reads that can hang: a file on a network
// or virtio share whose other side stopped answering blocks open and read in
// the kernel, and no flag makes such a read return. A Guard runs the reads
// of one source in a goroutine of its own and waits for them until a
// deadline; the caller goes on without them when it passes.
//
// A read that timed out keeps its goroutine until the kernel lets it go.
// Until then the Guard refuses new work (ErrBusy) instead of starting more
// goroutines, so a hung mount costs one goroutine, not one per gather.
//
// Reads of procfs, sysfs and cgroup files are made by the kernel from its
// own memory and do not wait on anything outside the machine: a Guard whose
// work reads only those (InMemory) is made Inline, and runs it in the
// caller's goroutine, with no goroutine hand-off and no timer, which cost
// more than such reads.
package guard

import (
	"errors"
	"sync"
	"time"
)

// Errors of Do.
var (
	// ErrTimeout: the work did not finish by the deadline; it goes on in the
	// background and its results must not be used.
	ErrTimeout = errors.New("did not return in time (a hung mount?)")
	// ErrBusy: work that timed out earlier has still not returned.
	// It says the same as ErrTimeout: the condition is one, and its
	// message must not change from gather to gather.
	ErrBusy = errors.New("did not return in time (a hung mount?)")
)

// Guard runs the work of one source, one piece at a time. The zero value
// is ready to use; it starts its goroutine on the first Do.
type Guard struct {
	// Inline runs each Do's work in the caller's goroutine, without a
	// deadline. Set it, before the first Do, only for work that reads
	// files InMemory accepts.
	Inline bool

	mu      sync.Mutex
	busy    bool // f handed over and not yet returned
	waiting bool // Do is waiting for it
	work    chan func()
	done    chan struct{}
	timer   *time.Timer
}

// Do runs f and waits for it until deadline. A zero deadline waits as long
// as f takes. On ErrTimeout, f is still running: the caller must leave alone
// whatever f writes until a later Do succeeds (ErrBusy until then).
func (g *Guard) Do(deadline time.Time, f func()) error {
	if g.Inline {
		f()
		return nil
	}
	g.mu.Lock()
	if g.busy {
		g.mu.Unlock()
		return ErrBusy
	}
	g.busy, g.waiting = true, true
	if g.work == nil {
		g.work = make(chan func())
		g.done = make(chan struct{}, 1)
		go g.run()
	}
	g.mu.Unlock()

	g.work <- f
	if deadline.IsZero() {
		<-g.done
		g.finish()
		return nil
	}
	wait := max(time.Until(deadline), time.Nanosecond)
	if g.timer == nil {
		g.timer = time.NewTimer(wait)
	} else {
		g.timer.Reset(wait)
	}
	select {
	case <-g.done:
		g.timer.Stop()
		g.finish()
		return nil
	case <-g.timer.C:
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.done: // it returned as the timer fired
		g.busy, g.waiting = false, false
		return nil
	default:
		g.waiting = false
		return ErrTimeout
	}
}

func (g *Guard) finish() {
	g.mu.Lock()
	g.busy, g.waiting = false, false
	g.mu.Unlock()
}

// run executes the work handed to it. When nobody waits any more (the
// deadline passed), it frees the guard itself once the late work returns.
func (g *Guard) run() {
	for f := range g.work {
		f()
		g.mu.Lock()
		if g.waiting {
			g.done <- struct{}{}
		} else {
			g.busy = false
		}
		g.mu.Unlock()
	}
}

// Busy reports whether work that timed out is still running.
func (g *Guard) Busy() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.busy
}
