package cgroup

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"time"

	"github.com/greencampus/powerinput/internal/kfile"
)

// Limits of a Walker.
const (
	// MaxDepth: groups deeper than this below the root are not looked at.
	MaxDepth = 8
	// MaxDirs: directories listed per walk at most.
	MaxDirs = 4096
	// MaxWorkloads: workloads read per walk at most.
	MaxWorkloads = 16384
	// DefaultFiles files (usage, membership, cgroup.stat) stay open
	// between walks at least; past the budget a file is opened, read and
	// closed at each walk. The budget is an eighth of the open-file limit
	// (RLIMIT_NOFILE), at most MaxFiles.
	DefaultFiles = 512
	// MaxFiles bounds the budget of kept files.
	MaxFiles = 8192
)

// Workload is one workload group a walk found.
type Workload struct {
	// Key names the group from walk to walk: its path and its inode, so
	// a group made anew under the same path (a service restarted) is
	// another group.
	Key string
	// Path is the group's path from the root.
	Path string
	Kind Kind
	// Name is the workload's name as its runtime names it (see Classify),
	// not cleaned for any use. Several groups may share a name (podman's
	// container and its conmon).
	Name string
	// Usage is the CPU time the group has used since it was made, its
	// children's included.
	Usage time.Duration
}

// WalkResult is one walk.
type WalkResult struct {
	// Workloads found, in the order of the walk; reused by the next walk.
	Workloads []Workload
	// Dirs listed, and Cached of them whose groups were known without
	// reading the directory: no subdirectory made or removed since its
	// last listing (see Walker).
	Dirs, Cached int
	// Truncated: a limit (MaxDepth, MaxDirs, MaxWorkloads) left groups out.
	Truncated bool
	// Reads counts the usage files read, and Skipped the groups given
	// again without reading theirs because their directory's time was
	// explained by the groups read beside them (see Walker).
	Reads, Skipped int
	// Unreadable counts workloads whose usage could not be read for
	// another reason than having gone; Err is the first such error.
	Unreadable int
	Err        error
}

// Walker finds the workloads of a hierarchy and reads their CPU time,
// again and again, without allocating once warm: directories are listed
// and files read relative to the hierarchy's root, and up to
// DefaultFiles usage files stay open.
//
// A directory's subdirectories are watched (inotify, kfile.Watch) once it
// has been listed: while no group is made or removed in it, the groups of
// its last listing are visited without listing it again, and a workload
// known to have no group under it is not asked again (cgroup.stat). The
// watches are counted in the budget of kept files; a directory past it,
// or where inotify is not to be had, is listed at every walk.
//
// A directory whose usage has not moved holds nothing that ran: its
// groups are given again unread. In one whose usage moved, the groups
// that moved at their last read are read first, and the others are given
// again unread while the directory's time is explained by them within
// tau (1 ms, and the truncation of each usage): see explained. Their
// time is seen, whole, at a later walk, within fullEvery walks; a group
// removed meanwhile takes with it what it ran since its last read.
//
// A Walker is not safe for concurrent use; Walk may run in another
// goroutine (internal/guard) as long as nothing else uses it or its
// result meanwhile.
type Walker struct {
	h     Hierarchy
	dir   *kfile.Dir
	files int
	kept  int
	// noSkip reads every group, those of idle directories too (benchmarks
	// of the case where every group has run); the watched directories are
	// not listed again, as when all have run.
	noSkip bool
	// readAll reads every child of a directory that ran, as the walk did
	// before it skipped the sleeping ones (benchmarks: before and after).
	readAll bool
	// window, if set, runs between the reads of the groups read first
	// and the read again of their directory's usage (tests: what runs
	// during the walk's window).
	window func()

	round   uint64
	groups  map[string]*group
	path    []byte
	recs    [MaxDepth + 1][]byte
	later   [MaxDepth + 1][]int // per depth: the children not read first
	buf     [statSize]byte
	res     WalkResult
	visited []*group // this walk's groups, in order (for Procs)

	watch   *kfile.Watch // nil: none (yet, or noWatch)
	noWatch bool
	wds     map[int32]*group
	watches int

	procsBuf []byte
	statBuf  []byte
	root     group // the root's kept cgroup.procs
	pids     []uint32
	members  []Members
	spans    [][2]int
	memo     walkMemo // what Procs remembers between walks (members.go)
}

