package procs

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/greencampus/powerinput/internal/kfile"
)

// Defaults of Options.
const (
	// DefaultFiles stat files stay open between scans at least; the
	// default budget is a quarter of the open-file limit (RLIMIT_NOFILE),
	// at most MaxFiles. The kernel keeps a page (4 KiB) for each one that
	// has been read, charged to the reader's cgroup: 1024 of them is 4 MiB.
	DefaultFiles = 1024
	// MaxFiles bounds the default budget of kept stat files (64 MiB of
	// the kernel's pages at most).
	MaxFiles = 16384
	// DefaultMax processes are read at most per scan.
	DefaultMax = 65536
)

// Options are a Scanner's settings.
type Options struct {
	// Files is how many stat files stay open between scans (0 for
	// DefaultFiles, negative for none); past it a file is opened, read and
	// closed at each scan. A kept file costs one read per scan instead of
	// an open, a read and a close: on this project's test machines, 1.0 µs
	// instead of 2.3 µs per process.
	Files int
	// Max is how many processes one scan reads at most (0 for DefaultMax);
	// the others (the highest PIDs) are left out and Result.Truncated says so.
	Max int
}

// Name is the CPU time used by the processes of one name since the
// previous scan.
type Name struct {
	// Name is the program's name (comm), or for a kernel thread its name
	// up to the first '/' (see KernelName). It is the kernel's bytes, not
	// cleaned for any use. A name keeps the same string from scan to scan.
	Name string
	// Kernel: kernel threads. A program may call itself kworker; the
	// kernel's own threads are told apart by the kernel's flag.
	Kernel bool
	CPU    time.Duration
}

// Result is one scan.
type Result struct {
	// Names that used CPU time since the previous scan, in no order; the
	// slice is reused by the next scan.
	Names []Name
	// Baseline: the first scan, which has nothing to compare with.
	Baseline bool
	// Processes known after the scan, and Read of them whose stat was
	// read (ScanGroups skips those of groups that have not run). Unmoved
	// of the others were looked at and had not run: processes of one
	// thread whose run time in their schedstat had not moved.
	Processes, Read, Unmoved int
	// Unlisted (ScanGroups): processes that no group read listed but that
	// still exist (moved between groups, one of them given from memory):
	// read, and kept in no group until a ScanGroups with every group read
	// (and every list read afresh) finds them, or drops them if none
	// lists them. The caller makes the next ScanGroups one such.
	Unlisted int
	// Truncated: more processes than Options.Max; the rest were not read.
	Truncated bool
	// Unreadable counts the processes listed but not read for another
	// reason than having exited (a procfs mounted with hidepid); Err is
	// the first such error.
	Unreadable int
	Err        error
}

// Scanner reads the processes of a procfs tree again and again, and gives
// the CPU time of each program name since the previous scan.
//
// A process is known by its PID and its start time, so a PID reused by
// another program starts from a baseline instead of making a spike. A
// process first seen after the previous scan counts from its start: its
// whole CPU time is new, provided it started after every process the
// Scanner has ever seen (so its time was never counted). What a process
// uses between its last scan and its exit is not seen by anyone: it is
// the one part a /proc scan cannot have, and the callers' split leaves it
// in the machine's unattributed time, never lost from the total.
//
// The stat files of up to Options.Files processes stay open and are read
// again with pread. On procfs a kept file always reads its own process: an
// exited one answers ESRCH, never another process that took its PID.
//
// A Scanner is not safe for concurrent use; Scan may run in another
// goroutine (internal/guard) as long as nothing else uses it or its
// Result meanwhile.
type Scanner struct {
	root  string
	opts  Options
	files kfile.Budget // the stat files kept open
	dir   *kfile.Dir

	round    uint64
	maxStart uint64 // latest start time ever seen
	recs     []byte
	list     []listed
	merged   []listed // ScanGroups' scratch
	table    []entry  // by PID, ascending
	spare    []entry
	buf      [512]byte
	nameBuf  [32]byte
	names    []nameAgg
	byName   [2]map[string]int32 // programs, kernel threads
	touched  []int32
	res      Result
	noSched  bool             // no usable /proc/<pid>/schedstat here
	guided   bool             // the previous scan was ScanGroups
	groupIdx map[string]int32 // ScanGroups: group key → index
}

