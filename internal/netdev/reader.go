package netdev

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/lineproto"
)

// DevLimit bounds /proc/net/dev: some 300,000 interfaces.
const DevLimit = 32 << 20

// DefaultFiles is how many sysfs files a Reader keeps open by default,
// at least; the default budget is a 64th of the open-file limit
// (RLIMIT_NOFILE), at most MaxFiles.
const DefaultFiles = 32

// MaxFiles bounds the default budget of kept sysfs files.
const MaxFiles = 1024

// Interface flags (include/uapi/linux/if.h) and the loopback's ARP
// hardware type (include/uapi/linux/if_arp.h).
const (
	iffUp           = 0x1
	iffLoopback     = 0x8
	arphrdLoopback  = 772
	maxSpeedBackoff = 16 // reads
)

// Skip says why Telegraf's net input would not write an interface.
type Skip uint8

// The reasons to skip an interface. Write means it is written.
const (
	Write        Skip = iota
	SkipName          // its name cannot be a tag value: see Interface.TagErr
	SkipNotFound      // no class/net/<name> in sysfs (Telegraf: not among the system's interfaces)
	SkipLoopback      // a loopback interface
	SkipDown          // IFF_UP is clear
)

func (s Skip) String() string {
	switch s {
	case Write:
		return "written"
	case SkipName:
		return "name unfit for a tag"
	case SkipNotFound:
		return "not found in sysfs"
	case SkipLoopback:
		return "loopback"
	case SkipDown:
		return "down"
	}
	return "unknown"
}

// Interface is what one Read found about an interface.
type Interface struct {
	Counters
	// Speed is the link speed in Mbit/s from class/net/<name>/speed, -1
	// where unknown (a down or virtual interface), as Telegraf writes it.
	// It is read only for an interface to be written (Skip == Write), and
	// is -1 too while a speed file that failed is left alone (see Reader).
	Speed int64
	// Found, Up and Loopback are read only when the Reader checks (see
	// Options.Checks), and not for a name unfit for a tag. Found: sysfs
	// has class/net/<name>. Up and Loopback come from its flags (IFF_UP,
	// IFF_LOOPBACK); without a flags file, Loopback comes from its type
	// (772), or its name ("lo") without either, and Up is taken as true.
	Found, Up, Loopback bool
	// Skip is why the interface should not be written; Write if it should.
	Skip Skip
	// TagErr says why the name cannot be a tag value (Skip == SkipName).
	TagErr error
	// New is true at the first Read that lists the interface, and again
	// if it comes back after the Reader forgot it: the time to say once
	// that it is skipped for its name.
	New bool
}

// Options are a Reader's settings.
type Options struct {
	// Match selects the interfaces to read by name, as Telegraf's
	// `interfaces` option does; nil selects all. The others are not
	// returned and cost no sysfs read. Read calls it, so it must be safe
	// in the goroutine that runs Read.
	Match func(name string) bool
	// Checks skips the interfaces not found in sysfs, the loopbacks and
	// those down, reading class/net/<name>/flags (or type) at each Read.
	// Telegraf's net input does so when it has no `interfaces` list and
	// HOST_PROC is not set.
	Checks bool
	// Files is how many sysfs files stay open between reads (0 for the
	// default budget, see DefaultFiles; negative for none). Past it, a file is opened, read
	// and closed each time.
	Files int
	// Open opens sysfs files; nil for kfile.OpenReader. A seam for tests.
	Open kfile.Opener
}

// Reader reads interfaces' counters and sysfs state again and again. It
// keeps at most Options.Files sysfs files and /proc/net/dev open, and
// forgets an interface a few reads after /proc/net/dev stops listing it.
// A speed file that fails (the kernel answers EINVAL for a down link) is
// not read again for a while: 2, 4, 8, then every 16 reads, or at once
// when the interface's flags change.
//
// A Reader is not safe for concurrent use. Read and Close may run in
// another goroutine (internal/guard) as long as nothing else uses the
// Reader or the slice Read returned meanwhile.
type Reader struct {
	devPath string
	netDir  string
	opts    Options
	files   kfile.Budget // the sysfs files kept open
	open    kfile.Opener

	dev    *kfile.File
	buf    []byte
	parser Parser
	list   []Counters
	out    []Interface
	ifs    map[string]*iface
	read   uint64 // reads so far
	attr   [kfile.AttrSize]byte
}

