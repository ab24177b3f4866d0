package powerinput

import (
	"time"

	"github.com/influxdata/telegraf"
)

// collector is one job of a gather: it reads what it needs (under a guard
// of its own, no later than the tick's deadline), adds its points, and
// keeps what the next gather needs. The gather runs the collectors one
// after the other, in the order of PowerInput.collectors.
type collector interface {
	// gather reads and writes this gather's points. It may leave in t what
	// the collectors after it use (see tick).
	gather(acc telegraf.Accumulator, t *tick)
	// close releases the files the collector keeps open; a read that
	// timed out keeps its file until it returns, or until deadline.
	close(deadline time.Time)
}

// tick is one gather as the collectors see it. Each of its readings is
// written by one collector and read, as a value, by those after it: the
// order of the collectors is the order of these fields.
type tick struct {
	ts          time.Time     // the points' timestamp
	readTimeout time.Duration // each collector's own bound (0: none)

	// cpu is the machine's CPU time as this gather read /proc/stat (the
	// cpu collector's one reading), for the collectors that divide by it.
	cpu cpuTotal
	// host is this gather's power_host reading (the power collector's),
	// for the collectors that divide it; zero when there was none.
	host hostReading
}

// deadline bounds reads that start now: each collector has its own, so
// one that hangs does not eat the time of the next.
func (t *tick) deadline() time.Time {
	if t.readTimeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(t.readTimeout)
}

// collectors lists the collectors that are on, in the order a gather runs
// them: cpu reads /proc/stat first (the model and the divisions use it),
// power then measures the interval (the host reading the VMs, services and
// processes divide), and the process scan follows the services' walk,
// which guides it. The VMs and the network come last: their reads are
// ordinary system calls under a guard, and the first such call of a
// gather wakes the Go runtime's monitor thread (sysmon), which then polls
// every 20 µs while the process runs; after the long walk and scan it
// polls for their short end only (about 36 wake-ups a gather instead of
// 62 with everything on).
func (p *PowerInput) collectorsInOrder() []collector {
	var cs []collector
	add := func(c collector, on bool) {
		if on {
			cs = append(cs, c)
		}
	}
	add(p.cpu, p.cpu != nil)
	add(p.power, true)
	add(p.services, p.services != nil)
	add(p.processes, p.processes != nil)
	add(p.vms, p.vms != nil)
	add(p.net, p.net != nil)
	return cs
}
