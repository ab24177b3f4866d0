package gatherloop_test

import (
	"context"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/plugins/common/gatherloop"
	"github.com/greencampus/powerinput/plugins/inputs/powerinput"
)

// interval is the time between two prompts of BenchmarkWholeGather.
const interval = 20 * time.Millisecond

// signalWriter tells of each write (one per gather).
type signalWriter chan int

func (w signalWriter) Write(b []byte) (int, error) {
	w <- len(b)
	return len(b), nil
}

// BenchmarkWholeGather runs powerinput on this machine's /proc, /sys and
// cgroupfs through the loop the binary runs: a line on a pipe as stdin
// prompts a gather, whose points are written in one write. ns/op is a
// gather from the prompt to the write, prompted every 20 ms; cpu-us/op is
// the process's CPU time from the prompt to the write (getrusage), which
// counts what wall time does not show: the runtime's threads woken and the
// hand-offs between goroutines.
func BenchmarkWholeGather(b *testing.B) {
	for _, tc := range []struct{ name, conf string }{
		{"defaults", ""},
		{"everything", "services = true\nprocesses = true\nvms = true\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p, err := powerinput.ParseConfig("[[inputs.powerinput]]\ncarbon_intensity_g_per_kwh = 56.0\n" + tc.conf)
			if err != nil {
				b.Fatal(err)
			}
			p.Log = powerinput.NewLineLogger(io.Discard, telegraf.Error)
			if err := p.Init(); err != nil {
				b.Fatal(err)
			}
			stdinR, stdinW, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			out := make(signalWriter, 1)
			done := make(chan error, 1)
			go func() {
				done <- gatherloop.Run(context.Background(), gatherloop.Config{Input: p, Stdin: stdinR, Stdout: out, Log: p.Log})
			}()
			gather := func() int {
				if _, err := stdinW.Write([]byte("\n")); err != nil {
					b.Fatal(err)
				}
				select {
				case n := <-out:
					return n
				case <-time.After(10 * time.Second):
					b.Fatal("no gather written")
				}
				return 0
			}
			gather() // the first interval, from Start's baseline
			var cpu time.Duration
			bytes := 0
			b.ReportAllocs()
			for b.Loop() {
				// An interval between gathers, as Telegraf's, so that
				// counters move and each gather writes its points.
				b.StopTimer()
				time.Sleep(interval)
				b.StartTimer()
				before := cpuTime()
				bytes += gather()
				cpu += cpuTime() - before
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
			b.ReportMetric(float64(bytes)/float64(b.N), "bytes-written/op")
			stdinW.Close()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}

// cpuTime is the CPU time the process has used (getrusage).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
}
