package guestcounter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/kfile"
)

// LockName is the file in the folder where the writer that holds the
// folder's lock (an exclusive flock on the folder itself, for its life)
// writes its PID, for the message of a second one.
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

// closeFolder closes the folder, which lets its lock go, and the
// clean-up's place in it.
func (w *Writer) closeFolder() {
	if w.root >= 0 {
		syscall.Close(w.root)
		w.root = -1
	}
	w.closeCursor()
	w.held = false
}

// openFolder opens dir, making it (its last element only) when missing,
// checks it is powerinput's own, and takes its lock.
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
		if made {
			syscall.Fchmod(fd, 0o755) // whatever the umask
		}
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			syscall.Close(fd)
			return &fs.PathError{Op: "stat", Path: w.dir, Err: err}
		}
		if err := ownFolder(w.dir, &st, w.euid); err != nil {
			syscall.Close(fd)
			return err
		}
		w.root, w.rootID = fd, [2]uint64{st.Dev, st.Ino}
		w.made = made && w.remade == ""
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
		w.fails = append(w.fails, Failure{Err: fmt.Errorf("%s was %s while powerinput ran: %w, and the %d counter(s) powerinput held rewritten from their values; counters of VMs not running then start again from 0", w.dir, w.remade, ErrRemade, n)})
		w.remade = ""
	}
	return nil
}

// ownFolder says why the counters' folder, of status st, is not one
// powerinput may write in as the user euid: another's (a user who owns it
// could swap the VMs' folders), or writable by its group or others.
func ownFolder(dir string, st *syscall.Stat_t, euid int) error {
	switch {
	case int(st.Uid) != euid && euid == 0:
		return fmt.Errorf("%s belongs to %s and powerinput runs as root: %w; this looks like a test run as root: run it as the service's user, e.g. sudo -u %s …; no counter is written there meanwhile",
			dir, userText(int(st.Uid)), ErrForeign, userName(int(st.Uid)))
	case int(st.Uid) != euid:
		return fmt.Errorf("%s belongs to %s, not to %s that powerinput runs as: %w; fix: chown -R %s: %s",
			dir, userText(int(st.Uid)), userText(euid), ErrForeign, userName(euid), dir)
	case st.Mode&0o022 != 0:
		return fmt.Errorf("%s has mode %04o, writable by its group or others, who could swap the VMs' folders: %w; fix: chmod -R go-w %s",
			dir, st.Mode&0o7777, ErrForeign, dir)
	}
	return nil
}

// userName is the name of the user uid, or its number.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}

// userText names the user uid for a message: "telegraf (user ID 998)".
func userText(uid int) string {
	if name := userName(uid); name != strconv.Itoa(uid) {
		return fmt.Sprintf("%s (user ID %d)", name, uid)
	}
	return fmt.Sprintf("user ID %d", uid)
}

// Taking the folder's lock is tried lockTries times, lockWait apart: a
// -doctor looking at who holds it holds it shared for a moment.
const (
	lockTries = 5
	lockWait  = 2 * time.Millisecond
)

// takeLock takes the lock of the folder itself (its directory: a lock
// file removed alone would let a second writer in), or says who holds it;
// then writes our PID in LockName, for a second one's message. LockName is
// always made anew, never written through (a link, or another's file).
func (w *Writer) takeLock() error {
	var err error
	for try := 1; ; try++ {
		err = kfile.RetryErr(func() error { return syscall.Flock(w.root, syscall.LOCK_EX|syscall.LOCK_NB) })
		if err != syscall.EWOULDBLOCK || try == lockTries {
			break
		}
		time.Sleep(lockWait)
	}
	if err == syscall.EWOULDBLOCK {
		return fmt.Errorf("%s: %w (%s), which writes the guests' counters", w.dir, ErrLocked, pidText(lockPID(w.root)))
	}
	if err != nil {
		return &fs.PathError{Op: "lock", Path: w.dir, Err: err}
	}
	if err := w.replace(w.root, w.dir, LockName, []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
		syscall.Flock(w.root, syscall.LOCK_UN)
		return err
	}
	w.held = true
	return nil
}

// lockPID is the PID the lock file of the open folder root holds, 0 if
// none.
func lockPID(root int) int {
	fd, err := syscall.Openat(root, LockName, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer syscall.Close(fd)
	return readPID(fd)
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
