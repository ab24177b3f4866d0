// Package vmhost finds the virtual machines of a KVM hypervisor and reads
// the CPU time each has used, with the machine's busy time and CPU count,
// from sysfs and procfs trees rooted at configurable paths:
//
//   - cgroup v2: libvirt's machine.slice/machine-qemu\x2d<ID>\x2d<name>.scope
//     (and machine/<…>.libvirt-qemu without systemd), CPU time from cpu.stat
//     usage_usec, which counts the scope's libvirt/ sub-tree too;
//   - cgroup v1 where v2 is absent: the same groups in the cpuacct
//     hierarchy, cpuacct.usage;
//   - otherwise qemu processes found by their command line (-name guest=…),
//     CPU time from /proc/<pid>/stat (utime + stime: all its threads).
//
// The vCPUs of a VM are its cgroup's vcpu<N> groups, else -smp. The domain
// name is the one on qemu's command line (the emulator process of the
// group) where it can be read, else the group's machine name, which libvirt
// derives from it (and may shorten).
//
// It does I/O only; the caller bounds it in time (package guard). It never
// imports Telegraf.
package vmhost

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"time"

	"github.com/greencampus/powerinput/internal/cgroup"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/procstat"
)

// Method is how VMs were found.
type Method uint8

// Methods, in the order they are tried.
const (
	NoMethod Method = iota
	CgroupV2
	CgroupV1
	Processes
)

func (m Method) String() string {
	switch m {
	case CgroupV2:
		return "cgroup v2"
	case CgroupV1:
		return "cgroup v1"
	case Processes:
		return "qemu processes"
	}
	return "none"
}

// VM is one running VM.
type VM struct {
	// ID tells this run of the VM from any other: its cgroup directory, or
	// its PID and start time. A VM restarted under the same name has a new
	// ID.
	ID string
	// Domain is the domain name (see the package comment).
	Domain string
	// NameFromCmdline: Domain comes from qemu's -name, not from the group's
	// directory.
	NameFromCmdline bool
	// VCPUs is the number of virtual CPUs; 0 when unknown.
	VCPUs int
	// Usage is the VM's CPU time since it started.
	Usage time.Duration
}

// Busy sources.
const (
	BusyCgroupRoot = "cgroup root"
	BusyProcStat   = "/proc/stat"
)

// Sample is one reading of the host's VMs.
type Sample struct {
	Method Method
	// Where is the directory the VMs were listed from.
	Where string
	VMs   []VM
	// Busy is the machine's cumulative busy CPU time, read from BusyFrom.
	Busy     time.Duration
	BusyFrom string
	// CPUs is the number of online CPUs (cpuN lines of /proc/stat).
	CPUs int
	// At is the clock right after the reads.
	At time.Time
	// Skipped are VMs found but not readable this time (their group or
	// process went away while being read, or a file is unreadable).
	Skipped []error
	// Truncated: more than MaxVMs were found; the rest are not listed.
	Truncated bool
}

// MaxVMs bounds the VMs listed: their CPU time beyond it counts with the
// hypervisor's own.
const MaxVMs = 1024

// TickDuration is a clock tick of /proc/stat and /proc/<pid>/stat
// (USER_HZ, 100 on every Linux architecture Go runs on).
const TickDuration = 10 * time.Millisecond

// vcpuRecount: rounds after which a VM's vCPUs are counted again (a vCPU
// added or removed while it runs).
const vcpuRecount = 60

// maxStatSize bounds /proc/stat (see the cpu collector).
const maxStatSize = 8 << 20

// Finder reads the VMs of one host. It keeps the files of the VMs it found
// open between samples, so a sample of a hundred VMs is a hundred preads.
type Finder struct {
	hostSys  kfile.SysRoot
	hostProc kfile.ProcRoot
	clock    func() time.Time

	hier     *cgroup.Hierarchy
	hierFail error
	root     *kfile.File // the hierarchy root's usage file, nil if unreadable
	rootBad  bool
	stat     *kfile.File
	st       procstat.Stat
	buf      []byte
	dirBuf   []byte
	vcpuBuf  []byte
	relBuf   []byte
	cgDir    *kfile.Dir // the hierarchy's root, kept for listings
	procD    *kfile.Dir // procDir, kept for listings
	round    uint64

	parents [2]parent // machine.slice, machine
	procs   map[int]*proc
	procDir string
}

// parent is a directory whose children may be VMs' groups.
type parent struct {
	rel    string
	scopes map[string]*scope
}

