package powerinput

import (
	"fmt"
	"strconv"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/procstat"
	"github.com/greencampus/powerinput/internal/say"
	"github.com/greencampus/powerinput/internal/source"
)

// maxStatSize bounds /proc/stat: a few kB on most machines, a few hundred
// on one with thousands of CPUs and interrupts.
const maxStatSize = 8 << 20

// cpuCollector reads /proc/stat, once a gather: it writes Telegraf's cpu
// measurement (with the cpu option), gives the model its CPU utilisation
// and the divisions the machine's CPU time (tick.cpu).
type cpuCollector struct {
	path             string
	clock            func() time.Time
	writes           bool // the cpu option: write the cpu measurement
	percpu, totalcpu bool
	say              *say.Once

	g      guard.Guard
	file   *kfile.File
	buf    []byte
	readAt time.Time
	err    error

	a, b       procstat.Stat
	prev, cur  *procstat.Stat
	prevAt     time.Time
	primed     bool
	interval   time.Duration
	util       source.Utilisation
	utilOK     bool
	utilErr    error
	names      []string // "cpu-total", "cpu0", … by ID+1
	fields     map[string]any
	tags       map[string]string
	hasCurrent bool
}

func newCPUCollector(hostProc kfile.ProcRoot, clock func() time.Time, writes, percpu, totalcpu bool, tell *say.Once) *cpuCollector {
	c := &cpuCollector{path: hostProc.Path("stat"), clock: clock, writes: writes, percpu: percpu, totalcpu: totalcpu, say: tell,
		fields: map[string]any{}, tags: map[string]string{}}
	c.prev, c.cur = &c.a, &c.b
	c.g.Inline = guard.InMemory(hostProc.Path("stat")) // lxcfs mounts a FUSE file over it in containers
	c.utilErr = fmt.Errorf("%s not read yet", c.path)
	return c
}

// gather reads /proc/stat, leaves the machine's CPU time in t and writes
// the cpu measurement.
func (c *cpuCollector) gather(acc telegraf.Accumulator, t *tick) {
	c.sample(t.deadline())
	t.cpu = c.total()
	if c.writes {
		c.write(acc, t.ts)
	}
}

func (c *cpuCollector) close(deadline time.Time) {
	c.g.Do(deadline, func() {
		if c.file != nil {
			c.file.Close()
			c.file = nil
		}
	})
}

// read runs under the guard: it is the collector's only I/O.
func (c *cpuCollector) read() {
	if c.file == nil {
		if c.file, c.err = kfile.Open(c.path); c.err != nil {
			c.file = nil
			return
		}
	}
	c.buf, c.err = c.file.ReadAll(c.buf, maxStatSize)
	c.readAt = c.clock()
	if c.err != nil {
		c.file.Close()
		c.file = nil
	}
}

// prime reads CPU times once, so the model can tell at start whether they
// can be had. The reading is not kept as a baseline: the first gather is.
func (c *cpuCollector) prime(deadline time.Time) {
	c.sample(deadline)
	c.primed = false
}

// sample reads /proc/stat and computes the utilisation since the previous
// reading.
func (c *cpuCollector) sample(deadline time.Time) {
	c.hasCurrent, c.utilOK = false, false
	err := c.g.Do(deadline, c.read)
	if err == nil {
		err = c.err
	}
	if err != nil {
		c.say.Say("stat", say.Error, fmt.Sprintf("cannot read CPU times: %v", err))
		c.primed = false
		c.utilErr = err
		return
	}
	c.say.Say("stat", say.Info, "")
	c.prev, c.cur = c.cur, c.prev
	if err := procstat.ParseBytes(c.buf, c.cur); err != nil {
		c.say.Say("statparse", say.Warn, fmt.Sprintf("%s: some CPU lines were skipped: %v", c.path, err))
	} else {
		c.say.Say("statparse", say.Warn, "")
	}
	curT, hasTotal := c.cur.Total()
	c.utilErr = nil
	if !hasTotal {
		c.utilErr = fmt.Errorf("%s has no all-CPU (\"cpu \") line", c.path)
	}
	if !c.primed {
		c.primed, c.prevAt = true, c.readAt
		return
	}
	c.interval = c.readAt.Sub(c.prevAt)
	c.prevAt = c.readAt
	c.hasCurrent = true
	prevT, ok := c.prev.Total()
	if ok && hasTotal && c.interval > 0 {
		if u, ok := procstat.Compute(prevT, curT); ok {
			c.util = source.Utilisation{Busy: u.Busy(), CPUs: c.cur.Online(), Interval: c.interval}
			c.utilOK = true
		}
	}
}

// Utilisation is the CPU use over the last interval, for the model.
func (c *cpuCollector) Utilisation() (source.Utilisation, bool, error) {
	return c.util, c.utilOK, c.utilErr
}

func (c *cpuCollector) cpuName(id int) string {
	for len(c.names) <= id+1 {
		n := len(c.names) - 1
		if n == procstat.TotalID {
			c.names = append(c.names, "cpu-total")
		} else {
			c.names = append(c.names, "cpu"+strconv.Itoa(n))
		}
	}
	return c.names[id+1]
}

// write adds Telegraf's cpu measurement: usage in percent since the
// previous gather, for every CPU present in both readings.
func (c *cpuCollector) write(acc telegraf.Accumulator, ts time.Time) {
	if !c.hasCurrent {
		return
	}
	for _, cpu := range c.cur.CPUs {
		if (cpu.ID == procstat.TotalID && !c.totalcpu) || (cpu.ID != procstat.TotalID && !c.percpu) {
			continue
		}
		prev, ok := c.prev.Find(cpu.ID)
		if !ok {
			continue // a CPU that just came online
		}
		u, ok := procstat.Compute(prev, cpu.Times)
		if !ok {
			continue
		}
		clear(c.fields)
		c.fields["usage_user"] = u.User
		c.fields["usage_system"] = u.System
		c.fields["usage_idle"] = u.Idle
		c.fields["usage_nice"] = u.Nice
		c.fields["usage_iowait"] = u.Iowait
		c.fields["usage_irq"] = u.Irq
		c.fields["usage_softirq"] = u.Softirq
		c.fields["usage_steal"] = u.Steal
		c.fields["usage_guest"] = u.Guest
		c.fields["usage_guest_nice"] = u.GuestNice
		clear(c.tags)
		c.tags["cpu"] = c.cpuName(cpu.ID)
		acc.AddGauge("cpu", c.fields, c.tags, ts)
	}
}
