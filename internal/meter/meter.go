// Package meter turns cumulative energy counters (RAPL zones, a
// hypervisor-provided guest counter) into the energy each CPU package used
// during the interval between two samples.
//
// It decides what a reading means (advance, wrap, reset, implausible jump,
// stale counter) and leaves out whatever it cannot vouch for: a package with
// any doubtful channel gets no value for that interval, never a guess.
package meter

import (
	"time"

	"github.com/greencampus/powerinput/internal/energy"
)

// Reader reads a cumulative energy counter.
type Reader interface {
	Read() (energy.Energy, error)
}

// Kind is what a channel measures within its package.
type Kind int

// Channel kinds.
const (
	Package Kind = iota
	DRAM
)

// Channel is one counter of one package.
type Channel struct {
	Package int
	Kind    Kind
	// Name identifies the channel in messages (its file path).
	Name   string
	Reader Reader
	// Max is where the counter wraps; 0 when unknown (then a counter that
	// goes backwards is a reset).
	Max energy.Energy
	// Ceiling is the highest believable average power; a higher one means
	// the counter was reset or reloaded, and the interval is dropped.
	Ceiling energy.Power
	// Sustained is the highest average power the channel can keep up over
	// a long interval (a package's long-term limit, TDP). With Max it bounds
	// the interval over which one wrap at most can have happened: a longer
	// one is dropped as ambiguous. 0: no such check.
	Sustained energy.Power
	// StaleAfter is how many intervals in a row without any advance make the
	// counter stale (0: never). A stale channel gives no value until it
	// advances again.
	StaleAfter int

	prev      energy.Energy
	primed    bool
	unchanged int
}

// ProblemKind classifies why a channel gave no value.
type ProblemKind int

// Problem kinds.
const (
	// ReadFailed: the counter could not be read (Err says why).
	ReadFailed ProblemKind = iota
	// Reset: the counter went backwards and cannot have wrapped.
	Reset
	// Implausible: the difference implies more than the ceiling (Power).
	Implausible
	// Stale: the counter has not advanced for StaleAfter intervals. Reported
	// once, when it becomes stale.
	Stale
	// ZeroInterval: no time passed since the previous sample.
	ZeroInterval
	// Ambiguous: the interval was long enough for the counter to wrap more
	// than once; its energy cannot be known.
	Ambiguous
)

// Problem is one reason why a sample is incomplete.
type Problem struct {
	Kind    ProblemKind
	Channel string // empty for ZeroInterval
	Err     error
	Power   energy.Power
}

// PackageEnergy is what one package used during the interval.
type PackageEnergy struct {
	Package int
	Energy  energy.Energy // package zone
	DRAM    energy.Energy // DRAM zone, where HasDRAM
	HasDRAM bool
}

// Total is package plus DRAM energy.
func (p PackageEnergy) Total() energy.Energy { return p.Energy + p.DRAM }

// Result of one sample. Its slices are reused by the next call to Sample.
type Result struct {
	// Interval since the previous sample; 0 for the first (baseline) sample.
	Interval time.Duration
	// Packages that have a trustworthy value for the interval.
	Packages []PackageEnergy
	// Complete is true when every package of the meter has a value.
	Complete bool
	Problems []Problem
}

// Total is the energy of every package with a value.
func (r *Result) Total() energy.Energy {
	var t energy.Energy
	for _, p := range r.Packages {
		t += p.Total()
	}
	return t
}

// Meter samples a fixed set of channels.
type Meter struct {
	Channels []Channel
	clock    func() time.Time

	prevAt time.Time
	primed bool

	values []energy.Energy
	errs   []error
	bad    []int // packages without a value this interval
	res    Result
}

// New returns a meter over channels. clock may be nil for time.Now; it is
// read right after the counters, so the interval is that of the readings.
func New(channels []Channel, clock func() time.Time) *Meter {
	if clock == nil {
		clock = time.Now
	}
	return &Meter{
		Channels: channels,
		clock:    clock,
		values:   make([]energy.Energy, len(channels)),
		errs:     make([]error, len(channels)),
	}
}

