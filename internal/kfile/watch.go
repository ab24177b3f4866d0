package kfile

import (
	"encoding/binary"
	"syscall"
	"unsafe"
)

// Watch tells which directories gained or lost a subdirectory since they
// were last looked at, through inotify: a walk of a tree whose directories
// rarely change (control groups) lists again only those that did,
// instead of every one it passes through. Subdirectories are made and
// removed by mkdir, rmdir and rename, which the kernel reports for every
// file system, cgroupfs included.
//
// A Watch is not safe for concurrent use.
type Watch struct {
	fd  int
	buf [4096]byte
	// maxReads bounds the reads of one Changes (0: maxChangeReads).
	maxReads int
}

// maxChangeReads bounds the reads of one Changes: 1 MiB of events, more
// than a default queue (fs.inotify.max_queued_events, 16384 events)
// holds. Groups made and removed faster than they are read would
// otherwise keep a gather reading; past the bound Changes reports an
// overflow (every directory is listed again) and returns.
const maxChangeReads = 256

// Watched events: a subdirectory made, removed or renamed, or the
// directory itself removed or renamed.
const watchMask = syscall.IN_CREATE | syscall.IN_DELETE | syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO |
	syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF | syscall.IN_ONLYDIR | syscall.IN_DONT_FOLLOW

// NewWatch makes an inotify instance (one of the user's
// fs.inotify.max_user_instances).
func NewWatch() (*Watch, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &Watch{fd: fd}, nil
}

// Add watches the directory at path and returns its watch descriptor
// (positive). The same directory watched twice gives the same descriptor.
// It fails past fs.inotify.max_user_watches (ENOSPC).
func (w *Watch) Add(path string) (int32, error) {
	for {
		wd, err := syscall.InotifyAddWatch(w.fd, path, watchMask)
		if err != syscall.EINTR {
			return int32(wd), err
		}
	}
}

// Remove stops watching wd; a descriptor already gone is harmless.
func (w *Watch) Remove(wd int32) {
	syscall.InotifyRmWatch(w.fd, uint32(wd))
}

// Changes gives each event that came since the previous call, in order:
// the watch descriptor whose directory changed (its subdirectories, or
// itself), gone when the watch ended (the directory was removed), and
// overflow when events were lost (the queue was full: every directory
// may have changed; wd is then -1). The instance is non-blocking: its
// reads are made raw (they cannot wait). A queue still not empty after
// maxChangeReads reads is reported as an overflow.
func (w *Watch) Changes(f func(wd int32, gone, overflow bool)) error {
	limit := w.maxReads
	if limit <= 0 {
		limit = maxChangeReads
	}
	for reads := 0; ; reads++ {
		if reads == limit {
			f(-1, false, true)
			return nil
		}
		r, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(w.fd), uintptr(unsafe.Pointer(&w.buf[0])), uintptr(len(w.buf)))
		switch {
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			return nil
		case e != 0:
			return e
		case r == 0:
			return nil
		}
		b := w.buf[:r]
		for {
			wd, mask, rest, ok := NextEvent(b)
			if !ok {
				break
			}
			b = rest
			switch {
			case mask&syscall.IN_Q_OVERFLOW != 0:
				f(-1, false, true)
			case mask&syscall.IN_IGNORED != 0:
				f(wd, true, false)
			case mask&(syscall.IN_DELETE_SELF|syscall.IN_MOVE_SELF) != 0, mask&syscall.IN_ISDIR != 0:
				f(wd, false, false)
			}
		}
	}
}

// Close releases the instance and its watches.
func (w *Watch) Close() {
	if w != nil && w.fd >= 0 {
		syscall.Close(w.fd)
		w.fd = -1
	}
}

// inotifyHeader is the size of struct inotify_event before its name.
const inotifyHeader = 16

// NextEvent parses the first struct inotify_event of b (wd, mask, cookie,
// len, then len bytes of name) and returns its watch descriptor, its
// mask and what follows; ok is false when b holds no whole event.
func NextEvent(b []byte) (wd int32, mask uint32, rest []byte, ok bool) {
	if len(b) < inotifyHeader {
		return 0, 0, nil, false
	}
	n := binary.NativeEndian.Uint32(b[12:16])
	if uint64(n) > uint64(len(b)-inotifyHeader) {
		return 0, 0, nil, false
	}
	return int32(binary.NativeEndian.Uint32(b[0:4])), binary.NativeEndian.Uint32(b[4:8]), b[inotifyHeader+int(n):], true
}
