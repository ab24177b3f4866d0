package powerinput

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"

	"github.com/greencampus/powerinput/internal/kfile"
)

// benchTree is the two-socket scenario's tree (packages and DRAM) under a
// clock that moves 10 s per gather. advance moves the four counters on by
// 100 J each (10 W), as a machine does between gathers (counters that never
// moved would make rapl stale). It writes fixed-width values in place with
// pwrite, which allocates nothing; BenchmarkReadAndCompute/advance times it
// alone, so its cost can be told from the plugin's.
type benchTree struct {
	s     *scenario
	files []*os.File
	value uint64
	buf   [21]byte
}

func newBenchTree(b *testing.B) *benchTree {
	b.Helper()
	s := loadScenario(b, filepath.Join("testdata", "scenarios", "two-sockets-dram.txtar"))
	s.plugin.Log = testutil.Logger{Quiet: true}
	s.plugin.open = kfile.OpenReader // the real opener, not the scenarios' sysfs imitation
	s.start(b)
	t := &benchTree{s: s, value: 3_000_000_000}
	for _, z := range []string{"intel-rapl:0", "intel-rapl:0:0", "intel-rapl:1", "intel-rapl:1:0"} {
		f, err := os.OpenFile(filepath.Join(s.root, "sys", "class", "powercap", z, "energy_uj"), os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		t.files = append(t.files, f)
	}
	t.advance(b)
	return t
}

func (t *benchTree) advance(b *testing.B) {
	t.value += 100_000_000
	v := t.value
	t.buf[20] = '\n'
	for i := 19; i >= 0; i-- {
		t.buf[i] = byte('0' + v%10)
		v /= 10
	}
	for _, f := range t.files {
		if _, err := f.WriteAt(t.buf[:], 0); err != nil {
			b.Fatal(err)
		}
	}
	t.s.clock.now = t.s.clock.now.Add(10 * time.Second)
}

// BenchmarkReadAndCompute is the power path of a gather: read four RAPL
// counters from their files and compute package and DRAM energy. Target: no
// allocation once warm. "advance" is the fixture's own cost, included in
// "sample".
func BenchmarkReadAndCompute(b *testing.B) {
	b.Run("advance", func(b *testing.B) {
		t := newBenchTree(b)
		b.ReportAllocs()
		for b.Loop() {
			t.advance(b)
		}
	})
	b.Run("sample", func(b *testing.B) {
		t := newBenchTree(b)
		chain := t.s.plugin.power.chain
		chain.Sample()
		b.ReportAllocs()
		for b.Loop() {
			t.advance(b)
			if r, ok := chain.Sample(); !ok || len(r.Result.Problems) != 0 || !r.Result.Complete {
				b.Fatalf("sample failed: %+v", r.Result)
			}
		}
	})
}

// BenchmarkGatherPower is a whole Gather of power only (cpu and net off),
// including the points handed to Telegraf's accumulator, whose map-based
// API allocates. It includes advancing the fixture.
func BenchmarkGatherPower(b *testing.B) {
	t := newBenchTree(b)
	p := t.s.plugin
	acc := &testutil.Accumulator{Discard: true}
	p.Gather(acc)
	b.ReportAllocs()
	for b.Loop() {
		t.advance(b)
		p.Gather(acc)
	}
	// The last gather must have measured: 10 W per counter, 40 W in all.
	acc.Discard = false
	t.advance(b)
	p.Gather(acc)
	if got := acc.GetTelegrafMetrics(); len(got) != 3 || got[2].Fields()["power_watts"] != 40.0 {
		b.Fatalf("last gather wrote %v", got)
	}
}
