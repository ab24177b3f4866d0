package powerinput

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/attribute"
	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/procs"
	"github.com/greencampus/powerinput/internal/say"
)

// Kinds of power_process points besides the parts (see apps.go).
const (
	kindProgram = "program" // a program, by its name (comm)
	kindKernel  = "kernel"  // the kernel's threads, by their name up to '/'
)

// processesCollector writes power_process: the host's energy of each
// interval divided over programs by the CPU time of their processes
// (/proc/<pid>/stat), all the processes of a name added up.
//
// Where control groups can tell (cgroup v2 or v1 cpuacct, and host_proc
// numbering processes as this process's PID namespace does, as
// cgroup.procs files do), the scan is guided by them: a process whose
// group's CPU time has not moved since the previous gather has not run,
// so its stat file is not read, and the process directory is not listed
// (cgroup.procs files say which processes there are). On a host whose
// processes mostly wait, most of the cost of a scan goes. Elsewhere every
// process is read.
type processesCollector struct {
	scanner  *procs.Scanner
	div      *divider
	say      *say.Once
	services *servicesCollector // its walk guides the scan; nil: not guided

	g      guard.Guard
	res    *procs.Result
	err    error
	stale  bool // a scan timed out: the next one spans more than an interval
	loads  []attribute.Load
	guided bool          // this gather's scan is guided by groups
	groups []procs.Group // a copy of the walk's members, for the scan
	pids   []uint32
}

func newProcessesCollector(c Config, m metaphors, clock func() time.Time, tell *say.Once, services *servicesCollector) *processesCollector {
	pc := &processesCollector{scanner: procs.NewScanner(c.Roots().Proc, procs.Options{}), say: tell,
		div: newDivider("power_process", "process", c, m, clock)}
	// The processes' own directories: what is mounted elsewhere under
	// /proc (binfmt_misc, lxcfs's files) is not read by the scan.
	pc.g.Inline = guard.InMemory(c.Roots().Proc.Path("self"))
	if services != nil && samePIDNumbers(c.Roots().Proc) {
		pc.services = services
		services.procs = true
		services.procsAll.Store(true)
		// loadavg tells when a process is made only where it is
		// procfs's own: lxcfs puts a FUSE file there in LXC containers,
		// whose fifth field is not the last PID allocated (and which
		// could hang). Elsewhere each list is read at every gather.
		if guard.InMemory(c.Roots().Proc.Path("loadavg")) {
			services.lastPID = procs.NewLastPID(c.Roots().Proc)
		}
	}
	return pc
}

// samePIDNumbers reports whether the procfs at hostProc numbers processes
// as this process's PID namespace does (cgroup.procs files use the
// reader's numbers): its "self" is this process's PID.
func samePIDNumbers(hostProc kfile.ProcRoot) bool {
	self, err := os.Readlink(hostProc.Path("self"))
	return err == nil && self == strconv.Itoa(os.Getpid())
}

// read runs under the guard: the collector's only I/O.
func (c *processesCollector) read() {
	if c.guided {
		c.res, c.err = c.scanner.ScanGroups(c.groups)
		return
	}
	c.res, c.err = c.scanner.Scan()
}

// guide copies this gather's members of control groups, from the services
// collector's walk, for the scan (which may outlive the gather: it must
// not share the walk's memory).
func (c *processesCollector) guide() {
	c.guided = false
	if c.services == nil || !c.services.membersOK {
		return
	}
	c.groups, c.pids = c.groups[:0], c.pids[:0]
	for _, m := range c.services.members {
		c.pids = append(c.pids, m.PIDs...)
	}
	at := 0
	for _, m := range c.services.members {
		c.groups = append(c.groups, procs.Group{Key: m.Key, Read: m.Read, Fresh: m.Fresh, PIDs: c.pids[at : at+len(m.PIDs) : at+len(m.PIDs)]})
		at += len(m.PIDs)
	}
	c.guided = true
}

func (c *processesCollector) gather(acc telegraf.Accumulator, t *tick) {
	if t.host.Held {
		return // as the services: the next scan covers both gathers
	}
	if !c.g.Busy() {
		c.guide()
	}
	err := c.g.Do(t.deadline(), c.read)
	if c.services != nil {
		// A scan guided after a listing, or after none, needs every
		// group read: ask the next walk for all of them, read afresh. So
		// does one that did not finish (a guard error: the groups whose
		// members it was given meanwhile are read again; nothing of the
		// running scan is looked at), and one that holds processes no
		// list gave (moved while their new group's list was given from
		// memory).
		c.services.procsAll.Store(err != nil || !c.scanner.Guided() || c.err == nil && c.res.Unlisted > 0)
	}
	if err != nil {
		c.say.Say("processes", say.Error, fmt.Sprintf("processes: the scan of %s did not finish in time: %v; no power_process for this interval", c.scanner.Path(), err))
		c.stale = true
		c.div.reset()
		return
	}
	if c.err != nil {
		c.say.Say("processes", say.Error, fmt.Sprintf("processes: cannot list processes: %v", c.err))
		c.div.reset()
		return // the scanner starts again from a baseline
	}
	c.say.Say("processes", say.Info, "")
	res := c.res
	if res.Truncated {
		c.say.Say("processestrunc", say.Warn, fmt.Sprintf("processes: more than %d processes under %s; those with the highest PIDs count as unattributed", res.Processes, c.scanner.Path()))
	}
	if res.Unreadable > 0 {
		c.say.Say("processesread", say.Warn, fmt.Sprintf("processes: %d processes could not be read (their time counts as unattributed; a procfs mounted with hidepid hides other users' processes), the first: %v", res.Unreadable, res.Err))
	} else {
		c.say.Say("processesread", say.Warn, "")
	}
	busy, capacity, spanOK := c.div.span(t.cpu)
	if res.Baseline || c.stale {
		c.stale = false
		return
	}
	c.loads = c.loads[:0]
	for _, n := range res.Names {
		kind := kindProgram
		if n.Kernel {
			kind = kindKernel
		}
		c.loads = append(c.loads, attribute.Load{Name: n.Name, Kind: kind, CPU: n.CPU})
	}
	c.div.divide(acc, t.ts, t.host, c.loads, busy, capacity, spanOK)
}

func (c *processesCollector) close(deadline time.Time) {
	c.g.Do(deadline, c.scanner.Close)
}