type scope struct {
	id, dir string
	vm      VM
	usage   *kfile.File
	seen    uint64
	vcpuAt  uint64
	bad     bool // not a VM's group, or unreadable: not looked at again
}

type proc struct {
	pid     int
	start   uint64
	qemu    bool
	vm      VM
	stat    *kfile.File
	seen    uint64
	checked uint64
}

// NewFinder reads from the trees at hostSys and hostProc. clock is read
// right after the reads (nil: time.Now).
func NewFinder(hostSys kfile.SysRoot, hostProc kfile.ProcRoot, clock func() time.Time) *Finder {
	if clock == nil {
		clock = time.Now
	}
	return &Finder{
		hostSys: hostSys, hostProc: hostProc, clock: clock,
		parents: [2]parent{{rel: "machine.slice"}, {rel: "machine"}},
		procs:   map[int]*proc{},
		procDir: string(hostProc),
	}
}

// Sample reads the VMs, their CPU time, the machine's busy time and CPU
// count into s (its slices reused). An error means no sample: the CPU
// count or busy time cannot be had. A VM that cannot be read is left out
// and named in s.Skipped.
func (f *Finder) Sample(s *Sample) error {
	busyTicks, err := f.readStat()
	if err != nil {
		return err
	}
	return f.SampleFrom(s, busyTicks, f.st.Online())
}

// SampleFrom is Sample with the machine's busy ticks and online CPUs as
// the caller read them from /proc/stat (user, nice, system, irq and
// softirq: steal is time the machine did not get), so that a gather reads
// that file once.
func (f *Finder) SampleFrom(s *Sample, busyTicks uint64, cpus int) error {
	if cpus <= 0 {
		return fmt.Errorf("%s lists no CPU", f.hostProc.Path("stat"))
	}
	f.round++
	s.VMs, s.Skipped, s.Truncated, s.Method, s.Where = s.VMs[:0], s.Skipped[:0], false, NoMethod, ""
	s.CPUs = cpus
	s.Busy, s.BusyFrom = time.Duration(busyTicks)*TickDuration, BusyProcStat
	if f.hier == nil {
		if h, err := cgroup.Find(f.hostSys); err == nil {
			f.hier = &h
		} else {
			f.hierFail = err
		}
	}
	found := false
	if f.hier != nil {
		if d, ok := f.rootUsage(); ok {
			s.Busy, s.BusyFrom = d, BusyCgroupRoot
		}
		found = f.cgroupVMs(s)
	}
	if !found {
		f.processVMs(s)
	}
	f.forget()
	s.At = f.clock()
	return nil
}

// readStat reads /proc/stat and returns the machine's busy ticks.
func (f *Finder) readStat() (uint64, error) {
	path := f.hostProc.Path("stat")
	if f.stat == nil {
		var err error
		if f.stat, err = kfile.Open(path); err != nil {
			f.stat = nil
			return 0, err
		}
	}
	var err error
	f.buf, err = f.stat.ReadAll(f.buf, maxStatSize)
	if err != nil {
		f.stat.Close()
		f.stat = nil
		return 0, err
	}
	procstat.ParseBytes(f.buf, &f.st) // a bad cpuN line leaves the others
	t, ok := f.st.Total()
	if !ok {
		return 0, fmt.Errorf("%s has no all-CPU (\"cpu \") line", path)
	}
	if f.st.Online() == 0 {
		return 0, fmt.Errorf("%s lists no CPU", path)
	}
	// Steal is time this machine's CPUs did not get (it is itself a guest):
	// not busy, not ours.
	return t.User + t.Nice + t.System + t.Irq + t.Softirq, nil
}

// rootUsage reads the whole machine's CPU time from the hierarchy's root
// (cgroup v2 has it in cpu.stat since Linux 5.8; v1 in cpuacct.usage).
func (f *Finder) rootUsage() (time.Duration, bool) {
	if f.rootBad {
		return 0, false
	}
	d, file, err := f.usage(f.root, f.hier.Dir)
	f.root = file
	if err != nil {
		f.rootBad = errors.Is(err, fs.ErrNotExist) || errors.Is(err, cgroup.ErrSyntax)
		return 0, false
	}
	return d, true
}

