package sensors

import (
	"bytes"
	"syscall"

	"github.com/greencampus/powerinput/internal/kfile"
)

// dirWatch tells whether the entries of a directory changed since it last
// looked: a driver loaded or unloaded adds or removes a hwmon device or a
// drm card. It reads the entries raw (getdents) from a directory it keeps
// open, into buffers it keeps, so a look costs two system calls and no
// allocation once warm.
type dirWatch struct {
	path      string
	fd        int // -1 while closed
	buf, prev []byte
}

// maxDirBytes bounds the raw entries read: a few thousand entries.
const maxDirBytes = 256 << 10

func newDirWatch(path string) *dirWatch { return &dirWatch{path: path, fd: -1} }

// changed reports whether the entries differ from those of the last call
// (the first call reports a change when the directory exists).
func (w *dirWatch) changed() bool {
	if w.fd < 0 {
		fd, err := syscall.Open(w.path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
		if err != nil {
			was := w.prev != nil
			w.prev = nil
			return was
		}
		w.fd = fd
	}
	n, ok := w.read()
	if !ok {
		w.close()
		was := w.prev != nil
		w.prev = nil
		return was
	}
	if w.prev != nil && bytes.Equal(w.buf[:n], w.prev) {
		return false
	}
	w.prev = append(w.prev[:0], w.buf[:n]...)
	return true
}

// read reads every entry from the start into w.buf.
func (w *dirWatch) read() (int, bool) {
	if _, err := syscall.Seek(w.fd, 0, 0); err != nil {
		return 0, false
	}
	if w.buf == nil {
		w.buf = make([]byte, 8<<10)
	}
	n := 0
	for {
		if n == len(w.buf) {
			if len(w.buf) >= maxDirBytes {
				return n, true // compare what fits: enough to see a change
			}
			w.buf = append(w.buf, make([]byte, len(w.buf))...)
		}
		m, err := kfile.Retry(func() (int, error) { return syscall.Getdents(w.fd, w.buf[n:]) })
		if err != nil {
			return 0, false
		}
		if m == 0 {
			return n, true
		}
		n += m
	}
}

func (w *dirWatch) close() {
	if w.fd >= 0 {
		syscall.Close(w.fd)
		w.fd = -1
	}
}
