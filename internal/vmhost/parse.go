package vmhost

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/greencampus/powerinput/internal/cgroup"
	"github.com/greencampus/powerinput/internal/kfile"
)

// ErrSyntax is wrapped by the errors of the parsers.
var ErrSyntax = errors.New("invalid value")

// maxVCPUs bounds a vCPU count read from a command line or a cgroup tree:
// KVM's own limit is a few thousand; more is garbage.
const maxVCPUs = 4096

// ParseScopeName returns the machine name and libvirt's domain ID of a VM's
// cgroup directory, or ok false for a directory that is not a VM's:
//
//	machine-qemu\x2d<ID>\x2d<name>.scope   systemd (machine.slice), v1 or v2
//	qemu-<ID>-<name>.libvirt-qemu          libvirt without systemd (machine/)
//	<name>.libvirt-qemu                    the same, libvirt before 6.x (ID 0)
//
// The name is systemd's escaping undone ("\x2d" is "-"): data that may hold
// any byte, including '/', and must be checked before it is used as a tag
// or a path (TagName, and the guest counter's own check).
func ParseScopeName(dir string) (name string, id int, ok bool) {
	var rest string
	switch {
	case strings.HasSuffix(dir, ".scope"):
		rest, ok = strings.CutPrefix(cgroup.Unescape(strings.TrimSuffix(dir, ".scope")), "machine-qemu-")
		if !ok {
			return "", 0, false
		}
	case strings.HasSuffix(dir, ".libvirt-qemu"):
		rest = strings.TrimSuffix(dir, ".libvirt-qemu")
		after, found := strings.CutPrefix(rest, "qemu-")
		if !found {
			return rest, 0, rest != ""
		}
		rest = after
	default:
		return "", 0, false
	}
	num, name, found := strings.Cut(rest, "-")
	n, digits := kfile.Uint([]byte(num))
	if !found || !digits || n > 1<<31-1 || name == "" {
		return "", 0, false
	}
	return name, int(n), true
}

// QemuArgs is what a qemu command line says about its VM.
type QemuArgs struct {
	// Name is the guest's name: -name guest=<name>,… or -name <name>,…
	Name string
	// VCPUs from -smp; 1 when -smp is absent (qemu's default); 0 when -smp
	// cannot be read.
	VCPUs int
}

// IsQemu says whether a process's first argument is a qemu system
// emulator: its base name starts with "qemu-system" or is "qemu-kvm" or
// "kvm".
func IsQemu(argv0 []byte) bool {
	base := argv0
	if i := bytes.LastIndexByte(argv0, '/'); i >= 0 {
		base = argv0[i+1:]
	}
	return bytes.HasPrefix(base, []byte("qemu-system")) || string(base) == "qemu-kvm" || string(base) == "kvm"
}

// ParseCmdline reads /proc/<pid>/cmdline (arguments separated by NUL
// bytes). It fails when the process is not a qemu system emulator or has
// no -name.
func ParseCmdline(b []byte) (QemuArgs, error) {
	b = bytes.TrimRight(b, "\x00")
	argv0, rest, _ := bytes.Cut(b, []byte{0})
	if !IsQemu(argv0) {
		return QemuArgs{}, fmt.Errorf("not a qemu system emulator: %w", ErrSyntax)
	}
	a := QemuArgs{VCPUs: 1}
	hasName := false
	for len(rest) > 0 {
		var arg []byte
		arg, rest, _ = bytes.Cut(rest, []byte{0})
		// qemu takes -name and --name alike.
		opt := string(bytes.TrimPrefix(bytes.TrimPrefix(arg, []byte("-")), []byte("-")))
		if len(arg) == len(opt) || (opt != "name" && opt != "smp") {
			continue
		}
		if len(rest) == 0 {
			return QemuArgs{}, fmt.Errorf("%s without a value: %w", arg, ErrSyntax)
		}
		var val []byte
		val, rest, _ = bytes.Cut(rest, []byte{0})
		if opt == "name" {
			n, ok := guestName(string(val))
			if !ok {
				return QemuArgs{}, fmt.Errorf("-name without a guest name: %w", ErrSyntax)
			}
			a.Name, hasName = n, true
		} else {
			a.VCPUs = smpCPUs(string(val))
		}
	}
	if !hasName {
		return QemuArgs{}, fmt.Errorf("no -name: %w", ErrSyntax)
	}
	return a, nil
}

// qemuOpts splits a qemu option value into its comma-separated items; a
// doubled comma is a comma inside an item.
func qemuOpts(v string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != ',' {
			cur.WriteByte(v[i])
			continue
		}
		if i+1 < len(v) && v[i+1] == ',' {
			cur.WriteByte(',')
			i++
			continue
		}
		out = append(out, cur.String())
		cur.Reset()
	}
	return append(out, cur.String())
}

