package cgroup

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cgmodel is a control-group tree on disk whose usages hold together as
// the kernel's do: a group's usage is its own processes' time and its
// children's, written truncated to the hierarchy's unit (cgroup v2: µs).
type cgmodel struct {
	c    *cgtree
	own  map[string]time.Duration // the true time of each group's own processes
	rels []string                 // every group, parents first
	// zero: the usage at which a group's was written to zero (cgroup v1
	// allows it), taken off what its file says.
	zero map[string]time.Duration
}

func newModel(t testing.TB, v2 bool, rels ...string) *cgmodel {
	m := &cgmodel{c: newCgtree(t, v2), own: map[string]time.Duration{}, zero: map[string]time.Duration{}}
	for _, rel := range rels {
		m.add(rel)
	}
	m.write(t)
	return m
}

func (m *cgmodel) add(rel string) {
	if _, ok := m.own[rel]; ok {
		return
	}
	if dir := filepath.Dir(rel); dir != "." {
		m.add(dir)
	}
	m.own[rel] = 0
	m.rels = append(m.rels, rel)
}

func (m *cgmodel) remove(t testing.TB, rel string) {
	require.NoError(t, os.RemoveAll(filepath.Join(m.c.root, rel)))
	// Its time stays in its parent's usage, as the kernel keeps it.
	m.own[filepath.Dir(rel)] += m.total(rel)
	delete(m.own, rel)
	m.rels = slices.DeleteFunc(m.rels, func(r string) bool { return r == rel })
}

func (m *cgmodel) total(rel string) time.Duration {
	d := m.own[rel]
	for _, r := range m.rels {
		if filepath.Dir(r) == rel {
			d += m.total(r)
		}
	}
	return d
}

// file is rel's usage as the walk reads it: truncated to the unit.
func (m *cgmodel) file(rel string) time.Duration {
	if m.c.v2 {
		return m.total(rel).Truncate(time.Microsecond)
	}
	return m.total(rel) - m.zero[rel]
}

func (m *cgmodel) write(t testing.TB) {
	for _, rel := range m.rels {
		m.c.set(t, rel, m.total(rel)-m.zero[rel])
	}
}

func (m *cgmodel) workloads(t *testing.T, r *WalkResult) map[string]time.Duration {
	t.Helper()
	got := map[string]time.Duration{}
	for _, wl := range r.Workloads {
		require.NotContains(t, got, wl.Path)
		got[wl.Path] = wl.Usage
	}
	return got
}

func watched(t *testing.T, w *Walker) {
	t.Helper()
	if w.changes(); w.watch == nil {
		t.Skip("no inotify here: directories are listed and read at every walk")
	}
}

