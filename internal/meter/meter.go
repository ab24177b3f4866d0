// Package meter turns cumulative energy counters (RAPL zones, a counter a
// hypervisor gives its guest, hwmon energy sensors) into the energy each
// part of a machine used between two samples.
//
// Judge holds the rules for one channel (wrap, reset, ceiling, ambiguous
// interval) as a pure function. Meter applies them to a set of channels in
// lock-step: every part it reports covers the same interval, so parts add
// up to a host total. A sample is either measured exactly, held (a read
// failed for a moment, or a counter has not moved yet: the interval's
// energy shows in the next sample, over the longer interval), or left out
// for the channels that cannot be vouched for. Never a guess.
package meter

import (
	"errors"
	"io/fs"
	"syscall"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/kfile"
)

// Reader reads a cumulative energy counter.
type Reader interface {
	Read() (energy.Energy, error)
}

// Identity identifies a counter apart from its value: a hypervisor's
// writer gives each counter it makes a random one (guestcounter's
// counter_id), so that a guest tells a counter made anew, or another
// host's counter (a migration), from energy. The zero Identity is
// unknown.
type Identity [16]byte

// Identified is a Reader that knows the identity of the counter its last
// Read read; the zero Identity when it does not (no such file: an older
// writer).
type Identified interface {
	Identity() Identity
}

// Channel is one counter.
type Channel struct {
	Key Key
	// Name identifies the channel in messages (its file path).
	Name   string
	Reader Reader
	Limits Limits
	// StaleAfter is how many intervals in a row without any advance make
	// the counter stale. Until then an unchanged counter holds the sample;
	// a stale channel gives no value until it moves again. 0: an unchanged
	// counter is measured as 0 J at once.
	StaleAfter int

	prev      energy.Energy
	primed    bool
	unchanged int // intervals in a row without advance
	failed    int // samples in a row held by a failed read
	stale     bool
	// id is the identity of the counter prev was read from; the last known
	// one when later reads did not know it. Zero: unknown.
	id Identity
}

// Stale reports whether the channel is stale.
func (c *Channel) Stale() bool { return c.stale }

// Value is the channel's last reading that the meter took as a baseline.
func (c *Channel) Value() (energy.Energy, bool) { return c.prev, c.primed }

// required: a device has no value without this channel (a package without
// its package counter); DRAM may be left out.
func (c *Channel) required() bool { return c.Key.Domain != DRAM }

// holdLimit is how many samples in a row a transient read failure may hold
// before the channel is taken as failed: at least two, so one torn read is
// always held.
func (c *Channel) holdLimit() int { return max(c.StaleAfter, 2) }

// Further verdicts, of a sample rather than of a counter's move.
const (
	// ReadFailed: the counter could not be read (Problem.Err says why).
	// With Problem.Held, the failure looked transient and the sample was
	// held.
	ReadFailed Verdict = iota + Ambiguous + 1
	// Stale: the counter has not advanced for StaleAfter intervals.
	// Reported once, when it becomes stale.
	Stale
	// ZeroInterval: no time passed since the previous sample.
	ZeroInterval
	// Missing: a device measured before has no counter any more (its zone
	// went away); Channel names the device.
	Missing
	// Moved: the counter's identity changed (Reader is Identified): it is
	// another counter, made anew or another hypervisor's, whatever its
	// value says. The interval is left out; the reading is the baseline.
	Moved
)

// Problem is one reason why a sample is incomplete or held.
type Problem struct {
	Kind Verdict // never Measured or Unchanged
	// Channel is the channel's name; "host total" for an Implausible sum
	// of the parts; empty for ZeroInterval.
	Channel string
	Err     error
	Power   energy.Power // the power implied, for Implausible
	// Ceiling is the ceiling an Implausible value passed: the message
	// names it, not the value, which changes at every interval (a share's
	// names both: it is said once, when it comes; see Share).
	Ceiling energy.Power
	// Interval over which an Implausible value was judged.
	Interval time.Duration
	// Share: the channel is a guest's share of a hypervisor's energy
	// (Limits.Share).
	Share bool
	Held  bool
}

