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

	round   uint64
	groups  map[string]*group
	path    []byte
	recs    [MaxDepth + 1][]byte
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
	changed   bool
	workload  bool // this walk counted it as a workload
	wkind     Kind // as which kind, and name
	wname     string

	// A directory looked into: its groups at the last listing, given
	// again while its usage does not move (nothing under it has run).
	children []*group
	listed   bool

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
		for i, c := range dir.children {
			w.path = append(w.path[:0], c.path...) // under w.path
			dir.children[i] = w.visit(c.ino, depth+1)
		}
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
	return len(dir.children), nil
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
			idle := g.listed && g.haveUsage && usage == g.usage && !w.noSkip
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
	usage, err := w.usage(g)
	if err != nil {
		if !gone(err) {
			w.unreadable(err)
		}
		g.haveUsage = false
		return g
	}
	g.workload, g.wkind, g.wname = true, kind, name
	g.changed = !g.haveUsage || usage != g.usage
	g.usage, g.haveUsage = usage, true
	res.Workloads = append(res.Workloads, Workload{Key: g.key, Path: g.path, Kind: kind, Name: name, Usage: usage})
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
