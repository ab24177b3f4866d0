package cgroup

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/greencampus/powerinput/internal/fixtures"
)

// benchGroups makes 200 workload groups as a busy host has them: 150
// services (some in template slices), 30 containers, 10 pods, 10 users,
// under their slices.
func benchGroups(b *testing.B, root string, set func(rel string)) []string {
	b.Helper()
	rels := fixtures.ServiceGroups()
	for _, rel := range rels {
		set(rel)
	}
	return rels
}

// BenchmarkWalk is one walk of 200 workload groups in a test tree in
// memory (tmpfs where there is one): "kept" keeps every usage file open,
// "reopen" opens, reads and closes each. Compare with
// BenchmarkWalkFloor.
func BenchmarkWalk(b *testing.B) {
	for _, mode := range []struct {
		name  string
		files int
	}{{"kept", DefaultFiles}, {"reopen", 0}} {
		b.Run("groups=200/"+mode.name, func(b *testing.B) {
			c := memCgtree(b)
			benchGroups(b, c.root, func(rel string) { c.set(b, rel, time.Second) })
			w := NewWalker(Hierarchy{Dir: c.root, V2: true})
			w.files = mode.files
			defer w.Close()
			w.Walk()
			b.ReportAllocs()
			for b.Loop() {
				r, err := w.Walk()
				if err != nil || len(r.Workloads) != 200 {
					b.Fatal(err, len(r.Workloads))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*200), "ns/group")
		})
	}
	b.Run("groups=200/floor-open-read-close", func(b *testing.B) {
		c := memCgtree(b)
		rels := benchGroups(b, c.root, func(rel string) { c.set(b, rel, time.Second) })
		floorGroups(b, c.root, rels)
	})
}

func memCgtree(b *testing.B) *cgtree {
	dir, err := os.MkdirTemp("/dev/shm", "cgroup-bench-")
	if err != nil {
		return newCgtree(b, true)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	write(b, filepath.Join(dir, "cgroup.controllers"), "cpu\n")
	return &cgtree{root: dir, v2: true}
}

// floorGroups opens, reads and closes each group's cpu.stat with bare
// system calls on names built beforehand.
func floorGroups(b *testing.B, root string, rels []string) {
	dfd, err := syscall.Open(root, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer syscall.Close(dfd)
	var names [][]byte
	for _, rel := range rels {
		names = append(names, []byte(rel+"/cpu.stat\x00"))
	}
	var buf [512]byte
	b.ReportAllocs()
	for b.Loop() {
		for _, name := range names {
			fd, _, e := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(dfd), uintptr(unsafe.Pointer(&name[0])), syscall.O_RDONLY, 0, 0, 0)
			if e != 0 {
				b.Fatal(e)
			}
			syscall.Read(int(fd), buf[:])
			syscall.Close(int(fd))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rels)), "ns/group")
}