// In a slice that ran, the groups that slept are given again without
// reading them while the slice's time is explained by those that ran;
// a group that ran a little (below tau) is seen later, one that ran more
// in the same walk, and nothing is lost.
func TestWalkerSkipsSleepers(t *testing.T) {
	const (
		a, b, c = "system.slice/a.service", "system.slice/b.service", "system.slice/c.service"
		tpl     = "system.slice/system-tpl.slice/tpl@1.service"
		user    = "user.slice/user-1000.slice"
		slice   = "system.slice"
	)
	groups := []string{a, b, c, "system.slice/d.service", "system.slice/e.service", tpl, user}
	type step struct {
		runs     map[string]time.Duration
		make, rm string
		zero     string // its usage written to zero (cgroup v1)
		// window: the slice's usage reads this much low, as when its
		// groups run between the read of its usage and theirs.
		window      time.Duration
		reads, skip int
		late        []string // workloads that ran but are not seen yet
	}
	// Reads: the root's two slices, then in system.slice what is read;
	// + 1: a slice whose groups are skipped is read again (explained).
	tests := []struct {
		name   string
		v1only bool
		steps  []step
	}{
		{"sleepers skipped", false, []step{
			{reads: 2 + 5 + 1 + 1 + 1}, // every group, tpl's slice too
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 2 + 6},
			// a ran at its last read: read first, and it explains the slice.
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 2 + 1 + 1, skip: 5},
			{runs: map[string]time.Duration{a: time.Millisecond, user: time.Second}, reads: 2 + 1 + 1 + 1, skip: 5},
			// Nothing ran in the slice: it is not looked into.
			{reads: 2},
		}},
		{"a sleeper that runs a little is seen later", false, []step{
			{reads: 10},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 8},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, b: 300 * time.Microsecond}, reads: 3 + 1, skip: 5, late: []string{b}},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, tpl: 400 * time.Microsecond}, reads: 3 + 1, skip: 5, late: []string{b, tpl}},
			// Past tau: all read, b's time seen whole; tpl's slice is read
			// and explains tpl's 400 µs within its own tau.
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, b: 400 * time.Microsecond}, reads: 8 + 1, skip: 1, late: []string{tpl}},
			// b and tpl's slice moved at their last read: read first.
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 2 + 3 + 1, skip: 3, late: []string{tpl}},
		}},
		{"a sleeper that runs more than tau is read at once", false, []step{
			{reads: 10},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 8},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, c: 2 * time.Millisecond}, reads: 8},
			{runs: map[string]time.Duration{tpl: 2 * time.Millisecond}, reads: 2 + 2 + 4 + 1}, // a and c first, then all
		}},
		{"a slice whose own processes run reads all", false, []step{
			{reads: 10},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, slice: 2 * time.Millisecond}, reads: 8},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, slice: 2 * time.Millisecond}, reads: 8},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, slice: 200 * time.Microsecond}, reads: 3 + 1, skip: 5},
		}},
		{"groups made or removed", false, []step{
			{reads: 10},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 8},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, make: "system.slice/new.service", reads: 9},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 2 + 2 + 1, skip: 5}, // new at its last read
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, rm: c, reads: 2 + 6},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 3 + 1, skip: 5},
		}},
		// A full read whose window was long (the slice's usage low
		// against its groups') leaves the base as it was: b's 600 µs
		// are within tau of it, not of the low value.
		{"a long window keeps the base", false, []step{
			{reads: 10},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 8},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, c: 2 * time.Millisecond}, window: 800 * time.Microsecond, reads: 8},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, b: 600 * time.Microsecond}, reads: 2 + 2 + 1, skip: 4, late: []string{b}},
		}},
		// The slice's usage went back: its base is dropped, and all are
		// read.
		{"a slice's usage written to zero", true, []step{
			{reads: 10},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 8},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 3 + 1, skip: 5},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, b: 3 * time.Millisecond}, zero: slice, reads: 2 + 6},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, c: 300 * time.Microsecond}, reads: 2 + 2 + 1, skip: 4, late: []string{c}},
		}},
	}
	for _, v2 := range []bool{true, false} {
		for _, tt := range tests {
			if tt.v1only && v2 {
				continue
			}
			t.Run(fmt.Sprintf("%s/v2=%v", tt.name, v2), func(t *testing.T) {
				m := newModel(t, v2, groups...)
				w := NewWalker(Hierarchy{Dir: m.c.root, V2: v2})
				defer w.Close()
				watched(t, w)
				var first map[string]time.Duration
				truth0 := map[string]time.Duration{}
				sum := map[string]time.Duration{}
				var last map[string]time.Duration
				for i, s := range tt.steps {
					for rel, d := range s.runs {
						m.own[rel] += d
					}
					if s.make != "" {
						m.add(s.make)
					}
					if s.rm != "" {
						m.remove(t, s.rm)
					}
					if s.zero != "" {
						m.zero[s.zero] = m.total(s.zero)
					}
					m.zero[slice] += s.window
					m.write(t)
					r, err := w.Walk()
					require.NoError(t, err)
					m.zero[slice] -= s.window
					require.Equal(t, s.reads, r.Reads, "step %d: usage files read", i)
					require.Equal(t, s.skip, r.Skipped, "step %d: groups skipped", i)
					got := m.workloads(t, r)
					for _, rel := range m.rels {
						if _, ok := m.own[rel]; !ok || rel == slice || strings.Count(rel, "/") == 0 || rel == "system.slice/system-tpl.slice" {
							continue
						}
						if slices.Contains(s.late, rel) {
							require.Less(t, got[rel], m.file(rel), "step %d: %s not seen yet", i, rel)
						} else {
							require.Equal(t, m.file(rel), got[rel], "step %d: %s", i, rel)
						}
						if first == nil || last[rel] == 0 {
							continue
						}
						d := got[rel] - last[rel]
						require.GreaterOrEqual(t, d, time.Duration(0), "step %d: %s went back", i, rel)
						sum[rel] += d
					}
					if first == nil {
						first = got
						for rel := range got {
							truth0[rel] = m.file(rel)
						}
					}
					last = got
				}
				// A walk that reads all: each workload's deltas add up to
				// its whole time since the first walk.
				w.noSkip = true
				r, err := w.Walk()
				require.NoError(t, err)
				got := m.workloads(t, r)
				for rel, u := range got {
					require.Equal(t, m.file(rel), u, rel)
					if first[rel] != 0 {
						require.Equal(t, m.file(rel)-truth0[rel], sum[rel]+u-last[rel], "%s: deltas add up to its time", rel)
					}
				}
			})
		}
	}
}

