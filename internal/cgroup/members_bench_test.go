package cgroup

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkProcs is a walk and the lists of 200 workload groups, every
// one listed as when all have run (5 processes each, in a test tree in
// memory): "reread" with a PID
// allocated before every walk (each cgroup.procs read, each subtree
// listed), "memory" with none (the lists given from the last read, and
// re-read every RefreshWalks).
func BenchmarkProcs(b *testing.B) {
	for _, mode := range []struct {
		name string
		fork bool
	}{{"reread", true}, {"memory", false}} {
		b.Run("groups=200/"+mode.name, func(b *testing.B) {
			c := memCgtree(b)
			pid := 100
			benchGroups(b, c.root, func(rel string) {
				c.set(b, rel, time.Second)
				write(b, filepath.Join(c.root, rel, "cgroup.procs"), fmt.Sprintf("%d\n%d\n%d\n%d\n%d\n", pid, pid+1, pid+2, pid+3, pid+4))
				pid += 5
			})
			w := NewWalker(Hierarchy{Dir: c.root, V2: true})
			w.noSkip = true
			defer w.Close()
			last := uint32(1000)
			w.Walk()
			w.ProcsSince(true, last)
			var files, reused int
			b.ReportAllocs()
			for b.Loop() {
				if mode.fork {
					last++
				}
				if _, err := w.Walk(); err != nil {
					b.Fatal(err)
				}
				ms, err := w.ProcsSince(true, last)
				if err != nil || len(ms) < 200 {
					b.Fatal(err, len(ms))
				}
				n := w.Count()
				files += n.Files
				reused += n.Reused
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*200), "ns/group")
			b.ReportMetric(float64(files)/float64(b.N), "procs-reads/op")
			b.ReportMetric(float64(reused)/float64(b.N), "reused/op")
		})
	}
}
