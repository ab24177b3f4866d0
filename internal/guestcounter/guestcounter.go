// Package guestcounter writes, on a hypervisor, one energy counter per VM
// in the layout of a powercap zone, so that the VM's guest reads its share
// of the host's energy as it would read RAPL:
//
//	<dir>/<domain>/intel-rapl:0/energy_uj             the counter, µJ
//	<dir>/<domain>/intel-rapl:0/name                  "package-0"
//	<dir>/<domain>/intel-rapl:0/max_energy_range_uj   where it wraps
//	<dir>/<domain>/intel-rapl:0/counter_id            its identity (id.go)
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
//
// The folder itself must be owned by this process's user and not writable
// by group or others, else nothing is written in it (ErrForeign). It is
// watched and kept (folder.go): the writer holds an advisory lock on the
// folder itself for the process's life, so that a second instance writes
// no counter there; it notices, once an Apply, when the folder was
// removed or replaced (rm -rf, a file system mounted over it), makes it
// again and rewrites every counter from the value it holds; a counter that
// cannot be written keeps its energy for a later Apply. Folders and files
// get modes 0755 and 0644 whatever the umask, and folders of VMs whose
// counter has not been written for StaleAfter are removed, unless libvirt
// still defines the VM (sweep.go).
package guestcounter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
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
	// MaxCounters bounds the counters a writer holds (vmhost's MaxVMs):
	// a flood of names cannot make folders without end.
	MaxCounters = 1024
	// MaxOpens bounds the counters opened (their folders made) in one
	// Apply; the others keep their energy and are opened at the next.
	MaxOpens = 256
	// GiveUpApplies: a counter that could not be written for that many
	// applies in a row (an hour at Telegraf's 10 s) loses the energy it
	// holds, said in its Failure.
	GiveUpApplies = 360
)

