package vm

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guestcounter"
	"github.com/greencampus/powerinput/internal/source"
)

// BenchmarkSample is one guest sample: the counter (and, where the host
// writes one, its counter_id) read under the guard and judged, on a
// counter powerinput's writer made and advances between samples (its
// Apply, an in-place write, is in the loop too).
func BenchmarkSample(b *testing.B) {
	dir := b.TempDir()
	w := guestcounter.New(dir)
	defer w.Close()
	if f := w.Apply([]guestcounter.Add{{Domain: "vm", Energy: 1}}); len(f) > 0 {
		b.Fatal(f[0].Err)
	}
	now := time.Unix(0, 0)
	src := New(source.Env{VMPowercapPath: filepath.Join(dir, "vm"), StaleIntervals: 10, Clock: func() time.Time { return now }}).(*Source)
	if err := src.Probe(time.Time{}); err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Sample(time.Time{}); err != nil { // the baseline
		b.Fatal(err)
	}
	add := []guestcounter.Add{{Domain: "vm", Energy: energy.Energy(10_000_000)}}
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(10 * time.Second)
		w.Apply(add)
		r, err := src.Sample(time.Time{})
		if err != nil || len(r.Parts) != 1 {
			b.Fatalf("sample: %v, %d part(s)", err, len(r.Parts))
		}
	}
}
