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
// derives from it (and may shorten or change): a fallback, looked up again
// (each round, then less and less often) until qemu's command line gives
// the name. The group exists before qemu does: libvirt's child process
// is put in it before it becomes qemu, and its command line is then
// libvirt's, which names no VM. A machine name is no VM's name (it may be
// another VM's): the caller counts such a VM's CPU time as the
// hypervisor's own (NameFromMachine) until qemu's command line names it,
// or, when it has not for nameKeep rounds (a /proc that hides qemu), as
// the machine name's (NameFromMachineKept), with no guest counter.
//
// In the "qemu processes" mode a process is a VM only when it is run by
// one of the users libvirt runs qemu as, or by root from a system
// emulator owned by root (QemuUsers): any local user may start a process
// named qemu-system-x86_64. In the cgroup modes, only root (libvirt,
// systemd) makes the groups, so no such check is needed there.
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
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/greencampus/powerinput/internal/attribute"
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
	// NameFrom is where Domain was read.
	NameFrom NameSource
	// PID is the qemu process the name was read from (0: none).
	PID int
	// UID is the user running it (NameFrom == NameFromProcess).
	UID uint32
	// VCPUs is the number of virtual CPUs; 0 when unknown.
	VCPUs int
	// Usage is the VM's CPU time since it started.
	Usage time.Duration
}

// NameSource is where a VM's name was read.
type NameSource uint8

// Name sources.
const (
	// NameFromMachine is the cgroup's machine name, libvirt's (it may drop
	// or change characters of the domain's name): a fallback until qemu's
	// command line can be read.
	NameFromMachine NameSource = iota
	// NameFromEmulator is the command line of the qemu process of the
	// VM's cgroup.
	NameFromEmulator
	// NameFromProcess is the command line of a qemu process found as such
	// (the "qemu processes" mode), run by a user of QemuUsers or by root.
	NameFromProcess
	// NameFromMachineKept is the cgroup's machine name, kept because
	// qemu's command line could not be read for nameKeep rounds (it is
	// still looked up now and then).
	NameFromMachineKept
)

// Fallback says whether the name is the cgroup's machine name.
func (n NameSource) Fallback() bool { return n == NameFromMachine || n == NameFromMachineKept }

// Rename is a VM whose name was read again, from qemu's command line,
// after a fallback: the same VM (ID) under another name from now on.
type Rename struct {
	ID, From, To string
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
	// OverNames counts the VMs not listed because the day has had
	// MaxNamesPerDay names already.
	OverNames int
	// Renamed are the VMs named anew in this sample.
	Renamed []Rename
	// Refused counts the qemu processes with a VM's command line that are
	// no VMs: not run by a user of QemuUsers, nor by root from a system
	// emulator. RefusedUIDs are their users (a few).
	Refused     int
	RefusedUIDs []uint32
}

// MaxVMs bounds the VMs listed: their CPU time beyond it counts with the
// hypervisor's own.
const MaxVMs = 1024

// MaxNamesPerDay bounds the VM names listed in a UTC day, as services'
// names are (max_names_per_day), so that the series a long retention
// keeps stay few whatever makes VMs (a CI making short-lived ones with
// new names): a VM of a new name beyond it is not listed until the next
// day, its CPU time counting with the hypervisor's own. The running VMs
// (at most MaxVMs) always fit in a new day.
const MaxNamesPerDay = 2 * MaxVMs

// TickDuration is a clock tick of /proc/stat and /proc/<pid>/stat
// (USER_HZ, 100 on every Linux architecture Go runs on).
const TickDuration = 10 * time.Millisecond

// vcpuRecount: rounds after which a VM's vCPUs are counted again (a vCPU
// added or removed while it runs), and a process that is not qemu, or not
// a VM, is looked at again.
const vcpuRecount = 60

// maxNameWait: rounds at most between two lookups of the name of a VM
// named from its machine name. They start at every round (qemu's command
// line is there within a moment of the group, as a rule) and double, so
// that a VM whose emulator cannot be read (no libvirt sub-tree, a procfs
// that hides it) costs a dozen lookups in a day, not some every round.
const maxNameWait = 4096

// nameKeep: rounds after which a VM whose name is still its machine name
// keeps it (NameFromMachineKept): its name is looked up at rounds 1, 3,
// 7, … 63 after it was found, about ten minutes at a 10 s interval.
const nameKeep = 64