// guestName is the guest name of a -name value: its guest= item, or a
// first item without '=' (the older form).
func guestName(v string) (string, bool) {
	for i, item := range qemuOpts(v) {
		if name, ok := strings.CutPrefix(item, "guest="); ok {
			return name, name != ""
		}
		if i == 0 && !strings.Contains(item, "=") {
			return item, item != ""
		}
	}
	return "", false
}

// smpCPUs is the vCPU count of a -smp value: its first bare number or
// cpus=, else the product of sockets, dies, clusters, cores and threads
// (qemu's rule when cpus is left out); 0 when unreadable.
func smpCPUs(v string) int {
	product, topo := 1, false
	for i, item := range qemuOpts(v) {
		key, val, hasEq := strings.Cut(item, "=")
		if !hasEq {
			if i != 0 {
				return 0
			}
			key, val = "cpus", item
		}
		n, ok := kfile.Uint([]byte(val))
		if !ok || n == 0 || n > maxVCPUs {
			if key == "cpus" || key == "sockets" || key == "dies" || key == "clusters" || key == "cores" || key == "threads" {
				return 0
			}
			continue
		}
		switch key {
		case "cpus":
			return int(n)
		case "sockets", "dies", "clusters", "cores", "threads":
			product *= int(n)
			topo = true
			if product > maxVCPUs {
				return 0
			}
		}
	}
	if !topo {
		return 0
	}
	return product
}

// ProcStat is what /proc/<pid>/stat says of a process.
type ProcStat struct {
	// Comm is the command name, without its parentheses; it points into
	// the parsed bytes.
	Comm []byte
	// UTime and STime are the process's user and system time in clock
	// ticks, over all its threads (guest time is inside UTime).
	UTime, STime uint64
	// Start is the process's start time in ticks after boot: with the PID,
	// it tells a process from a later one that got the same PID.
	Start uint64
}

// ParseProcStat parses /proc/<pid>/stat. The command name may hold spaces
// and parentheses, so the fields are counted after its last ')'. It does
// not allocate.
func ParseProcStat(b []byte) (ProcStat, error) {
	open := bytes.IndexByte(b, '(')
	close := bytes.LastIndexByte(b, ')')
	if open < 0 || close < open {
		return ProcStat{}, fmt.Errorf("no (comm): %w", ErrSyntax)
	}
	if _, ok := kfile.Uint(bytes.TrimSpace(b[:open])); !ok {
		return ProcStat{}, fmt.Errorf("no pid before (comm): %w", ErrSyntax)
	}
	s := ProcStat{Comm: b[open+1 : close]}
	rest := b[close+1:]
	// Fields after comm: state is field 3; utime 14, stime 15, starttime 22.
	for field := 3; field <= 22; field++ {
		var f []byte
		f, rest = kfile.NextField(rest)
		if f == nil {
			return ProcStat{}, fmt.Errorf("%d fields, want at least 22: %w", field-1, ErrSyntax)
		}
		if field != 14 && field != 15 && field != 22 {
			continue
		}
		v, ok := kfile.Uint(kfile.TrimSpace(f))
		if !ok {
			return ProcStat{}, fmt.Errorf("field %d is not a count of ticks: %w", field, ErrSyntax)
		}
		switch field {
		case 14:
			s.UTime = v
		case 15:
			s.STime = v
		case 22:
			s.Start = v
		}
	}
	return s, nil
}

// ParseUptime returns the first number of /proc/uptime (the seconds since
// boot, with two decimals) in clock ticks (TickDuration), the unit of a
// process's start time.
func ParseUptime(b []byte) (uint64, error) {
	f, _ := kfile.NextField(b)
	secs, frac, _ := bytes.Cut(kfile.TrimSpace(f), []byte("."))
	s, ok := kfile.Uint(secs)
	if !ok || s > 1<<40 || len(frac) > 9 {
		return 0, fmt.Errorf("uptime is not a number of seconds: %w", ErrSyntax)
	}
	var cs uint64 // hundredths
	for i := range 2 {
		if i < len(frac) {
			if frac[i] < '0' || frac[i] > '9' {
				return 0, fmt.Errorf("uptime is not a number of seconds: %w", ErrSyntax)
			}
			cs = cs*10 + uint64(frac[i]-'0')
		} else {
			cs *= 10
		}
	}
	for _, c := range frac[min(2, len(frac)):] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("uptime is not a number of seconds: %w", ErrSyntax)
		}
	}
	return s*100 + cs, nil
}