// Result of one sample. Its slices are reused by the next one.
type Result struct {
	// Interval the parts cover; 0 for the baseline and for a held sample.
	Interval time.Duration
	// Parts with a trustworthy value for the interval, in channel order.
	Parts []Part
	// Complete: every device of the meter has a value and the total is
	// believable, so the parts add up to the host total.
	Complete bool
	// Held: nothing was taken; the interval's energy goes into the next.
	Held     bool
	Problems []Problem
}

// Total is the energy of the additive parts.
func (r *Result) Total() energy.Energy {
	var t energy.Energy
	for _, p := range r.Parts {
		if p.Key.Domain.Additive() {
			t += p.Energy
		}
	}
	return t
}

// Meter samples a fixed set of channels.
type Meter struct {
	Channels []Channel
	// HostCeiling bounds the average of the additive parts together; 0:
	// no bound.
	HostCeiling energy.Power

	clock  func() time.Time
	at     time.Time // time of the baseline
	primed bool

	values []energy.Energy
	ids    []Identity // of the counters read, by channel
	errs   []error
	readAt time.Time
	bad    []Key // devices without a value this interval
	// partial: a part that the host total needs has no value this interval
	// (a DRAM counter that failed), though its device has.
	partial bool
	res     Result
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
		ids:      make([]Identity, len(channels)),
		errs:     make([]error, len(channels)),
	}
}

// retries of a read that looks torn: empty or garbled (a writer that
// truncates, then writes), or below the previous value.
var retryPauses = [...]time.Duration{time.Millisecond, 3 * time.Millisecond}

// Read reads every channel. It is the only part of a sample that does I/O,
// so a caller can bound it in time (package guard) and call Update only
// when it returned. A read that looks torn is tried again.
func (m *Meter) Read() {
	for i := range m.Channels {
		c := &m.Channels[i]
		v, err := c.Reader.Read()
		for _, pause := range retryPauses {
			if !(err != nil && Transient(err)) && !(err == nil && c.primed && v < c.prev) {
				break
			}
			time.Sleep(pause)
			v, err = c.Reader.Read()
		}
		m.values[i], m.errs[i] = v, err
		m.ids[i] = Identity{}
		if r, ok := c.Reader.(Identified); ok && err == nil {
			m.ids[i] = r.Identity()
		}
	}
	m.readAt = m.clock()
}

// Transient reports whether a read error may go away by itself: a torn or
// garbled value, a read that timed out. A missing or unreadable file, or one
// that is not a regular file, is not transient.
func Transient(err error) bool {
	return !(errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) ||
		errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.ENXIO) || errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, kfile.ErrNotRegular) || errors.Is(err, kfile.ErrSymlink))
}

// Sample reads every channel and updates the meter: Read, then Update.
func (m *Meter) Sample() *Result {
	m.Read()
	return m.Update()
}

// Fail records that the reads of this sample could not be made at all (err:
// they timed out); it counts as a transient failure of every channel.
func (m *Meter) Fail(err error) *Result {
	for i := range m.errs {
		m.errs[i] = err
	}
	m.readAt = m.clock()
	return m.Update()
}

// Update judges the readings of the last Read against the baseline.
func (m *Meter) Update() *Result {
	now := m.readAt
	r := &m.res
	r.Parts, r.Problems, r.Complete, r.Held, r.Interval = r.Parts[:0], r.Problems[:0], false, false, 0
	m.bad, m.partial = m.bad[:0], false

	if !m.primed {
		m.primed, m.at = true, now
		for i := range m.Channels {
			c := &m.Channels[i]
			if m.errs[i] != nil {
				c.primed = false
				r.Problems = append(r.Problems, Problem{Kind: ReadFailed, Channel: c.Name, Err: m.errs[i]})
				continue
			}
			c.prime(m.values[i])
			c.know(m.ids[i])
		}
		return r
	}
	interval := now.Sub(m.at)
	if interval <= 0 {
		r.Held = true
		r.Problems = append(r.Problems, Problem{Kind: ZeroInterval})
		return r
	}
	if m.hold() {
		r.Held = true
		for i := range m.Channels {
			c := &m.Channels[i]
			if !c.primed || c.stale {
				continue
			}
			if err := m.errs[i]; err != nil {
				c.failed++
				r.Problems = append(r.Problems, Problem{Kind: ReadFailed, Channel: c.Name, Err: err, Held: true})
			} else if m.values[i] == c.prev {
				c.unchanged++
			}
		}
		return r
	}

	r.Interval = interval
	m.at = now
	for i := range m.Channels {
		m.take(i, interval)
	}
	// Drop the parts of devices with a doubtful channel.
	kept := r.Parts[:0]
	for _, p := range r.Parts {
		if !m.isBad(p.Key.Device()) {
			kept = append(kept, p)
		}
	}
	r.Parts = kept
	r.Complete = len(m.bad) == 0 && !m.partial
	if r.Complete && m.HostCeiling > 0 {
		if p := energy.Average(r.Total(), interval); p > m.HostCeiling {
			r.Complete = false
			r.Problems = append(r.Problems, Problem{Kind: Implausible, Channel: "host total", Power: p, Ceiling: m.HostCeiling})
		}
	}
	return r
}

