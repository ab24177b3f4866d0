package cgroup

import (
	"errors"

	"github.com/greencampus/powerinput/internal/kfile"
)

// Members are the processes of one group of a walk, as Procs gives them.
type Members struct {
	// Key names the group from walk to walk: a workload's Key, the key of
	// a directory walked through, or "/" for the root.
	Key string
	// Read: the group's processes may have used CPU time since the
	// previous walk, or nothing tells (the root and the directories walked
	// through, whose usage holds their children's), so PIDs lists them:
	// the group's cgroup.procs, and for a workload those of every group
	// under it. Otherwise the workload's usage has not moved: none of its
	// processes has run, and PIDs is empty.
	Read bool
	// Fresh: PIDs were read from the group's files at this call, not
	// given from memory (a list from memory may miss a process moved into
	// the group by a write to a cgroup.procs file).
	Fresh bool
	PIDs  []uint32
}

// rootKey is the root's key in Members.
const rootKey = "/"

// procsLimit bounds a cgroup.procs file (some 4 million PIDs).
const procsLimit = 32 << 20

// RefreshWalks bounds how long Procs gives a group's processes from
// memory: a group's membership read at one Procs is read again, at the
// latest, RefreshWalks calls later (staggered by group, see refreshAt),
// and at that call even if the group has not run since, once its
// remembered list has been given out (see ProcsSince). A process moved between groups by a write to a cgroup.procs
// (nothing else tells) is found in its new group within that many walks.
const RefreshWalks = 32

// ProcsCount says how a Procs call got its lists.
type ProcsCount struct {
	// Files: cgroup.procs files read. Listings: directories listed under
	// workloads (their groups below). Reused: groups (the root included)
	// whose processes were given from memory, without a read.
	Files, Listings, Reused int
}

// walkMemo is what Procs remembers from call to call.
type walkMemo struct {
	calls   uint64 // Procs calls so far
	lastPID uint32 // as given to the previous call; 0: not known
	epoch   uint64 // moves whenever lastPID did (or was not known)
	count   ProcsCount
	// slot, for tests: a group's place in the refresh cycle, from its
	// inode (nil: the inode itself, see refreshAt).
	slot func(ino uint64) uint64
}

// groupMemo is a group's processes as Procs last read them: its
// cgroup.procs, and for a workload those of every group under it.
type groupMemo struct {
	pids  []uint32
	ok    bool   // pids is complete (its reads and listings succeeded)
	epoch uint64 // walkMemo.epoch at the read
	at    uint64 // walkMemo.calls at the read
	owed  bool   // given from memory since: to be read again by refreshAt
	tree  bool   // read as a workload's (with the groups under it)
}

// Procs is ProcsSince without a last PID: every list is read.
func (w *Walker) Procs(all bool) ([]Members, error) { return w.ProcsSince(all, 0) }

// ProcsSince lists, after a Walk, which processes may have used CPU time
// since the previous walk: those of the workloads whose usage moved (or is
// new, or could not be read), with the processes outside a workload (in
// the root, or in a slice whose usage moved). A process that runs makes
// its group's usage move, so one that is in no listed group has not run
// since the previous walk (a process that moved between groups is listed
// where it runs, see below). A process scan reads those and skips the
// others. The result is reused by the next call; PIDs are as this
// process's PID namespace numbers them. With all, every group is listed,
// whether it ran or not (a process scan that has no table of the idle
// groups' processes yet, or that holds a process no list gave, see
// procs.Scanner.ScanGroups: then after Forget).
//
// lastPID is the last PID this process's namespace allocated (the fifth
// field of /proc/loadavg), read before the walk; 0 if not known. A
// group's processes change when one is made (a PID is allocated, in this
// namespace too for a process of a namespace below), when one exits, and
// when one is moved by a write to a cgroup.procs. While lastPID has not
// moved since a group's cgroup.procs was read, its processes are given
// from that read, the root's and a workload's subtree's too, without
// reading or listing anything: no process has been made since, and
// without a new PID none taken by another process. One that has exited is
// still listed (the scan finds it gone). One that was moved, which nothing
// tells, is missing from its new group's list until that list is read
// again: at most RefreshWalks calls after its last read (a group given
// from memory is then read even if it has not run). A process scan still
// holds it under its old group, and reads it when that group's list, read
// afresh, lacks it (see procs.Scanner.ScanGroups) or when its new group's
// has it, whichever comes first. Meanwhile its CPU time stays in its own
// counters and is counted then, late; if it exits before, that time stays
// in the machine's unattributed part, as any process's last moments.
func (w *Walker) ProcsSince(all bool, lastPID uint32) ([]Members, error) {
	w.members = w.members[:0]
	w.pids = w.pids[:0]
	w.spans = w.spans[:0]
	if w.dir == nil {
		return nil, errors.New("no walk")
	}
	m := &w.memo
	m.calls++
	if lastPID == 0 || lastPID != m.lastPID {
		m.epoch++
	}
	m.lastPID = lastPID
	m.count = ProcsCount{}
	w.path = w.path[:0]
	rootFresh := !w.recall(&w.root)
	if rootFresh {
		from := len(w.pids)
		err := w.readProcs(&w.root.procs)
		if err != nil && !gone(err) {
			w.root.memo.ok = false
			return nil, w.dir.Err("read", []byte("cgroup.procs"), err)
		}
		w.remember(&w.root, from, err == nil)
	}
	w.addMembers(rootKey, true, rootFresh)
	for _, g := range w.visited {
		// A directory is changed unless its usage did not move (the walk
		// then gave its groups again, unchanged).
		read := all || g.changed || w.due(g)
		fresh := read && !w.recall(g)
		if fresh {
			from := len(w.pids)
			w.path = append(w.path[:0], g.path...)
			ok := true
			if g.workload {
				ok = w.readTree(g, 0)
			} else if err := w.readProcs(&g.procs); err != nil && !gone(err) {
				w.unreadable(err)
				ok = false
			}
			w.remember(g, from, ok)
		}
		w.addMembers(g.key, read, fresh)
	}
	for i := range w.members {
		sp := w.spans[i]
		w.members[i].PIDs = w.pids[sp[0]:sp[1]]
	}
	return w.members, nil
}

