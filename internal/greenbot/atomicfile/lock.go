package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// ErrLocked: another process holds the lock.
var ErrLocked = errors.New("held by another process")

// Lock is an advisory lock on a state directory, held for as long as the
// process keeps it: the kernel lets it go when the process ends, however
// it ends, so a crash never leaves a stale lock behind.
type Lock struct{ f *os.File }

// TakeLock takes the lock file name in dir (made, with dir, if missing)
// without waiting. When another process holds it, the error wraps
// ErrLocked and names that process by the PID it wrote.
func TakeLock(dir, name string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("lock in %s: %w", dir, err)
	}
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %s: %w", path, holder(f), ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// Ours now: say who holds it, for the message of the next one.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// holder says which process holds the lock, from the PID it wrote.
func holder(f *os.File) string {
	var b [32]byte
	n, _ := f.ReadAt(b[:], 0)
	if pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:n]))); err == nil && pid > 0 {
		return "process " + strconv.Itoa(pid)
	}
	return "another process"
}

// Release lets the lock go.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
