package powerinput

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
)

// benchPlugin is the two-socket scenario's tree (packages and DRAM) with a
// clock that moves 10 s per gather. The counters stay put (0 W), which
// takes the same path as moving ones.
func benchPlugin(b *testing.B) (*PowerInput, func()) {
	b.Helper()
	s := loadScenario(b, filepath.Join("testdata", "scenarios", "two-sockets-dram.txtar"))
	p := s.plugin
	p.Log = testutil.Logger{Quiet: true}
	s.start(b)
	return p, func() { s.clock.now = s.clock.now.Add(10 * time.Second) }
}

// BenchmarkReadAndCompute is the power path of a gather: read four RAPL
// counters from files and compute package and DRAM energy. Target: no
// allocation once warm.
func BenchmarkReadAndCompute(b *testing.B) {
	p, tick := benchPlugin(b)
	p.samplePower(nil)
	b.ReportAllocs()
	for b.Loop() {
		tick()
		if r, ok := p.samplePower(nil); !ok || len(r.res.Problems) != 0 {
			b.Fatalf("sample failed: %+v", r.res)
		}
	}
}

// BenchmarkGatherPower is a whole Gather of power only (cpu and net off),
// including the points handed to Telegraf's accumulator, whose map-based
// API allocates.
func BenchmarkGatherPower(b *testing.B) {
	p, tick := benchPlugin(b)
	acc := &testutil.Accumulator{Discard: true}
	p.Gather(acc)
	b.ReportAllocs()
	for b.Loop() {
		tick()
		p.Gather(acc)
	}
}