// hold says whether this sample must wait: a channel's read failed in a way
// that may go away, or a counter has not moved yet and may still.
func (m *Meter) hold() bool {
	for i := range m.Channels {
		c := &m.Channels[i]
		if !c.primed || c.stale {
			continue
		}
		if err := m.errs[i]; err != nil {
			if Transient(err) && c.failed+1 < c.holdLimit() {
				return true
			}
			continue
		}
		if c.StaleAfter > 0 && m.values[i] == c.prev && c.unchanged+1 < c.StaleAfter {
			return true
		}
	}
	return false
}

// take judges channel i over the interval and adds its part. A channel
// without a value for the interval takes its device's value with it if the
// device cannot do without it (a package's own counter); a DRAM counter
// leaves only itself out, and the host total incomplete.
func (m *Meter) take(i int, interval time.Duration) {
	c := &m.Channels[i]
	r := &m.res
	v, err := m.values[i], m.errs[i]
	switch {
	case err != nil:
		c.primed, c.failed, c.unchanged = false, 0, 0
		m.lose(c)
		r.Problems = append(r.Problems, Problem{Kind: ReadFailed, Channel: c.Name, Err: err})
		return
	case !c.primed:
		// Readable again after a failure: this reading is the new baseline.
		c.prime(v)
		c.know(m.ids[i])
		m.lose(c)
		return
	case c.stale:
		if v == c.prev && !c.other(m.ids[i]) {
			if c.required() {
				m.markBad(c.Key.Device())
			}
			return // left out until it moves; a stale DRAM counter is not a part
		}
		c.prime(v) // it moves again: a new baseline
		c.know(m.ids[i])
		m.lose(c)
		return
	case c.other(m.ids[i]):
		// Another counter, whatever its value: a move within the bound
		// would otherwise be taken for energy.
		c.prime(v)
		c.know(m.ids[i])
		m.lose(c)
		r.Problems = append(r.Problems, Problem{Kind: Moved, Channel: c.Name, Share: c.Limits.Share})
		return
	}
	prev := c.prev
	c.know(m.ids[i])
	e, verdict, p := Judge(prev, v, interval, c.Limits)
	// Whatever the verdict, this reading is the next baseline: a value left
	// out is one interval without a value, never the end of measurement.
	c.prev, c.failed = v, 0
	switch verdict {
	case Measured:
		c.unchanged = 0
		r.Parts = append(r.Parts, Part{Key: c.Key, Energy: e})
	case Unchanged:
		if c.StaleAfter == 0 {
			r.Parts = append(r.Parts, Part{Key: c.Key})
			return
		}
		c.unchanged++
		c.stale = true
		r.Problems = append(r.Problems, Problem{Kind: Stale, Channel: c.Name})
		if c.required() {
			m.markBad(c.Key.Device())
		}
	default:
		c.unchanged = 0
		m.lose(c)
		if verdict == Implausible && c.Limits.Share && v < prev {
			// A share that went backwards is a move to another
			// hypervisor or a counter reset, not a wrap too fast.
			verdict = Reset
		}
		r.Problems = append(r.Problems, Problem{Kind: verdict, Channel: c.Name, Power: p, Ceiling: c.Limits.Ceiling,
			Interval: interval, Share: c.Limits.Share})
	}
}

// lose: channel c has no value for this interval.
func (m *Meter) lose(c *Channel) {
	if c.required() {
		m.markBad(c.Key.Device())
	} else {
		m.partial = true
	}
}

func (c *Channel) prime(v energy.Energy) {
	c.prev, c.primed, c.unchanged, c.failed, c.stale = v, true, 0, 0, false
}

