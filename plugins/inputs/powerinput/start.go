package powerinput

import (
	"time"

	"github.com/influxdata/telegraf"
)

// MinFirstInterval is the shortest first interval: a gather prompted
// sooner after Start waits until then before it reads. RAPL's counters
// advance about every millisecond, but /proc/stat counts CPU time in ticks
// of 10 ms: over 500 ms one tick is 2 % of one CPU's time, as in the half
// second Telegraf's own --test waits between the two gathers of its cpu
// input. Later intervals are as long as the prompts make them.
const MinFirstInterval = 500 * time.Millisecond

// Start takes the baseline: every collector reads once and the points of
// that reading are dropped, so the first Gather already measures an
// interval (Telegraf starts a service input after Init; powerinput's own
// loop does the same). Its reads are bounded like a gather's.
func (p *PowerInput) Start(telegraf.Accumulator) error {
	p.gather(discard{}, time.Now())
	p.readyAt = p.clock().Add(MinFirstInterval)
	p.waitFirst = true
	return nil
}

// ReadyAt is when the first gather after Start reads (it waits until then
// if prompted sooner); zero before Start. It does not change once Start
// has returned, so a caller may read it while a gather runs.
func (p *PowerInput) ReadyAt() time.Time { return p.readyAt }

// CommitAfterWrite tells the plugin that the loop running it calls
// Committed after each gather whose points it wrote (gatherloop.Committer,
// powerinput's own loop): from then on the guests' counters advance only
// then, by the energy of power_vm rows that went out, and a gather that
// was not written (a stop, a broken pipe) gives them nothing. A runner
// that never says so (Telegraf running the plugin in its own process,
// tests) has each gather commit at its end, as it adds its points.
// (-summary does not gather: it never touches the counters.)
func (p *PowerInput) CommitAfterWrite() {
	p.commitAfterWrite = true
	if p.vms != nil {
		p.vms.afterWrite = true
	}
}

// Committed says that the points of the last Gather were written: the
// guests' counters get that gather's energy.
func (p *PowerInput) Committed() {
	if p.vms != nil {
		p.vms.commit(p.tick.deadline())
	}
}

// Stop releases the files the collectors keep open. Call it when no
// gather runs; a read that timed out keeps its file until it returns.
func (p *PowerInput) Stop() {
	for _, c := range p.collectors {
		c.close(time.Now().Add(100 * time.Millisecond))
	}
}

// waitForFirst makes the first gather after Start cover at least
// MinFirstInterval.
func (p *PowerInput) waitForFirst() {
	if !p.waitFirst {
		return
	}
	p.waitFirst = false
	if d := p.readyAt.Sub(p.clock()); d > 0 {
		p.sleep(d)
	}
}

// discard is the accumulator of the baseline: points of a reading that
// only starts the intervals are not written.
type discard struct{}

func (discard) AddFields(string, map[string]any, map[string]string, ...time.Time)    {}
func (discard) AddGauge(string, map[string]any, map[string]string, ...time.Time)     {}
func (discard) AddCounter(string, map[string]any, map[string]string, ...time.Time)   {}
func (discard) AddSummary(string, map[string]any, map[string]string, ...time.Time)   {}
func (discard) AddHistogram(string, map[string]any, map[string]string, ...time.Time) {}
func (discard) AddMetric(telegraf.Metric)                                            {}
func (discard) SetPrecision(time.Duration)                                           {}
func (discard) AddError(error)                                                       {}
func (discard) WithTracking(int) telegraf.TrackingAccumulator                        { return nil }

var _ telegraf.ServiceInput = (*PowerInput)(nil)