// skipBound is the documented bound (docs/cost.md) of the time of a
// directory's n groups not seen yet: 1 ms and 2(n+1) units of usage.
func skipBound(v2 bool, n int) time.Duration {
	unit := time.Nanosecond
	if v2 {
		unit = time.Microsecond
	}
	return time.Millisecond + 2*time.Duration(n+1)*unit
}

// Random runs over random walks, with groups made and removed, walks whose
// window is long, and (cgroup v1) a slice's usage written to zero. After
// every walk, against the documented bound (1 ms and 2(n+1) units per
// directory of n groups): in each directory whose usage was read, the
// time of its groups not yet seen is within it; each workload as given is
// not ahead of its time, nor behind more than the sum of the bounds, nor
// behind its time fullEvery walks before; a group removed took with it at
// most the bound. After a walk that reads all, each is its time.
func FuzzWalkerSkip(f *testing.F) {
	for seed := range 12 {
		f.Add(uint64(seed), seed%3 != 0)
	}
	f.Fuzz(func(t *testing.T, seed uint64, v2 bool) {
		rng := rand.New(rand.NewPCG(seed, 24))
		var groups []string
		for i := range 2 + rng.IntN(30) {
			groups = append(groups, fmt.Sprintf("system.slice/s%02d.service", i))
		}
		for i := range rng.IntN(6) {
			groups = append(groups, fmt.Sprintf("system.slice/system-t.slice/t@%d.service", i))
		}
		groups = append(groups, "user.slice/user-1000.slice", "user.slice/user-1001.slice")
		active := map[string]bool{}
		for _, rel := range groups {
			active[rel] = rng.IntN(5) == 0
		}
		own := rng.IntN(4) == 0 // system.slice has processes of its own
		const slice = "system.slice"
		m := newModel(t, v2, groups...)
		w := NewWalker(Hierarchy{Dir: m.c.root, V2: v2})
		defer w.Close()
		watched(t, w)
		bound := func(n int) time.Duration { return skipBound(v2, n) }
		var window time.Duration
		w.window = func() { // the slice's usage, read again, has caught up
			m.zero[slice] -= window
			m.write(t)
			m.zero[slice] += window
		}
		truth := map[string][]time.Duration{} // each group's time at each walk
		last := map[string]time.Duration{}    // as last given
		skipped, made := 0, 0
		for step := range 40 + rng.IntN(30) {
			if step > 0 {
				before := m.file(slice) // as the last walk read it
				for _, rel := range groups {
					switch x := rng.IntN(100); {
					case active[rel] || x < 3: // runs, often much
						m.own[rel] += time.Duration(rng.Int64N(int64(5 * time.Millisecond)))
					case x < 15: // a little
						m.own[rel] += time.Duration(rng.Int64N(int64(400 * time.Microsecond)))
					}
				}
				if own {
					m.own[slice] += time.Duration(rng.Int64N(int64(2 * time.Millisecond)))
				}
				switch x := rng.IntN(40); {
				case x == 0 && strings.HasPrefix(groups[1], slice+"/s"): // one removed
					i := 1 + rng.IntN(len(groups)-1)
					rel := groups[i]
					if filepath.Dir(rel) != slice {
						break
					}
					// What it ran until the last walk and was not seen
					// is lost to it (what it ran since is, skip or not).
					h, parent := truth[rel], w.groups[filepath.Dir(rel)]
					require.LessOrEqual(t, h[len(h)-1]-last[rel], bound(len(parent.children)), "step %d: %s removed", step, rel)
					m.remove(t, rel)
					groups = slices.Delete(groups, i, i+1)
					delete(truth, rel)
					// The slice moves: it is listed again (an idle one
					// gives its last listing again, the removed group too).
					m.own[groups[0]] += time.Millisecond
				case x == 1: // one made
					made++
					rel := fmt.Sprintf("system.slice/n%02d.service", made)
					m.add(rel)
					groups = append(groups, rel)
					m.own[groups[0]] += time.Millisecond // listed again (as above)
				}
				// Once, and not at zero: a slice that reads just what it
				// read before is taken as idle (nothing ran in it), as a
				// usage written to zero can (cgroup v1 only); grown past
				// its last read at times.
				if _, done := m.zero[slice]; !v2 && !done && before > 0 && rng.IntN(15) == 0 {
					m.zero[slice] = m.total(slice)
					if rng.IntN(2) == 0 {
						m.own[groups[0]] += before + time.Millisecond
					}
				}
			}
			window = 0
			if rng.IntN(4) == 0 {
				window = time.Duration(rng.Int64N(int64(min(m.file(slice), 5*time.Millisecond)) + 1))
			}
			m.zero[slice] += window
			m.write(t)
			r, err := w.Walk()
			require.NoError(t, err)
			m.zero[slice] -= window
			got := m.workloads(t, r)
			require.Len(t, got, len(groups), "step %d: %v", step, groups)
			skipped += r.Skipped
			var sum time.Duration // the bounds of the directories read
			for _, g := range w.groups {
				if !g.descend || !g.listed || g.seen != w.round {
					continue
				}
				var unseen time.Duration
				for _, c := range g.children {
					unseen += m.file(c.path) - c.usage
				}
				n := len(g.children)
				require.LessOrEqual(t, unseen, bound(n), "step %d: %s", step, g.path)
				sum += bound(n)
			}
			for rel, u := range got {
				truth[rel] = append(truth[rel], m.file(rel))
				require.LessOrEqual(t, u, m.file(rel), "step %d: %s ahead of its time", step, rel)
				require.GreaterOrEqual(t, u, m.file(rel)-sum, "step %d: %s behind", step, rel)
				require.GreaterOrEqual(t, u, last[rel], "step %d: %s went back", step, rel)
				if h := truth[rel]; len(h) > fullEvery {
					require.GreaterOrEqual(t, u, h[len(h)-1-fullEvery], "step %d: %s not seen for %d walks", step, rel, fullEvery)
				}
				last[rel] = u
			}
		}
		t.Logf("%d groups given again unread", skipped)
		w.noSkip = true
		r, err := w.Walk()
		require.NoError(t, err)
		for rel, u := range m.workloads(t, r) {
			require.Equal(t, m.file(rel), u, rel)
		}
	})
}