// Sample reads every channel and returns the energy of each package since
// the previous call. The first call only sets the baseline.
func (m *Meter) Sample() *Result {
	for i := range m.Channels {
		m.values[i], m.errs[i] = m.Channels[i].Reader.Read()
	}
	now := m.clock()

	r := &m.res
	r.Packages = r.Packages[:0]
	r.Problems = r.Problems[:0]
	r.Complete = false
	r.Interval = 0
	m.bad = m.bad[:0]

	if !m.primed {
		m.primed = true
		m.prevAt = now
		for i := range m.Channels {
			c := &m.Channels[i]
			c.primed = m.errs[i] == nil
			c.prev = m.values[i]
			if m.errs[i] != nil {
				r.Problems = append(r.Problems, Problem{Kind: ReadFailed, Channel: c.Name, Err: m.errs[i]})
			}
		}
		return r
	}

	interval := now.Sub(m.prevAt)
	if interval <= 0 {
		// Keep the previous readings: the energy goes into the next interval.
		r.Problems = append(r.Problems, Problem{Kind: ZeroInterval})
		return r
	}
	m.prevAt = now
	r.Interval = interval

	for i := range m.Channels {
		c := &m.Channels[i]
		if m.errs[i] != nil {
			c.primed = false
			m.markBad(c.Package)
			r.Problems = append(r.Problems, Problem{Kind: ReadFailed, Channel: c.Name, Err: m.errs[i]})
			continue
		}
		cur := m.values[i]
		if !c.primed {
			// Readable again after a failure: this reading is the new baseline.
			c.primed, c.prev, c.unchanged = true, cur, 0
			m.markBad(c.Package)
			continue
		}
		d, status := energy.Delta(c.prev, cur, c.Max)
		c.prev = cur
		if c.Max > 0 && c.Sustained > 0 && c.Sustained.Over(interval) >= c.Max {
			c.unchanged = 0
			m.markBad(c.Package)
			r.Problems = append(r.Problems, Problem{Kind: Ambiguous, Channel: c.Name})
			continue
		}
		if status == energy.Reset {
			c.unchanged = 0
			m.markBad(c.Package)
			r.Problems = append(r.Problems, Problem{Kind: Reset, Channel: c.Name})
			continue
		}
		if d == 0 {
			c.unchanged++
			if c.StaleAfter > 0 && c.unchanged >= c.StaleAfter {
				m.markBad(c.Package)
				if c.unchanged == c.StaleAfter {
					r.Problems = append(r.Problems, Problem{Kind: Stale, Channel: c.Name})
				}
				continue
			}
		} else {
			c.unchanged = 0
		}
		if p := energy.Average(d, interval); c.Ceiling > 0 && p > c.Ceiling {
			m.markBad(c.Package)
			r.Problems = append(r.Problems, Problem{Kind: Implausible, Channel: c.Name, Power: p})
			continue
		}
		pe := m.pkg(c.Package)
		switch c.Kind {
		case DRAM:
			pe.DRAM += d
			pe.HasDRAM = true
		default:
			pe.Energy += d
		}
	}

	// Drop packages with a doubtful channel.
	kept := r.Packages[:0]
	for _, p := range r.Packages {
		if !m.isBad(p.Package) {
			kept = append(kept, p)
		}
	}
	r.Packages = kept
	r.Complete = len(m.bad) == 0
	return r
}

// Stale reports whether any channel is currently stale.
func (m *Meter) Stale() bool {
	for i := range m.Channels {
		c := &m.Channels[i]
		if c.StaleAfter > 0 && c.unchanged >= c.StaleAfter {
			return true
		}
	}
	return false
}

func (m *Meter) pkg(id int) *PackageEnergy {
	for i := range m.res.Packages {
		if m.res.Packages[i].Package == id {
			return &m.res.Packages[i]
		}
	}
	m.res.Packages = append(m.res.Packages, PackageEnergy{Package: id})
	return &m.res.Packages[len(m.res.Packages)-1]
}

func (m *Meter) markBad(id int) {
	if !m.isBad(id) {
		m.bad = append(m.bad, id)
	}
}

func (m *Meter) isBad(id int) bool {
	for _, b := range m.bad {
		if b == id {
			return true
		}
	}
	return false
}
