// Package guestcounter writes, on a hypervisor, one energy counter per VM
// in the layout of a powercap zone, so that the VM's guest reads its share
// of the host's energy as it would read RAPL:
//
//	<dir>/<domain>/intel-rapl:0/energy_uj             the counter, µJ
//	<dir>/<domain>/intel-rapl:0/name                  "package-0"
//	<dir>/<domain>/intel-rapl:0/max_energy_range_uj   where it wraps
//
// With dir = /var/lib/libvirt/scaphandre this is the layout Scaphandre's
// qemu exporter writes, so guests that mount it keep working.
//
// A reader never sees a torn, empty or partial value, however it reads:
//   - energy_uj is made whole before it has a name (written under a
//     temporary name, then renamed into place), and from then on always
//     rewritten in place with one pwrite of Width+1 bytes at offset 0: the
//     file's size never changes, it is never truncated, and a reader that
//     keeps it open reads the same file as one that opens it each time;
//   - the value is the decimal number, then spaces up to Width bytes, then
//     a newline (readers trim white space; a leading zero would make shell
//     arithmetic read octal).
//
// The counter is monotonic and wraps to 0 at Wrap (it never holds Wrap
// itself), which max_energy_range_uj says, so a reader's wrap rule
// (max − previous + current) is exact. After a restart a counter goes on
// from the value its file holds.
//
// Domain names are data: one that cannot be a folder name as it is (a '/',
// "." or "..", a leading '.', a control character, invalid UTF-8, more than
// MaxName bytes) gets no counter (CheckName). Below dir nothing is followed:
// every folder is opened relative to its parent with O_NOFOLLOW and must be
// a directory owned by this process's user; a counter file that is a
// symbolic link, a hard link, or anything but a regular file owned by that
// user is replaced, never written through.
package guestcounter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"unicode/utf8"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/kfile"
)

const (
	// Wrap is max_energy_range_uj: counters run from 0 to Wrap − 1 µJ
	// (10¹² J: 31,700 years of a 1 kW VM).
	Wrap energy.Energy = 1_000_000_000_000_000_000
	// Width is the width of the value in energy_uj, before its newline.
	Width = 20
	// Zone is the folder of the counter under the domain's folder, and
	// ZoneName what its name file says.
	Zone     = "intel-rapl:0"
	ZoneName = "package-0"
	// MaxName bounds a domain's folder name, in bytes.
	MaxName = 200
	// idleApplies: a counter not written for that many applies (its VM is
	// gone) is closed.
	idleApplies = 10
)

// Errors wrapped by this package.
var (
	// ErrName: a domain name that cannot be a folder name.
	ErrName = errors.New("cannot be a folder name")
	// ErrUnsafe: a folder that is a symbolic link, not a directory, or not
	// owned by this process's user.
	ErrUnsafe = errors.New("not a directory of powerinput's own")
)

// CheckName says whether a domain name can be used as a folder name as it
// is.
func CheckName(domain string) error {
	switch {
	case domain == "":
		return fmt.Errorf("empty name: %w", ErrName)
	case len(domain) > MaxName:
		return fmt.Errorf("longer than %d bytes: %w", MaxName, ErrName)
	case domain[0] == '.':
		return fmt.Errorf("starts with '.': %w", ErrName)
	case !utf8.ValidString(domain):
		return fmt.Errorf("not valid UTF-8: %w", ErrName)
	}
	for i := 0; i < len(domain); i++ {
		if c := domain[i]; c == '/' || c < 0x20 || c == 0x7f {
			return fmt.Errorf("holds '/' or a control character: %w", ErrName)
		}
	}
	return nil
}

// Path is where the counter of a domain is, under dir.
func Path(dir, domain string) string { return filepath.Join(dir, domain, Zone, "energy_uj") }

// Add is energy to add to a domain's counter (0: open it all the same).
type Add struct {
	Domain string
	Energy energy.Energy
}

// Failure is a domain whose counter could not be written.
type Failure struct {
	Domain string
	Err    error
}

// Writer keeps the counters of one folder open.
type Writer struct {
	dir      string
	root     int // -1: not open
	counters map[string]*counter
	applies  uint64
	fails    []Failure
	euid     int
}

type counter struct {
	fd    int
	value energy.Energy
	used  uint64
	buf   [Width + 1]byte
}

// New returns a writer of counters under dir. Nothing is opened or made
// before the first Apply.
func New(dir string) *Writer {
	return &Writer{dir: dir, root: -1, counters: map[string]*counter{}, euid: os.Geteuid()}
}

// Dir is the folder the counters are written under.
func (w *Writer) Dir() string { return w.dir }