// A slice with a group that cannot be read, or past a limit, is read
// whole at every walk: its unexplained time cannot be told.
func TestWalkerSkipNeedsEveryUsage(t *testing.T) {
	deep := "system.slice/x"
	for range MaxDepth {
		deep += "/y"
	}
	for _, tt := range []struct {
		name  string
		extra string
		bad   bool
	}{
		{"every group read", "", false},
		{"a group past the depth limit", deep, false},
		{"a group unreadable", "system.slice/bad.service", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			groups := []string{"system.slice/a.service", "system.slice/b.service", "system.slice/c.service"}
			if tt.extra != "" {
				groups = append(groups, tt.extra)
			}
			m := newModel(t, true, groups...)
			w := NewWalker(Hierarchy{Dir: m.c.root, V2: true})
			defer w.Close()
			watched(t, w)
			skipped := 0
			for i := range 5 {
				m.own["system.slice/a.service"] += 5 * time.Millisecond
				m.write(t)
				if tt.bad {
					write(t, filepath.Join(m.c.root, tt.extra, "cpu.stat"), "usage_usec soon\n")
				}
				r, err := w.Walk()
				require.NoError(t, err)
				require.Equal(t, tt.bad, r.Unreadable > 0, "walk %d", i)
				require.Equal(t, tt.extra == deep, r.Truncated, "walk %d", i)
				skipped += r.Skipped
			}
			require.Equal(t, tt.extra == "", skipped > 0, "groups skipped: %d", skipped)
		})
	}
}

