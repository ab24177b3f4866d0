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
	// Reads: the root's two slices, then in system.slice what is read.
	tests := []struct {
		name   string
		v1only bool
		steps  []step
	}{
		{"sleepers skipped", false, []step{
			{reads: 2 + 5 + 1 + 1 + 1}, // every group, tpl's slice too
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 2 + 6},
			// a ran at its last read: read first, and it explains the slice.
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 2 + 1, skip: 5},
			{runs: map[string]time.Duration{a: time.Millisecond, user: time.Second}, reads: 2 + 1 + 1, skip: 5},
			// Nothing ran in the slice: it is not looked into.
			{reads: 2},
		}},
		{"a sleeper that runs a little is seen later", false, []step{
			{reads: 10},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 8},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, b: 300 * time.Microsecond}, reads: 3, skip: 5, late: []string{b}},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, tpl: 400 * time.Microsecond}, reads: 3, skip: 5, late: []string{b, tpl}},
			// Past tau: all read, b's time seen whole; tpl's slice is read
			// and explains tpl's 400 µs within its own tau.
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, b: 400 * time.Microsecond}, reads: 8, skip: 1, late: []string{tpl}},
			// b and tpl's slice moved at their last read: read first.
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 2 + 3, skip: 3, late: []string{tpl}},
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
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, slice: 200 * time.Microsecond}, reads: 3, skip: 5},
		}},
		{"groups made or removed", false, []step{
			{reads: 10},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 8},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, make: "system.slice/new.service", reads: 9},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 2 + 2, skip: 5}, // new at its last read
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, rm: c, reads: 2 + 6},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 3, skip: 5},
		}},
		// A full read whose window was long (the slice's usage low
		// against its groups') leaves the base as it was: b's 600 µs
		// are within tau of it, not of the low value.
		{"a long window keeps the base", false, []step{
			{reads: 10},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 8},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, c: 2 * time.Millisecond}, window: 800 * time.Microsecond, reads: 8},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, b: 600 * time.Microsecond}, reads: 2 + 2, skip: 4, late: []string{b}},
		}},
		// The slice's usage went back: its base is dropped, and all are
		// read.
		{"a slice's usage written to zero", true, []step{
			{reads: 10},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 8},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond}, reads: 3, skip: 5},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, b: 3 * time.Millisecond}, zero: slice, reads: 2 + 6},
			{runs: map[string]time.Duration{a: 5 * time.Millisecond, c: 300 * time.Microsecond}, reads: 2 + 2, skip: 4, late: []string{c}},
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

// Random runs over random walks. After every walk, in each directory
// whose usage was read, the time of its children not yet seen is below
// tau and the drift of truncation; after a walk that reads all, each
// workload's deltas add up to its time, none negative.
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
		m := newModel(t, v2, groups...)
		w := NewWalker(Hierarchy{Dir: m.c.root, V2: v2})
		defer w.Close()
		watched(t, w)
		unit := time.Nanosecond
		if v2 {
			unit = time.Microsecond
		}
		truth0 := map[string]time.Duration{}
		for _, rel := range groups {
			truth0[rel] = m.file(rel)
		}
		last, sum := map[string]time.Duration{}, map[string]time.Duration{}
		skipped := 0
		for step := range 10 + rng.IntN(50) {
			if step > 0 {
				before := m.file("system.slice") // as the last walk read it
				for _, rel := range groups {
					switch x := rng.IntN(100); {
					case active[rel] || x < 3: // runs, often much
						m.own[rel] += time.Duration(rng.Int64N(int64(5 * time.Millisecond)))
					case x < 15: // a little
						m.own[rel] += time.Duration(rng.Int64N(int64(400 * time.Microsecond)))
					}
				}
				if own {
					m.own["system.slice"] += time.Duration(rng.Int64N(int64(2 * time.Millisecond)))
				}
				// Once, and not at zero: a slice that reads just what it
				// read before is taken as idle (nothing ran in it), as a
				// usage written to zero can (cgroup v1 only).
				if _, done := m.zero["system.slice"]; !v2 && !done && before > 0 && rng.IntN(15) == 0 {
					m.zero["system.slice"] = m.total("system.slice")
				}
			}
			m.write(t)
			r, err := w.Walk()
			require.NoError(t, err)
			got := m.workloads(t, r)
			require.Len(t, got, len(groups), "step %d", step)
			skipped += r.Skipped
			for _, g := range w.groups {
				if !g.descend || !g.listed || g.seen != w.round {
					continue
				}
				var unseen time.Duration
				for _, c := range g.children {
					unseen += m.file(c.path) - c.usage
				}
				n := len(g.children)
				require.LessOrEqual(t, unseen, w.tau(n)+time.Duration(n+1)*unit, "step %d: %s", step, g.path)
			}
			for rel, u := range got {
				if step == 0 {
					require.Equal(t, truth0[rel], u, rel)
				} else {
					require.GreaterOrEqual(t, u, last[rel], "step %d: %s went back", step, rel)
					sum[rel] += u - last[rel]
				}
				require.LessOrEqual(t, u, m.file(rel), "step %d: %s ahead of its time", step, rel)
				last[rel] = u
			}
		}
		t.Logf("%d groups given again unread", skipped)
		w.noSkip = true
		r, err := w.Walk()
		require.NoError(t, err)
		for rel, u := range m.workloads(t, r) {
			sum[rel] += u - last[rel]
			require.Equal(t, m.file(rel)-truth0[rel], sum[rel], "%s: its deltas add up to its time", rel)
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
