package kfile

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"syscall"
	"unsafe"
)

// Dir is a directory kept open, under which files and directories are
// opened by a name relative to it (openat). It is made for the scans of one
// gather, a file per process or per control group, thousands of them: a
// read costs no allocation and no lookup of the path from the root.
//
// The rules of Open hold for every file opened under a Dir: non-blocking,
// no symbolic link at the last step, regular files only. A name must be
// relative and must not go up ("..").
//
// A Dir is not safe for concurrent use: it builds each name in a buffer of
// its own.
type Dir struct {
	path string
	fd   int
	mem  bool // on procfs, sysfs or cgroupfs (InMemoryFS): no fstat
	raw  bool // on procfs or cgroupfs: raw calls (fsOf)
	name [maxName + 1]byte
}

// maxName is the longest name a Dir opens (PATH_MAX less its NUL).
const maxName = 4095

const dirFlags = syscall.O_RDONLY | syscall.O_DIRECTORY | syscall.O_NONBLOCK | syscall.O_CLOEXEC

// ErrBadName: a name under a Dir is empty, absolute, too long, holds a NUL
// or a ".." element.
var ErrBadName = errors.New("not a relative name under the directory")

// OpenDir opens the directory path (a symbolic link to a directory is
// followed here, at the root the configuration names).
func OpenDir(path string) (*Dir, error) {
	fd, err := Retry(func() (int, error) { return syscall.Open(path, dirFlags, 0) })
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	d := &Dir{path: path, fd: fd}
	d.mem, d.raw = fsOf(fd)
	return d, nil
}

// Path is the directory's path.
func (d *Dir) Path() string { return d.path }

// Close releases the directory. Handles opened under it stay valid.
func (d *Dir) Close() error {
	if d == nil || d.fd < 0 {
		return nil
	}
	err := syscall.Close(d.fd)
	d.fd = -1
	return err
}

// cname copies name into the Dir's buffer with its NUL, after checking it.
func (d *Dir) cname(name []byte) (*byte, error) {
	if len(name) == 0 || len(name) > maxName || name[0] == '/' {
		return nil, ErrBadName
	}
	start := 0
	for i, c := range name {
		switch c {
		case 0:
			return nil, ErrBadName
		case '/':
			if i-start == 2 && name[start] == '.' && name[start+1] == '.' {
				return nil, ErrBadName
			}
			start = i + 1
		}
	}
	if len(name)-start == 2 && name[start] == '.' && name[start+1] == '.' {
		return nil, ErrBadName
	}
	copy(d.name[:], name)
	d.name[len(name)] = 0
	return &d.name[0], nil
}

// openat opens name under d with flags, retrying on EINTR. Errors are bare
// errnos (no allocation): the callers add the path when they report one.
func (d *Dir) openat(name []byte, flags int) (int, error) {
	if d.fd < 0 {
		return -1, fs.ErrClosed
	}
	p, err := d.cname(name)
	if err != nil {
		return -1, err
	}
	call := syscall.Syscall6
	if d.raw {
		call = syscall.RawSyscall6
	}
	fd, err := Retry(func() (int, error) {
		r, _, e := call(syscall.SYS_OPENAT, uintptr(d.fd), uintptr(unsafe.Pointer(p)), uintptr(flags), 0, 0, 0)
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	})
	if err == syscall.ELOOP {
		return -1, ErrSymlink
	}
	return fd, err
}

// openFile opens a regular file under d; see Open for the rules. On a
// file system in memory, which holds no FIFO and no device, the check
// costs no fstat: a directory opened by mistake fails its read (EISDIR).
func (d *Dir) openFile(name []byte) (int, error) {
	fd, err := d.openat(name, openFlags)
	if err != nil || d.mem {
		return fd, err
	}
	var st syscall.Stat_t
	if err := RetryErr(func() error { return syscall.Fstat(fd, &st) }); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return -1, ErrNotRegular
	}
	return fd, nil
}

// Err returns err with the path of name under d, for a message. The
// errors of a Dir and of a Handle are bare (an errno, or one of this
// package's) so that a file that vanished costs no allocation; call Err
// only to report one.
func (d *Dir) Err(op string, name []byte, err error) error {
	return &fs.PathError{Op: op, Path: d.path + "/" + string(name), Err: err}
}

// Handle is a file opened under a Dir and kept by its caller, read again
// from offset 0. The zero Handle is closed.
type Handle struct {
	fd1 int32 // the descriptor plus one: the zero value holds none
	raw bool  // opened under a Dir of procfs or cgroupfs: raw calls
}

// Open opens the regular file name under d, to be kept and read again. Its
// errors are bare: see Err.
func (d *Dir) Open(name []byte) (Handle, error) {
	fd, err := d.openFile(name)
	if err != nil {
		return Handle{}, err
	}
	return Handle{fd1: int32(fd) + 1, raw: d.raw}, nil
}

