package procs

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/kfile"
)

const tick = time.Second / TicksPerSecond

// byName returns a scan's names as "name" → ticks ("[name]" for kernel
// threads).
func byName(t *testing.T, r *Result) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, n := range r.Names {
		key := n.Name
		if n.Kernel {
			key = "[" + key + "]"
		}
		if _, dup := out[key]; dup {
			t.Fatalf("name %q given twice", key)
		}
		out[key] = int(n.CPU / tick)
	}
	return out
}

func scan(t *testing.T, s *Scanner) *Result {
	t.Helper()
	r, err := s.Scan()
	require.NoError(t, err)
	return r
}

func TestScan(t *testing.T) {
	for _, files := range []int{0, 2, -1} { // all kept, two kept, none
		t.Run("files="+map[int]string{0: "default", 2: "2", -1: "none"}[files], func(t *testing.T) {
			tr := newTree(t)
			nginx1 := proc{pid: 100, comm: "nginx", utime: 500, stime: 100, start: 1000}
			nginx2 := proc{pid: 101, comm: "nginx", utime: 50, stime: 10, start: 1001}
			odd := proc{pid: 150, comm: "a) b (c", utime: 7, start: 1002}
			kw0 := proc{pid: 7, comm: "kworker/0:1-events", kernel: true, stime: 30, start: 5}
			kw1 := proc{pid: 8, comm: "kworker/1:0H", kernel: true, stime: 20, start: 6}
			fake := proc{pid: 200, comm: "kworker", utime: 1, start: 1003} // a program calling itself kworker
			for _, p := range []proc{nginx1, nginx2, odd, kw0, kw1, fake} {
				tr.set(t, p)
			}
			s := NewScanner(kfile.ProcRoot(tr.root), Options{Files: files})
			defer s.Close()
			r := scan(t, s)
			require.True(t, r.Baseline)
			require.Empty(t, r.Names, "the first scan has nothing to compare with")
			require.Equal(t, 6, r.Processes)

			nginx1.utime += 80
			nginx2.stime += 20
			odd.utime += 3
			kw0.stime += 4
			kw1.stime += 6
			fake.utime += 2
			for _, p := range []proc{nginx1, nginx2, odd, kw0, kw1, fake} {
				tr.set(t, p)
			}
			r = scan(t, s)
			require.False(t, r.Baseline)
			require.Equal(t, map[string]int{"nginx": 100, "a) b (c": 3, "[kworker]": 10, "kworker": 2}, byName(t, r))
			switch files {
			case 0:
				require.Equal(t, 6, s.Kept())
			case 2:
				require.Equal(t, 2, s.Kept())
			default:
				require.Zero(t, s.Kept())
			}

			// nginx2 exits; a new process starts (all its time is new);
			// PID 100 is reused by another program, which started after
			// the previous scan: its own 30 ticks count, not 30 less
			// nginx's 680 (a negative spike) nor nginx's 680; a process
			// renames itself (exec) and goes on from where it was.
			tr.exit(t, 101)
			tr.set(t, proc{pid: 300, comm: "gcc", utime: 40, start: 2000})
			tr.exit(t, 100)
			tr.set(t, proc{pid: 100, comm: "sh", utime: 30, start: 2001})
			odd.comm, odd.utime = "python3", odd.utime+5
			tr.set(t, odd)
			r = scan(t, s)
			require.Equal(t, map[string]int{"gcc": 40, "sh": 30, "python3": 5}, byName(t, r))
			require.Equal(t, 6, r.Processes)

			// Nothing moved: no names.
			r = scan(t, s)
			require.Empty(t, r.Names)
			require.LessOrEqual(t, s.Kept(), max(files, 6))
		})
	}
}

