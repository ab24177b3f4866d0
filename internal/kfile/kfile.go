// Package kfile reads the files powerinput measures from: sysfs and procfs
// attributes, cgroup files, and counters a hypervisor shares with a guest.
//
// Every read is bounded: a file is opened non-blocking and without following
// a symbolic link at its last step, refused unless it is a regular file (a
// FIFO or a device would block or never end), and read up to a limit given
// by the caller. Errors say what was wrong and where, never what the file
// held. Reads on a mount that hangs are bounded in time by the guard package,
// not here.
package kfile

import (
	"errors"
	"io"
	"io/fs"
	"syscall"
)

// Errors wrapped by this package, with the file's path.
var (
	// ErrNotRegular: the path is a FIFO, a socket, a device or a directory.
	ErrNotRegular = errors.New("not a regular file")
	// ErrSymlink: the last element of the path is a symbolic link, which is
	// not followed (it could point anywhere, such as /dev/zero).
	ErrSymlink = errors.New("is a symbolic link, which is not followed")
	// ErrTooLarge: the file holds more than the caller's limit.
	ErrTooLarge = errors.New("larger than expected")
	// ErrEmpty: the file holds nothing (a writer that truncates, then writes).
	ErrEmpty = errors.New("empty")
	// ErrSyntax: a value is not what the file should hold.
	ErrSyntax = errors.New("invalid value")
	// ErrWrongDevice: a device file that is not the device expected (its
	// major number is another driver's).
	ErrWrongDevice = errors.New("not the expected device")
)

const openFlags = syscall.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOFOLLOW | syscall.O_CLOEXEC

// File is an open kernel file, read again from offset 0 with pread.
type File struct {
	path string
	fd   int
	mem  bool // on procfs, sysfs or cgroupfs (InMemoryFS): a short read is the end
	raw  bool // on procfs or cgroupfs: raw reads (fsOf)
}

// Open opens path for reading. It never blocks on a FIFO, never follows a
// symbolic link as the path's last element and refuses anything but a
// regular file (sysfs, procfs and cgroup attributes are regular files).
func Open(path string) (*File, error) {
	fd, err := openFD(path, regularOnly)
	if err != nil {
		return nil, err
	}
	f := &File{path: path, fd: fd}
	f.mem, f.raw = fsOf(fd)
	return f, nil
}

// OpenDevice opens a character device of the driver whose major number is
// major (the msr driver's, 202, for /dev/cpu/N/msr), to be read with pread
// at an offset (ReadAt). Like Open it never blocks and never follows a
// symbolic link as the last element. Any other file, a regular file or a
// device of another driver, is refused with ErrWrongDevice.
func OpenDevice(path string, major uint32) (*File, error) {
	fd, err := openFD(path, func(st *syscall.Stat_t) error {
		if st.Mode&syscall.S_IFMT == syscall.S_IFCHR && Major(st.Rdev) == major {
			return nil
		}
		return ErrWrongDevice
	})
	if err != nil {
		return nil, err
	}
	return &File{path: path, fd: fd}, nil
}

// DeviceOpener is OpenDevice for the devices of one driver, as an Opener.
func DeviceOpener(major uint32) Opener {
	return func(path string) (Reader, error) {
		f, err := OpenDevice(path, major)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
}

// Major is the major number of a Linux device number (st_rdev).
func Major(dev uint64) uint32 {
	return uint32((dev>>8)&0xfff) | uint32((dev>>32)&^0xfff)
}

func regularOnly(st *syscall.Stat_t) error {
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return ErrNotRegular
	}
	return nil
}

func openFD(path string, accept func(*syscall.Stat_t) error) (int, error) {
	fd, err := Retry(func() (int, error) { return syscall.Open(path, openFlags, 0) })
	if err != nil {
		if err == syscall.ELOOP {
			return -1, &fs.PathError{Op: "open", Path: path, Err: ErrSymlink}
		}
		return -1, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := RetryErr(func() error { return syscall.Fstat(fd, &st) }); err != nil {
		syscall.Close(fd)
		return -1, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if err := accept(&st); err != nil {
		syscall.Close(fd)
		return -1, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}

// Path is the file's path.
func (f *File) Path() string { return f.path }

// ReadAt reads from offset off, retrying a read interrupted by a signal.
func (f *File) ReadAt(b []byte, off int64) (int, error) {
	if f.fd < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.path, Err: fs.ErrClosed}
	}
	n, err := Retry(func() (int, error) { return sysPread(f.fd, b, off, f.raw) })
	if err != nil {
		return 0, &fs.PathError{Op: "read", Path: f.path, Err: err}
	}
	return n, nil
}

// ReadAll reads the whole file into buf (from its start, reusing its
// capacity, growing it as needed) and returns it. A file larger than limit
// bytes is an error wrapping ErrTooLarge: nothing of it is returned.
func (f *File) ReadAll(buf []byte, limit int) ([]byte, error) {
	buf = buf[:0]
	if cap(buf) == 0 {
		buf = make([]byte, 0, min(4096, limit+1))
	}
	for {
		if len(buf) == cap(buf) {
			if len(buf) > limit {
				return buf[:0], &fs.PathError{Op: "read", Path: f.path, Err: ErrTooLarge}
			}
			buf = append(buf, 0)[:len(buf)]
		}
		room := buf[len(buf):cap(buf)]
		if over := limit + 1 - len(buf); len(room) > over {
			room = room[:over]
		}
		n, err := f.ReadAt(room, int64(len(buf)))
		if err != nil {
			return buf[:0], err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return buf[:0], &fs.PathError{Op: "read", Path: f.path, Err: ErrTooLarge}
		}
		if f.mem && n < len(room) {
			// procfs, sysfs and cgroupfs fill a read as far as they
			// have data: a short read is the end (one call, not two).
			return buf, nil
		}
	}
}

// ReadSmall reads the file into b in one pread and returns the bytes read.
// A file that fills b entirely is taken as larger than expected.
func (f *File) ReadSmall(b []byte) ([]byte, error) {
	n, err := f.ReadAt(b, 0)
	if err != nil {
		return nil, err
	}
	if n == len(b) {
		return nil, &fs.PathError{Op: "read", Path: f.path, Err: ErrTooLarge}
	}
	return b[:n], nil
}

// Close releases the file. Closing twice is harmless.
func (f *File) Close() error {
	if f == nil || f.fd < 0 {
		return nil
	}
	err := syscall.Close(f.fd)
	f.fd = -1
	return err
}

// ReadFile opens path, reads at most limit bytes of it into buf (reused)
// and closes it.
func ReadFile(path string, buf []byte, limit int) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadAll(buf, limit)
}