// Errors wrapped by this package.
var (
	// ErrName: a domain name that cannot be a folder name.
	ErrName = errors.New("cannot be a folder name")
	// ErrUnsafe: a folder that is a symbolic link, not a directory, or not
	// owned by this process's user.
	ErrUnsafe = errors.New("not a directory of powerinput's own")
	// ErrTooMany: more domains than MaxCounters.
	ErrTooMany = errors.New("too many counters")
	// ErrRemade: the folder was removed or replaced while the writer ran,
	// and made again.
	ErrRemade = errors.New("made again")
	// ErrForeign: the counters' folder is not powerinput's own (another
	// user's, or writable by its group or others): nothing is written in it.
	ErrForeign = errors.New("not powerinput's own folder")
	// ErrLocked: another writer holds the folder's lock.
	ErrLocked = errors.New("held by another powerinput")
	// errLater: a counter left for the next Apply (MaxOpens).
	errLater = errors.New("opened later")
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

// Failure is a domain whose counter could not be written, or, with Domain
// "", something that befell the folder (ErrRemade, ErrLocked, or the
// folder cannot be opened).
type Failure struct {
	Domain string
	Err    error
	// Kept: the domain's energy is held and written at a later Apply.
	Kept bool
	// Lost is the energy given up: of a counter that could not be written
	// for GiveUpApplies applies, or beyond MaxCounters.
	Lost energy.Energy
}

// Writer keeps the counters of one folder open.
type Writer struct {
	dir         string
	root        int // -1: not open
	rootID      [2]uint64
	held        bool   // the folder's lock is ours
	made        bool   // this Apply made the folder, missing at start
	remade      string // what befell the folder, until it is made again
	counters    map[string]*counter
	applies     uint64
	opens       int // counters opened this Apply
	fails       []Failure
	swept       []string
	lastPass    time.Time     // the last clean-up
	cursor      *os.File      // where the clean-up goes on in the folder
	unlooked    []string      // names read by the clean-up, not looked at yet
	noDefs      bool          // the last clean-up found no libvirt definitions: it removes nothing
	qemuEtc     string        // libvirt's domain definitions (SetHostEtc)
	sweepBudget time.Duration // the most one clean-up takes
	euid        int
	// pwrite writes a counter: syscall.Pwrite, a seam for tests of
	// failing writes.
	pwrite func(fd int, b []byte, off int64) (int, error)
}

// counter is a domain's counter: open (fd ≥ 0), or held in memory while
// it cannot be (not yet opened, the folder made again, a write failed).
type counter struct {
	fd int // -1: not open
	// value is the counter's value once known (its file read); before,
	// the energy to add to the value its file holds.
	value energy.Energy
	known bool
	// written is the value last written: value − written is held.
	written energy.Energy
	// id is the counter's identity, given when it is first opened and
	// kept while the counter is held, as its value is (IDFile).
	id      ID
	dirty   bool   // value is not written yet
	used    uint64 // the last Apply that named it
	failing uint64 // the first Apply of a run of failed writes, 0: none
	buf     [Width + 1]byte
}

// New returns a writer of counters under dir. Nothing is opened or made
// before the first Apply.
func New(dir string) *Writer {
	return &Writer{dir: dir, root: -1, qemuEtc: filepath.Join("/etc", qemuDefs), sweepBudget: sweepTime, counters: map[string]*counter{}, euid: os.Geteuid(), pwrite: syscall.Pwrite}
}

// SetHostEtc says where the host's /etc is: the clean-up never removes
// the folder of a domain libvirt defines (<etc>/libvirt/qemu/<domain>.xml),
// which libvirt would refuse to start without it.
func (w *Writer) SetHostEtc(etc string) { w.qemuEtc = filepath.Join(etc, qemuDefs) }

// Made says whether the last Apply made the folder, missing when the
// writer started: every counter starts at 0 there.
func (w *Writer) Made() bool { return w.made }

// Dir is the folder the counters are written under.
func (w *Writer) Dir() string { return w.dir }

// Apply adds each entry's energy to its domain's counter, opening (and
// making) the counters it needs, and writes every counter whose value has
// not been written. It returns what could not be done, in a slice reused
// by the next call. A domain whose counter cannot be written keeps its
// energy (Kept) for the next Apply, for GiveUpApplies applies; a name that
// cannot be a folder name, or one beyond MaxCounters, loses it.
func (w *Writer) Apply(batch []Add) []Failure {
	w.applies++
	w.fails, w.swept, w.opens, w.made = w.fails[:0], w.swept[:0], 0, false
	w.checkFolder()
	for _, a := range batch {
		c, ok := w.counters[a.Domain]
		if !ok {
			if err := CheckName(a.Domain); err != nil {
				w.fails = append(w.fails, Failure{Domain: a.Domain, Err: err, Lost: a.Energy})
				continue
			}
			if len(w.counters) >= MaxCounters {
				w.fails = append(w.fails, Failure{Domain: a.Domain, Err: fmt.Errorf("more than %d counters: %w", MaxCounters, ErrTooMany), Lost: a.Energy})
				continue
			}
			c = &counter{fd: -1, dirty: true}
			w.counters[a.Domain] = c
		}
		c.used = w.applies
		if a.Energy != 0 {
			c.value = (c.value + a.Energy%Wrap) % Wrap
			c.dirty = true
		}
	}
	if err := w.openFolder(); err != nil {
		w.folderFailed(err)
		return w.fails
	}
	for d, c := range w.counters {
		if c.dirty {
			w.flush(d, c)
		} else if w.applies-c.used >= idleApplies {
			w.drop(d, c)
		}
	}
	w.sweep(time.Now())
	return w.fails
}

// flush writes a counter's value, opening its file first if need be. A
// failure keeps the value held, until GiveUpApplies applies have failed.
func (w *Writer) flush(domain string, c *counter) {
	err := w.write(domain, c)
	if err == nil {
		c.failing = 0
		return
	}
	if errors.Is(err, errLater) {
		return // opened at the next Apply: not a failure
	}
	if c.failed(w.applies) {
		w.fails = append(w.fails, Failure{Domain: domain, Err: fmt.Errorf("%w; given up after %d tries", err, GiveUpApplies), Lost: c.held()})
		w.drop(domain, c)
		return
	}
	w.fails = append(w.fails, Failure{Domain: domain, Err: err, Kept: true})
}

// failed counts a failed write at Apply n, and says whether the counter
// has failed for GiveUpApplies applies in a row.
func (c *counter) failed(n uint64) bool {
	if c.failing == 0 {
		c.failing = n
	}
	return n-c.failing+1 >= GiveUpApplies
}

// held is the energy of the counter not yet written.
func (c *counter) held() energy.Energy {
	if !c.known {
		return c.value
	}
	return (c.value + Wrap - c.written) % Wrap
}

// write writes the counter's value to its file.
func (w *Writer) write(domain string, c *counter) error {
	if c.fd < 0 {
		if w.opens >= MaxOpens {
			return errLater
		}
		w.opens++
		fd, v, err := w.open(domain, c)
		if err != nil {
			return err
		}
		c.fd = fd
		if !c.known {
			c.value, c.known = (v+c.value)%Wrap, true
		}
	}
	Format(&c.buf, c.value)
	n, err := kfile.Retry(func() (int, error) { return w.pwrite(c.fd, c.buf[:], 0) })
	if err == nil && n != len(c.buf) {
		err = fmt.Errorf("short write (%d of %d bytes)", n, len(c.buf))
	}
	if err != nil {
		// Opened again at the next try: the file may be the problem.
		syscall.Close(c.fd)
		c.fd = -1
		return &fs.PathError{Op: "write", Path: Path(w.dir, domain), Err: err}
	}
	c.written, c.dirty = c.value, false
	return nil
}

// Value is a domain's counter as last written.
func (w *Writer) Value(domain string) (energy.Energy, bool) {
	c, ok := w.counters[domain]
	if !ok || !c.known {
		return 0, false
	}
	return c.written, true
}

// Active says whether the writer holds anything to look after: its folder
// open or counters (with energy still to write, or idle ones it may have
// to write again). An active writer wants an Apply every gather, empty or
// not, so that it notices its folder gone and retries what failed.
func (w *Writer) Active() bool { return w.root >= 0 || len(w.counters) > 0 }

// Close closes every file, and so lets the lock go.
func (w *Writer) Close() {
	for d, c := range w.counters {
		w.drop(d, c)
	}
	w.closeFolder()
}

func (w *Writer) drop(domain string, c *counter) {
	if c.fd >= 0 {
		syscall.Close(c.fd)
	}
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

// open makes the domain's folders and files, and opens its counter; v is
// the value its file holds.
func (w *Writer) open(domain string, c *counter) (fd int, v energy.Energy, err error) {
	dfd, err := w.subdir(w.root, domain, filepath.Join(w.dir, domain))
	if err != nil {
		return -1, 0, err
	}
	defer syscall.Close(dfd)
	zdir := filepath.Join(w.dir, domain, Zone)
	zfd, err := w.subdir(dfd, Zone, zdir)
	if err != nil {
		return -1, 0, err
	}
	defer syscall.Close(zfd)
	if err := w.ensure(zfd, zdir, "name", ZoneName+"\n"); err != nil {
		return -1, 0, err
	}
	if err := w.ensure(zfd, zdir, "max_energy_range_uj", strconv.FormatUint(uint64(Wrap), 10)+"\n"); err != nil {
		return -1, 0, err
	}
	return w.openCounter(zfd, zdir, c)
}

// subdir makes and opens the folder name under the open folder parent,
// without following a link, and checks it is a directory of ours.
func (w *Writer) subdir(parent int, name, path string) (int, error) {
	err := syscall.Mkdirat(parent, name, 0o755)
	if err != nil && err != syscall.EEXIST {
		return -1, &fs.PathError{Op: "mkdir", Path: path, Err: err}
	}
	made := err == nil
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
		return -1, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("belongs to %s, not to %s that powerinput runs as: %w; fix: chown -R %s: %s", userText(int(st.Uid)), userText(w.euid), ErrUnsafe, userName(w.euid), w.dir)}
	}
	switch {
	case made:
		syscall.Fchmod(fd, 0o755) // whatever the umask: the guests' file server reads it
	case st.Mode&0o022 != 0:
		// Ours, but another user could rename what is in it and give a
		// guest a counter of their own: no longer writable but by us.
		syscall.Fchmod(fd, st.Mode&0o7777&^0o022)
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

// ours says whether fd is a regular file of ours with no other name. One
// that its group or others may write is made writable by us alone.
func (w *Writer) ours(fd int) bool {
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Nlink != 1 || int(st.Uid) != w.euid {
		return false
	}
	if st.Mode&0o022 != 0 {
		syscall.Fchmod(fd, st.Mode&0o7777&^0o022)
	}
	return true
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
// has one and 0 otherwise. Before a guest can read the counter's value,
// counter_id holds its identity (identify).
func (w *Writer) openCounter(dfd int, dir string, c *counter) (int, energy.Energy, error) {
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
			return -1, 0, &fs.PathError{Op: "open", Path: path, Err: err}
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
					if err := w.identify(dfd, dir, c, false); err != nil {
						syscall.Close(fd)
						return -1, 0, err
					}
					return fd, value, nil
				}
			}
			syscall.Close(fd)
		}
		if err := w.identify(dfd, dir, c, true); err != nil {
			return -1, 0, err
		}
		if c.known {
			// Made again around a value held in memory (the folder was
			// removed): the file holds that value from its first byte, or
			// a guest reading in between would see 0 under the same
			// counter_id, a drop and then a rise it would count twice.
			value = c.value
		}
		var b [Width + 1]byte
		Format(&b, value)
		if err := w.replace(dfd, dir, "energy_uj", b[:]); err != nil {
			return -1, 0, err
		}
	}
	return -1, 0, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("replaced but still not a counter of ours: %w", ErrUnsafe)}
}