// iface is what a Reader keeps about one interface between reads.
type iface struct {
	flagsFile, speedFile kfile.Reader // kept open, or nil
	seen                 uint64       // the last read that listed it
	tagErr               error
	typ                  int32 // class/net/<name>/type, -1 until read
	flags                uint64
	hasFlags             bool
	// A failed speed read: not read again before read retryAt, unless
	// the flags change from failFlags.
	retryAt   uint64
	failures  uint8
	failFlags uint64
}

// NewReader returns a Reader of hostProc/net/dev and of the interfaces'
// files under hostSys/class/net. It opens nothing before the first Read.
func NewReader(hostProc kfile.ProcRoot, hostSys kfile.SysRoot, o Options) *Reader {
	r := &Reader{
		devPath: hostProc.Path("net", "dev"),
		netDir:  hostSys.Path("class", "net"),
		opts:    o,
		open:    o.Open,
		ifs:     map[string]*iface{},
	}
	if o.Files == 0 {
		o.Files = kfile.KeepBudget(64, DefaultFiles, MaxFiles)
	}
	r.files = kfile.NewBudget(o.Files)
	if r.open == nil {
		r.open = kfile.OpenReader
	}
	return r
}

// Path is the path of the /proc/net/dev file read.
func (r *Reader) Path() string { return r.devPath }

// Read reads /proc/net/dev and, for each interface it lists that
// Options.Match selects, what Telegraf adds from sysfs. The slice is the
// Reader's, valid until the next Read or Close. A failure to read
// /proc/net/dev returns no interfaces; malformed lines return the others
// and a *SyntaxError.
func (r *Reader) Read() ([]Interface, error) {
	r.read++
	r.trim()
	if r.dev == nil {
		f, err := kfile.Open(r.devPath)
		if err != nil {
			return nil, err
		}
		r.dev = f
	}
	b, err := r.dev.ReadAll(r.buf, DevLimit)
	if err != nil {
		r.dev.Close()
		r.dev = nil
		return nil, err
	}
	r.buf = b
	var perr error
	r.list, perr = r.parser.ParseBytes(b, r.list)
	r.out = r.out[:0]
	for _, c := range r.list {
		if r.opts.Match != nil && !r.opts.Match(c.Name) {
			continue
		}
		r.out = append(r.out, r.inspect(c))
	}
	r.forget(len(r.out))
	return r.out, perr
}

// inspect reads what sysfs says of one interface.
func (r *Reader) inspect(c Counters) Interface {
	it := Interface{Counters: c, Speed: -1}
	st := r.ifs[c.Name]
	if st == nil {
		st = &iface{typ: -1, tagErr: lineproto.CheckTagValue(c.Name)}
		r.ifs[c.Name] = st
		it.New = true
	}
	st.seen = r.read
	if st.tagErr != nil {
		it.Skip, it.TagErr = SkipName, st.tagErr
		return it
	}
	if r.opts.Checks {
		r.state(c.Name, st, &it)
		switch {
		case !it.Found:
			it.Skip = SkipNotFound
		case it.Loopback:
			it.Skip = SkipLoopback
		case !it.Up:
			it.Skip = SkipDown
		}
		if it.Skip != Write {
			return it
		}
	}
	it.Speed = r.speed(c.Name, st)
	return it
}

// state sets Found, Up and Loopback from the interface's flags, or its
// type where it has no flags file.
func (r *Reader) state(name string, st *iface, it *Interface) {
	b, err := r.readAttr(&st.flagsFile, name, "flags")
	if err == nil {
		if v, ok := parseHex(b); ok {
			st.flags, st.hasFlags = v, true
			it.Found, it.Up, it.Loopback = true, v&iffUp != 0, v&iffLoopback != 0
			return
		}
	}
	st.hasFlags = false
	if st.typ < 0 {
		b, err := r.readAttr(nil, name, "type")
		switch {
		case err == nil:
			if v, ok := kfile.Uint(kfile.TrimSpace(b)); ok && v <= math.MaxInt32 {
				st.typ = int32(v) // it never changes: not read again
			}
		case errors.Is(err, fs.ErrNotExist):
			// Neither flags nor type: is there a directory at all?
			if _, err := os.Stat(filepath.Join(r.netDir, name)); errors.Is(err, fs.ErrNotExist) {
				return
			}
		}
	}
	it.Found, it.Up = true, true
	if st.typ >= 0 {
		it.Loopback = st.typ == arphrdLoopback
	} else {
		it.Loopback = name == "lo"
	}
}

