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
	PIDs []uint32
}

// rootKey is the root's key in Members.
const rootKey = "/"

// procsLimit bounds a cgroup.procs file (some 4 million PIDs).
const procsLimit = 32 << 20

// Procs lists, after a Walk, which processes may have used CPU time since
// the previous walk: those of the workloads whose usage moved (or is new,
// or could not be read), with the processes outside a workload (in the
// root, or in a slice whose usage moved). A process that runs makes its group's usage move,
// so one that is in no listed group has not run since the previous walk
// (a process that moved between groups is listed where it runs). A
// process scan reads those and skips the others. The result is reused by
// the next call; PIDs are as this process's PID namespace numbers them.
// With all, every group is read, whether it ran or not (a process scan
// that has no table of the idle groups' processes yet).
func (w *Walker) Procs(all bool) ([]Members, error) {
	w.members = w.members[:0]
	w.pids = w.pids[:0]
	w.spans = w.spans[:0]
	if w.dir == nil {
		return nil, errors.New("no walk")
	}
	w.path = w.path[:0]
	if err := w.readProcs(&w.root.procs); err != nil && !gone(err) {
		return nil, w.dir.Err("read", []byte("cgroup.procs"), err)
	}
	w.addMembers(rootKey, true)
	for _, g := range w.visited {
		// A directory is changed unless its usage did not move (the walk
		// then gave its groups again, unchanged).
		read := all || g.changed
		if read {
			w.path = append(w.path[:0], g.path...)
			if g.workload {
				w.readTree(g, 0)
			} else if err := w.readProcs(&g.procs); err != nil && !gone(err) {
				w.unreadable(err)
			}
		}
		w.addMembers(g.key, read)
	}
	for i := range w.members {
		sp := w.spans[i]
		w.members[i].PIDs = w.pids[sp[0]:sp[1]]
	}
	return w.members, nil
}

func (w *Walker) addMembers(key string, read bool) {
	from := 0
	if len(w.spans) > 0 {
		from = w.spans[len(w.spans)-1][1]
	}
	w.members = append(w.members, Members{Key: key, Read: read})
	w.spans = append(w.spans, [2]int{from, len(w.pids)})
}

// readTree appends the processes of the group at w.path and of every
// group under it; g is the group at depth 0 (its files are kept), nil
// below. A group with no group under it (cgroup.stat, v2) is not listed.
func (w *Walker) readTree(g *group, depth int) {
	var procs *kfile.Handle
	if g != nil {
		procs = &g.procs
	}
	if err := w.readProcs(procs); err != nil && !gone(err) {
		w.unreadable(err)
	}
	if depth >= MaxDepth {
		return
	}
	if g != nil && g.fresh && g.noSub {
		return // no group made under it since cgroup.stat said none
	}
	if g != nil && w.h.V2 {
		w.watchDir(g)
		b, err := w.readKept(&g.stat, "cgroup.stat", w.statBuf, statSize)
		w.statBuf = b
		if err == nil {
			if n, err := ParseDescendants(b); err == nil && n == 0 {
				g.noSub, g.fresh = true, g.wd > 0
				return
			}
		}
		g.noSub = false
	}
	recs, err := w.dir.ReadDir(w.path, w.recs[depth], 1<<20)
	w.recs[depth] = recs
	if err != nil {
		return
	}
	base := len(w.path)
	for e, rest, ok := kfile.NextEntry(recs); ok; e, rest, ok = kfile.NextEntry(rest) {
		if !e.IsDir() {
			continue
		}
		w.path = append(append(w.path, '/'), e.Name...)
		w.readTree(nil, depth+1)
		w.path = w.path[:base]
	}
}

// readProcs appends the PIDs of w.path's cgroup.procs to w.pids, read
// through h, kept (nil: opened, read and closed).
func (w *Walker) readProcs(h *kfile.Handle) error {
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