// group is what the walker remembers of a directory.
type group struct {
	path    string
	key     string // path#inode
	ino     uint64
	kind    Kind
	name    string
	descend bool
	round   uint64
	h       kfile.Handle // its usage file, kept
	procs   kfile.Handle // its cgroup.procs, kept
	stat    kfile.Handle // its cgroup.stat (v2), kept

	// For Procs: the usage of the previous walk, and whether this walk
	// found it changed (or could not tell).
	usage     time.Duration
	haveUsage bool
	seen      uint64 // the walk (round) that last read usage
	changed   bool
	workload  bool // this walk counted it as a workload
	wkind     Kind // as which kind, and name
	wname     string

	// A directory looked into: its groups at the last listing, given
	// again while its usage does not move (nothing under it has run).
	children []*group
	listed   bool
	// base: the directory's time not explained by its children's (its
	// usage less the sum of theirs) at the last walk that read them all;
	// haveBase: there was one, and the listing has not changed since.
	base     time.Duration
	haveBase bool
	// due: the walk at which a group under it given again unread since
	// it was last read is read, at the latest (0: none); ownDue: those
	// of its own children (see fullEvery).
	due, ownDue uint64

	// Its watch descriptor (0: not watched); fresh: no subdirectory made
	// or removed since its children were listed (or, for a workload, since
	// noSub was read from its cgroup.stat: no group under it).
	wd    int32
	fresh bool
	noSub bool

	memo groupMemo // its processes as Procs last read them (members.go)
}

// NewWalker reads the workloads of h. Nothing is opened before the first
// Walk.
func NewWalker(h Hierarchy) *Walker {
	return &Walker{h: h, files: kfile.KeepBudget(8, DefaultFiles, MaxFiles), groups: map[string]*group{}}
}

// Hierarchy is the hierarchy walked.
func (w *Walker) Hierarchy() Hierarchy { return w.h }

// Close releases every open file; a later Walk starts again.
func (w *Walker) Close() {
	for _, g := range w.groups {
		w.release(g)
	}
	clear(w.groups)
	w.release(&w.root)
	w.root = group{}
	w.kept = 0
	w.watch.Close()
	w.watch, w.wds, w.watches = nil, nil, 0
	w.dir.Close()
	w.dir = nil
}

// Walk lists the hierarchy and reads each workload's usage. An error
// means the root could not be read.
func (w *Walker) Walk() (*WalkResult, error) {
	res := &w.res
	res.Workloads = res.Workloads[:0]
	res.Dirs, res.Cached, res.Truncated, res.Unreadable, res.Err = 0, 0, false, 0, nil
	res.Reads, res.Skipped = 0, 0
	if w.dir == nil {
		d, err := kfile.OpenDir(w.h.Dir)
		if err != nil {
			return nil, err
		}
		w.dir = d
	}
	w.changes()
	w.round++
	w.visited = w.visited[:0]
	w.path = w.path[:0]
	if _, err := w.list(nil, 0); err != nil {
		err = w.dir.Err("readdir", []byte("."), err)
		w.Close()
		return nil, err
	}
	for key, g := range w.groups {
		if g.round != w.round {
			w.release(g)
			delete(w.groups, key)
		}
	}
	return res, nil
}