// A sleeper's small run, skipped, is seen within fullEvery walks, whether
// its slice keeps running or sleeps; so a group removed later leaves none
// of it unseen. (Removed before, it would: up to tau, see explained.)
func TestWalkerSkipSeenWithinFullEvery(t *testing.T) {
	const a, b = "system.slice/a.service", "system.slice/b.service"
	for _, busy := range []bool{true, false} {
		for _, v2 := range []bool{true, false} {
			t.Run(fmt.Sprintf("slice busy=%v/v2=%v", busy, v2), func(t *testing.T) {
				m := newModel(t, v2, a, b, "system.slice/c.service", "system.slice/d.service", "user.slice/user-1000.slice")
				w := NewWalker(Hierarchy{Dir: m.c.root, V2: v2})
				defer w.Close()
				watched(t, w)
				var seen, last time.Duration // b's deltas as a tracker sums them
				walk := func() {
					t.Helper()
					m.write(t)
					r, err := w.Walk()
					require.NoError(t, err)
					u := m.workloads(t, r)[b]
					seen, last = seen+u-last, u
				}
				walk()
				m.own[a] += 5 * time.Millisecond
				walk()
				m.own[a] += 5 * time.Millisecond
				m.own[b] += 300 * time.Microsecond // b wakes once
				walk()
				require.Zero(t, seen, "b's run skipped at first")
				at := 0
				for i := range fullEvery + 4 {
					if busy {
						m.own[a] += 5 * time.Millisecond
					}
					walk()
					if at == 0 && seen != 0 {
						at = i + 1
					}
				}
				require.Equal(t, m.file(b), seen, "b's run seen")
				require.LessOrEqual(t, at, fullEvery, "walks until seen")
				m.remove(t, b)
				m.own[a] += 5 * time.Millisecond
				walk()
				require.Equal(t, m.file("system.slice/a.service"), m.workloads(t, &w.res)[a])
			})
		}
	}
}