// Apply adds each entry's energy to its domain's counter, opening (and
// making) the counters it needs. It returns the domains it could not write,
// in a slice reused by the next call; their energy is not kept.
func (w *Writer) Apply(batch []Add) []Failure {
	w.applies++
	w.fails = w.fails[:0]
	for _, a := range batch {
		c, opened, err := w.counter(a.Domain)
		if err != nil {
			w.fails = append(w.fails, Failure{a.Domain, err})
			continue
		}
		c.used = w.applies
		if a.Energy == 0 && !opened {
			continue
		}
		c.value = (c.value + a.Energy%Wrap) % Wrap
		if err := c.write(); err != nil {
			w.drop(a.Domain, c)
			w.fails = append(w.fails, Failure{a.Domain, &fs.PathError{Op: "write", Path: Path(w.dir, a.Domain), Err: err}})
		}
	}
	for d, c := range w.counters {
		if w.applies-c.used >= idleApplies {
			w.drop(d, c)
		}
	}
	return w.fails
}

// Value is a domain's counter as last written.
func (w *Writer) Value(domain string) (energy.Energy, bool) {
	c, ok := w.counters[domain]
	if !ok {
		return 0, false
	}
	return c.value, true
}

// Close closes every file.
func (w *Writer) Close() {
	for d, c := range w.counters {
		w.drop(d, c)
	}
	if w.root >= 0 {
		syscall.Close(w.root)
		w.root = -1
	}
}

func (w *Writer) drop(domain string, c *counter) {
	syscall.Close(c.fd)
	delete(w.counters, domain)
}

// Format writes v as energy_uj holds it: digits, spaces up to Width, a
// newline.
func Format(b *[Width + 1]byte, v energy.Energy) {
	s := strconv.AppendUint(b[:0], uint64(v), 10)
	for i := len(s); i < Width; i++ {
		b[i] = ' '
	}
	b[Width] = '\n'
}

func (c *counter) write() error {
	Format(&c.buf, c.value)
	n, err := kfile.Retry(func() (int, error) { return syscall.Pwrite(c.fd, c.buf[:], 0) })
	if err != nil {
		return err
	}
	if n != len(c.buf) {
		return fmt.Errorf("short write (%d of %d bytes)", n, len(c.buf))
	}
	return nil
}

// counter returns the open counter of domain; opened is true when it was
// opened now.
func (w *Writer) counter(domain string) (*counter, bool, error) {
	if c, ok := w.counters[domain]; ok {
		return c, false, nil
	}
	if err := CheckName(domain); err != nil {
		return nil, false, err
	}
	if err := w.openRoot(); err != nil {
		return nil, false, err
	}
	dfd, err := w.subdir(w.root, domain, filepath.Join(w.dir, domain))
	if err != nil {
		return nil, false, err
	}
	defer syscall.Close(dfd)
	zdir := filepath.Join(w.dir, domain, Zone)
	zfd, err := w.subdir(dfd, Zone, zdir)
	if err != nil {
		return nil, false, err
	}
	defer syscall.Close(zfd)
	if err := w.ensure(zfd, zdir, "name", ZoneName+"\n"); err != nil {
		return nil, false, err
	}
	if err := w.ensure(zfd, zdir, "max_energy_range_uj", strconv.FormatUint(uint64(Wrap), 10)+"\n"); err != nil {
		return nil, false, err
	}
	c, err := w.openCounter(zfd, zdir)
	if err != nil {
		return nil, false, err
	}
	w.counters[domain] = c
	return c, true, nil
}

// openRoot opens dir, making it (its last element only) when missing.
func (w *Writer) openRoot() error {
	if w.root >= 0 {
		return nil
	}
	fd, err := openDir(w.dir)
	if errors.Is(err, syscall.ENOENT) {
		if err := syscall.Mkdir(w.dir, 0o755); err != nil && err != syscall.EEXIST {
			return &fs.PathError{Op: "mkdir", Path: w.dir, Err: err}
		}
		fd, err = openDir(w.dir)
	}
	if err != nil {
		return &fs.PathError{Op: "open", Path: w.dir, Err: err}
	}
	w.root = fd
	return nil
}

func openDir(path string) (int, error) {
	return kfile.Retry(func() (int, error) {
		return syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	})
}

// subdir makes and opens the folder name under the open folder parent,
// without following a link, and checks it is a directory of ours.
func (w *Writer) subdir(parent int, name, path string) (int, error) {
	if err := syscall.Mkdirat(parent, name, 0o755); err != nil && err != syscall.EEXIST {
		return -1, &fs.PathError{Op: "mkdir", Path: path, Err: err}
	}
	fd, err := kfile.Retry(func() (int, error) {
		return syscall.Openat(parent, name, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	})
	switch {
	case err == syscall.ELOOP || err == syscall.ENOTDIR:
		return -1, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("a symbolic link or not a directory: %w", ErrUnsafe)}
	case err != nil:
		return -1, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return -1, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if int(st.Uid) != w.euid {
		syscall.Close(fd)
		return -1, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("owned by uid %d, not by uid %d that powerinput runs as (chown it): %w", st.Uid, w.euid, ErrUnsafe)}
	}
	return fd, nil
}