// Valid reports whether h holds an open file.
func (h Handle) Valid() bool { return h.fd1 > 0 }

// ReadAt reads into b from offset off, retrying on EINTR. Its errors are
// bare errnos: a process that has exited answers ESRCH.
func (h Handle) ReadAt(b []byte, off int64) (int, error) {
	if h.fd1 <= 0 {
		return 0, fs.ErrClosed
	}
	return Retry(func() (int, error) { return sysPread(int(h.fd1-1), b, off, h.raw) })
}

// Close releases the file; closing a closed Handle is harmless.
func (h *Handle) Close() {
	if h.fd1 > 0 {
		sysClose(int(h.fd1-1), h.raw)
	}
	h.fd1 = 0
}

// ReadFile opens the regular file name under d, reads it into b in one
// read from offset 0 and closes it: it returns at most len(b) bytes, the
// beginning of a longer file. Its errors are bare: see Err.
func (d *Dir) ReadFile(name []byte, b []byte) (int, error) {
	fd, err := d.openFile(name)
	if err != nil {
		return 0, err
	}
	h := Handle{fd1: int32(fd) + 1, raw: d.raw}
	n, err := h.ReadAt(b, 0)
	h.Close()
	return n, err
}

// ReadDir reads the entries of the directory name under d ("." for d
// itself) into buf (reused, grown as needed) as the kernel gives them
// (linux_dirent64 records); walk them with NextEntry. A directory whose
// entries take more than limit bytes is an error wrapping ErrTooLarge,
// with the entries read so far. The last step is not followed if it is a
// symbolic link. Its errors are bare: see Err.
func (d *Dir) ReadDir(name []byte, buf []byte, limit int) ([]byte, error) {
	fd, err := d.openat(name, dirFlags|syscall.O_NOFOLLOW)
	if err != nil {
		return buf[:0], err
	}
	defer sysClose(fd, d.raw)
	buf = buf[:0]
	if cap(buf) < 4096 {
		buf = make([]byte, 0, 4096)
	}
	for {
		if cap(buf)-len(buf) < 1024 {
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		n, err := Retry(func() (int, error) { return sysGetdents(fd, buf[len(buf):cap(buf)], d.raw) })
		if err != nil {
			return buf, err
		}
		if n <= 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return buf, ErrTooLarge
		}
	}
}

// Entry is one directory entry of ReadDir's records.
type Entry struct {
	Name []byte // aliases the records
	Ino  uint64 // the inode number: another number under the same name is another file
	Type uint8  // syscall.DT_DIR, DT_REG, …; DT_UNKNOWN where the file system does not say
}

// IsDir reports whether the entry is a directory. Where the file system
// does not give the type (DT_UNKNOWN), it is taken as one: opening it as a
// directory then says.
func (e Entry) IsDir() bool { return e.Type == syscall.DT_DIR || e.Type == syscall.DT_UNKNOWN }

// NextEntry returns the first entry of records read by ReadDir, and the
// rest; ok is false at the end (or on a record cut short). It skips "."
// and "..".
func NextEntry(b []byte) (e Entry, rest []byte, ok bool) {
	for {
		const head = 19 // d_ino, d_off, d_reclen, d_type
		if len(b) < head {
			return Entry{}, nil, false
		}
		reclen := int(binary.NativeEndian.Uint16(b[16:18]))
		if reclen < head || reclen > len(b) {
			return Entry{}, nil, false
		}
		rec := b[:reclen]
		b = b[reclen:]
		name := rec[head:]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		if len(name) == 0 || (name[0] == '.' && (len(name) == 1 || (len(name) == 2 && name[1] == '.'))) {
			continue
		}
		return Entry{Name: name, Ino: binary.NativeEndian.Uint64(rec[0:8]), Type: rec[18]}, b, true
	}
}

// ReadAll opens the regular file name under d and reads all of it into
// buf (reused, grown as needed), for a file that can be long (a cgroup's
// list of processes). A file of more than limit bytes is an error wrapping
// ErrTooLarge. Its errors are bare: see Err.
func (d *Dir) ReadAll(name []byte, buf []byte, limit int) ([]byte, error) {
	fd, err := d.openFile(name)
	if err != nil {
		return buf[:0], err
	}
	defer sysClose(fd, d.raw)
	buf = buf[:0]
	if cap(buf) < 512 {
		buf = make([]byte, 0, 4096)
	}
	for {
		if len(buf) == cap(buf) {
			if len(buf) > limit {
				return buf[:0], ErrTooLarge
			}
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		n, err := Retry(func() (int, error) { return sysRead(fd, buf[len(buf):cap(buf)], d.raw) })
		if err != nil {
			return buf[:0], err
		}
		if n <= 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return buf[:0], ErrTooLarge
		}
	}
}
