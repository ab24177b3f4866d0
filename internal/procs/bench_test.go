package procs

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"unsafe"

	"github.com/greencampus/powerinput/internal/kfile"
)

// benchTree is a tree of n processes under 20 names, half of which use CPU
// time between two scans (a tick each), written outside the timed part.
type benchTree struct {
	*tree
	procs []proc
}

func newBenchTree(b *testing.B, n int) *benchTree {
	b.Helper()
	bt := &benchTree{tree: memTree(b)}
	for i := range n {
		p := proc{pid: 100 + i, comm: "prog" + strconv.Itoa(i%20), utime: 100_000_000, stime: 100, start: uint64(i)}
		bt.set(b, p)
		bt.procs = append(bt.procs, p)
	}
	return bt
}

func (bt *benchTree) advance(b *testing.B) {
	b.StopTimer()
	for i := 0; i < len(bt.procs); i += 2 {
		bt.procs[i].utime++
		bt.set(b, bt.procs[i])
	}
	b.StartTimer()
}

func (bt *benchTree) pids() []int {
	out := make([]int, len(bt.procs))
	for i, p := range bt.procs {
		out[i] = p.pid
	}
	return out
}

// BenchmarkScan is one scan of n processes in a test tree, steady state:
// "kept" keeps every stat file open (Options.Files above n), "reopen"
// opens, reads and closes each at every scan (Files < 0), "default" keeps
// DefaultFiles of them. Compare with BenchmarkFloor.
func BenchmarkScan(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		for _, mode := range []struct {
			name  string
			files int
		}{{"kept", 2 * n}, {"default", 0}, {"reopen", -1}} {
			if mode.name == "default" && n <= DefaultFiles {
				continue // the same as kept
			}
			b.Run(fmt.Sprintf("pids=%d/%s", n, mode.name), func(b *testing.B) {
				bt := newBenchTree(b, n)
				s := NewScanner(kfile.ProcRoot(bt.root), Options{Files: mode.files})
				defer s.Close()
				s.Scan()
				b.ReportAllocs()
				for b.Loop() {
					bt.advance(b)
					r, err := s.Scan()
					if err != nil || r.Processes != n || len(r.Names) != 10 {
						b.Fatalf("scan: %v, %+v", err, r)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/pid")
			})
		}
	}
}

// BenchmarkFloor is the least a scan can do per process: "open-read-close"
// opens, reads and closes one small file per PID with bare system calls
// on names built beforehand (no fstat, no parsing, no listing); "read"
// only reads files kept open. BenchmarkScan's reopen and kept modes are
// to be compared with these.
func BenchmarkFloor(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("pids=%d/open-read-close", n), func(b *testing.B) {
			bt := newBenchTree(b, n)
			floorOpenReadClose(b, bt, bt.root, bt.pids())
		})
		b.Run(fmt.Sprintf("pids=%d/read", n), func(b *testing.B) {
			bt := newBenchTree(b, n)
			floorRead(b, bt, bt.root, bt.pids())
		})
	}
}

// The floors advance a test tree as BenchmarkScan does (bt, nil for
// /proc), outside the timed part, so both read files just written.
func floorOpenReadClose(b *testing.B, bt *benchTree, root string, pids []int) {
	dfd, err := syscall.Open(root, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer syscall.Close(dfd)
	names := make([][]byte, len(pids))
	for i, pid := range pids {
		names[i] = []byte(strconv.Itoa(pid) + "/stat\x00")
	}
	var buf [512]byte
	b.ReportAllocs()
	for b.Loop() {
		if bt != nil {
			bt.advance(b)
		}
		for _, name := range names {
			fd, _, e := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(dfd), uintptr(unsafe.Pointer(&name[0])), syscall.O_RDONLY, 0, 0, 0)
			if e != 0 {
				continue // a process that ended (real /proc)
			}
			syscall.Read(int(fd), buf[:])
			syscall.Close(int(fd))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pids)), "ns/pid")
}