// The walk's window: groups read first run after their slice's usage
// was read (a preemption makes it milliseconds, times their CPUs), so
// the slice's usage reads low against theirs. A sleeper's run as large is
// not hidden: the slice's usage is read again after them.
func TestWalkerSkipWindow(t *testing.T) {
	const a, b, slice = "system.slice/a.service", "system.slice/b.service", "system.slice"
	for _, v2 := range []bool{true, false} {
		t.Run(fmt.Sprintf("v2=%v", v2), func(t *testing.T) {
			m := newModel(t, v2, a, b, "system.slice/c.service", "user.slice/user-1000.slice")
			w := NewWalker(Hierarchy{Dir: m.c.root, V2: v2})
			defer w.Close()
			watched(t, w)
			for i, s := range []struct{ a, b, window time.Duration }{
				{0, 0, 0}, {5 * time.Millisecond, 0, 0}, {5 * time.Millisecond, 0, 0},
				// a (8 CPUs busy) runs 4 ms between the slice's read and
				// a's; b wakes for 4.5 ms.
				{40 * time.Millisecond, 4500 * time.Microsecond, 4 * time.Millisecond},
				{5 * time.Millisecond, 0, 2 * time.Millisecond},
			} {
				m.own[a] += s.a
				m.own[b] += s.b
				m.zero[slice] += s.window
				m.write(t)
				w.window = func() { // the slice's usage, read again, has caught up
					m.zero[slice] -= s.window
					m.write(t)
					m.zero[slice] += s.window
				}
				r, err := w.Walk()
				require.NoError(t, err)
				m.zero[slice] -= s.window
				got := m.workloads(t, r)
				require.LessOrEqual(t, m.file(b)-got[b], skipBound(v2, 3), "walk %d: b's time not seen", i)
			}
		})
	}
}

// A cgroup v1 slice's usage written to zero and grown past its last read
// by the next walk is not seen as gone back (visit); the lower bound of
// explained reads all then, and the read again of takeBase takes the
// base anew, so that the sleepers are skipped again.
func TestWalkerSkipZeroGrownPast(t *testing.T) {
	const a, b, c, slice = "system.slice/a.service", "system.slice/b.service", "system.slice/c.service", "system.slice"
	m := newModel(t, false, a, b, c, "system.slice/d.service", "user.slice/user-1000.slice")
	w := NewWalker(Hierarchy{Dir: m.c.root, V2: false})
	defer w.Close()
	watched(t, w)
	skipped := 0
	for i := range 14 {
		m.own[a] += 5 * time.Millisecond
		if i == 3 {
			m.zero[slice] = m.total(slice)    // written to zero...
			m.own[a] += 30 * time.Millisecond // ...and grown past it
		}
		if i == 4 { // more than tau, before a full read is due
			m.own[b] += 2 * time.Millisecond
		}
		if i >= 4 && i%2 == 0 {
			m.own[b] += 300 * time.Microsecond
			m.own[c] += 200 * time.Microsecond
		}
		m.write(t)
		r, err := w.Walk()
		require.NoError(t, err)
		if i >= 6 {
			skipped += r.Skipped
		}
		var unseen time.Duration
		for _, ch := range w.groups[slice].children {
			unseen += m.file(ch.path) - ch.usage
		}
		require.LessOrEqual(t, unseen, skipBound(false, 4), "walk %d: time of the slice's groups not seen", i)
	}
	require.Positive(t, skipped, "sleepers skipped again once the base is taken anew")
}

// An unreadable usage is named once: its group's path and its file.
func TestWalkerUnreadableUsageNamedOnce(t *testing.T) {
	for _, v2 := range []bool{true, false} {
		t.Run(fmt.Sprintf("v2=%v", v2), func(t *testing.T) {
			const bad = "system.slice/bad.service"
			m := newModel(t, v2, "system.slice/a.service", bad)
			file := "cpuacct.usage"
			if v2 {
				file = "cpu.stat"
			}
			write(t, filepath.Join(m.c.root, bad, file), "soon\n")
			w := NewWalker(Hierarchy{Dir: m.c.root, V2: v2})
			defer w.Close()
			r, err := w.Walk()
			require.NoError(t, err)
			require.Error(t, r.Err)
			require.ErrorIs(t, r.Err, ErrSyntax)
			require.Equal(t, 1, strings.Count(r.Err.Error(), file), r.Err.Error())
			require.Contains(t, r.Err.Error(), bad)
		})
	}
}