// list reads the directory at w.path (depth levels below the root; its
// group dir, nil for the root) and visits its subdirectories; it returns
// how many it has.
func (w *Walker) list(dir *group, depth int) (int, error) {
	res := &w.res
	if res.Dirs >= MaxDirs {
		res.Truncated = true
		return 0, nil
	}
	res.Dirs++
	if dir == nil {
		dir = &w.root
	}
	base := len(w.path)
	if dir.fresh {
		// Nothing made or removed here since the last listing.
		res.Cached++
		w.visitKnown(dir, depth)
		w.takeDue(dir)
		w.path = w.path[:base]
		return len(dir.children), nil
	}
	w.watchDir(dir) // before the listing: what changes after it shows next time
	name := w.path
	if len(name) == 0 {
		name = dot
	}
	recs, err := w.dir.ReadDir(name, w.recs[depth], 1<<20)
	w.recs[depth] = recs
	complete := err == nil
	if err != nil && !errors.Is(err, kfile.ErrTooLarge) {
		return 0, err
	}
	dir.children = dir.children[:0]
	for e, rest, ok := kfile.NextEntry(recs); ok; e, rest, ok = kfile.NextEntry(rest) {
		if !e.IsDir() {
			continue
		}
		if base > 0 {
			w.path = append(w.path, '/')
		}
		w.path = append(w.path, e.Name...)
		dir.children = append(dir.children, w.visit(e.Ino, depth+1))
		w.path = w.path[:base]
	}
	dir.fresh = dir.wd > 0 && complete && !res.Truncated
	dir.ownDue = 0
	w.takeBase(dir)
	w.takeDue(dir)
	return len(dir.children), nil
}

// visitKnown visits the groups of dir's last listing (at depth). Where
// dir's usage was read this walk (it moved: see visit), those that may
// have run are read first; if, with them, dir's time is explained within
// tau (see explained), the others are given again as they were, unread.
// Otherwise they are read too, and the base taken again (takeBase). A
// directory is read whole at least once every fullEvery walks.
func (w *Walker) visitKnown(dir *group, depth int) {
	res := &w.res
	skip := dir != &w.root && dir.haveBase && dir.haveUsage && !w.noSkip && !w.readAll && !w.isDue(dir)
	later := w.later[depth][:0]
	for i, c := range dir.children {
		if skip && !w.mayHaveRun(c) {
			later = append(later, i)
			continue
		}
		w.path = append(w.path[:0], c.path...) // under w.path
		dir.children[i] = w.visit(c.ino, depth+1)
	}
	w.later[depth] = later
	if len(later) > 0 && w.explained(dir) {
		for _, i := range later {
			w.again(dir.children[i])
		}
		res.Skipped += len(later)
		if dir.ownDue == 0 {
			// Staggered by inode, as the lists of members (refreshAt).
			dir.ownDue = w.round + fullEvery - (w.round+dir.ino)%fullEvery
		}
		return
	}
	for _, i := range later {
		c := dir.children[i]
		w.path = append(w.path[:0], c.path...)
		dir.children[i] = w.visit(c.ino, depth+1)
	}
	dir.ownDue = 0
	w.takeBase(dir)
}

// explained: dir's unexplained time (its usage less its children's, each
// as last read) is within tau of its base, so that its children not read
// this walk ran, since their last read, tau at most (and the drift of
// truncation), and the walk may give them again unread.
//
// The bound holds whatever the walk's window: the true unexplained time
// (dir's own processes', and its removed children's) never goes down,
// and base is not above it (see takeBase). Read again after the children
// read first, dir's usage less its children's is at least the true
// unexplained time plus what the children not read ran since their last
// read, less the truncation of each usage; so it is checked against base
// + tau. The first read, low by what the children read first ran after
// it (the window), is checked against base - tau: below it, dir's usage
// went back (cgroup v1), and all are read.
//
// A child removed while given again unread takes what it ran since its
// last read (tau at most) with it: its directory's usage keeps that time,
// which the host's unattributed part then counts.
func (w *Walker) explained(dir *group) bool {
	tau := w.tau(len(dir.children))
	u, ok := w.unexplained(dir)
	if !ok || w.res.Truncated || u < dir.base-tau || u > dir.base+tau {
		return false // (the read again is not lower)
	}
	first := dir.usage
	if w.window != nil {
		w.window()
	}
	w.path = append(w.path[:0], dir.path...)
	after, err := w.usage(dir)
	return err == nil && after-(first-u) <= dir.base+tau
}

// fullEvery: a directory whose children were given again unread is read
// whole, its idle ones too, within this many walks (as the lists of
// members: RefreshWalks), so that what they ran is seen at most that late.
const fullEvery = 32

// isDue: g or a directory under it has children given again unread for
// fullEvery walks: g is read whole.
func (w *Walker) isDue(g *group) bool { return g.due != 0 && w.round >= g.due }

