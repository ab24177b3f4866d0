package guestcounter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/kfile"
)

// LockName is the lock file in the folder: a writer holds an exclusive
// flock on it for its life, and writes its PID in it for the message of a
// second one.
const LockName = ".powerinput.lock"

// linkCheckEvery: every that many applies, each open counter is checked
// (one fstat) for having lost its name (a domain's folder removed alone).
// The folder itself is checked at every Apply (one lstat).
const linkCheckEvery = 6

// checkFolder notices that the folder at dir is no longer the one held
// open (removed, renamed, or a file system mounted over it): one lstat,
// compared with the identity of the folder opened. Then every file is let
// go, and openFolder makes the folder again; the counters, held in memory,
// are all written anew.
func (w *Writer) checkFolder() {
	if w.root < 0 {
		return
	}
	var st syscall.Stat_t
	err := kfile.RetryErr(func() error { return syscall.Lstat(w.dir, &st) })
	if err == nil && st.Dev == w.rootID[0] && st.Ino == w.rootID[1] {
		if w.applies%linkCheckEvery == 0 {
			w.checkLinks()
		}
		return
	}
	w.remade = "replaced (by another folder, or a file system mounted over it)"
	if err != nil {
		w.remade = "removed"
	}
	for _, c := range w.counters {
		w.forget(c)
	}
	w.closeFolder()
}

// checkLinks lets go of the counters whose file has no name any more: they
// are made again and rewritten at once.
func (w *Writer) checkLinks() {
	var st syscall.Stat_t
	for _, c := range w.counters {
		if c.fd >= 0 && syscall.Fstat(c.fd, &st) == nil && st.Nlink == 0 {
			w.forget(c)
		}
	}
}

// forget closes a counter's file; its value, when known, is written anew.
func (w *Writer) forget(c *counter) {
	if c.fd >= 0 {
		syscall.Close(c.fd)
		c.fd = -1
	}
	if c.known {
		c.dirty = true
	}
}

// closeFolder closes the folder and its lock file, which lets the lock go.
func (w *Writer) closeFolder() {
	for _, fd := range []*int{&w.root, &w.lock} {
		if *fd >= 0 {
			syscall.Close(*fd)
			*fd = -1
		}
	}
	w.held = false
}

// openFolder opens dir, making it (its last element only) when missing,
// and takes its lock.
func (w *Writer) openFolder() error {
	if w.root < 0 {
		fd, err := openDir(w.dir)
		made := false
		if errors.Is(err, syscall.ENOENT) {
			if err := syscall.Mkdir(w.dir, 0o755); err != nil && err != syscall.EEXIST {
				return &fs.PathError{Op: "mkdir", Path: w.dir, Err: err}
			} else if err == nil {
				made = true
			}
			fd, err = openDir(w.dir)
		}
		if err != nil {
			return &fs.PathError{Op: "open", Path: w.dir, Err: err}
		}
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			syscall.Close(fd)
			return &fs.PathError{Op: "stat", Path: w.dir, Err: err}
		}
		if made {
			syscall.Fchmod(fd, 0o755) // whatever the umask
		}
		w.root, w.rootID = fd, [2]uint64{st.Dev, st.Ino}
	}
	if w.held {
		return nil
	}
	if err := w.takeLock(); err != nil {
		return err
	}
	if w.remade != "" {
		n := 0
		for _, c := range w.counters {
			if c.known {
				n++
			}
		}
		w.fails = append(w.fails, Failure{Err: fmt.Errorf("%s was %s while powerinput ran: %w, and its %d counter(s) rewritten from the values powerinput holds, so that no guest loses energy", w.dir, w.remade, ErrRemade, n)})
		w.remade = ""
	}
	return nil
}

// takeLock takes the folder's lock, or says who holds it.
func (w *Writer) takeLock() error {
	path := filepath.Join(w.dir, LockName)
	if w.lock < 0 {
		fd, err := kfile.Retry(func() (int, error) {
			return syscall.Openat(w.root, LockName, syscall.O_RDWR|syscall.O_CREAT|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o644)
		})
		if err != nil {
			return &fs.PathError{Op: "open", Path: path, Err: err}
		}
		var st syscall.Stat_t
		if syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			syscall.Close(fd)
			return &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("not a regular file: %w", ErrUnsafe)}
		}
		w.lock = fd
	}
	err := kfile.RetryErr(func() error { return syscall.Flock(w.lock, syscall.LOCK_EX|syscall.LOCK_NB) })
	if err == syscall.EWOULDBLOCK {
		return fmt.Errorf("%s: %w (%s), which writes the guests' counters", w.dir, ErrLocked, pidText(readPID(w.lock)))
	}
	if err != nil {
		return &fs.PathError{Op: "lock", Path: path, Err: err}
	}
	w.held = true
	// Ours now: whatever the umask, and our PID for a second one's message.
	syscall.Fchmod(w.lock, 0o644)
	syscall.Ftruncate(w.lock, 0)
	syscall.Pwrite(w.lock, []byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return nil
}

func pidText(pid int) string {
	if pid <= 0 {
		return "PID unknown"
	}
	return "PID " + strconv.Itoa(pid)
}

// readPID reads the PID a lock file holds, 0 if none.
func readPID(fd int) int {
	var b [32]byte
	n, err := syscall.Pread(fd, b[:], 0)
	if err != nil || n <= 0 {
		return 0
	}
	v, err := kfile.ParseUint(b[:n])
	if err != nil || v > 1<<31 {
		return 0
	}
	return int(v)
}

// folderFailed: the folder cannot be opened or is another's. Held by
// another writer, every counter is let go (the other writes them);
// otherwise their energy is kept, as for a failed write.
func (w *Writer) folderFailed(err error) {
	if errors.Is(err, ErrLocked) {
		for d, c := range w.counters {
			w.drop(d, c)
		}
		w.fails = append(w.fails, Failure{Err: err})
		return
	}
	var lost energy.Energy
	for d, c := range w.counters {
		if !c.dirty {
			if w.applies-c.used >= idleApplies {
				w.drop(d, c)
			}
			continue
		}
		if c.failed(w.applies) {
			lost += c.held()
			w.drop(d, c)
		}
	}
	if w.remade != "" {
		err = fmt.Errorf("%s was %s while powerinput ran, and cannot be made again: %w", w.dir, w.remade, err)
	}
	w.fails = append(w.fails, Failure{Err: err, Kept: len(w.counters) > 0, Lost: lost})
}

func openDir(path string) (int, error) {
	return kfile.Retry(func() (int, error) {
		return syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	})
}
