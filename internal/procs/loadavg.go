package procs

import (
	"bytes"
	"fmt"

	"github.com/greencampus/powerinput/internal/kfile"
)

// ParseLastPID reads the last PID allocated from the text of
// /proc/loadavg ("0.52 0.58 0.59 3/219 12003"): its fifth field, the
// last PID the reader's PID namespace gave out. The fourth field must be
// "running/total", and the fifth a PID (1 to 2^22, the kernel's limit).
func ParseLastPID(b []byte) (uint32, error) {
	line, _ := kfile.NextLine(b)
	var f []byte
	for range 3 {
		if f, line = kfile.NextField(line); len(f) == 0 {
			return 0, fmt.Errorf("loadavg: fewer than five fields: %w", ErrSyntax)
		}
	}
	f, line = kfile.NextField(line)
	run, total, ok := bytes.Cut(f, []byte("/"))
	if _, ok1 := kfile.Uint(run); !ok || !ok1 {
		return 0, fmt.Errorf("loadavg: fourth field is not running/total: %w", ErrSyntax)
	}
	if _, ok := kfile.Uint(total); !ok {
		return 0, fmt.Errorf("loadavg: fourth field is not running/total: %w", ErrSyntax)
	}
	f, _ = kfile.NextField(line)
	pid, ok := kfile.Uint(f)
	if !ok || pid == 0 || pid > 1<<22 {
		return 0, fmt.Errorf("loadavg: fifth field is not a PID: %w", ErrSyntax)
	}
	return uint32(pid), nil
}

// LastPID reads, again and again, the last PID allocated in this
// process's PID namespace from a procfs's loadavg, kept open: one pread a
// read. It moves whenever a process or thread is made, in this namespace
// or one below it.
type LastPID struct {
	path string
	f    *kfile.File
	err  error // the first lasting failure: not tried again
	buf  [128]byte
}

// NewLastPID reads procRoot's loadavg; nothing is opened before the first
// Read. procRoot must number processes as this process's namespace does.
func NewLastPID(procRoot kfile.ProcRoot) *LastPID {
	return &LastPID{path: procRoot.Path("loadavg")}
}

// Read returns the last PID allocated. After a lasting error (no file,
// a file not as expected: a procfs that is not Linux's) the file is not
// read again, and every Read returns that error; after a passing one
// (interrupted, short of descriptors or memory: see passing) the next
// Read tries again.
func (l *LastPID) Read() (uint32, error) {
	if l.err != nil {
		return 0, l.err
	}
	pid, err := l.read()
	if err != nil {
		l.Close()
		if !transient(err) {
			l.err = err
		}
	}
	return pid, err
}

func (l *LastPID) read() (uint32, error) {
	if l.f == nil {
		f, err := kfile.Open(l.path)
		if err != nil {
			return 0, err
		}
		l.f = f
	}
	n, err := l.f.ReadAt(l.buf[:], 0)
	if err == nil && n == len(l.buf) {
		err = kfile.ErrTooLarge // its fifth field may be cut
	}
	if err == nil {
		var pid uint32
		if pid, err = ParseLastPID(l.buf[:n]); err == nil {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("%s: %w", l.path, err)
}

// Close closes the file; a later Read opens it again (unless it failed).
func (l *LastPID) Close() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