// takeDue takes dir's due walk after a visit: its own, or its children's
// if sooner.
func (w *Walker) takeDue(dir *group) {
	dir.due = dir.ownDue
	for _, c := range dir.children {
		if c.due != 0 && (dir.due == 0 || c.due < dir.due) {
			dir.due = c.due
		}
	}
}

// mayHaveRun: g's usage moved at its last read, or could not be read,
// or g is new, was not in the previous walk, or is a directory whose
// groups are not known as they are now.
func (w *Walker) mayHaveRun(g *group) bool {
	return g.changed || !g.haveUsage || g.round+1 != w.round ||
		g.descend && !(g.listed && g.fresh)
}

// unexplained is dir's usage less its children's, each as last read;
// false if dir's was not read this walk, or a child has none, or one
// visited this walk was not read (a limit).
func (w *Walker) unexplained(dir *group) (time.Duration, bool) {
	if !dir.haveUsage || dir.seen != w.round {
		return 0, false
	}
	u := dir.usage
	for _, c := range dir.children {
		if !c.haveUsage || c.round == w.round && c.seen != w.round {
			return 0, false
		}
		u -= c.usage
	}
	return u, true
}

// takeBase keeps dir's unexplained time after a walk that read every
// child of dir; the root's is not kept (its usage is not read).
//
// The value read is low by what the children ran between the read of
// dir's usage and theirs (the walk's window); the true one never goes
// down (a child removed leaves its time in dir's usage). So the highest
// since is kept: it is still not above the true value (but for the drift
// of truncation), and a read with a long window does not make the next
// walks read all again. Only if dir's usage went back (cgroup v1's
// cpuacct.usage can be written to zero) is it taken lower: read again
// after its children, dir's usage bounds the true value from above.
func (w *Walker) takeBase(dir *group) {
	had := dir.haveBase
	dir.haveBase = false
	if dir == &w.root || w.res.Truncated {
		return
	}
	for _, c := range dir.children {
		if c.seen != w.round {
			return // not read (a limit, or it went)
		}
	}
	u, ok := w.unexplained(dir)
	if !ok {
		return
	}
	dir.haveBase = true
	tau := w.tau(len(dir.children))
	switch {
	case !had || u >= dir.base:
		dir.base = u
	case u >= dir.base-tau: // the window, or truncation
	default:
		w.path = append(w.path[:0], dir.path...)
		if after, err := w.usage(dir); err != nil || after-(dir.usage-u) < dir.base-tau {
			dir.base = u
		}
	}
}

// skipMargin is the CPU time a directory's unexplained time may grow by
// without its children being read (beside the drift of truncation): the
// time of its sleeping groups that may be seen one walk or more late, at
// most. 1 ms is half a percent of a 100 ms interval of 2 CPUs, a
// twentieth of a percent at 1 s, and less on larger hosts: it moves a
// little of a workload's energy to a later interval, never loses it; a
// group that runs more than that between two walks is read in the same
// walk. Much more than the run of a timer or a health check, so a slice
// of sleeping services is not read again for each of their small wakes.
const skipMargin = time.Millisecond

// tau is the growth of a directory's unexplained time, with n children,
// above which they are all read: skipMargin and the drift of truncating
// n+1 usages to their unit (cgroup v2: µs; v1: ns).
func (w *Walker) tau(n int) time.Duration {
	unit := time.Nanosecond
	if w.h.V2 {
		unit = time.Microsecond
	}
	return skipMargin + time.Duration(n+1)*unit
}

// changes takes the watch's news: the directories where a group was made
// or removed are listed again. Without a watch (inotify refused, or it
// failed) every directory is listed.
func (w *Walker) changes() {
	if w.watch == nil {
		if w.noWatch {
			return
		}
		wt, err := kfile.NewWatch()
		if err != nil {
			w.noWatch = true
			return
		}
		w.watch, w.wds = wt, map[int32]*group{}
	}
	err := w.watch.Changes(func(wd int32, gone, overflow bool) {
		if overflow {
			for _, g := range w.wds {
				g.fresh = false
			}
			return
		}
		if g := w.wds[wd]; g != nil {
			g.fresh = false
			if gone {
				delete(w.wds, wd)
				g.wd = 0
				w.watches--
			}
		}
	})
	if err != nil {
		for _, g := range w.wds {
			g.wd, g.fresh = 0, false
		}
		w.watch.Close()
		w.watch, w.wds, w.watches, w.noWatch = nil, nil, 0, true
	}
}

