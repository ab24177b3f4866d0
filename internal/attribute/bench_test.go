package attribute

import (
	"fmt"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
)

// BenchmarkAttribute100 is the arithmetic of one gather of a hypervisor
// with 100 VMs: their cumulative CPU times turned into intervals, the exact
// split of the host's energy, and the unused capacity given by vCPUs.
// Target: no allocation once warm.
func BenchmarkAttribute100(b *testing.B) {
	names := make([]string, 100)
	cum := make([]time.Duration, 100)
	vcpus := make([]int, 100)
	for i := range names {
		names[i] = fmt.Sprintf("machine.slice/machine-qemu-%d-vm%03d.scope", i, i)
		vcpus[i] = 1 + i%4
	}
	var tr Tracker
	var sp Split
	var bv ByVCPUs
	loads := make([]time.Duration, 0, 100)
	var parts []energy.Energy
	extra := make([]energy.Energy, 100)
	var busy time.Duration
	round := func() {
		tr.Begin()
		busy += 200 * time.Second
		b0, _ := tr.Observe("\x00busy", busy)
		loads = loads[:0]
		for i, n := range names {
			cum[i] += time.Duration(i+1) * 17 * time.Millisecond
			if d, ok := tr.Observe(n, cum[i]); ok {
				loads = append(loads, d)
			}
		}
		tr.End()
		d := sp.ByCPUTime(3_000_000_007, loads, b0, 640*time.Second, parts)
		parts = d.Parts
		clear(extra)
		bv.Give(d.Unused, vcpus[:len(parts)], extra)
	}
	round()
	round()
	b.ReportAllocs()
	for b.Loop() {
		round()
	}
}
