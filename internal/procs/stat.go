// Package procs measures the CPU time of a machine's processes, by program
// name, from /proc/<pid>/stat under a configurable procfs root, cheaply
// enough to run every second: one read of one small file per process, no
// allocation per process once warm.
package procs

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/greencampus/powerinput/internal/kfile"
)

// ErrSyntax is wrapped by the errors of ParseStat, ParseSchedstat and
// ParseLastPID.
var ErrSyntax = errors.New("invalid /proc/<pid> file")

// TicksPerSecond is the unit of /proc's times (USER_HZ), 100 on every
// architecture Linux runs on today, whatever the kernel's own HZ.
const TicksPerSecond = 100

// maxComm is the longest name a stat file shows (proc_task_name's buffer
// of 64 bytes, less its NUL).
const maxComm = 63

// pfKthread is the flags bit of a kernel thread (PF_KTHREAD).
const pfKthread = 0x00200000

// Stat is what a process's stat file says that this package uses.
type Stat struct {
	PID uint64
	// Comm is the program's name as the kernel keeps it (the executable's
	// base name cut to 15 bytes, or what the process set with prctl); it
	// aliases the parsed bytes.
	Comm []byte
	// Kernel: a kernel thread (PF_KTHREAD), not a program.
	Kernel bool
	// CPU is user plus system time of all the process's threads, those
	// that have ended included, in ticks (TicksPerSecond).
	CPU uint64
	// Start is when the process started, in ticks after boot: with the
	// PID, it names one process (a PID is reused, a start time is not).
	Start uint64
	// Threads is how many threads the process has (0 when the field is
	// not a count).
	Threads uint64
}

// ParseStat parses the start of a /proc/<pid>/stat: "pid (comm) state ppid
// … flags … utime stime … starttime …". The name may hold spaces and
// parentheses, so it ends at the last ')' within its longest length. Only the fields up to starttime
// are needed, so a read cut after them parses. Errors say what is wrong,
// never what the file held. It does not allocate.
func ParseStat(b []byte) (Stat, error) {
	var st Stat
	open := bytes.IndexByte(b, '(')
	if open < 1 {
		return st, fmt.Errorf("no (name): %w", ErrSyntax)
	}
	// The name is at most 63 bytes (the kernel's buffer for it is 64), so
	// its ')' is the last one of the window that follows '(': numbers
	// hold none.
	window := b[open:min(len(b), open+1+maxComm+1)]
	end := open + bytes.LastIndexByte(window, ')')
	if end <= open {
		return st, fmt.Errorf("no (name): %w", ErrSyntax)
	}
	pid, ok := kfile.Uint(bytes.TrimRight(b[:open], " "))
	if !ok || pid == 0 || pid > 1<<22 { // PID_MAX_LIMIT
		return st, fmt.Errorf("pid is not a number up to 4194304: %w", ErrSyntax)
	}
	st.PID = pid
	st.Comm = b[open+1 : end]
	// The fields after the name, from 0: state 0, flags 6, utime 11,
	// stime 12, num_threads 17, starttime 19. Those between may be
	// negative and are only skipped.
	var vals [20]uint64
	rest := b[end+1:]
	i, n := 0, len(rest)
	for field := 0; field < 20; field++ {
		for i < n && (rest[i] == ' ' || rest[i] == '\t') {
			i++
		}
		from := i
		for i < n && rest[i] != ' ' && rest[i] != '\t' && rest[i] != '\n' {
			i++
		}
		if i == from {
			return st, fmt.Errorf("%d fields after the name, want at least 20: %w", field, ErrSyntax)
		}
		if field == 6 || field >= 11 && field <= 12 || field == 19 {
			v, ok := kfile.Uint(rest[from:i])
			if !ok {
				return st, fmt.Errorf("field %d is not a decimal counter: %w", field+3, ErrSyntax)
			}
			vals[field] = v
		}
		if field == 17 {
			st.Threads, _ = kfile.Uint(rest[from:i])
		}
	}
	utime, stime := vals[11], vals[12]
	if utime > 1<<62 || stime > 1<<62 {
		return st, fmt.Errorf("CPU time beyond any machine's: %w", ErrSyntax)
	}
	st.Kernel = vals[6]&pfKthread != 0
	st.CPU = utime + stime
	st.Start = vals[19]
	return st, nil
}

// KernelName is the name a kernel thread's time is gathered under: its
// name up to the first '/', so that the per-CPU threads (ksoftirqd/0,
// ksoftirqd/1) and the workers (kworker/3:1-events) make one name each.
func KernelName(comm []byte) []byte {
	if i := bytes.IndexByte(comm, '/'); i > 0 {
		return comm[:i]
	}
	return comm
}

// ParseSchedstat returns the first number of a /proc/<pid>/schedstat: the
// time the task (the process's first thread only, not its other threads)
// has run, in nanoseconds. A kernel without scheduler statistics writes
// "0 0 0". Errors say what is wrong, never what the file held.
func ParseSchedstat(b []byte) (uint64, error) {
	line, _ := kfile.NextLine(b)
	f, _ := kfile.NextField(line)
	n, ok := kfile.Uint(f)
	if !ok {
		return 0, fmt.Errorf("schedstat: run time is not a decimal counter: %w", ErrSyntax)
	}
	return n, nil
}