// watchDir watches the directory of g (at w.path) while the budget of
// kept files allows.
func (w *Walker) watchDir(g *group) {
	if w.watch == nil || g.wd > 0 || w.kept+w.watches >= w.files {
		return
	}
	wd, err := w.watch.Add(filepath.Join(w.h.Dir, string(w.path)))
	if err != nil {
		return
	}
	if old := w.wds[wd]; old != nil && old != g {
		old.wd, old.fresh = 0, false
		w.watches--
	}
	g.wd, g.fresh = wd, false
	w.wds[wd] = g
	w.watches++
}

// unwatch stops watching g's directory.
func (w *Walker) unwatch(g *group) {
	if g.wd > 0 && w.watch != nil {
		w.watch.Remove(g.wd)
		delete(w.wds, g.wd)
		w.watches--
	}
	g.wd, g.fresh = 0, false
}

// replay gives again the groups under dir as the last listing found them,
// with their usage then: dir's usage has not moved, so none has run.
func (w *Walker) replay(dir *group) {
	for _, g := range dir.children {
		w.again(g)
	}
}

// again gives g and the groups under it again as last found, unread and
// unchanged (so the process scan does not read their processes).
func (w *Walker) again(g *group) {
	g.round = w.round
	g.changed = false
	w.visited = append(w.visited, g)
	if g.workload {
		w.res.Workloads = append(w.res.Workloads, Workload{Key: g.key, Path: g.path, Kind: g.wkind, Name: g.wname, Usage: g.usage})
	}
	if g.descend && g.listed {
		w.replay(g)
	}
}

var dot = []byte(".")

// visit handles the subdirectory at w.path and returns its group.
func (w *Walker) visit(ino uint64, depth int) *group {
	res := &w.res
	g := w.groups[string(w.path)]
	if g == nil || g.ino != ino { // new, or made anew under the same path
		if g != nil {
			w.release(g)
			delete(w.groups, g.path)
		}
		path := string(w.path)
		kind, name, descend := Classify(path)
		g = &group{path: path, key: fmt.Sprintf("%s#%d", path, ino), ino: ino, kind: kind, name: name, descend: descend}
		w.groups[path] = g
	}
	g.round = w.round
	g.changed = true
	w.visited = append(w.visited, g)
	kind, name := g.kind, g.name
	moved, read := true, false // by this visit's read of its usage
	if g.descend {
		if depth >= MaxDepth {
			res.Truncated = true
			g.workload = false
			return g
		}
		// A directory whose usage has not moved since it was last listed:
		// nothing under it has run. Its groups are given again as they
		// were, without a read. (A usage that cannot be read: listed.)
		if usage, err := w.usage(g); err == nil {
			if g.haveUsage && usage < g.usage {
				// Written to zero (cgroup v1): its base holds no more.
				g.haveBase = false
			}
			idle := g.listed && g.haveUsage && usage == g.usage && !w.noSkip && !w.isDue(g)
			moved, read = !g.haveUsage || usage != g.usage, true
			g.usage, g.haveUsage = usage, true
			if idle {
				g.changed = false
				if g.workload {
					res.Workloads = append(res.Workloads, Workload{Key: g.key, Path: g.path, Kind: g.wkind, Name: g.wname, Usage: g.usage})
				}
				w.replay(g)
				return g
			}
		} else {
			g.haveUsage = false
		}
		g.workload, g.listed = false, false
		n, err := w.list(g, depth)
		if err != nil {
			if !gone(err) {
				w.unreadable(err)
			}
			return g
		}
		g.listed = !res.Truncated
		if n > 0 || res.Truncated {
			return g
		}
		// A directory named like nothing known, without subdirectories:
		// its processes are a workload of their own.
		kind, name = Group, Unescape(g.path)
	}
	g.workload = false
	if kind == NotWorkload {
		return g
	}
	if len(res.Workloads) >= MaxWorkloads {
		res.Truncated = true
		return g
	}
	if !read { // a directory without groups under it was read above
		usage, err := w.usage(g)
		if err != nil {
			if !gone(err) {
				w.unreadable(err)
			}
			g.haveUsage = false
			return g
		}
		moved = !g.haveUsage || usage != g.usage
		g.usage, g.haveUsage = usage, true
	}
	g.workload, g.wkind, g.wname = true, kind, name
	g.changed = moved
	res.Workloads = append(res.Workloads, Workload{Key: g.key, Path: g.path, Kind: kind, Name: name, Usage: g.usage})
	return g
}