func floorRead(b *testing.B, bt *benchTree, root string, pids []int) {
	var fds []int
	for _, pid := range pids {
		fd, err := syscall.Open(root+"/"+strconv.Itoa(pid)+"/stat", syscall.O_RDONLY, 0)
		if err != nil {
			continue
		}
		fds = append(fds, fd)
	}
	defer func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}()
	var buf [512]byte
	b.ReportAllocs()
	for b.Loop() {
		if bt != nil {
			bt.advance(b)
		}
		for _, fd := range fds {
			syscall.Pread(fd, buf[:], 0)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(fds)), "ns/pid")
}

// BenchmarkRealProc scans this machine's /proc, beside the floor on the
// same processes: procfs builds each stat file when it is read, which a
// test tree does not show.
func BenchmarkRealProc(b *testing.B) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("no /proc")
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	for _, mode := range []struct {
		name  string
		files int
	}{{"scan-kept", 1 << 20}, {"scan-reopen", -1}} {
		b.Run(mode.name, func(b *testing.B) {
			s := NewScanner("/proc", Options{Files: mode.files})
			defer s.Close()
			s.Scan()
			b.ReportAllocs()
			procs := 0
			for b.Loop() {
				r, err := s.Scan()
				if err != nil {
					b.Fatal(err)
				}
				procs += r.Processes
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(procs), "ns/pid")
		})
	}
	// Every process in one group that ran, as the processes of a service
	// whose usage moved: those that slept since the previous scan are
	// told by their schedstat, and their stat is not read.
	b.Run("groups-ran", func(b *testing.B) {
		s := NewScanner("/proc", Options{Files: 1 << 20})
		defer s.Close()
		pids32 := make([]uint32, len(pids))
		for i, pid := range pids {
			pids32[i] = uint32(pid)
		}
		groups := []Group{{Key: "/", Read: true, Fresh: true, PIDs: pids32}}
		s.ScanGroups(groups)
		s.ScanGroups(groups) // every process known, with its run time
		b.ReportAllocs()
		procs, read := 0, 0
		for b.Loop() {
			r, err := s.ScanGroups(groups)
			if err != nil {
				b.Fatal(err)
			}
			procs += r.Processes
			read += r.Read
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(procs), "ns/pid")
		b.ReportMetric(float64(read)/float64(b.N), "stat-reads/op")
	})
	b.Run("floor-open-read-close", func(b *testing.B) { floorOpenReadClose(b, nil, "/proc", pids) })
	b.Run("floor-read", func(b *testing.B) { floorRead(b, nil, "/proc", pids) })
}

func BenchmarkParseStat(b *testing.B) {
	line := []byte(statLine(proc{pid: 12345, comm: "postgres", utime: 123456, stime: 7890, start: 987654321}))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseStat(line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanGroupsIdle: 1,000 processes of which 50 in a group that
// ran, the others in groups that did not: the scan's own work beside the
// reads of the 50 (their stat files kept, in a test tree in memory).
func BenchmarkScanGroupsIdle(b *testing.B) {
	tr := memTree(b)
	var ran []uint32
	idle := make([][]uint32, 10)
	for i := range 1000 {
		p := proc{pid: 100 + i, comm: fmt.Sprint("p", i%20), start: uint64(i)}
		tr.set(b, p)
		if i%20 == 0 {
			ran = append(ran, uint32(p.pid))
		} else {
			idle[i%10] = append(idle[i%10], uint32(p.pid))
		}
	}
	s := NewScanner(kfile.ProcRoot(tr.root), Options{})
	defer s.Close()
	groups := []Group{{Key: "ran", Read: true, Fresh: true, PIDs: ran}}
	for i, pids := range idle {
		groups = append(groups, Group{Key: fmt.Sprint("idle", i), Read: true, Fresh: true, PIDs: pids})
	}
	s.ScanGroups(groups)
	for i := range groups[1:] {
		groups[1+i].Read = false
	}
	b.ReportAllocs()
	for b.Loop() {
		if r, err := s.ScanGroups(groups); err != nil || r.Processes != 1000 || r.Read != 50 {
			b.Fatal(err, r)
		}
	}
}
