package powerinput

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/attribute"
	"github.com/greencampus/powerinput/internal/cgroup"
	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/procs"
	"github.com/greencampus/powerinput/internal/say"
)

// servicesCollector writes power_service: the host's energy of each
// interval divided over its services, users, containers, pods and VMs by
// the CPU time of their control groups (cgroup v2 cpu.stat, or v1
// cpuacct). A group's usage keeps the time of its processes that have
// exited, so they are counted.
type servicesCollector struct {
	hostSys kfile.SysRoot
	div     *divider
	say     *say.Once
	// points: write power_service (services = true). Without, the walk
	// only guides the process scan, and says nothing.
	points bool

	g       guard.Guard
	walker  *cgroup.Walker // nil until a hierarchy is found
	res     *cgroup.WalkResult
	err     error
	tracker attribute.Tracker
	loads   []attribute.Load

	// For the process scan (see processes.go): with procs, each walk also
	// lists the processes that may have run, every one with procsAll.
	// lastPID (nil: none) tells the walk whether a process was made since
	// the previous one: if not, the groups' lists are not read again.
	procs      bool
	procsAll   atomic.Bool
	members    []cgroup.Members
	membersErr error
	membersOK  bool // this gather's walk and list succeeded
	lastPID    *procs.LastPID
	lastPIDErr error
}

func newServicesCollector(c Config, m metaphors, clock func() time.Time, tell *say.Once) *servicesCollector {
	sc := &servicesCollector{hostSys: c.Roots().Sys, say: tell, points: c.Services,
		div: newDivider("power_service", "unit", c, m, clock)}
	sc.g.Inline = cgroup.InMemory(c.Roots().Sys)
	return sc
}

// read runs under the guard: the collector's only I/O.
func (c *servicesCollector) read() {
	c.res = nil
	if c.walker == nil {
		h, err := cgroup.Find(c.hostSys)
		if err != nil {
			c.err = err
			return
		}
		c.walker = cgroup.NewWalker(h)
	}
	// The last PID is read before the walk: a process made while the
	// groups are read shows at the next gather.
	var last uint32
	if c.procs && c.lastPID != nil {
		last, c.lastPIDErr = c.lastPID.Read()
	}
	c.res, c.err = c.walker.Walk()
	c.members, c.membersErr = nil, nil
	if c.err == nil && c.procs {
		// Every group listed, from lists read afresh: a process scan
		// that lists no process in any group must not miss one moved.
		all := c.procsAll.Load()
		if all {
			c.walker.Forget()
		}
		c.members, c.membersErr = c.walker.ProcsSince(all, last)
	}
}

func (c *servicesCollector) gather(acc telegraf.Accumulator, t *tick) {
	c.membersOK = false
	if t.host.Held {
		// The power interval goes on into the next gather: so do the
		// groups' baselines (and the process scan's), or their CPU times
		// would cover less than the energy.
		return
	}
	err := c.g.Do(t.deadline(), c.read)
	if err == nil && c.procs && c.lastPID != nil {
		msg := "" // read again: said again if it fails again
		if c.lastPIDErr != nil {
			msg = fmt.Sprintf("processes: cannot tell when processes are made (%v): the control groups' process lists are read afresh, which costs more", c.lastPIDErr)
		}
		c.say.Say("lastpid", say.Info, msg)
	}
	if !c.points { // walked for the process scan only, silently
		c.membersOK = err == nil && c.err == nil && c.procs && c.membersErr == nil
		return
	}
	if err != nil {
		c.say.Say("services", say.Error, fmt.Sprintf("services: the control groups under %s/fs/cgroup did not answer: %v; no power_service for this interval", c.hostSys, err))
		c.tracker = attribute.Tracker{} // the next walk is a baseline
		c.div.reset()
		return
	}
	if c.err != nil {
		msg := fmt.Sprintf("services: cannot read control groups: %v", c.err)
		if errors.Is(c.err, cgroup.ErrNoCgroup) {
			msg += " (is host_sys the host's /sys, with /sys/fs/cgroup mounted?)"
		}
		c.say.Say("services", say.Error, msg)
		c.tracker = attribute.Tracker{}
		c.div.reset()
		return
	}
	c.say.Say("services", say.Info, "")
	c.membersOK = c.procs && c.membersErr == nil
	res := c.res
	if res.Truncated {
		c.say.Say("servicestrunc", say.Warn, fmt.Sprintf("services: %s has more control groups than are read (%d levels, %d directories, %d workloads at most); the others count as unattributed", c.walker.Path(), cgroup.MaxDepth, cgroup.MaxDirs, cgroup.MaxWorkloads))
	}
	if res.Unreadable > 0 {
		c.say.Say("servicesread", say.Warn, fmt.Sprintf("services: %d control groups could not be read (their time counts as unattributed), the first: %v", res.Unreadable, res.Err))
	} else {
		c.say.Say("servicesread", say.Warn, "")
	}
	c.loads = c.loads[:0]
	c.tracker.Begin()
	for _, w := range res.Workloads {
		if d, ok := c.tracker.Observe(w.Key, w.Usage); ok && d > 0 {
			c.loads = append(c.loads, attribute.Load{Name: w.Name, Kind: w.Kind.String(), CPU: d})
		}
	}
	c.tracker.End()
	busy, capacity, ok := c.div.span(t.cpu)
	c.div.divide(acc, t.ts, t.host, c.loads, busy, capacity, ok)
}

func (c *servicesCollector) close(deadline time.Time) {
	c.g.Do(deadline, func() {
		if c.walker != nil {
			c.walker.Close()
			c.walker = nil
		}
		if c.lastPID != nil {
			c.lastPID.Close()
		}
	})
}
