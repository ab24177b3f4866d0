// Package procstat parses the CPU lines of /proc/stat and computes CPU usage
// the way Telegraf's cpu input does.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/greencampus/powerinput/internal/kfile"
)

// ErrSyntax is wrapped by every parse error of this package.
var ErrSyntax = errors.New("invalid /proc/stat line")

// Times are a CPU's cumulative times in clock ticks (USER_HZ), as
// /proc/stat gives them. Guest and GuestNice are already counted in User and
// Nice.
type Times struct {
	User, Nice, System, Idle, Iowait, Irq, Softirq, Steal, Guest, GuestNice uint64
}

// Total is the sum of the times that make up the CPU's time (guest time is
// inside user and nice, so it is not added again).
func (t Times) Total() uint64 {
	return t.User + t.Nice + t.System + t.Idle + t.Iowait + t.Irq + t.Softirq + t.Steal
}

// TotalID is the ID of the "cpu" line (all CPUs together).
const TotalID = -1

// CPU is one cpu line: ID is TotalID for "cpu", N for "cpuN".
type CPU struct {
	ID int
	Times
}

// Stat is the parsed CPU part of /proc/stat.
type Stat struct {
	CPUs []CPU // the total first where present, then cpuN in file order
}

// Total returns the all-CPU line.
func (s *Stat) Total() (Times, bool) {
	for _, c := range s.CPUs {
		if c.ID == TotalID {
			return c.Times, true
		}
	}
	return Times{}, false
}

// Find returns the line of the given CPU.
func (s *Stat) Find(id int) (Times, bool) {
	// Lines are usually in order: try the likely index first.
	if i := id + 1; i >= 0 && i < len(s.CPUs) && s.CPUs[i].ID == id {
		return s.CPUs[i].Times, true
	}
	for _, c := range s.CPUs {
		if c.ID == id {
			return c.Times, true
		}
	}
	return Times{}, false
}

// Online is the number of cpuN lines.
func (s *Stat) Online() int {
	n := 0
	for _, c := range s.CPUs {
		if c.ID != TotalID {
			n++
		}
	}
	return n
}

// Parse reads /proc/stat content from r into s.
func Parse(r io.Reader, s *Stat) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return ParseBytes(b, s)
}

// ParseBytes parses /proc/stat content into s, reusing its slice. A
// malformed cpu line is left out and reported in the returned error while
// the other lines are kept; lines that are not about CPUs are skipped. It
// does not allocate when every line is valid and s has room.
func ParseBytes(b []byte, s *Stat) error {
	s.CPUs = s.CPUs[:0]
	var errs []error
	for n := 1; len(b) > 0; n++ {
		var line []byte
		line, b = kfile.NextLine(b)
		if !bytes.HasPrefix(line, []byte("cpu")) {
			continue
		}
		c, err := parseCPULine(line)
		if err != nil {
			if len(errs) < maxErrors {
				errs = append(errs, fmt.Errorf("line %d: %w", n, err))
			}
			continue
		}
		s.CPUs = append(s.CPUs, c)
	}
	return errors.Join(errs...)
}

func parseCPULine(line []byte) (CPU, error) {
	var c CPU
	name, rest := kfile.NextField(line)
	switch {
	case len(name) == 3:
		c.ID = TotalID
	default:
		id, ok := kfile.Uint(name[3:])
		if !ok || id > 65535 { // no kernel has more CPUs; a larger id is garbage
			return c, fmt.Errorf("cpu name not cpuN with N below 65536: %w", ErrSyntax)
		}
		c.ID = int(id)
	}
	dst := [...]*uint64{&c.User, &c.Nice, &c.System, &c.Idle, &c.Iowait, &c.Irq, &c.Softirq, &c.Steal, &c.Guest, &c.GuestNice}
	n := 0
	for n < len(dst) {
		var f []byte
		f, rest = kfile.NextField(rest)
		if f == nil {
			break
		}
		v, ok := kfile.Uint(f)
		if !ok {
			return c, fmt.Errorf("value %d of %s is not a decimal counter: %w", n+1, cpuName(c.ID), ErrSyntax)
		}
		*dst[n] = v
		n++
	}
	// Kernels since 2.6.11 write at least eight values; fewer is a cut line.
	if n < 4 {
		return c, fmt.Errorf("%s has %d values, want at least 4: %w", cpuName(c.ID), n, ErrSyntax)
	}
	if c.Guest > c.User || c.GuestNice > c.Nice {
		return c, fmt.Errorf("%s: guest time above user time: %w", cpuName(c.ID), ErrSyntax)
	}
	return c, nil
}

// maxErrors bounds the errors kept from one parse.
const maxErrors = 8

func cpuName(id int) string {
	if id == TotalID {
		return "cpu"
	}
	return fmt.Sprintf("cpu%d", id)
}

// Usage is CPU time in percent over an interval, with Telegraf's cpu input
// field meanings: guest time is taken out of user and nice.
type Usage struct {
	User, System, Idle, Nice, Iowait, Irq, Softirq, Steal, Guest, GuestNice float64
}

// Busy is the share of time, 0 to 1, not spent idle, waiting for I/O or
// stolen by the hypervisor: what the power model is driven by.
func (u Usage) Busy() float64 {
	busy := 100 - u.Idle - u.Iowait - u.Steal
	if busy < 0 {
		return 0
	}
	if busy > 100 {
		return 1
	}
	return busy / 100
}

// Compute returns the usage between two readings of the same CPU. ok is
// false when no time passed or when any counter went backwards (a CPU that
// went offline and came back, a garbled line): then there is no usage to
// report rather than a negative one.
func Compute(prev, cur Times) (Usage, bool) {
	p := [...]uint64{prev.User, prev.Nice, prev.System, prev.Idle, prev.Iowait, prev.Irq, prev.Softirq, prev.Steal, prev.Guest, prev.GuestNice}
	c := [...]uint64{cur.User, cur.Nice, cur.System, cur.Idle, cur.Iowait, cur.Irq, cur.Softirq, cur.Steal, cur.Guest, cur.GuestNice}
	var d [10]float64
	for i := range p {
		if c[i] < p[i] {
			return Usage{}, false
		}
		d[i] = float64(c[i] - p[i])
	}
	total := d[0] + d[1] + d[2] + d[3] + d[4] + d[5] + d[6] + d[7]
	if total <= 0 || d[8] > d[0] || d[9] > d[1] {
		return Usage{}, false
	}
	return Usage{
		User:      100 * (d[0] - d[8]) / total,
		Nice:      100 * (d[1] - d[9]) / total,
		System:    100 * d[2] / total,
		Idle:      100 * d[3] / total,
		Iowait:    100 * d[4] / total,
		Irq:       100 * d[5] / total,
		Softirq:   100 * d[6] / total,
		Steal:     100 * d[7] / total,
		Guest:     100 * d[8] / total,
		GuestNice: 100 * d[9] / total,
	}, true
}