// A process that started before others already seen, but was not listed
// by the previous scan (it could have been counted then), starts from a
// baseline: its time is never counted twice.
func TestLateProcessIsABaseline(t *testing.T) {
	tr := newTree(t)
	tr.set(t, proc{pid: 10, comm: "a", utime: 10, start: 500})
	s := NewScanner(kfile.ProcRoot(tr.root), Options{})
	defer s.Close()
	scan(t, s)
	tr.set(t, proc{pid: 11, comm: "b", utime: 70, start: 400})
	r := scan(t, s)
	require.Empty(t, r.Names)
	tr.set(t, proc{pid: 11, comm: "b", utime: 75, start: 400})
	r = scan(t, s)
	require.Equal(t, map[string]int{"b": 5}, byName(t, r))
}

func TestScanLimitsAndErrors(t *testing.T) {
	tr := newTree(t)
	for pid := 1; pid <= 5; pid++ {
		tr.set(t, proc{pid: pid, comm: "p", start: uint64(pid)})
	}
	s := NewScanner(kfile.ProcRoot(tr.root), Options{Max: 3})
	r := scan(t, s)
	require.True(t, r.Truncated)
	require.Equal(t, 3, r.Processes)
	s.Close()

	// A garbled stat is counted and said, without its content.
	os.WriteFile(tr.root+"/4/stat", []byte("4 (p) S secret\n"), 0o644)
	s = NewScanner(kfile.ProcRoot(tr.root), Options{})
	r = scan(t, s)
	require.Equal(t, 4, r.Processes)
	require.Equal(t, 1, r.Unreadable)
	require.ErrorIs(t, r.Err, ErrSyntax)
	require.NotContains(t, r.Err.Error(), "secret")
	s.Close()

	_, err := NewScanner(kfile.ProcRoot(tr.root+"/nope"), Options{}).Scan()
	require.Error(t, err)
}

// A stream of new names (a fork bomb of random names) does not grow the
// name table for ever.
func TestNamesAreForgotten(t *testing.T) {
	tr := newTree(t)
	s := NewScanner(kfile.ProcRoot(tr.root), Options{Files: -1})
	defer s.Close()
	for round := 0; round < 30; round++ {
		for i := range 100 {
			pid := 1000 + i
			tr.set(t, proc{pid: pid, comm: strings.Repeat("x", i%7) + string(rune('a'+round%26)) + string(rune('a'+i%26)), utime: uint64(round), start: uint64(round*1000 + i)})
		}
		scan(t, s)
		require.LessOrEqual(t, len(s.names), 2*100+1024)
	}
	require.Equal(t, len(s.byName[0]), len(s.names))
}

// Steady state: no allocation per process.
func TestScanDoesNotAllocate(t *testing.T) {
	tr := newTree(t)
	ps := make([]proc, 300)
	for i := range ps {
		ps[i] = proc{pid: 10 + i, comm: []string{"nginx", "postgres", "sshd"}[i%3], start: uint64(i)}
		tr.set(t, ps[i])
	}
	// Two versions of the first 30 files, written in turn: CPU time moves
	// at every other scan.
	var lines [2][][]byte
	for v := range lines {
		for i := range ps[:30] {
			p := ps[i]
			p.utime = uint64(v)
			lines[v] = append(lines[v], []byte(statLine(p)))
		}
	}
	for _, files := range []int{0, -1} {
		s := NewScanner(kfile.ProcRoot(tr.root), Options{Files: files})
		scan(t, s)
		scan(t, s)
		n := 0
		allocs := testing.AllocsPerRun(20, func() {
			n++
			for i := range ps[:30] {
				tr.files[ps[i].pid].WriteAt(lines[n%2][i], 0)
			}
			if _, err := s.Scan(); err != nil {
				t.Fatal(err)
			}
		})
		require.Zero(t, allocs, "files=%d", files)
		s.Close()
	}
}

// The real /proc reads, and this test process is among what it finds.
func TestRealProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	s := NewScanner("/proc", Options{})
	defer s.Close()
	scan(t, s)
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) { // use some CPU
	}
	r := scan(t, s)
	require.Greater(t, r.Processes, 1)
	names := byName(t, r)
	self := strings.TrimSpace(string(must(os.ReadFile("/proc/self/comm"))))
	require.Contains(t, names, self, "this test used CPU time: %v", names)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