// youngTicks: a process started less than this long ago (in ticks) when
// it was first seen may be libvirt's child before it becomes qemu: it is
// looked at again after 1, 2, 4, … rounds, not vcpuRecount.
const youngTicks = 60 * uint64(time.Second/TickDuration)

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
	uptime  *kfile.File
	users   qemuUsers
	// The names listed this UTC day (MaxNamesPerDay).
	day      int64
	names    map[string]struct{}
	maxNames int // MaxNamesPerDay (tests give fewer)
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
	// The next round the name is looked up (NameFromMachine), and the
	// wait after that one.
	nameAt, nameWait uint64
	nameDay          int64 // the day the name was let in (1 + attribute.DayOf)
}

type proc struct {
	pid   int
	start uint64
	qemu  bool
	vm    VM
	stat  *kfile.File
	seen  uint64
	// Not a VM (yet): the round to look again, and the wait after that.
	againAt, wait uint64
	refused       bool // qemu, but no VM (admit)
	uid           uint32
	nameDay       int64 // the day the name was let in (1 + attribute.DayOf)
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
		names:   map[string]struct{}{}, maxNames: MaxNamesPerDay,
		procDir: string(hostProc),
		users:   qemuUsers{etc: "/etc", names: DefaultQemuUsers()},
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
	s.Renamed, s.Refused, s.RefusedUIDs, s.OverNames = s.Renamed[:0], 0, s.RefusedUIDs[:0], 0
	if day := attribute.DayOf(f.clock()); day != f.day {
		f.day = day
		clear(f.names)
	}
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
	if a, pid, ok := f.emulatorArgs(dir); ok {
		sc.vm.Domain, sc.vm.NameFrom, sc.vm.PID = a.Name, NameFromEmulator, pid
		sc.vm.VCPUs = a.VCPUs
	} else {
		sc.nameAt, sc.nameWait = f.round+1, 1
	}
	return sc
}

// maxEmulatorPIDs bounds the processes of a group looked at for qemu's.
const maxEmulatorPIDs = 8

// emulatorArgs reads the command line of the qemu process of a VM's group:
// the first of its processes whose command line is a qemu system
// emulator's with a -name (not libvirt's child before it becomes qemu,
// nor a helper such as swtpm or virtiofsd).
func (f *Finder) emulatorArgs(dir string) (QemuArgs, int, bool) {
	for _, rel := range []string{"libvirt/emulator/cgroup.procs", "emulator/cgroup.procs", "cgroup.procs"} {
		b, err := kfile.ReadFile(filepath.Join(dir, rel), nil, 1<<16)
		if err != nil {
			continue
		}
		for i := 0; i < maxEmulatorPIDs && len(b) > 0; i++ {
			var line []byte
			line, b = kfile.NextLine(b)
			pid, ok := kfile.Uint(kfile.TrimSpace(line))
			if !ok || pid == 0 || pid > 1<<31-1 {
				continue
			}
			cmd, err := kfile.ReadFile(f.hostProc.Path(strconv.FormatUint(pid, 10), "cmdline"), nil, 1<<20)
			if err != nil {
				continue
			}
			if a, err := ParseCmdline(cmd); err == nil {
				return a, int(pid), true
			}
		}
	}
	return QemuArgs{}, 0, false
}

// nameAgain looks up the name of a VM named from its machine name, and
// says when it changes.
func (f *Finder) nameAgain(sc *scope, s *Sample) {
	a, pid, ok := f.emulatorArgs(sc.dir)
	if !ok {
		sc.nameWait = min(2*sc.nameWait, maxNameWait)
		sc.nameAt = f.round + sc.nameWait
		if sc.nameWait >= nameKeep {
			sc.vm.NameFrom = NameFromMachineKept
		}
		return
	}
	if a.Name != sc.vm.Domain {
		s.Renamed = append(s.Renamed, Rename{ID: sc.id, From: sc.vm.Domain, To: a.Name})
	}
	sc.vm.Domain, sc.vm.NameFrom, sc.vm.PID, sc.nameDay = a.Name, NameFromEmulator, pid, 0
	if sc.vm.VCPUs == 0 {
		sc.vm.VCPUs = a.VCPUs
	}
}

// readScope reads a VM group's CPU time, and its vCPUs now and then.
func (f *Finder) readScope(sc *scope, s *Sample) {
	d, file, err := f.usage(sc.usage, sc.dir)
	sc.usage = file
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENODEV) {
			s.Skipped = append(s.Skipped, err)
		} // else the VM stopped between the listing and the read: gone, not skipped
		return
	}
	if sc.vm.NameFrom.Fallback() && f.round >= sc.nameAt {
		f.nameAgain(sc, s)
	}
	if sc.vcpuAt == 0 || f.round-sc.vcpuAt >= vcpuRecount {
		sc.vcpuAt = f.round
		if n := f.countVCPUs(sc.dir); n > 0 {
			sc.vm.VCPUs = n
		}
	}
	sc.vm.Usage = d
	if f.listName(sc.vm.Domain, &sc.nameDay, s) {
		s.VMs = append(s.VMs, sc.vm)
	}
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