// usage reads a group's CPU time from file (opened from dir when nil) and
// returns the file to keep, nil after an error.
func (f *Finder) usage(file *kfile.File, dir string) (time.Duration, *kfile.File, error) {
	name := "cpuacct.usage"
	if f.hier.V2 {
		name = "cpu.stat"
	}
	if file == nil {
		var err error
		if file, err = kfile.Open(filepath.Join(dir, name)); err != nil {
			return 0, nil, err
		}
	}
	var err error
	f.buf, err = file.ReadAll(f.buf, 4096)
	if err != nil {
		file.Close()
		return 0, nil, err
	}
	var d time.Duration
	if f.hier.V2 {
		d, err = cgroup.ParseCPUStat(f.buf)
	} else {
		d, err = cgroup.ParseUsage(f.buf)
	}
	if err != nil {
		file.Close()
		return 0, nil, &fs.PathError{Op: "parse", Path: file.Path(), Err: err}
	}
	return d, file, nil
}

// cgroupVMs lists the VMs' groups; it returns false when the hierarchy has
// no directory where libvirt puts them (then qemu processes are looked for).
func (f *Finder) cgroupVMs(s *Sample) bool {
	s.Method = CgroupV1
	if f.hier.V2 {
		s.Method = CgroupV2
	}
	any := false
	for i := range f.parents {
		p := &f.parents[i]
		dir := filepath.Join(f.hier.Dir, p.rel)
		if p.scopes == nil {
			p.scopes = map[string]*scope{}
		}
		var err error
		f.dirBuf, err = f.listDirs(&f.cgDir, f.hier.Dir, dir, f.dirBuf, func(name []byte) {
			sc := p.scopes[string(name)]
			if sc == nil {
				sc = f.newScope(dir, string(name))
				p.scopes[sc.id[len(dir)+1:]] = sc
			}
			sc.seen = f.round
			if sc.bad {
				return
			}
			if len(s.VMs) == MaxVMs {
				s.Truncated = true
				return
			}
			f.readScope(sc, s)
		})
		if err != nil {
			continue // no such parent
		}
		if !any {
			s.Where = dir
		}
		any = true
	}
	return any
}

func (f *Finder) newScope(parentDir, name string) *scope {
	dir := filepath.Join(parentDir, name)
	sc := &scope{id: dir, dir: dir}
	machine, _, ok := ParseScopeName(name)
	if !ok {
		sc.bad = true
		return sc
	}
	sc.vm = VM{ID: dir, Domain: machine}
	if a, ok := f.emulatorArgs(dir); ok {
		sc.vm.Domain, sc.vm.NameFromCmdline = a.Name, true
		sc.vm.VCPUs = a.VCPUs
	}
	return sc
}

// emulatorArgs reads the command line of the qemu process of a VM's group.
func (f *Finder) emulatorArgs(dir string) (QemuArgs, bool) {
	for _, rel := range []string{"libvirt/emulator/cgroup.procs", "emulator/cgroup.procs", "cgroup.procs"} {
		b, err := kfile.ReadFile(filepath.Join(dir, rel), nil, 1<<16)
		if err != nil {
			continue
		}
		line, _ := kfile.NextLine(b)
		pid, ok := kfile.Uint(kfile.TrimSpace(line))
		if !ok || pid == 0 {
			continue
		}
		cmd, err := kfile.ReadFile(f.hostProc.Path(strconv.FormatUint(pid, 10), "cmdline"), nil, 1<<20)
		if err != nil {
			return QemuArgs{}, false
		}
		a, err := ParseCmdline(cmd)
		return a, err == nil
	}
	return QemuArgs{}, false
}

// readScope reads a VM group's CPU time, and its vCPUs now and then.
func (f *Finder) readScope(sc *scope, s *Sample) {
	d, file, err := f.usage(sc.usage, sc.dir)
	sc.usage = file
	if err != nil {
		s.Skipped = append(s.Skipped, err)
		return
	}
	if sc.vcpuAt == 0 || f.round-sc.vcpuAt >= vcpuRecount {
		sc.vcpuAt = f.round
		if n := f.countVCPUs(sc.dir); n > 0 {
			sc.vm.VCPUs = n
		}
	}
	sc.vm.Usage = d
	s.VMs = append(s.VMs, sc.vm)
}

// countVCPUs counts the vcpu<N> groups of a VM's group and of its libvirt/
// sub-tree.
func (f *Finder) countVCPUs(dir string) int {
	n := 0
	count := func(name []byte) {
		if rest, ok := bytes.CutPrefix(name, []byte("vcpu")); ok {
			if _, digits := kfile.Uint(rest); digits {
				n++
			}
		}
	}
	// Called while the parent's listing goes on in dirBuf: a buffer of its own.
	f.vcpuBuf, _ = f.listDirs(&f.cgDir, f.hier.Dir, dir, f.vcpuBuf, count)
	f.vcpuBuf, _ = f.listDirs(&f.cgDir, f.hier.Dir, filepath.Join(dir, "libvirt"), f.vcpuBuf, count)
	return min(n, maxVCPUs)
}