// Forget makes the next ProcsSince read every list afresh, none from
// memory.
func (w *Walker) Forget() { w.memo.epoch++ }

// Count says how the last Procs got its lists.
func (w *Walker) Count() ProcsCount { return w.memo.count }

// recall appends g's processes from memory when they may be: read
// complete, no PID allocated since, less than RefreshWalks calls ago.
func (w *Walker) recall(g *group) bool {
	gm := &g.memo
	if !gm.ok || gm.tree != g.workload || gm.epoch != w.memo.epoch || w.memo.calls >= w.refreshAt(g) {
		return false
	}
	w.pids = append(w.pids, gm.pids...)
	gm.owed = true
	w.memo.count.Reused++
	return true
}

// remember keeps g's processes just read (w.pids from from on).
func (w *Walker) remember(g *group, from int, ok bool) {
	gm := &g.memo
	gm.pids = append(gm.pids[:0], w.pids[from:]...)
	gm.ok, gm.epoch, gm.at, gm.owed, gm.tree = ok, w.memo.epoch, w.memo.calls, false, g.workload
}

// due: g's processes were given from memory and that memory has reached
// its refresh: g is read now, run or not, so that a process moved into it
// is found.
func (w *Walker) due(g *group) bool {
	return g.memo.owed && w.memo.calls >= w.refreshAt(g)
}

// refreshAt is the call at which a list read at call at is read again:
// the next whose number plus the group's inode is a multiple of
// RefreshWalks, 1 to RefreshWalks calls later. Groups read at one call
// (all of them at the first) are so read again at different calls, a
// few at each, rather than all together.
func refreshAt(at, ino uint64) uint64 {
	return at + RefreshWalks - (at+ino)%RefreshWalks
}

// refreshAt is the call at which g's list, last read at g.memo.at, is
// read again.
func (w *Walker) refreshAt(g *group) uint64 {
	ino := g.ino
	if w.memo.slot != nil {
		ino = w.memo.slot(ino)
	}
	return refreshAt(g.memo.at, ino)
}

func (w *Walker) addMembers(key string, read, fresh bool) {
	from := 0
	if len(w.spans) > 0 {
		from = w.spans[len(w.spans)-1][1]
	}
	w.members = append(w.members, Members{Key: key, Read: read, Fresh: fresh})
	w.spans = append(w.spans, [2]int{from, len(w.pids)})
}

// readTree appends the processes of the group at w.path and of every
// group under it; g is the group at depth 0 (its files are kept), nil
// below. A group with no group under it (cgroup.stat, v2) is not listed.
// It reports whether every read and listing succeeded.
func (w *Walker) readTree(g *group, depth int) bool {
	var procs *kfile.Handle
	if g != nil {
		procs = &g.procs
	}
	ok := true
	if err := w.readProcs(procs); err != nil && !gone(err) {
		w.unreadable(err)
		ok = false
	}
	if depth >= MaxDepth {
		return ok
	}
	if g != nil && g.fresh && g.noSub {
		return ok // no group made under it since cgroup.stat said none
	}
	if g != nil && w.h.V2 {
		w.watchDir(g)
		b, err := w.readKept(&g.stat, "cgroup.stat", w.statBuf, statSize)
		w.statBuf = b
		if err == nil {
			if n, err := ParseDescendants(b); err == nil && n == 0 {
				g.noSub, g.fresh = true, g.wd > 0
				return ok
			}
		}
		g.noSub = false
	}
	w.memo.count.Listings++
	recs, err := w.dir.ReadDir(w.path, w.recs[depth], 1<<20)
	w.recs[depth] = recs
	if err != nil {
		return ok && gone(err)
	}
	base := len(w.path)
	for e, rest, ok := kfile.NextEntry(recs); ok; e, rest, ok = kfile.NextEntry(rest) {
		if !e.IsDir() {
			continue
		}
		w.path = append(append(w.path, '/'), e.Name...)
		ok = w.readTree(nil, depth+1) && ok
		w.path = w.path[:base]
	}
	return ok
}

// readProcs appends the PIDs of w.path's cgroup.procs to w.pids, read
// through h, kept (nil: opened, read and closed).
func (w *Walker) readProcs(h *kfile.Handle) error {
	w.memo.count.Files++
	var b []byte
	var err error
	if h != nil {
		b, err = w.readKept(h, "cgroup.procs", w.procsBuf, procsLimit)
	} else {
		base := len(w.path)
		if base > 0 {
			w.path = append(w.path, '/')
		}
		w.path = append(w.path, "cgroup.procs"...)
		b, err = w.dir.ReadAll(w.path, w.procsBuf, procsLimit)
		w.path = w.path[:base]
	}
	w.procsBuf = b
	if err != nil {
		return err
	}
	for len(b) > 0 {
		var line []byte
		line, b = kfile.NextLine(b)
		if pid, ok := kfile.Uint(line); ok && pid > 0 && pid <= 1<<22 {
			w.pids = append(w.pids, uint32(pid))
		}
	}
	return nil
}
