package powerinput

import "time"

// total is the machine's cumulative CPU time as this gather read it from
// /proc/stat: the busy ticks (all but idle, iowait and steal, as Busy
// counts them), all the ticks, the online CPUs, and when it was read. ok
// is false when this gather's read failed or found no all-CPU line.
func (c *cpuCollector) total() (busy, all uint64, cpus int, at time.Time, ok bool) {
	if c.utilErr != nil || c.cur == nil {
		return 0, 0, 0, time.Time{}, false
	}
	t, ok := c.cur.Total()
	if !ok {
		return 0, 0, 0, time.Time{}, false
	}
	all = t.Total()
	return all - t.Idle - t.Iowait - t.Steal, all, c.cur.Online(), c.readAt, true
}
