package vm

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guestcounter"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/source"
)

// A hypervisor's writer of a guest counter, rewriting it as fast as it
// can: each call adds add to the counter's file, announcing the new value
// in upper before any byte of it is written.
type writerStyle struct {
	name  string
	start func(t *testing.T, dir string) (write func(v energy.Energy))
}

var writerStyles = []writerStyle{
	{"in place (powerinput)", func(t *testing.T, dir string) func(energy.Energy) {
		w := guestcounter.New(dir)
		t.Cleanup(w.Close)
		var last energy.Energy
		return func(v energy.Energy) {
			if f := w.Apply([]guestcounter.Add{{Domain: "vm", Energy: v - last}}); len(f) > 0 {
				panic(f[0].Err)
			}
			last = v
		}
	}},
	{"truncate, then write (Scaphandre)", func(t *testing.T, dir string) func(energy.Energy) {
		path := guestcounter.Path(dir, "vm")
		return func(v energy.Energy) {
			// os.WriteFile opens with O_TRUNC, then writes: Scaphandre's fs::write.
			if err := os.WriteFile(path, strconv.AppendUint(nil, uint64(v), 10), 0o644); err != nil {
				panic(err)
			}
			// Without a pause, the file is empty nine reads in ten (measured
			// here), and on a loaded machine (the race detector, other tests)
			// for ten samples in a row: more than any real writer, which
			// rewrites it every few seconds. 100 µs still makes thousands of
			// rewrites a second.
			time.Sleep(100 * time.Microsecond)
		}
	}},
	{"new file renamed over it", func(t *testing.T, dir string) func(energy.Energy) {
		path := guestcounter.Path(dir, "vm")
		tmp := path + ".tmp"
		return func(v energy.Energy) {
			if err := os.WriteFile(tmp, strconv.AppendUint(nil, uint64(v), 10), 0o644); err != nil {
				panic(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				panic(err)
			}
		}
	}},
}

// TestThreeWriters: the vm source reads counters rewritten as fast as their
// writers can, in each of the three ways hypervisors write them, all at
// once. It never stops (which would make powerinput fall back to the
// model), never takes a value that goes backwards or jumps, and the energy
// of its intervals adds up to exactly what was written.
func TestThreeWriters(t *testing.T) {
	d := 700 * time.Millisecond
	if v, err := time.ParseDuration(os.Getenv("POWERINPUT_HAMMER")); err == nil {
		d = v
	}
	// One style after the other: three writers spinning at once on a
	// two-core machine starve each other, and a truncating writer taken off
	// its core between truncating and writing leaves the file empty for a
	// whole time slice, many samples long.
	for _, style := range writerStyles {
		var wg sync.WaitGroup
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "vm", guestcounter.Zone), 0o755); err != nil {
			t.Fatal(err)
		}
		write := style.start(t, dir)
		const base = energy.Energy(5_000_000_000)
		write(base)
		// vm_stale_intervals = 10, as the end-to-end guests have it.
		src := New(source.Env{VMPowercapPath: filepath.Join(dir, "vm"), StaleIntervals: 10}).(*Source)
		if err := src.Probe(time.Time{}); err != nil {
			t.Fatal(err)
		}
		var upper, writes atomic.Uint64
		upper.Store(uint64(base))
		stop := make(chan struct{})
		finished := make(chan energy.Energy, 1)
		wg.Add(2)
		go func() {
			defer wg.Done()
			v := base
			for i := 1; ; i++ {
				select {
				case <-stop:
					finished <- v
					return
				default:
				}
				v += energy.Energy(1 + (i*7919)%97)
				upper.Store(uint64(v))
				write(v)
				writes.Add(1)
				// Six goroutines spin on two cores: let the others run, or
				// a writer taken off its core between its truncation and
				// its write leaves the file empty for a whole time slice.
				runtime.Gosched()
			}
		}()
		go func() {
			defer wg.Done()
			var sum energy.Energy
			samples, measured, held := 0, 0, 0
			var baseline energy.Energy
			check := func(r *meter.Result, err error) {
				samples++
				if err != nil {
					t.Errorf("%s: sample %d: the source stopped (powerinput would fall back to the model): %v", style.name, samples, err)
					return
				}
				for _, p := range r.Problems {
					if p.Kind != meter.ReadFailed || !p.Held {
						t.Errorf("%s: %s: %v (written %d, at %s)", style.name, p.Kind, p.Err, upper.Load(), time.Now().Format("05.000000"))
					}
				}
				if r.Held {
					held++
				}
				for _, p := range r.Parts {
					measured++
					sum += p.Energy
				}
				if v, ok := src.counters.Meter().Channels[0].Value(); ok && uint64(v) > upper.Load() {
					t.Errorf("%s: took %d, above the %d written", style.name, v, upper.Load())
				}
			}
			// The baseline: a read that finds the file empty leaves none (and
			// no interval is lost yet), so the next sample tries again.
			for tries := 0; ; tries++ {
				r, err := src.Sample(time.Time{})
				if err != nil || tries == 100 {
					t.Errorf("%s: no baseline after %d samples: %v", style.name, tries+1, err)
					break
				}
				v, primed := src.counters.Meter().Channels[0].Value()
				if primed && !r.Held {
					baseline = v
					break
				}
				time.Sleep(time.Millisecond)
			}
			samples++
			deadline := time.Now().Add(d)
			for time.Now().Before(deadline) {
				// A guest reads far less often than this writer writes: wait
				// for a few writes (the machine may be busy with other tests).
				from := writes.Load()
				for w := 0; writes.Load() < from+8 && w < 200; w++ {
					time.Sleep(500 * time.Microsecond)
				}
				check(src.Sample(time.Time{}))
			}
			close(stop)
			final := <-finished
			// The last value is written: one more sample takes it.
			time.Sleep(5 * time.Millisecond)
			check(src.Sample(time.Time{}))
			last, _ := src.counters.Meter().Channels[0].Value()
			t.Logf("%s: %d samples, %d measured, %d held (the file was empty, or had not moved); %d µJ measured from %d to %d", style.name, samples, measured, held, sum, baseline, last)
			if last != final || sum != last-baseline {
				t.Errorf("%s: measured %d µJ from %d to %d, written %d (want the sum to be exact)", style.name, sum, baseline, last, final-baseline)
			}
			src.Close()
		}()
		wg.Wait()
	}
}
