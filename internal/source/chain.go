package source

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/say"
)

// Chain uses the first source, in an order of preference, that works now.
// Sources before the current one are probed again, so a permission fixed
// or a guest mount that appears is picked up; a switch starts from a new
// baseline, so it never produces a spike. A source that failed its probe
// is probed again after a wait that doubles from ProbeWait to
// MaxProbeWait, not at every sample: an absent source would otherwise
// cost more than the one in use.
type Chain struct {
	Sources []Source
	// Clock tells when a source is due to be probed again; time.Now
	// unless set (the plugin's clock, so that its scenarios step time).
	Clock   func() time.Time
	say     say.Func
	timeout time.Duration   // for each source's reads
	current int             // index in Sources; -1 when none works
	problem *say.Conditions // the counters' conditions
	retry   []backoff       // by index in Sources
}

// Waits between the probes of a source that failed its last.
const (
	ProbeWait    = time.Second
	MaxProbeWait = 10 * time.Second
)

// backoff is when a source that failed its probe is probed again.
type backoff struct {
	at   time.Time
	wait time.Duration
}

// NewChain returns a chain over sources and probes them in order, so the
// log says at start where power will come from. Each probe and sample of a
// source may take timeout (0: as long as it takes), its own: a source that
// hangs does not eat the time of the next.
func NewChain(sources []Source, tell say.Func, timeout time.Duration) *Chain {
	c := &Chain{Sources: sources, Clock: time.Now, say: tell, timeout: timeout, current: -1,
		retry: make([]backoff, len(sources))}
	c.problem = say.NewConditions(tell)
	for i := range sources {
		ok := c.tryProbe(i)
		// The first sample probes again, on the Clock set by then.
		c.retry[i].at = time.Time{}
		if ok {
			c.use(i)
			return c
		}
	}
	c.say("using", say.Error, noSource)
	return c
}

const noSource = "no power source works; powerinput writes no power until one does (run powerinput -doctor)"

// Reading is one sample with the source it came from.
type Reading struct {
	Source Source
	Result *meter.Result
}

// Deadline is the deadline of a source's reads that start now.
func (c *Chain) Deadline() time.Time {
	if c.timeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(c.timeout)
}

// Sample returns the current source's sample, after trying the ones before
// it. ok is false when no source works.
func (c *Chain) Sample() (Reading, bool) {
	for i, s := range c.Sources {
		if i != c.current {
			if c.current >= 0 && i > c.current {
				break
			}
			// Before a source that works, one that failed is probed
			// again when its wait is over; with none working, each
			// is tried.
			if c.current >= 0 && c.Clock().Before(c.retry[i].at) {
				continue
			}
			if !c.tryProbe(i) {
				continue
			}
			if c.current >= 0 {
				c.Sources[c.current].Close()
			}
			c.use(i)
		}
		r, err := s.Sample(c.Deadline())
		if err != nil {
			c.unavailable(s, err)
			c.current = -1
			continue
		}
		c.problems(r)
		return Reading{Source: s, Result: r}, true
	}
	c.say("using", say.Error, noSource)
	return Reading{}, false
}

// Current is the source in use, nil when none works.
func (c *Chain) Current() Source {
	if c.current < 0 {
		return nil
	}
	return c.Sources[c.current]
}

// Close closes every source.
func (c *Chain) Close() {
	for _, s := range c.Sources {
		s.Close()
	}
}

// tryProbe probes source i, and sets when it is probed again if it fails.
func (c *Chain) tryProbe(i int) bool {
	s := c.Sources[i]
	r := &c.retry[i]
	if err := s.Probe(c.Deadline()); err != nil {
		c.unavailable(s, err)
		r.wait = min(max(2*r.wait, ProbeWait), MaxProbeWait)
		r.at = c.Clock().Add(r.wait)
		return false
	}
	*r = backoff{}
	c.say("source:"+s.Name(), say.Info, "")
	return true
}

func (c *Chain) use(i int) {
	c.current = i
	s := c.Sources[i]
	msg := "power source now: " + s.Name()
	if m := s.Model(); m != "" {
		msg += " (estimate: " + m + " model)"
	}
	c.say("using", say.Info, msg)
}

// unavailable says, once per condition, why a source does not work.
func (c *Chain) unavailable(s Source, err error) {
	level, msg := Unavailable(s, err)
	c.say("source:"+s.Name(), level, msg)
}

// Unavailable is the message for a source that does not work: why, and
// the fix; an error when a permission is missing, else a warning.
func Unavailable(s Source, err error) (say.Level, string) {
	why, fix := s.Explain(err)
	level := say.Warn
	if errors.Is(err, fs.ErrPermission) {
		level = say.Error
	}
	return level, fmt.Sprintf("source %s unavailable: %s; fix: %s", s.Name(), why, fix)
}

// problems says what went wrong with an interval's counters: once per
// channel and condition, and again only after that channel has had an
// interval without a problem, so a counter that misbehaves at every
// sample is no log storm, and one that recovers and fails again is heard.
func (c *Chain) problems(r *meter.Result) {
	for _, p := range r.Problems {
		level, msg := p.Message()
		if p.Kind == meter.Implausible && p.Share {
			// Its message carries the value: said when it comes.
			c.problem.SayNew("problem:"+p.Channel+":implausible", level, msg)
			continue
		}
		c.problem.Say("problem:"+p.Channel, level, msg)
	}
	c.problem.End()
}