// processVMs finds qemu processes by their command line.
func (f *Finder) processVMs(s *Sample) {
	s.Method, s.Where = Processes, f.procDir
	var err error
	f.dirBuf, err = f.listDirs(&f.procD, f.procDir, f.procDir, f.dirBuf, func(name []byte) {
		n, ok := kfile.Uint(name)
		if !ok || n == 0 || n > 1<<31-1 {
			return
		}
		pid := int(n)
		p := f.procs[pid]
		if p != nil && (p.qemu || f.round-p.checked < vcpuRecount) {
			p.seen = f.round
			if p.qemu {
				if len(s.VMs) == MaxVMs {
					s.Truncated = true
					return
				}
				f.readProc(p, s)
			}
			return
		}
		f.checkProc(pid, p, s)
	})
	if err != nil {
		s.Skipped = append(s.Skipped, err)
	}
}

// checkProc looks at a process not known yet (or known as something else
// for a while: its PID may have been taken by a new process).
func (f *Finder) checkProc(pid int, old *proc, s *Sample) {
	dir := filepath.Join(f.procDir, strconv.Itoa(pid))
	var err error
	f.buf, err = kfile.ReadFile(filepath.Join(dir, "stat"), f.buf, 4096)
	if err != nil {
		return // gone already
	}
	st, err := ParseProcStat(f.buf)
	if err != nil {
		return
	}
	if old != nil && old.start == st.Start {
		old.seen, old.checked = f.round, f.round
		return
	}
	p := &proc{pid: pid, start: st.Start, seen: f.round, checked: f.round}
	f.procs[pid] = p
	// The command name is cut to 15 bytes: "qemu-system-x86", "qemu-kvm", "kvm".
	if !bytes.HasPrefix(st.Comm, []byte("qemu")) && string(st.Comm) != "kvm" {
		return
	}
	cmd, err := kfile.ReadFile(filepath.Join(dir, "cmdline"), nil, 1<<20)
	if err != nil {
		return
	}
	a, err := ParseCmdline(cmd)
	if err != nil {
		return
	}
	p.qemu = true
	p.vm = VM{ID: "pid " + strconv.Itoa(pid) + " started at tick " + strconv.FormatUint(st.Start, 10), Domain: a.Name, NameFromCmdline: true, VCPUs: a.VCPUs}
	if len(s.VMs) == MaxVMs {
		s.Truncated = true
		return
	}
	f.readProc(p, s)
}

// readProc reads a qemu process's CPU time.
func (f *Finder) readProc(p *proc, s *Sample) {
	if p.stat == nil {
		var err error
		if p.stat, err = kfile.Open(filepath.Join(f.procDir, strconv.Itoa(p.pid), "stat")); err != nil {
			p.stat = nil
			delete(f.procs, p.pid)
			return
		}
	}
	var err error
	f.buf, err = p.stat.ReadAll(f.buf, 4096)
	var st ProcStat
	if err == nil {
		st, err = ParseProcStat(f.buf)
	}
	if err != nil || st.Start != p.start {
		// Gone (ESRCH), or another process under the same PID.
		p.stat.Close()
		delete(f.procs, p.pid)
		return
	}
	p.vm.Usage = time.Duration(st.UTime+st.STime) * TickDuration
	s.VMs = append(s.VMs, p.vm)
}

// forget drops what was not seen in this round.
func (f *Finder) forget() {
	for i := range f.parents {
		for name, sc := range f.parents[i].scopes {
			if sc.seen != f.round {
				sc.usage.Close()
				delete(f.parents[i].scopes, name)
			}
		}
	}
	for pid, p := range f.procs {
		if p.seen != f.round {
			p.stat.Close()
			delete(f.procs, pid)
		}
	}
}

// Close releases the files kept open.
func (f *Finder) Close() {
	f.round++
	f.forget()
	f.stat.Close()
	f.root.Close()
	f.cgDir.Close()
	f.procD.Close()
	f.stat, f.root, f.cgDir, f.procD = nil, nil, nil, nil
}

// Hierarchy is the cgroup hierarchy found, if any, and why not.
func (f *Finder) Hierarchy() (*cgroup.Hierarchy, error) { return f.hier, f.hierFail }