type listed struct {
	pid  uint32
	read bool // read its stat; otherwise keep it as it was
	// unlisted: a process of the table that no group read lists (see
	// ScanGroups): its stat is opened afresh, telling whether it exists.
	unlisted bool
	group    int32 // index in ScanGroups' groups; -1 for Scan
	ino      uint64
}

// entry is a process as the previous scan left it.
type entry struct {
	pid   uint32
	name  int32  // index in names
	group string // ScanGroups: the key of its group
	ino   uint64
	start uint64
	cpu   uint64 // ticks
	h     kfile.Handle
	// A process of one thread at its last read (one), whether it had run
	// since the read before (ran), and its run time in nanoseconds read
	// from its schedstat, kept in sh, just before that read (run; 0: not
	// known).
	one bool
	ran bool
	run uint64
	sh  kfile.Handle
}

type nameAgg struct {
	name   string
	kernel bool
	cpu    uint64 // ticks, this round
	round  uint64
}

// NewScanner reads the processes under procRoot (a procfs mount). Nothing
// is opened before the first Scan.
func NewScanner(procRoot kfile.ProcRoot, opts Options) *Scanner {
	if opts.Files == 0 {
		opts.Files = kfile.KeepBudget(4, DefaultFiles, MaxFiles)
	}
	if opts.Max <= 0 {
		opts.Max = DefaultMax
	}
	return &Scanner{root: string(procRoot), opts: opts, files: kfile.NewBudget(opts.Files),
		byName: [2]map[string]int32{{}, {}}, groupIdx: map[string]int32{}}
}

// Kept is how many stat files are open.
func (s *Scanner) Kept() int { return s.files.Kept() }

// Close releases every open file. A later Scan starts again.
func (s *Scanner) Close() {
	for i := range s.table {
		s.table[i].h.Close()
		s.table[i].sh.Close()
	}
	s.table = s.table[:0]
	s.files.Reset()
	s.dir.Close()
	s.dir = nil
	s.round = 0
}

// Scan lists the processes, reads each one's stat and returns the CPU time
// of each name since the previous scan. An error means the process list
// itself could not be read; the next scan is then a baseline.
func (s *Scanner) Scan() (*Result, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	recs, err := s.dir.ReadDir([]byte("."), s.recs, 64<<20)
	s.recs = recs
	if err != nil && !errors.Is(err, kfile.ErrTooLarge) {
		err = s.dir.Err("readdir", []byte("."), err)
		s.Close()
		return nil, err
	}
	s.list = s.list[:0]
	for e, rest, ok := kfile.NextEntry(recs); ok; e, rest, ok = kfile.NextEntry(rest) {
		if pid, ok := kfile.Uint(e.Name); ok && pid > 0 && pid <= 1<<22 {
			s.list = append(s.list, listed{pid: uint32(pid), ino: e.Ino, group: -1, read: true})
		}
	}
	// procfs lists PIDs in order; another file system (a test's tree) may not.
	if !slices.IsSortedFunc(s.list, cmpListed) {
		slices.SortFunc(s.list, cmpListed)
	}
	return s.merge(nil, true), nil
}

// Group is what ScanGroups knows of a control group's processes (see
// cgroup.Members): Read says they may have run since the previous scan,
// and PIDs lists them; otherwise none of the group's processes has run.
type Group struct {
	Key  string
	Read bool
	// Fresh: PIDs were read from the group's files at this scan, not
	// given from memory. A scan where every group is Read and Fresh has
	// every process listed: one of the table that no list gives has
	// exited, or moved out of the PID namespace's view, and is forgotten.
	Fresh bool
	PIDs  []uint32
}

