package guestcounter

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxLocksSize bounds what is read of /proc/locks (one line per lock held
// on the machine).
const maxLocksSize = 8 << 20

// LockHolder is the PID of the writer that holds dir's lock, 0 if none,
// -1 if its PID is unknown. It reads the kernel's table of locks at locks
// (<host_proc>/locks; the kernel numbers its PIDs as the PID namespace of
// that procfs mount does, so a host's procfs gives the host's PIDs) and
// never takes the lock itself, so it cannot make a
// writer that starts at that moment think another holds the folder. Where
// that table cannot be read, it takes the lock shared for a moment (a
// writer starting then tries again).
func LockHolder(locks, dir string) int {
	var st syscall.Stat_t
	if syscall.Stat(dir, &st) != nil {
		return 0
	}
	if f, err := os.Open(locks); err == nil {
		defer f.Close()
		pid, held, err := ParseLocks(io.LimitReader(f, maxLocksSize), unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev)), st.Ino)
		if err == nil {
			switch {
			case !held:
				return 0
			case pid > 0:
				return pid
			}
			return -1
		}
	}
	fd, err := openDir(dir)
	if err != nil {
		return 0
	}
	defer syscall.Close(fd)
	if syscall.Flock(fd, syscall.LOCK_SH|syscall.LOCK_NB) == nil {
		syscall.Flock(fd, syscall.LOCK_UN)
		return 0
	}
	if pid := lockPID(fd); pid > 0 {
		return pid
	}
	return -1
}

// ParseLocks reads r, in the format of /proc/locks, for a FLOCK lock held
// (not waited for) on the file major:minor:ino, and returns its holder's
// PID (0 when the line gives none). Lines of another shape are passed
// over; the error is the reader's.
//
//	1: FLOCK  ADVISORY  WRITE 1234 fd:01:4071 0 EOF
func ParseLocks(r io.Reader, major, minor uint32, ino uint64) (pid int, held bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), 4096)
	want := fmt.Sprintf("%02x:%02x:%d", major, minor, ino)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[1] != "FLOCK" {
			continue // "->" marks a waiter; POSIX, OFDLCK, LEASE are not ours
		}
		if !sameFile(f[5], want) {
			continue
		}
		n, err := strconv.Atoi(f[4])
		if err != nil || n < 0 {
			n = 0
		}
		return n, true, nil
	}
	return 0, false, sc.Err()
}

// sameFile compares a /proc/locks file field with want, both
// major:minor:inode, the numbers compared as numbers (the kernel pads
// major and minor to two hex digits, not more).
func sameFile(field, want string) bool {
	if field == want {
		return true
	}
	a, b := strings.Split(field, ":"), strings.Split(want, ":")
	if len(a) != 3 || len(b) != 3 {
		return false
	}
	for i, base := range []int{16, 16, 10} {
		x, err1 := strconv.ParseUint(a[i], base, 64)
		y, err2 := strconv.ParseUint(b[i], base, 64)
		if err1 != nil || err2 != nil || x != y {
			return false
		}
	}
	return true
}
