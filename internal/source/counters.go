package source

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/meter"
)

// Counters is what the counter sources (rapl, vm) share: a meter over
// their channels, read under a guard so that a hung mount never blocks a
// gather, and the rule for when the source has really stopped.
//
// A passing fault (a torn read, a read that times out once, a zone that
// vanishes and comes back) gives no value for the interval, never a switch
// of source: the source stops only when its counters are stale, or after
// StopAfter samples in a row without any value.
type Counters struct {
	Clock func() time.Time
	// StopAfter is how many samples in a row without any value mean the
	// source has stopped.
	StopAfter int
	// Refresh, when set, runs under the guard before each sample's reads: a
	// source that finds its channels again returns the meter to use.
	Refresh func(old *meter.Meter) *meter.Meter
	// Inline: the channels are files guard.InMemory accepts, read in the
	// caller's goroutine (guard.Guard.Inline). Set before the first Probe.
	Inline bool
	// Resume: when a stale counter moves again, its first sample is judged
	// from where and when it was found stale (meter.Resume): the energy its
	// writer added meanwhile is measured if it fits the time elapsed,
	// instead of becoming a baseline. For a guest's counter, whose host's
	// agent wrote nothing while it was stopped, then goes on from where it
	// stood. Without it (rapl), the move is a new baseline.
	Resume bool
	readFn func() // c.read, made once: a closure per sample would allocate

	g       guard.Guard
	m       *meter.Meter
	probed  bool
	empty   int
	lastErr error
	// staleAt holds, by channel name, the reading at which a channel that
	// cannot be done without was found stale; the source is not taken again
	// until one of them moves.
	staleAt map[string]energy.Energy
	// stopped is the stopped meter's baseline, with Resume.
	stopped meter.Baseline
	res     meter.Result
}

// Discover finds a source's channels and the bound of their total. It runs
// under the guard and may do I/O.
type Discover func() (channels []meter.Channel, hostCeiling energy.Power, err error)

// Probe discovers the channels and reads them once. It fails if a channel
// cannot be read, or if the stale channels have not moved since they were
// found stale. The first Sample after it takes the baseline.
func (c *Counters) Probe(deadline time.Time, discover Discover) error {
	var err error
	c.g.Inline = c.Inline
	gerr := c.g.Do(deadline, func() { err = c.probe(discover) })
	if gerr != nil {
		return gerr
	}
	return err
}

func (c *Counters) probe(discover Discover) error {
	c.close()
	ch, ceiling, err := discover()
	if err != nil {
		return err
	}
	m := meter.New(ch, c.Clock)
	m.HostCeiling = ceiling
	m.Read()
	for _, e := range m.Errs() {
		if e != nil {
			m.Close()
			return e
		}
	}
	if c.staleAt != nil {
		moved := false
		for i, v := range m.Values() {
			if at, ok := c.staleAt[m.Channels[i].Name]; ok && at != v {
				moved = true
			}
		}
		if !moved {
			m.Close()
			return ErrStale
		}
	}
	if c.staleAt != nil && c.Resume {
		m.Resume(c.stopped)
	}
	c.staleAt, c.stopped = nil, meter.Baseline{}
	c.m, c.probed, c.empty, c.lastErr = m, true, 0, nil
	return nil
}

// read runs under the guard: Refresh, then the channels' reads.
func (c *Counters) read() {
	if c.Refresh != nil {
		c.m = c.Refresh(c.m)
	}
	c.m.Read()
}

// Sample reads the channels under the guard (Refresh first, if set) and
// judges the readings. It returns an error when the source has stopped.
func (c *Counters) Sample(deadline time.Time) (*meter.Result, error) {
	if !c.probed {
		return nil, ErrNotProbed
	}
	if c.readFn == nil {
		c.readFn = c.read
	}
	gerr := c.g.Do(deadline, c.readFn)
	var r *meter.Result
	if gerr != nil {
		// The reads did not return: no value, the baseline stays, and the
		// next sample that reads covers this interval too.
		r = &c.res
		r.Parts, r.Problems, r.Complete, r.Interval = r.Parts[:0], r.Problems[:0], false, 0
		r.Held = true
		r.Problems = append(r.Problems, meter.Problem{Kind: meter.ReadFailed, Channel: "the counters", Err: gerr, Held: true})
	} else {
		r = c.m.Update()
	}
	// Only a source that cannot be read counts toward stopping: one whose
	// counters are read but judged doubtful (a reset) is alive.
	gone := false
	for _, p := range r.Problems {
		if p.Kind == meter.ReadFailed && p.Err != nil {
			gone, c.lastErr = true, p.Err
		}
	}
	switch {
	case len(r.Parts) > 0 || !gone:
		c.empty = 0
	default:
		c.empty++
	}
	if gerr == nil && c.m.StaleRequired() {
		c.staleAt = map[string]energy.Energy{}
		for i := range c.m.Channels {
			ch := &c.m.Channels[i]
			if ch.Stale() {
				c.staleAt[ch.Name], _ = ch.Value()
			}
		}
		if c.Resume {
			c.stopped, _ = c.m.Baseline()
		}
		c.stop()
		return r, ErrStale
	}
	if c.empty >= max(c.StopAfter, 2) {
		err := c.lastErr
		if err == nil {
			err = errors.New("no value")
		}
		c.stop()
		return r, fmt.Errorf("no value for %d intervals: %w", c.empty, err)
	}
	return r, nil
}

// Meter is the current meter; nil before a probe. Only for reading its
// channels while no sample runs.
func (c *Counters) Meter() *meter.Meter {
	if !c.probed {
		return nil
	}
	return c.m
}

// stop ends the current meter; the next Probe starts afresh.
func (c *Counters) stop() {
	c.probed = false
	// Close under the guard: a read that timed out may still use the files.
	c.g.Do(time.Now().Add(100*time.Millisecond), c.close)
}

// Close releases the counters' files.
func (c *Counters) Close() { c.stop() }

func (c *Counters) close() {
	if c.m != nil {
		c.m.Close()
		c.m = nil
	}
}

// DescribeChannels lists a meter's packages (and dies) and DRAM channels
// with their TDPs, for -doctor.
func DescribeChannels(m *meter.Meter, tdp func(meter.Key) energy.Power) string {
	if m == nil {
		return "not probed"
	}
	var pkgs, tdps []string
	dram := 0
	for _, c := range m.Channels {
		if c.Key.Domain == meter.DRAM {
			dram++
			continue
		}
		name := strconv.Itoa(c.Key.ID)
		if c.Key.Die != meter.NoDie {
			name += "/die" + strconv.Itoa(c.Key.Die)
		}
		pkgs = append(pkgs, name)
		if t := tdp(c.Key); t > 0 {
			tdps = append(tdps, fmt.Sprintf("%s: %g W", name, t.Watts()))
		}
	}
	out := fmt.Sprintf("%d package(s) [%s], %d DRAM zone(s)", len(pkgs), strings.Join(pkgs, " "), dram)
	if len(tdps) > 0 {
		return out + ", TDP " + strings.Join(tdps, ", ")
	}
	return out + ", TDP unknown"
}
