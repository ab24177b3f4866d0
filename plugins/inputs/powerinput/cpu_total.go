package powerinput

import (
	"fmt"
	"time"
)

// cpuTotal is the machine's cumulative CPU time as a gather read it from
// /proc/stat: the busy ticks (all but idle, iowait and steal, as Busy
// counts them), all the ticks, the online CPUs, and when it was read. ok
// is false when the read failed or found no all-CPU line: err says why.
type cpuTotal struct {
	busy, all uint64
	cpus      int
	at        time.Time
	ok        bool
	err       error
}

// total is this gather's reading.
func (c *cpuCollector) total() cpuTotal {
	if c.utilErr != nil {
		return cpuTotal{err: c.utilErr}
	}
	t, ok := c.cur.Total()
	if !ok {
		return cpuTotal{err: fmt.Errorf("%s has no all-CPU (\"cpu \") line", c.path)}
	}
	all := t.Total()
	return cpuTotal{busy: all - t.Idle - t.Iowait - t.Steal, all: all, cpus: c.cur.Online(), at: c.readAt, ok: true}
}
