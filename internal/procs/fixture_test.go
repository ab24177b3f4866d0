package procs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// proc is one process of a test tree.
type proc struct {
	pid    int
	comm   string
	kernel bool
	utime  uint64 // ticks
	stime  uint64
	start  uint64
	// threads: 1 when 0.
	threads int
}

// statLine writes a process's stat as the kernel does (fs/proc/array.c:
// do_task_stat), with the fields this package reads and plausible others.
func statLine(p proc) string {
	flags := 0x400140
	if p.kernel {
		flags |= pfKthread
	}
	threads := max(p.threads, 1)
	return fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 %d 120 0 3 0 %d %d 0 0 20 0 %d 0 %d 12345678 345 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		p.pid, p.comm, p.pid, p.pid, flags, p.utime, p.stime, threads, p.start)
}

// tree is a procfs-like directory of processes.
type tree struct {
	root  string
	files map[int]*os.File
	size  map[int]int
}

func newTree(t testing.TB) *tree {
	t.Helper()
	return newTreeIn(t, t.TempDir())
}

// memTree is a tree in memory (tmpfs) where there is one, for
// benchmarks: a disk file system's journal (atime updates after each
// write) would weigh more than the reads measured.
func memTree(t testing.TB) *tree {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "procs-bench-")
	if err != nil {
		return newTree(t)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return newTreeIn(t, dir)
}

func newTreeIn(t testing.TB, root string) *tree {
	t.Helper()
	tr := &tree{root: root, files: map[int]*os.File{}, size: map[int]int{}}
	t.Cleanup(func() {
		for _, f := range tr.files {
			f.Close()
		}
	})
	// What /proc holds besides processes.
	os.WriteFile(filepath.Join(tr.root, "stat"), []byte("cpu  1 0 1 100 0 0 0 0 0 0\n"), 0o644)
	os.MkdirAll(filepath.Join(tr.root, "net"), 0o755)
	os.MkdirAll(filepath.Join(tr.root, "self"), 0o755)
	return tr
}

// set writes the process's stat in place (a fixed width, so that a reader
// never sees a file emptied by truncation).
func (tr *tree) set(t testing.TB, p proc) {
	t.Helper()
	line := statLine(p)
	f := tr.files[p.pid]
	if f == nil {
		dir := filepath.Join(tr.root, strconv.Itoa(p.pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if f, err = os.OpenFile(filepath.Join(dir, "stat"), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644); err != nil {
			t.Fatal(err)
		}
		tr.files[p.pid] = f
	}
	if tr.size[p.pid] != len(line) {
		if err := f.Truncate(int64(len(line))); err != nil {
			t.Fatal(err)
		}
		tr.size[p.pid] = len(line)
	}
	if _, err := f.WriteAt([]byte(line), 0); err != nil {
		t.Fatal(err)
	}
}

// setSched writes the process's schedstat as the kernel does
// (kernel/sched/stats.c: run time and wait time in ns, time slices); pid
// 0 writes self's.
func (tr *tree) setSched(t testing.TB, pid int, run uint64) {
	t.Helper()
	dir := "self"
	if pid != 0 {
		dir = strconv.Itoa(pid)
	}
	if err := os.WriteFile(filepath.Join(tr.root, dir, "schedstat"), fmt.Appendf(nil, "%d 1234 56\n", run), 0o644); err != nil {
		t.Fatal(err)
	}
}

// exit removes the process.
func (tr *tree) exit(t testing.TB, pid int) {
	t.Helper()
	if f := tr.files[pid]; f != nil {
		f.Close()
		delete(tr.files, pid)
	}
	if err := os.RemoveAll(filepath.Join(tr.root, strconv.Itoa(pid))); err != nil {
		t.Fatal(err)
	}
}