// ScanGroups is Scan guided by control groups: it reads the processes of
// the groups marked Read and keeps the others as they were (they have not
// run), without listing the process directory. Every process must be in
// one group (the root's included), as cgroup.procs files give them, and
// numbered as procRoot numbers them. The first ScanGroups after a Scan
// (or after a start) needs every group read: see Guided.
//
// A process of a group that is read (or of a group gone) that no group
// read lists has exited or moved. Where every group is read, from lists
// read afresh, it is forgotten: it has exited (or is outside the groups
// walked). Otherwise its new group may be one not read, or one whose list
// was given from memory (see cgroup.Walker.ProcsSince): its stat is
// opened afresh; if it is gone it is forgotten, else it is read (its time
// since its last read counted now) and kept, in no group, and
// Result.Unlisted says so: the caller then makes the next ScanGroups one
// with every group read afresh, where it is found (or forgotten).
//
// On procfs a kept stat file of a process that has exited answers ESRCH,
// so a PID taken by a new process is read afresh; ScanGroups relies on
// that (it has no directory listing to compare inodes with).
func (s *Scanner) ScanGroups(groups []Group) (*Result, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	clear(s.groupIdx)
	s.list = s.list[:0]
	for gi, g := range groups {
		s.groupIdx[g.Key] = int32(gi)
		if !g.Read {
			continue
		}
		for _, pid := range g.PIDs {
			s.list = append(s.list, listed{pid: pid, group: int32(gi), read: true})
		}
	}
	slices.SortFunc(s.list, cmpListed)
	// The processes of the groups not read, from the table: in PID order
	// already, so merged with the others rather than sorted again. In a
	// scan where some groups are not read, a process of a group read (or
	// of a group gone) that no list gives has exited or moved, perhaps
	// into a group whose list was given from memory: it is read afresh
	// (unlisted), and if it still exists it is kept and counted.
	read := len(s.list)
	all := true
	for _, g := range groups {
		all = all && g.Read && g.Fresh
	}
	at := 0
	for i := range s.table {
		e := &s.table[i]
		gi, ok := s.groupIdx[e.group]
		if ok && !groups[gi].Read {
			s.list = append(s.list, listed{pid: e.pid, group: gi})
			continue
		}
		if all {
			continue
		}
		for at < read && s.list[at].pid < e.pid {
			at++
		}
		if at == read || s.list[at].pid != e.pid {
			s.list = append(s.list, listed{pid: e.pid, group: -1, read: true, unlisted: true})
		}
	}
	s.merged = mergeListed(s.merged[:0], s.list[:read], s.list[read:])
	s.list, s.merged = s.merged, s.list
	return s.merge(groups, false), nil
}

// mergeListed appends to out the two runs a and b, each in cmpListed
// order, in that order, and a process listed twice (it moved as the
// groups were read) once: the one to read.
func mergeListed(out, a, b []listed) []listed {
	add := func(l listed) {
		if n := len(out); n == 0 || out[n-1].pid != l.pid {
			out = append(out, l)
		}
	}
	for len(a) > 0 && len(b) > 0 {
		if cmpListed(a[0], b[0]) <= 0 {
			add(a[0])
			a = a[1:]
		} else {
			add(b[0])
			b = b[1:]
		}
	}
	for _, l := range a {
		add(l)
	}
	for _, l := range b {
		add(l)
	}
	return out
}

// Guided reports whether the previous scan was ScanGroups: a ScanGroups
// after anything else needs every group read.
func (s *Scanner) Guided() bool { return s.guided && s.round > 0 }

func (s *Scanner) open() error {
	if s.dir != nil {
		return nil
	}
	d, err := kfile.OpenDir(s.root)
	if err != nil {
		return err
	}
	s.dir = d
	// This process has run: a schedstat that says otherwise is a
	// kernel's without scheduler statistics ("0 0 0"), or there is none.
	n, err := d.ReadFile([]byte("self/schedstat"), s.buf[:])
	run, perr := ParseSchedstat(s.buf[:n])
	s.noSched = err != nil || perr != nil || run == 0
	return nil
}

