// Package attribute divides a machine's measured energy over the
// workloads that used it (VMs, services, processes), by CPU time, exactly:
// the parts always add up to the energy measured.
package attribute

import (
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/split"
)

// Tracker turns cumulative CPU times (a cgroup's usage, a process's
// utime+stime) into CPU time per interval. A workload seen for the first
// time starts from a baseline (no value); one whose counter went back (a
// group made anew under the same name) starts again; one not seen in a
// round is forgotten, so a name that comes back is new.
type Tracker struct {
	prev  map[string]mark
	round uint64
}

type mark struct {
	cum   time.Duration
	round uint64
}

// Begin starts a round of observations.
func (t *Tracker) Begin() {
	if t.prev == nil {
		t.prev = map[string]mark{}
	}
	t.round++
}

// Observe records a workload's cumulative CPU time and returns its CPU
// time since the previous round; ok is false for a new workload or one
// whose counter went back.
func (t *Tracker) Observe(name string, cum time.Duration) (time.Duration, bool) {
	p, seen := t.prev[name]
	t.prev[name] = mark{cum: cum, round: t.round}
	if !seen || p.round != t.round-1 || cum < p.cum {
		return 0, false
	}
	return cum - p.cum, true
}

// End forgets the workloads not observed in this round.
func (t *Tracker) End() {
	for name, m := range t.prev {
		if m.round != t.round {
			delete(t.prev, name)
		}
	}
}

// Len is how many workloads the tracker remembers.
func (t *Tracker) Len() int { return len(t.prev) }

// Split divides energy by CPU time over the interval's capacity (the online
// CPUs times the interval). Each workload's part is in proportion to its
// CPU time; the host's own part (kernel, agents, everything not in a
// listed workload) to busy time not in any workload; the unused part to the
// capacity no one used. busy is the machine's CPU time over the interval.
// When the workloads' times add up to more than busy (they are read a
// moment apart), busy is taken as their sum; when busy is above capacity,
// capacity is taken as busy. The parts, own and unused add up to total
// exactly.
type Split struct {
	s       split.Splitter
	weights []uint64
	out     []uint64
}

// Division is what ByCPUTime decided: each workload's part, the host's
// own part and the unused capacity's, and the CPU time each was weighed
// by, after the bounds (busy at least the workloads' sum, capacity at
// least busy). A writer of the parts writes these, and computes nothing.
type Division struct {
	Parts       []energy.Energy // by workload, in the order of the loads
	Own, Unused energy.Energy
	// Loads is the workloads' CPU time added up; OwnCPU the busy time in
	// no workload; UnusedCPU the capacity no one used.
	Loads, OwnCPU, UnusedCPU time.Duration
}

// ByCPUTime divides total over loads, the host's own work and the unused
// capacity (see Split). parts is reused for Division.Parts.
func (sp *Split) ByCPUTime(total energy.Energy, loads []time.Duration, busy, capacity time.Duration, parts []energy.Energy) Division {
	var sum time.Duration
	sp.weights = sp.weights[:0]
	for _, l := range loads {
		l = max(l, 0)
		sum += l
		sp.weights = append(sp.weights, uint64(l/time.Microsecond))
	}
	busy = max(busy, sum)
	capacity = max(capacity, busy)
	d := Division{Loads: sum, OwnCPU: busy - sum, UnusedCPU: capacity - busy}
	sp.weights = append(sp.weights, uint64(d.OwnCPU/time.Microsecond), uint64(d.UnusedCPU/time.Microsecond))
	var ok bool
	sp.out, ok = sp.s.Split(uint64(total), sp.weights, sp.out)
	n := len(loads)
	parts = parts[:0]
	if !ok {
		// No CPU time at all was seen: nothing to divide by; all is unused.
		for range loads {
			parts = append(parts, 0)
		}
		d.Parts, d.Unused = parts, total
		return d
	}
	for _, v := range sp.out[:n] {
		parts = append(parts, energy.Energy(v))
	}
	d.Parts, d.Own, d.Unused = parts, energy.Energy(sp.out[n]), energy.Energy(sp.out[n+1])
	return d
}