// gone: the group was removed while it was read.
func gone(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENODEV)
}

func (w *Walker) unreadable(err error) {
	w.res.Unreadable++
	if w.res.Err == nil {
		w.res.Err = w.dir.Err("read", w.path, err)
	}
}

// usage reads the group's CPU time, from its kept file where it has one.
func (w *Walker) usage(g *group) (time.Duration, error) {
	w.res.Reads++
	name := "cpuacct.usage"
	if w.h.V2 {
		name = "cpu.stat"
	}
	n, err := 0, error(nil)
	if g.h.Valid() {
		if n, err = g.h.ReadAt(w.buf[:], 0); err != nil || n == 0 {
			g.h.Close()
			w.kept--
		}
	}
	if !g.h.Valid() {
		base := len(w.path)
		w.path = append(append(w.path, '/'), name...)
		if w.kept < w.files {
			var h kfile.Handle
			if h, err = w.dir.Open(w.path); err == nil {
				if n, err = h.ReadAt(w.buf[:], 0); err == nil {
					g.h = h
					w.kept++
				} else {
					h.Close()
				}
			}
		} else {
			n, err = w.dir.ReadFile(w.path, w.buf[:])
		}
		w.path = w.path[:base]
		if err != nil {
			return 0, err
		}
	}
	if n == len(w.buf) {
		return 0, kfile.ErrTooLarge
	}
	var d time.Duration
	if w.h.V2 {
		d, err = ParseCPUStat(w.buf[:n])
	} else {
		d, err = ParseUsage(w.buf[:n])
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	g.seen = w.round
	return d, nil
}

// release closes the files kept for g, and its watch.
func (w *Walker) release(g *group) {
	w.unwatch(g)
	for _, h := range []*kfile.Handle{&g.h, &g.procs, &g.stat} {
		if h.Valid() {
			h.Close()
			w.kept--
		}
	}
}

// readKept reads the file name of the group at w.path into buf (grown as
// needed, up to limit bytes), through h, which is kept open while the
// budget allows: then one pread, from the start, reads it whole where it
// fits (a short read is its end). Past the budget the file is opened,
// read and closed. Errors are bare (kfile.Dir.Err).
func (w *Walker) readKept(h *kfile.Handle, name string, buf []byte, limit int) ([]byte, error) {
	if !h.Valid() {
		base := len(w.path)
		if base > 0 {
			w.path = append(w.path, '/')
		}
		w.path = append(w.path, name...)
		var err error
		if w.kept >= w.files {
			buf, err = w.dir.ReadAll(w.path, buf, limit)
			w.path = w.path[:base]
			return buf, err
		}
		*h, err = w.dir.Open(w.path)
		w.path = w.path[:base]
		if err != nil {
			return buf[:0], err
		}
		w.kept++
	}
	if cap(buf) < 512 {
		buf = make([]byte, 0, 4096)
	}
	for {
		n, err := h.ReadAt(buf[:cap(buf)], 0)
		if err != nil {
			h.Close()
			w.kept--
			return buf[:0], err
		}
		if n < cap(buf) {
			return buf[:n], nil
		}
		if cap(buf) > limit {
			return buf[:0], kfile.ErrTooLarge
		}
		buf = make([]byte, 0, 2*cap(buf))
	}
}

// Path is the hierarchy's root.
func (w *Walker) Path() string { return filepath.Clean(w.h.Dir) }