// BenchmarkWalkCgroupfs walks 200 real control groups, made for it in this
// machine's cgroup v2 hierarchy (as root; skipped otherwise): cgroupfs
// builds cpu.stat when it is read, which a test tree does not show.
func BenchmarkWalkCgroupfs(b *testing.B) {
	h, err := Find("/sys")
	if err != nil || !h.V2 {
		b.Skip("no cgroup v2 hierarchy")
	}
	root, err := os.MkdirTemp(h.Dir, "powerinput-bench-")
	if err != nil {
		b.Skipf("cannot make control groups here (root needed): %v", err)
	}
	var made []string
	b.Cleanup(func() {
		for i := len(made) - 1; i >= 0; i-- {
			syscall.Rmdir(made[i])
		}
		syscall.Rmdir(root)
	})
	mkdir := func(rel string) {
		path := filepath.Join(root, rel)
		var parts []string
		for p := path; p != root; p = filepath.Dir(p) {
			parts = append([]string{p}, parts...)
		}
		for _, p := range parts {
			if err := os.Mkdir(p, 0o755); err == nil {
				made = append(made, p)
			} else if !os.IsExist(err) {
				b.Skipf("mkdir: %v", err)
			}
		}
	}
	rels := benchGroups(b, root, mkdir)
	// "idle": nothing in the groups runs, so the walk reads the top
	// directory's usage and stops there; "busy": every group is read, as
	// when all have run: "kept" with its files kept open and the
	// directories watched (not listed again), "reopen" with neither.
	for _, mode := range []struct {
		name   string
		files  int
		noSkip bool
	}{{"idle", DefaultFiles, false}, {"busy-kept", DefaultFiles, true}, {"busy-reopen", 0, true}} {
		b.Run("groups=200/"+mode.name, func(b *testing.B) {
			w := NewWalker(Hierarchy{Dir: root, V2: true})
			w.files, w.noSkip = mode.files, mode.noSkip
			defer w.Close()
			w.Walk()
			b.ReportAllocs()
			for b.Loop() {
				r, err := w.Walk()
				if err != nil || len(r.Workloads) != 200 {
					b.Fatal(err, r)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*200), "ns/group")
		})
	}
	// "members": every group read and its processes listed (Procs), as a
	// walk that guides the process scan does when all have run; the
	// membership files are kept open and read in one pread each.
	b.Run("groups=200/members", func(b *testing.B) {
		w := NewWalker(Hierarchy{Dir: root, V2: true})
		w.noSkip = true
		defer w.Close()
		w.Walk()
		w.Procs(true)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := w.Walk(); err != nil {
				b.Fatal(err)
			}
			if _, err := w.Procs(true); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*200), "ns/group")
	})
	b.Run("groups=200/floor-open-read-close", func(b *testing.B) { floorGroups(b, root, rels) })
}

// BenchmarkWalkActive walks 200 workload groups in a test tree in memory,
// 20 of which (and their slices) ran since the walk before: "read-all"
// reads every group of a slice that ran, as the walk did before it
// skipped sleepers; "skip" reads those that ran and gives the others
// again (see Walker). The writes of the new usages are outside the timer.
func BenchmarkWalkActive(b *testing.B) {
	for _, mode := range []struct {
		name    string
		readAll bool
	}{{"read-all", true}, {"skip", false}} {
		b.Run("groups=200/active=20/"+mode.name, func(b *testing.B) {
			m := &cgmodel{c: memCgtree(b), own: map[string]time.Duration{}}
			rels := fixtures.ServiceGroups()
			for _, rel := range rels {
				m.add(rel)
			}
			m.write(b)
			var active []string
			for i := range 20 {
				active = append(active, rels[i*10+1])
			}
			// Each run writes the group and the slices above it.
			var touched []string
			for _, rel := range active {
				for r := rel; r != "."; r = filepath.Dir(r) {
					if !slices.Contains(touched, r) {
						touched = append(touched, r)
					}
				}
			}
			total := map[string]time.Duration{}
			for _, rel := range touched {
				total[rel] = m.total(rel)
			}
			files := map[string]*os.File{}
			for _, rel := range touched {
				f, err := os.OpenFile(filepath.Join(m.c.root, rel, "cpu.stat"), os.O_WRONLY, 0)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				files[rel] = f
			}
			var text []byte
			run := func() {
				for _, rel := range active {
					for r := rel; r != "."; r = filepath.Dir(r) {
						total[r] += 50 * time.Microsecond
					}
				}
				for _, rel := range touched {
					text = fmt.Appendf(text[:0], "usage_usec %d\nuser_usec 0\nsystem_usec 0\n", total[rel].Microseconds())
					if _, err := files[rel].WriteAt(text, 0); err != nil {
						b.Fatal(err)
					}
					files[rel].Truncate(int64(len(text)))
				}
			}
			w := NewWalker(Hierarchy{Dir: m.c.root, V2: true})
			w.readAll = mode.readAll
			defer w.Close()
			for range 2 {
				run()
				w.Walk()
			}
			reads := 0
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				run()
				b.StartTimer()
				r, err := w.Walk()
				if err != nil || len(r.Workloads) != 200 {
					b.Fatal(err, len(r.Workloads))
				}
				reads += r.Reads
			}
			b.ReportMetric(float64(reads)/float64(b.N), "reads/op")
		})
	}
}
