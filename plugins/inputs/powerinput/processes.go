package powerinput

import (
	"fmt"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/attribute"
	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/procs"
)

// Kinds of power_process points besides the parts (see apps.go).
const (
	kindProgram = "program" // a program, by its name (comm)
	kindKernel  = "kernel"  // the kernel's threads, by their name up to '/'
)

// processesCollector writes power_process: the host's energy of each
// interval divided over programs by the CPU time of their processes
// (/proc/<pid>/stat), all the processes of a name added up.
type processesCollector struct {
	scanner *procs.Scanner
	cpu     *cpuCollector
	div     *divider
	say     *sayer

	g     guard.Guard
	res   *procs.Result
	err   error
	stale bool // a scan timed out: the next one spans more than an interval
	loads []attribute.Load
}

func newProcessesCollector(c Config, power *powerCollector, cpu *cpuCollector, clock func() time.Time, say *sayer) *processesCollector {
	return &processesCollector{scanner: procs.NewScanner(c.HostProc, procs.Options{}), cpu: cpu, say: say,
		div: newDivider("power_process", "process", c, power, clock)}
}

// read runs under the guard: the collector's only I/O.
func (c *processesCollector) read() { c.res, c.err = c.scanner.Scan() }

func (c *processesCollector) gather(acc telegraf.Accumulator, ts, deadline time.Time) {
	if err := c.g.Do(deadline, c.read); err != nil {
		c.say.once("processes", telegraf.Error, fmt.Sprintf("processes: the scan of %s did not finish in time: %v; no power_process for this interval", c.scanner.Path(), err))
		c.stale = true
		return
	}
	if c.err != nil {
		c.say.once("processes", telegraf.Error, fmt.Sprintf("processes: cannot list processes: %v", c.err))
		return // the scanner starts again from a baseline
	}
	c.say.once("processes", telegraf.Info, "")
	res := c.res
	if res.Truncated {
		c.say.once("processestrunc", telegraf.Warn, fmt.Sprintf("processes: more than %d processes under %s; those with the highest PIDs count as unattributed", res.Processes, c.scanner.Path()))
	}
	if res.Unreadable > 0 {
		c.say.once("processesread", telegraf.Warn, fmt.Sprintf("processes: %d processes could not be read (their time counts as unattributed; a procfs mounted with hidepid hides other users' processes), the first: %v", res.Unreadable, res.Err))
	} else {
		c.say.once("processesread", telegraf.Warn, "")
	}
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
	u, ok, _ := c.cpu.Utilisation()
	if divisible(c.div.power.host, u, ok) {
		c.div.write(acc, ts, c.div.power.host, u, c.loads)
	}
}