// merge reads the processes of s.list (by PID) against the table of the
// previous scan and returns the names' CPU time.
func (s *Scanner) merge(groups []Group, checkIno bool) *Result {
	res := &s.res
	res.Names = res.Names[:0]
	res.Processes, res.Read, res.Unmoved, res.Truncated, res.Unreadable, res.Err, res.Unlisted = 0, 0, 0, false, 0, nil, 0
	if len(s.list) > s.opts.Max {
		s.list = s.list[:s.opts.Max]
		res.Truncated = true
	}
	s.round++
	s.guided = groups != nil
	res.Baseline = s.round == 1
	for _, i := range s.touched {
		s.names[i].cpu = 0
	}
	s.touched = s.touched[:0]
	prev, cur := s.table, s.spare[:0]
	newest := s.maxStart
	j := 0
	for _, l := range s.list {
		for j < len(prev) && prev[j].pid < l.pid {
			s.drop(&prev[j]) // exited
			j++
		}
		var e entry
		known := j < len(prev) && prev[j].pid == l.pid
		if known {
			e = prev[j]
			j++
		} else {
			e = entry{pid: l.pid, name: -1}
		}
		e.group = ""
		if l.group >= 0 {
			e.group = groups[l.group].Key
		}
		if !l.read {
			// Its group has not run: neither has it.
			res.Processes++
			cur = append(cur, e)
			continue
		}
		if !checkIno {
			l.ino = e.ino
		}
		if l.unlisted {
			// A kept file would read a process that has exited (in a
			// tree of plain files): only opening its stat tells.
			s.drop(&e)
		}
		run, unmoved := s.runTime(&e, l, known)
		if unmoved {
			res.Processes++
			res.Unmoved++
			cur = append(cur, e)
			continue
		}
		st, ok := s.read(&e, l, known)
		if !ok {
			continue
		}
		if l.unlisted {
			res.Unlisted++
		}
		e.one, e.run = st.Threads == 1, run
		res.Processes++
		res.Read++
		var delta uint64
		switch {
		case known && st.Start == e.start:
			if st.CPU >= e.cpu {
				delta = st.CPU - e.cpu
			}
		case !res.Baseline && st.Start > s.maxStart:
			delta = st.CPU // started since the previous scan: all its time is new
		}
		newest = max(newest, st.Start)
		e.ino, e.start, e.cpu, e.ran = l.ino, st.Start, st.CPU, delta > 0
		e.name = s.intern(e.name, st)
		if delta > 0 {
			n := &s.names[e.name]
			if n.round != s.round {
				n.round = s.round
				s.touched = append(s.touched, e.name)
			}
			n.cpu += delta
		}
		cur = append(cur, e)
	}
	for ; j < len(prev); j++ {
		s.drop(&prev[j])
	}
	s.table, s.spare = cur, prev[:0]
	s.maxStart = newest
	for _, i := range s.touched {
		n := &s.names[i]
		res.Names = append(res.Names, Name{Name: n.name, Kernel: n.kernel, CPU: time.Duration(n.cpu) * (time.Second / TicksPerSecond)})
	}
	if len(s.names) > 2*len(s.table)+1024 {
		s.compact()
	}
	return res
}

// cmpListed orders by PID, a process to read first.
func cmpListed(a, b listed) int {
	switch {
	case a.pid < b.pid:
		return -1
	case a.pid > b.pid:
		return 1
	case a.read && !b.read:
		return -1
	case b.read && !a.read:
		return 1
	}
	return 0
}

// drop closes the files kept for the process.
func (s *Scanner) drop(e *entry) {
	s.files.Drop(&e.h)
	s.files.Drop(&e.sh)
}

// runTime reads, for a process of one thread at its last read, the run
// time of that thread in its schedstat (nanoseconds), and reports whether
// it has not moved since: then the process has not run, and its stat
// would say what it said (its CPU time is that thread's run time, and a
// thread can only be made by a thread that runs). The kernel makes
// schedstat from three numbers without the locks and the fifty fields of
// stat: this check costs about half a stat read, and spares one for each
// process that slept in a group that ran. run is 0 where it cannot tell
// (more threads, another directory, no schedstat, no file left in the
// budget): the stat is read. It must be read before the stat, so that a
// run between the two reads shows at the next scan. A process that ran
// since the scan before is likely to run again: its stat is read without
// asking (run 0), until a scan finds that it did not.
func (s *Scanner) runTime(e *entry, l listed, known bool) (run uint64, unmoved bool) {
	if !known || !e.one || s.noSched || e.ino != l.ino || l.unlisted {
		s.files.Drop(&e.sh)
		return 0, false
	}
	if e.ran {
		return 0, false
	}
	n, err := 0, error(nil)
	if e.sh.Valid() {
		if n, err = e.sh.ReadAt(s.buf[:], 0); err != nil {
			s.files.Drop(&e.sh) // exited: the stat's read says so
			return 0, false
		}
	} else {
		// Opened, read and closed at each scan, it would cost more than
		// the stat it spares.
		if s.files.Kept() >= s.files.Max() {
			return 0, false
		}
		name := append(strconv.AppendUint(s.nameBuf[:0], uint64(l.pid), 10), "/schedstat"...)
		if n, err = s.files.ReadKept(s.dir, &e.sh, name, s.buf[:]); err != nil {
			// Gone, or not to be read here (then no other will be: the
			// stat of each process is read, and no open is tried again).
			s.noSched = s.noSched || !passing(err)
			return 0, false
		}
	}
	run, err = ParseSchedstat(s.buf[:n])
	if err != nil || run == 0 {
		s.files.Drop(&e.sh)
		return 0, false
	}
	return run, run == e.run
}