// speed reads the link speed, unless it failed lately.
func (r *Reader) speed(name string, st *iface) int64 {
	if st.failures > 0 && r.read < st.retryAt && !(st.hasFlags && st.flags != st.failFlags) {
		return -1
	}
	b, err := r.readAttr(&st.speedFile, name, "speed")
	v, ok := int64(0), false
	if err == nil {
		v, ok = parseSpeed(b)
	}
	if !ok {
		st.failures = min(st.failures+1, 8)
		st.retryAt = r.read + min(uint64(1)<<st.failures, maxSpeedBackoff)
		st.failFlags = st.flags
		if st.speedFile != nil { // read, but not a number: do not keep it
			r.closeFile(&st.speedFile)
		}
		return -1
	}
	st.failures = 0
	return v
}

// readAttr reads attribute attr of interface name into r.attr. With f
// not nil, the file is kept open in *f while the budget allows. A kept
// file that fails is opened afresh once: the interface may have been
// replaced by another of the same name.
func (r *Reader) readAttr(f *kfile.Reader, name, attr string) ([]byte, error) {
	if f != nil && *f != nil {
		if b, err := r.readFrom(*f); err == nil {
			return b, nil
		}
		r.closeFile(f)
	}
	g, err := r.open(r.netDir + "/" + name + "/" + attr)
	if err != nil {
		return nil, err
	}
	b, err := r.readFrom(g)
	if err != nil || f == nil || !r.files.Take() {
		g.Close()
		return b, err
	}
	*f = g
	return b, nil
}

func (r *Reader) readFrom(f kfile.Reader) ([]byte, error) {
	n, err := f.ReadAt(r.attr[:], 0)
	if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
		return nil, err
	}
	if n == len(r.attr) {
		return nil, kfile.ErrTooLarge
	}
	if n == 0 {
		return nil, kfile.ErrEmpty
	}
	return r.attr[:n], nil
}

func (r *Reader) closeFile(f *kfile.Reader) {
	if *f != nil {
		(*f).Close()
		*f = nil
		r.files.Release()
	}
}

// forget drops the interfaces /proc/net/dev has not listed for a few
// reads, when they have become a fair share of those kept.
func (r *Reader) forget(live int) {
	if len(r.ifs) <= live+live/4+64 {
		return
	}
	for name, st := range r.ifs {
		if r.read-st.seen >= forgetAfter {
			r.closeFile(&st.flagsFile)
			r.closeFile(&st.speedFile)
			delete(r.ifs, name)
		}
	}
}

// trim lets go of buffers far larger than the previous read needed, so
// that a burst of interfaces holds no memory once they are gone.
func (r *Reader) trim() {
	if cap(r.buf) > 1<<20 && cap(r.buf) > 4*len(r.buf) {
		r.buf = nil
	}
	if cap(r.list) > 1024 && cap(r.list) > 4*len(r.list) {
		r.list = nil
	}
	if cap(r.out) > 1024 && cap(r.out) > 4*len(r.out) {
		r.out = nil
	}
}

// Close releases the open files and forgets every interface. A Read
// afterwards starts again.
func (r *Reader) Close() error {
	var err error
	if r.dev != nil {
		err = r.dev.Close()
		r.dev = nil
	}
	for name, st := range r.ifs {
		r.closeFile(&st.flagsFile)
		r.closeFile(&st.speedFile)
		delete(r.ifs, name)
	}
	r.out = r.out[:0]
	return err
}

// parseHex parses a sysfs flags value ("0x1003"): an optional 0x, then 1
// to 16 hex digits, then white space. It does not allocate.
func parseHex(b []byte) (uint64, bool) {
	b = kfile.TrimSpace(b)
	if len(b) >= 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		b = b[2:]
	}
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

// parseSpeed parses a speed file: a decimal number, "-1" when the driver
// does not know (the kernel prints a u32 with %d).
func parseSpeed(b []byte) (int64, bool) {
	b = kfile.TrimSpace(b)
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	v, ok := kfile.Uint(b)
	if !ok || v > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}