// know takes id as the counter's identity, when it is known: an unknown
// one (the file missing for a read) keeps the last known.
func (c *Channel) know(id Identity) {
	if id != (Identity{}) {
		c.id = id
	}
}

// other says whether id is known and another than the counter's known one.
func (c *Channel) other(id Identity) bool {
	return id != (Identity{}) && c.id != (Identity{}) && id != c.id
}

// StaleRequired reports whether a channel that a device cannot do without
// is stale.
func (m *Meter) StaleRequired() bool {
	for i := range m.Channels {
		if m.Channels[i].stale && m.Channels[i].required() {
			return true
		}
	}
	return false
}

func (m *Meter) markBad(k Key) {
	if !m.isBad(k) {
		m.bad = append(m.bad, k)
	}
}

func (m *Meter) isBad(k Key) bool {
	for _, b := range m.bad {
		if b == k {
			return true
		}
	}
	return false
}

// Adopt carries over from old, the meter this one replaces (the zones were
// found again), the baseline of every channel of the same name, with its
// open reader, so a rediscovery loses nothing of what did not change. It
// closes the readers of old channels that are gone.
func (m *Meter) Adopt(old *Meter) {
	if old == nil {
		return
	}
	used := make([]bool, len(old.Channels))
	for i := range m.Channels {
		c := &m.Channels[i]
		for j := range old.Channels {
			o := &old.Channels[j]
			if used[j] || o.Name != c.Name || o.Key != c.Key {
				continue
			}
			used[j] = true
			closeReader(c.Reader)
			c.Reader = o.Reader
			c.prev, c.primed, c.unchanged, c.failed, c.stale, c.id = o.prev, o.primed, o.unchanged, o.failed, o.stale, o.id
			break
		}
	}
	for j := range old.Channels {
		if !used[j] {
			closeReader(old.Channels[j].Reader)
		}
	}
	m.at, m.primed = old.at, old.primed
	old.Channels = nil
}

// Baseline is where a meter's channels stood: the last reading of each
// channel that had one, by name, and when they were read.
type Baseline struct {
	At     time.Time
	Values map[string]energy.Energy
	// IDs are the identities of the counters read, where known.
	IDs map[string]Identity
}

// Baseline returns the meter's baseline; ok is false before the first
// sample.
func (m *Meter) Baseline() (b Baseline, ok bool) {
	if !m.primed {
		return Baseline{}, false
	}
	b = Baseline{At: m.at, Values: make(map[string]energy.Energy, len(m.Channels))}
	for i := range m.Channels {
		if c := &m.Channels[i]; c.primed {
			b.Values[c.Name] = c.prev
			if c.id != (Identity{}) {
				if b.IDs == nil {
					b.IDs = map[string]Identity{}
				}
				b.IDs[c.Name] = c.id
			}
		}
	}
	return b, true
}

// Resume takes b, the baseline of a meter over the same counters that was
// stopped, as this new meter's, so that its first sample judges each
// counter's move since b.At by the usual rules (a move that fits the
// elapsed time is measured; one above the ceiling over it, or backwards,
// is left out). A channel without a value in b takes its first reading as
// its baseline. Call it before the first sample.
func (m *Meter) Resume(b Baseline) {
	m.primed, m.at = true, b.At
	for i := range m.Channels {
		c := &m.Channels[i]
		if v, ok := b.Values[c.Name]; ok {
			c.prime(v)
			c.id = b.IDs[c.Name]
		} else {
			c.primed = false
		}
	}
}

// Close closes every channel's reader.
func (m *Meter) Close() {
	for i := range m.Channels {
		closeReader(m.Channels[i].Reader)
	}
}

func closeReader(r Reader) {
	if c, ok := r.(interface{ Close() error }); ok {
		c.Close()
	}
}

// Errs are the read errors of the last Read, by channel.
func (m *Meter) Errs() []error { return m.errs }

// Values are the readings of the last Read, by channel.
func (m *Meter) Values() []energy.Energy { return m.values }

// Counter reads an energy counter attribute in microjoules (energy_uj).
type Counter struct{ *kfile.Attr }

// Read returns the counter's value.
func (c Counter) Read() (energy.Energy, error) {
	v, err := c.Uint()
	return energy.Energy(v), err
}