// read reads the stat of the listed process l into s.buf and parses it.
// A kept file is read again when it is the same directory as before (its
// inode); a file that fails, or reads another process, is closed and the
// process's stat opened afresh. ok is false when the process could not be
// read (it has exited, or see Result.Unreadable).
func (s *Scanner) read(e *entry, l listed, known bool) (Stat, bool) {
	if known && e.h.Valid() {
		if e.ino == l.ino {
			n, err := e.h.ReadAt(s.buf[:], 0)
			if err == nil {
				if st, err := ParseStat(s.buf[:n]); err == nil && st.Start == e.start {
					return st, true
				}
			}
		}
		s.drop(e)
	}
	name := append(strconv.AppendUint(s.nameBuf[:0], uint64(l.pid), 10), "/stat"...)
	n, err := s.files.ReadKept(s.dir, &e.h, name, s.buf[:])
	if err != nil {
		if !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ESRCH) {
			s.unreadable(name, err)
		}
		return Stat{}, false
	}
	st, err := ParseStat(s.buf[:n])
	if err == nil && st.PID != uint64(l.pid) {
		err = fmt.Errorf("pid %d in the file: %w", st.PID, ErrSyntax)
	}
	if err != nil {
		s.drop(e)
		if n == 0 {
			return Stat{}, false // a process ending as it was read
		}
		s.unreadable(name, err)
		return Stat{}, false
	}
	return st, true
}

func (s *Scanner) unreadable(name []byte, err error) {
	s.res.Unreadable++
	if s.res.Err == nil {
		s.res.Err = s.dir.Err("read", name, err)
	}
}

// intern returns the index of the process's name, reusing the previous
// one when the name has not changed (a process that execs changes it).
func (s *Scanner) intern(prev int32, st Stat) int32 {
	key := st.Comm
	k := 0
	if st.Kernel {
		key, k = KernelName(st.Comm), 1
	}
	if prev >= 0 && s.names[prev].kernel == st.Kernel && s.names[prev].name == string(key) {
		return prev
	}
	if i, ok := s.byName[k][string(key)]; ok {
		return i
	}
	i := int32(len(s.names))
	name := string(key)
	s.names = append(s.names, nameAgg{name: name, kernel: st.Kernel})
	s.byName[k][name] = i
	return i
}

// compact forgets the names no process has any more, so that a stream of
// new names (random ones, a fork bomb) does not grow memory for ever.
func (s *Scanner) compact() {
	old := s.names
	s.names = make([]nameAgg, 0, len(s.table)+64)
	s.byName = [2]map[string]int32{{}, {}}
	remap := make(map[int32]int32, len(s.table))
	for i := range s.table {
		e := &s.table[i]
		ni, ok := remap[e.name]
		if !ok {
			n := old[e.name]
			ni = int32(len(s.names))
			s.names = append(s.names, n)
			k := 0
			if n.kernel {
				k = 1
			}
			s.byName[k][n.name] = ni
			remap[e.name] = ni
		}
		e.name = ni
	}
	for i, t := range s.touched {
		s.touched[i] = remap[t] // touched names are names of live processes
	}
}

// Path is the procfs root.
func (s *Scanner) Path() string { return s.root }

// passing says whether a failed read of a process's file says nothing of
// the files of others: the process is gone, or this process is short of
// descriptors or memory for a moment. Anything else (a refusal, a file
// that is no file) holds for every process.
func passing(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH) || transient(err)
}

// transient says whether a failed read says nothing of the next try:
// this process was interrupted, or short of descriptors or memory, for a
// moment.
func transient(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.EINTR, syscall.EAGAIN} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