// maxRefusedUIDs bounds Sample.RefusedUIDs.
const maxRefusedUIDs = 8

// processVMs finds qemu processes by their command line.
func (f *Finder) processVMs(s *Sample) {
	s.Method, s.Where = Processes, f.procDir
	now, nowOK := f.readUptime()
	var err error
	f.dirBuf, err = f.listDirs(&f.procD, f.procDir, f.procDir, f.dirBuf, func(name []byte) {
		n, ok := kfile.Uint(name)
		if !ok || n == 0 || n > 1<<31-1 {
			return
		}
		pid := int(n)
		p := f.procs[pid]
		if p != nil && (p.qemu || f.round < p.againAt) {
			p.seen = f.round
			if p.refused {
				f.refuse(p, s)
			}
			if p.qemu {
				if len(s.VMs) == MaxVMs {
					s.Truncated = true
					return
				}
				f.readProc(p, s)
			}
			return
		}
		f.checkProc(pid, p, s, now, nowOK)
	})
	if err != nil {
		s.Skipped = append(s.Skipped, err)
	}
}

// readUptime reads the ticks since boot, to tell young processes.
func (f *Finder) readUptime() (uint64, bool) {
	if f.uptime == nil {
		var err error
		if f.uptime, err = kfile.Open(f.hostProc.Path("uptime")); err != nil {
			f.uptime = nil
			return 0, false
		}
	}
	var err error
	f.buf, err = f.uptime.ReadAll(f.buf, 256)
	if err != nil {
		f.uptime.Close()
		f.uptime = nil
		return 0, false
	}
	t, err := ParseUptime(f.buf)
	return t, err == nil
}

// checkProc looks at a process not known yet, or not a VM when last
// looked at (a process may become qemu: libvirt's child does; or its PID
// may have been taken by a new process). now is the ticks since boot.
func (f *Finder) checkProc(pid int, p *proc, s *Sample, now uint64, nowOK bool) {
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
	if p == nil || p.start != st.Start {
		p = &proc{pid: pid, start: st.Start, wait: vcpuRecount}
		// Young: started less than youngTicks ago, or, without an
		// uptime, since the first round.
		if nowOK && st.Start+youngTicks > now || !nowOK && f.round > 1 {
			p.wait = 0
		}
		f.procs[pid] = p
	}
	p.seen = f.round
	// Looked at again after 1, 2, 4, … rounds while young, up to
	// vcpuRecount.
	p.wait = min(max(2*p.wait, 1), vcpuRecount)
	p.againAt = f.round + p.wait
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
	uid, ok, known := f.admit(dir)
	if !known {
		return // ended, or not readable now: looked at again later
	}
	if !ok {
		p.refused, p.uid, p.wait, p.againAt = true, uid, vcpuRecount, f.round+vcpuRecount
		f.refuse(p, s)
		return
	}
	p.qemu, p.refused = true, false
	p.vm = VM{ID: "pid " + strconv.Itoa(pid) + " started at tick " + strconv.FormatUint(st.Start, 10), Domain: a.Name,
		NameFrom: NameFromProcess, PID: pid, UID: uid, VCPUs: a.VCPUs}
	if len(s.VMs) == MaxVMs {
		s.Truncated = true
		return
	}
	f.readProc(p, s)
}

// refuse counts a qemu process that is no VM.
func (f *Finder) refuse(p *proc, s *Sample) {
	s.Refused++
	if len(s.RefusedUIDs) < maxRefusedUIDs && !slices.Contains(s.RefusedUIDs, p.uid) {
		s.RefusedUIDs = append(s.RefusedUIDs, p.uid)
	}
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
	if f.listName(p.vm.Domain, &p.nameDay, s) {
		s.VMs = append(s.VMs, p.vm)
	}
}

// listName says whether a VM of this name is listed today: its name was
// let in today (*day, kept by the VM: no lookup a round), or the day has
// room for it.
func (f *Finder) listName(name string, day *int64, s *Sample) bool {
	if *day == f.day+1 {
		return true
	}
	if _, ok := f.names[name]; !ok {
		if len(f.names) >= f.maxNames {
			s.OverNames++
			return false
		}
		f.names[name] = struct{}{}
	}
	*day = f.day + 1
	return true
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
	f.uptime.Close()
	f.root.Close()
	f.cgDir.Close()
	f.procD.Close()
	f.stat, f.uptime, f.root, f.cgDir, f.procD = nil, nil, nil, nil, nil
}

// Hierarchy is the cgroup hierarchy found, if any, and why not.
func (f *Finder) Hierarchy() (*cgroup.Hierarchy, error) { return f.hier, f.hierFail }