// AttrSize bounds a sysfs attribute holding one value: a number, a name.
const AttrSize = 128

// ReadAttr reads a one-value attribute (at most AttrSize bytes) and returns
// it without trailing white space.
func ReadAttr(path string) ([]byte, error) {
	var b [AttrSize]byte
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := f.ReadSmall(b[:])
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), TrimSpace(v)...), nil
}

// ReadUint reads an attribute holding one decimal number.
func ReadUint(path string) (uint64, error) {
	var b [AttrSize]byte
	f, err := Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	v, err := f.ReadSmall(b[:])
	if err != nil {
		return 0, err
	}
	n, err := ParseUint(v)
	if err != nil {
		return 0, &fs.PathError{Op: "parse", Path: path, Err: err}
	}
	return n, nil
}

// Reader is an open file read again with pread, as Attr keeps it.
type Reader interface {
	ReadAt(b []byte, off int64) (int, error)
	Close() error
}

// Opener opens a file for an Attr. OpenReader is the one to use; tests pass
// their own to imitate a permission error or a vanishing sysfs file.
type Opener func(path string) (Reader, error)

// OpenReader is Open as an Opener.
func OpenReader(path string) (Reader, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Attr is a one-value attribute (energy_uj) kept open and read again from
// offset 0, so a read after the first costs one pread and no allocation.
// After a failed read the file is closed and opened again by the next read,
// which is how a changed permission or a reloaded driver is noticed.
type Attr struct {
	path string
	open Opener
	f    Reader
	buf  [AttrSize]byte
	// Reopen opens the file again at each read instead of keeping it: a
	// writer that replaces the file (write a new one, rename it over the
	// old) leaves a kept file reading the old one forever.
	Reopen bool
}

// NewAttr returns an attribute reader for path; open may be nil for
// OpenReader. Nothing is opened before the first read.
func NewAttr(path string, open Opener) *Attr {
	if open == nil {
		open = OpenReader
	}
	return &Attr{path: path, open: open}
}

// Path is the attribute's path.
func (a *Attr) Path() string { return a.path }

// Uint reads the attribute as one decimal number.
func (a *Attr) Uint() (uint64, error) {
	b, err := a.read()
	if err != nil {
		return 0, err
	}
	v, err := ParseUint(b)
	if err != nil {
		a.Close()
		return 0, &fs.PathError{Op: "parse", Path: a.path, Err: err}
	}
	if a.Reopen {
		a.Close()
	}
	return v, nil
}

// Text reads the attribute (at most AttrSize bytes) and returns it without
// trailing white space; an attribute holding nothing is ErrEmpty. The bytes are the Attr's own: they are valid until
// the next read.
func (a *Attr) Text() ([]byte, error) {
	b, err := a.read()
	if err != nil {
		return nil, err
	}
	b = TrimSpace(b)
	if len(b) == 0 {
		a.Close()
		return nil, &fs.PathError{Op: "read", Path: a.path, Err: ErrEmpty}
	}
	if a.Reopen {
		a.Close()
	}
	return b, nil
}

// read reads the attribute into a.buf; after a failure the file is closed.
func (a *Attr) read() ([]byte, error) {
	if a.f == nil {
		f, err := a.open(a.path)
		if err != nil {
			return nil, err
		}
		a.f = f
	}
	n, err := a.f.ReadAt(a.buf[:], 0)
	if err == nil && n == len(a.buf) {
		err = &fs.PathError{Op: "read", Path: a.path, Err: ErrTooLarge}
	}
	if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
		a.Close()
		if errors.Is(err, io.EOF) {
			err = &fs.PathError{Op: "read", Path: a.path, Err: ErrEmpty}
		}
		return nil, err
	}
	return a.buf[:n], nil
}

// Close releases the file; a later read opens it again.
func (a *Attr) Close() error {
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}

// Reason is err without the path it would repeat: "open: permission
// denied" for an error about path itself.
func Reason(err error, path string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}
