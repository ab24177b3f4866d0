package meter

import (
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
)

type fixed struct{ v energy.Energy }

func (f *fixed) Read() (energy.Energy, error) { return f.v, nil }

// BenchmarkSample is the read-and-compute path of a two-socket machine with
// DRAM: four counters, deltas, ceilings. It must not allocate once warm.
func BenchmarkSample(b *testing.B) {
	readers := []*fixed{{1}, {2}, {3}, {4}}
	ch := []Channel{
		{Package: 0, Kind: Package, Reader: readers[0], Max: 1 << 40, Ceiling: 600},
		{Package: 0, Kind: DRAM, Reader: readers[1], Max: 1 << 40, Ceiling: 600},
		{Package: 1, Kind: Package, Reader: readers[2], Max: 1 << 40, Ceiling: 600},
		{Package: 1, Kind: DRAM, Reader: readers[3], Max: 1 << 40, Ceiling: 600},
	}
	now := time.Unix(0, 0)
	m := New(ch, func() time.Time { return now })
	m.Sample()
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		for _, r := range readers {
			r.v += 50 * energy.Joule
		}
		if r := m.Sample(); !r.Complete {
			b.Fatal("incomplete sample")
		}
	}
}

func TestStaleAndRecover(t *testing.T) {
	r := &fixed{v: 100}
	now := time.Unix(0, 0)
	m := New([]Channel{{Package: 0, Reader: r, StaleAfter: 2, Ceiling: 1000}}, func() time.Time { return now })
	step := func(add energy.Energy) *Result {
		now = now.Add(10 * time.Second)
		r.v += add
		return m.Sample()
	}
	step(0) // baseline
	if res := step(10 * energy.Joule); len(res.Packages) != 1 || res.Packages[0].Energy != 10*energy.Joule {
		t.Fatalf("advancing counter: got %+v", res.Packages)
	}
	if res := step(0); len(res.Packages) != 1 || res.Packages[0].Energy != 0 {
		t.Fatalf("one unchanged interval is 0 J, got %+v", res.Packages)
	}
	res := step(0)
	if len(res.Packages) != 0 || len(res.Problems) != 1 || res.Problems[0].Kind != Stale || !m.Stale() {
		t.Fatalf("second unchanged interval: want stale, got %+v %+v", res.Packages, res.Problems)
	}
	if res := step(0); len(res.Problems) != 0 {
		t.Fatalf("stale is reported once, got %+v", res.Problems)
	}
	if res := step(5 * energy.Joule); len(res.Packages) != 1 || m.Stale() {
		t.Fatalf("advancing again: got %+v stale=%v", res.Packages, m.Stale())
	}
}