// ensure makes the file name under the folder dfd hold content.
func (w *Writer) ensure(dfd int, dir, name, content string) error {
	fd, err := kfile.Retry(func() (int, error) {
		return syscall.Openat(dfd, name, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	})
	if err == nil {
		var b [64]byte
		ok := w.ours(fd)
		n, rerr := syscall.Pread(fd, b[:], 0)
		syscall.Close(fd)
		if ok && rerr == nil && string(b[:max(n, 0)]) == content {
			return nil
		}
	}
	return w.replace(dfd, dir, name, []byte(content))
}

// ours says whether fd is a regular file of ours with no other name.
func (w *Writer) ours(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFREG && st.Nlink == 1 && int(st.Uid) == w.euid
}

// replace makes name hold content, whole from the start: the file is
// written under a temporary name, then renamed over whatever name was (a
// rename replaces a link itself, never what it points to).
func (w *Writer) replace(dfd int, dir, name string, content []byte) error {
	tmp := "." + name + ".powerinput"
	syscall.Unlinkat(dfd, tmp)
	fd, err := kfile.Retry(func() (int, error) {
		return syscall.Openat(dfd, tmp, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o644)
	})
	if err != nil {
		return &fs.PathError{Op: "create", Path: filepath.Join(dir, tmp), Err: err}
	}
	syscall.Fchmod(fd, 0o644) // whatever the umask: guests read it through their share
	n, err := syscall.Write(fd, content)
	syscall.Close(fd)
	if err == nil && n != len(content) {
		err = fmt.Errorf("short write")
	}
	if err == nil {
		err = syscall.Renameat(dfd, tmp, dfd, name)
	}
	if err != nil {
		syscall.Unlinkat(dfd, tmp)
		return &fs.PathError{Op: "replace", Path: filepath.Join(dir, name), Err: err}
	}
	return nil
}

// openCounter opens energy_uj for writing and reads the value to go on
// from. A file that is not in this package's format (Scaphandre's, or
// damaged) is replaced, whole, by one that is, holding its value where it
// has one and 0 otherwise.
func (w *Writer) openCounter(dfd int, dir string) (*counter, error) {
	path := filepath.Join(dir, "energy_uj")
	for attempt := 0; attempt < 2; attempt++ {
		fd, err := kfile.Retry(func() (int, error) {
			return syscall.Openat(dfd, "energy_uj", syscall.O_RDWR|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		})
		var value energy.Energy
		whole := false
		switch {
		case err == syscall.ENOENT || err == syscall.ELOOP || err == syscall.EISDIR || err == syscall.EACCES && attempt == 0:
			// Missing, a link, or not ours: made anew below.
		case err != nil:
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		default:
			if w.ours(fd) {
				var b [64]byte
				n, rerr := syscall.Pread(fd, b[:], 0)
				if rerr == nil && n > 0 {
					if v, perr := kfile.ParseUint(b[:n]); perr == nil {
						value = energy.Energy(v % uint64(Wrap))
						whole = n == Width+1 && b[Width] == '\n' && v < uint64(Wrap)
					}
				}
				if whole {
					return &counter{fd: fd, value: value}, nil
				}
			}
			syscall.Close(fd)
		}
		var b [Width + 1]byte
		Format(&b, value)
		if err := w.replace(dfd, dir, "energy_uj", b[:]); err != nil {
			return nil, err
		}
	}
	return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("replaced but still not a counter of ours: %w", ErrUnsafe)}
}

// Check says whether counters can be written under dir: it exists and a
// file can be made in it, or it is missing (exists false) and its parent
// is a folder it can be made in. It leaves nothing behind.
func Check(dir string) (exists bool, err error) {
	fd, err := openDir(dir)
	if err == syscall.ENOENT {
		parent := filepath.Dir(dir)
		if err := syscall.Access(parent, 2|1); err != nil { // W_OK|X_OK
			return false, &fs.PathError{Op: "make a folder in", Path: parent, Err: err}
		}
		return false, nil // made at the first write
	}
	if err != nil {
		return false, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer syscall.Close(fd)
	name := ".powerinput-check-" + strconv.Itoa(os.Getpid())
	f, err := syscall.Openat(fd, name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return true, &fs.PathError{Op: "create a file in", Path: dir, Err: err}
	}
	syscall.Close(f)
	syscall.Unlinkat(fd, name)
	return true, nil
}
