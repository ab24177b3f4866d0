package cgroup

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/fixtures"
)

const (
	id1 = "3f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f"
	id2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	uid = "8f14e45f-ceea-467f-9d6b-3d2a1c0b9e8d"
)

func TestClassify(t *testing.T) {
	under := strings.ReplaceAll(uid, "-", "_")
	tests := []struct {
		rel     string
		kind    Kind
		name    string
		descend bool
	}{
		{"system.slice", NotWorkload, "", true},
		{"user.slice", NotWorkload, "", true},
		{"init.scope", Service, "init.scope", false},
		{"system.slice/nginx.service", Service, "nginx.service", false},
		{`system.slice/system-getty.slice`, NotWorkload, "", true},
		{`system.slice/system-getty.slice/getty@tty1.service`, Service, "getty@tty1.service", false},
		{`system.slice/systemd-fsck@dev-disk-by\x2duuid-1234.service`, Service, "systemd-fsck@dev-disk-by-uuid-1234.service", false},
		{"system.slice/run-r0123abcd.scope", Service, "run-r0123abcd.scope", false},
		{"user.slice/user-1000.slice", User, "user-1000.slice", false},
		{"system.slice/docker-" + id1 + ".scope", Container, id1[:12], false},
		{"system.slice/docker.service", Service, "docker.service", false},
		{"machine.slice/libpod-" + id2 + ".scope", Container, id2[:12], false},
		{"machine.slice/libpod-conmon-" + id2 + ".scope", Container, id2[:12], false},
		{"system.slice/cri-containerd-" + id1 + ".scope", Container, id1[:13], false},
		{"system.slice/crio-" + id1 + ".scope", Container, id1[:13], false},
		{"docker/" + id1, Container, id1[:12], false},
		{"libpod_parent/libpod-" + id2, Container, id2[:12], false},
		{"system.slice/" + id1 + ".scope", Service, id1 + ".scope", false},
		{"kubepods.slice", NotWorkload, "", true},
		{"kubepods.slice/kubepods-burstable.slice", NotWorkload, "", true},
		{"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + under + ".slice", Pod, uid, false},
		{"kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + under + ".slice", Pod, uid, false},
		{"kubepods.slice/kubepods-pod" + under + ".slice", Pod, uid, false},
		{"kubepods/burstable/pod" + uid, Pod, uid, false},
		{"kubepods/pod" + uid, Pod, uid, false},
		{"kubepods/burstable/podnot-a-uid", NotWorkload, "", true},
		{`machine.slice/machine-qemu\x2d1\x2dweb\x2d01.scope`, VM, "web-01", false},
		{`machine.slice/machine-qemu\x2d12\x2dwin11.scope`, VM, "win11", false},
		{"machine/qemu-3-db.libvirt-qemu", VM, "db", false},
		{"machine/db.libvirt-qemu", VM, "db", false},
		{`machine.slice/machine-ubuntu\x2dnspawn.scope`, Container, "ubuntu-nspawn", false},
		{`machine.slice/systemd-nspawn@debian.service`, Container, "systemd-nspawn@debian.service", false},
		{"docker", NotWorkload, "", true},
		{"floortest/g1", NotWorkload, "", true},
	}
	for _, tt := range tests {
		kind, name, descend := Classify(tt.rel)
		require.Equal(t, tt.kind, kind, "Classify(%q)", tt.rel)
		require.Equal(t, tt.name, name, "Classify(%q)", tt.rel)
		require.Equal(t, tt.descend, descend, "Classify(%q)", tt.rel)
	}
}

// Whatever a directory is called: a workload has a name and is not looked
// into, anything else is looked into.
func FuzzClassify(f *testing.F) {
	for _, p := range fixtures.Paths("cpu.stat", "cpuacct.usage") {
		rel := strings.TrimPrefix(filepath.Dir(p), "sys/fs/cgroup/")
		f.Add(rel)
	}
	f.Add("system.slice/docker-" + id1 + ".scope")
	f.Add("kubepods/burstable/pod" + uid)
	f.Add(`machine.slice/machine-qemu\x2d1\x2dweb.scope`)
	f.Fuzz(func(t *testing.T, rel string) {
		kind, name, descend := Classify(rel)
		switch {
		case kind == NotWorkload:
			if !descend || name != "" {
				t.Fatalf("Classify(%q) = not a workload, name %q, descend %v", rel, name, descend)
			}
		case kind == Group:
			t.Fatalf("Classify(%q) = Group: only a walk knows a leaf", rel)
		default:
			if descend || name == "" {
				t.Fatalf("Classify(%q) = %v %q, descend %v", rel, kind, name, descend)
			}
		}
	})
}

// cgtree is a cgroup tree on disk.
type cgtree struct {
	root string
	v2   bool
}

func newCgtree(t testing.TB, v2 bool) *cgtree {
	t.Helper()
	c := &cgtree{root: t.TempDir(), v2: v2}
	if v2 {
		write(t, filepath.Join(c.root, "cgroup.controllers"), "cpu io memory pids\n")
		write(t, filepath.Join(c.root, "cpu.stat"), "usage_usec 999999999\n")
	}
	return c
}

func (c *cgtree) set(t testing.TB, rel string, usage time.Duration) {
	t.Helper()
	if c.v2 {
		write(t, filepath.Join(c.root, rel, "cpu.stat"), fmt.Sprintf("usage_usec %d\nuser_usec %d\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n", usage.Microseconds(), usage.Microseconds()))
	} else {
		write(t, filepath.Join(c.root, rel, "cpuacct.usage"), fmt.Sprintf("%d\n", usage.Nanoseconds()))
	}
	write(t, filepath.Join(c.root, rel, "cgroup.procs"), "")
}

func write(t testing.TB, path, text string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
}

func walk(t *testing.T, w *Walker) map[string]string {
	t.Helper()
	r, err := w.Walk()
	require.NoError(t, err)
	out := map[string]string{}
	for _, wl := range r.Workloads {
		k := wl.Kind.String() + " " + wl.Name
		require.NotContains(t, out, k+"@"+wl.Path)
		out[k+"@"+wl.Path] = wl.Usage.String()
	}
	return out
}

// procsOf calls w.Procs(all) and gives each group's PIDs by its path (the
// key without its "#inode"), or "idle" for a group not read.
func procsOf(t *testing.T, w *Walker, all bool) map[string]string {
	t.Helper()
	ms, err := w.Procs(all)
	require.NoError(t, err)
	return byPath(ms)
}

func TestWalker(t *testing.T) {
	for _, v2 := range []bool{true, false} {
		t.Run(map[bool]string{true: "v2", false: "v1"}[v2], func(t *testing.T) {
			c := newCgtree(t, v2)
			under := strings.ReplaceAll(uid, "-", "_")
			pod := "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + under + ".slice"
			for rel, s := range map[string]int{
				"init.scope":                 1,
				"system.slice/nginx.service": 2,
				"system.slice/system-getty.slice/getty@tty1.service": 3,
				"system.slice/docker-" + id1 + ".scope":              4,
				"user.slice/user-1000.slice":                         5,
				"user.slice/user-1000.slice/session-3.scope":         6, // inside the user: not on its own
				`machine.slice/machine-qemu\x2d1\x2dweb.scope`:       7,
				"machine.slice/libpod-" + id2 + ".scope":             8,
				"machine.slice/libpod-conmon-" + id2 + ".scope":      9,
				pod: 10,
				pod + "/cri-containerd-" + id1 + ".scope": 11, // inside the pod
				"floortest/g1":        12, // a leaf named like nothing known
				"floortest/g2/deeper": 13,
			} {
				c.set(t, rel, time.Duration(s)*time.Second)
			}
			// Intermediate groups have usage files too, never read as
			// workloads.
			c.set(t, "system.slice", time.Hour)
			c.set(t, "floortest/g2", time.Hour)
			w := NewWalker(Hierarchy{Dir: c.root, V2: v2})
			defer w.Close()
			got := walk(t, w)
			want := map[string]string{
				"service init.scope@init.scope":                                                 "1s",
				"service nginx.service@system.slice/nginx.service":                              "2s",
				"service getty@tty1.service@system.slice/system-getty.slice/getty@tty1.service": "3s",
				"container " + id1[:12] + "@system.slice/docker-" + id1 + ".scope":              "4s",
				"user user-1000.slice@user.slice/user-1000.slice":                               "5s",
				`vm web@machine.slice/machine-qemu\x2d1\x2dweb.scope`:                           "7s",
				"container " + id2[:12] + "@machine.slice/libpod-" + id2 + ".scope":             "8s",
				"container " + id2[:12] + "@machine.slice/libpod-conmon-" + id2 + ".scope":      "9s",
				"pod " + uid + "@" + pod:                                                        "10s",
				"group floortest/g1@floortest/g1":                                               "12s",
				"group floortest/g2/deeper@floortest/g2/deeper":                                 "13s",
			}
			require.Equal(t, want, got)

			// A service restarted: systemd makes its group anew (another
			// inode), so it is another key.
			r, _ := w.Walk()
			keys := map[string]string{}
			for _, wl := range r.Workloads {
				keys[wl.Path] = wl.Key
			}
			require.NoError(t, os.RemoveAll(filepath.Join(c.root, "system.slice/nginx.service")))
			require.NoError(t, os.RemoveAll(filepath.Join(c.root, "init.scope")))
			c.set(t, "system.slice/nginx.service", time.Second)
			c.set(t, "system.slice", 2*time.Hour) // the slice ran: its service stopped and started
			r, err := w.Walk()
			require.NoError(t, err)
			for _, wl := range r.Workloads {
				if wl.Path == "system.slice/nginx.service" {
					require.NotEqual(t, keys[wl.Path], wl.Key)
				} else {
					require.Equal(t, keys[wl.Path], wl.Key)
				}
				require.NotEqual(t, "init.scope", wl.Path)
			}
			require.Len(t, r.Workloads, len(want)-1)
		})
	}
}

func TestWalkerDoesNotAllocate(t *testing.T) {
	c := newCgtree(t, true)
	for i := range 200 {
		c.set(t, fmt.Sprintf("system.slice/svc%03d.service", i), time.Duration(i)*time.Second)
	}
	for _, files := range []int{DefaultFiles, 0} {
		w := NewWalker(Hierarchy{Dir: c.root, V2: true})
		w.files = files
		w.Walk()
		allocs := testing.AllocsPerRun(20, func() {
			r, err := w.Walk()
			if err != nil || len(r.Workloads) != 200 {
				t.Fatal(err, len(r.Workloads))
			}
		})
		require.Zero(t, allocs, "files=%d", files)
		w.Close()
	}
}

func TestWalkerLimitsAndErrors(t *testing.T) {
	c := newCgtree(t, true)
	deep := "a"
	for range MaxDepth + 2 {
		deep += "/a"
	}
	c.set(t, deep, time.Second)
	c.set(t, "system.slice/bad.service", 0)
	write(t, filepath.Join(c.root, "system.slice/bad.service/cpu.stat"), "usage_usec secret\n")
	w := NewWalker(Hierarchy{Dir: c.root, V2: true})
	r, err := w.Walk()
	require.NoError(t, err)
	require.True(t, r.Truncated)
	require.Equal(t, 1, r.Unreadable)
	require.ErrorIs(t, r.Err, ErrSyntax)
	require.NotContains(t, r.Err.Error(), "secret")
	w.Close()

	_, err = NewWalker(Hierarchy{Dir: c.root + "/nope", V2: true}).Walk()
	require.Error(t, err)
	names := []string{}
	for _, k := range []Kind{Service, User, Container, Pod, VM, Group} {
		names = append(names, k.String())
	}
	require.True(t, slices.Equal(names, []string{"service", "user", "container", "pod", "vm", "group"}))
}

func TestProcs(t *testing.T) {
	c := newCgtree(t, true)
	write(t, filepath.Join(c.root, "cgroup.procs"), "1\n2\n")
	c.set(t, "system.slice/nginx.service", time.Second)
	write(t, filepath.Join(c.root, "system.slice/nginx.service/cgroup.procs"), "10\n11\n")
	pod := "kubepods.slice/kubepods-pod" + strings.ReplaceAll(uid, "-", "_") + ".slice"
	c.set(t, pod, time.Second)
	c.set(t, pod+"/cri-containerd-"+id1+".scope", time.Second)
	write(t, filepath.Join(c.root, pod, "cri-containerd-"+id1+".scope", "cgroup.procs"), "30\n")
	c.set(t, "system.slice/idle.service", time.Second)
	write(t, filepath.Join(c.root, "system.slice/idle.service/cgroup.procs"), "20\n")
	w := NewWalker(Hierarchy{Dir: c.root, V2: true})
	defer w.Close()
	members := func(all bool) map[string]string {
		t.Helper()
		_, err := w.Walk()
		require.NoError(t, err)
		return procsOf(t, w, all)
	}
	// The first walk: every group is new, so read.
	want := map[string]string{
		"/":                          "[1 2]",
		"system.slice":               "[]",
		"system.slice/nginx.service": "[10 11]",
		"system.slice/idle.service":  "[20]",
		"kubepods.slice":             "[]",
		pod:                          "[30]", // its container's process is the pod's
	}
	require.Equal(t, want, members(false))
	// Nothing ran but nginx: the others are idle; the root and the slices
	// are always read (their usage holds their children's).
	c.set(t, "system.slice/nginx.service", 2*time.Second)
	write(t, filepath.Join(c.root, "system.slice/nginx.service/cgroup.procs"), "10\n11\n")
	want = map[string]string{
		"/":                          "[1 2]",
		"system.slice":               "[]",
		"system.slice/nginx.service": "[10 11]",
		"system.slice/idle.service":  "idle",
		"kubepods.slice":             "[]",
		pod:                          "idle",
	}
	require.Equal(t, want, members(false))
	// all reads every group.
	got := members(true)
	require.Equal(t, "[20]", got["system.slice/idle.service"])
	require.Equal(t, "[10 11]", got["system.slice/nginx.service"])
}

// A directory whose usage has not moved holds nothing that ran: its groups
// are given again as they were, without reading them.
func TestWalkerSkipsIdleSlices(t *testing.T) {
	c := newCgtree(t, true)
	c.set(t, "system.slice", 10*time.Second)
	c.set(t, "system.slice/a.service", 4*time.Second)
	c.set(t, "system.slice/b.service", 6*time.Second)
	c.set(t, "user.slice", time.Second)
	c.set(t, "user.slice/user-1000.slice", time.Second)
	w := NewWalker(Hierarchy{Dir: c.root, V2: true})
	defer w.Close()
	first := walk(t, w)
	r, _ := w.Walk()
	require.Equal(t, 1, r.Dirs, "only the root is listed: both slices are idle")
	// A change inside an idle slice cannot happen (a group's time is its
	// slice's too); were it there, it would not be read.
	c.set(t, "system.slice/a.service", 5*time.Second)
	require.Equal(t, first, walk(t, w))
	// The slice ran: it is listed and read again.
	c.set(t, "system.slice", 11*time.Second)
	got := walk(t, w)
	require.Equal(t, "5s", got["service a.service@system.slice/a.service"])
	ms, err := w.Procs(false)
	require.NoError(t, err)
	for _, m := range ms {
		if strings.HasPrefix(m.Key, "user.slice") {
			require.False(t, m.Read, "%s: an idle slice's processes have not run", m.Key)
		}
	}
}

// Membership files are kept open and read again from their start (a
// process that joins is seen), within the budget of kept files or past
// it; a workload whose cgroup.stat counts no group under it is not listed.
func TestProcsKeptFilesAndLeaves(t *testing.T) {
	for _, files := range []int{DefaultFiles, 3, 0} {
		t.Run(fmt.Sprint(files, " kept"), func(t *testing.T) {
			c := newCgtree(t, true)
			write(t, filepath.Join(c.root, "cgroup.procs"), "1\n")
			c.set(t, "system.slice/nginx.service", time.Second)
			write(t, filepath.Join(c.root, "system.slice/nginx.service/cgroup.procs"), "10\n")
			pod := "kubepods.slice/kubepods-pod" + strings.ReplaceAll(uid, "-", "_") + ".slice"
			c.set(t, pod, time.Second)
			c.set(t, pod+"/cri-containerd-"+id1+".scope", time.Second)
			write(t, filepath.Join(c.root, pod, "cri-containerd-"+id1+".scope", "cgroup.procs"), "30\n")
			w := NewWalker(Hierarchy{Dir: c.root, V2: true})
			w.files = files
			defer w.Close()
			pids := func(all bool) map[string]string {
				t.Helper()
				_, err := w.Walk()
				require.NoError(t, err)
				return procsOf(t, w, all)
			}
			for i, step := range []struct {
				nginx, podStat string
				wantNginx      string
				wantPod        string
			}{
				{"10\n", "nr_descendants 1\nnr_dying_descendants 0\n", "[10]", "[30]"},
				{"10\n12\n13\n", "nr_descendants 1\nnr_dying_descendants 0\n", "[10 12 13]", "[30]"},
				{"13\n", "nr_descendants 0\nnr_dying_descendants 1\n", "[13]", "[]"},
			} {
				write(t, filepath.Join(c.root, "system.slice/nginx.service/cgroup.procs"), step.nginx)
				write(t, filepath.Join(c.root, pod, "cgroup.stat"), step.podStat)
				got := pids(true)
				require.Equal(t, "[1]", got["/"], "step %d", i)
				require.Equal(t, step.wantNginx, got["system.slice/nginx.service"], "step %d", i)
				require.Equal(t, step.wantPod, got[pod], "step %d", i)
				require.LessOrEqual(t, w.kept, files, "step %d: files kept within the budget", i)
			}
		})
	}
}

// A directory listed once is watched: while no group is made or removed
// in it, its groups are visited without listing it again, and a workload
// whose cgroup.stat counted no group under it is not asked again; a group
// made or removed is seen at the next walk.
func TestWalkerWatchesDirectories(t *testing.T) {
	c := newCgtree(t, true)
	write(t, filepath.Join(c.root, "cgroup.procs"), "1\n")
	c.set(t, "system.slice", 10*time.Second)
	c.set(t, "system.slice/a.service", 4*time.Second)
	c.set(t, "system.slice/b.service", 6*time.Second)
	stat := func(rel, text string) { write(t, filepath.Join(c.root, rel, "cgroup.stat"), text) }
	stat("system.slice/a.service", "nr_descendants 0\nnr_dying_descendants 0\n")
	write(t, filepath.Join(c.root, "system.slice/a.service/cgroup.procs"), "10\n")
	w := NewWalker(Hierarchy{Dir: c.root, V2: true})
	defer w.Close()
	if w.changes(); w.watch == nil {
		t.Skip("no inotify here")
	}
	members := func() map[string]string {
		t.Helper()
		return procsOf(t, w, false)
	}
	r, err := w.Walk()
	require.NoError(t, err)
	require.Equal(t, 2, r.Dirs)
	require.Zero(t, r.Cached)
	require.Equal(t, "[10]", members()["system.slice/a.service"])

	// a ran: both directories are known, neither is read.
	c.set(t, "system.slice", 11*time.Second)
	c.set(t, "system.slice/a.service", 5*time.Second)
	write(t, filepath.Join(c.root, "system.slice/a.service/cgroup.procs"), "10\n11\n")
	r, err = w.Walk()
	require.NoError(t, err)
	require.Equal(t, 2, r.Cached)
	got := map[string]string{}
	for _, wl := range r.Workloads {
		got[wl.Name] = wl.Usage.String()
	}
	require.Equal(t, map[string]string{"a.service": "5s", "b.service": "6s"}, got)
	require.Equal(t, "[10 11]", members()["system.slice/a.service"])

	// A service started, another stopped, and a group made under a.
	c.set(t, "system.slice", 12*time.Second)
	c.set(t, "system.slice/c.service", time.Second)
	require.NoError(t, os.RemoveAll(filepath.Join(c.root, "system.slice/b.service")))
	c.set(t, "system.slice/a.service", 6*time.Second)
	write(t, filepath.Join(c.root, "system.slice/a.service/cgroup.procs"), "10\n11\n")
	c.set(t, "system.slice/a.service/sub", time.Second)
	write(t, filepath.Join(c.root, "system.slice/a.service/sub/cgroup.procs"), "12\n")
	stat("system.slice/a.service", "nr_descendants 1\nnr_dying_descendants 0\n")
	r, err = w.Walk()
	require.NoError(t, err)
	require.Equal(t, 1, r.Cached, "the root is known; system.slice changed")
	clear(got)
	for _, wl := range r.Workloads {
		got[wl.Name] = wl.Usage.String()
	}
	require.Equal(t, map[string]string{"a.service": "6s", "c.service": "1s"}, got)
	require.Equal(t, "[10 11 12]", members()["system.slice/a.service"])

	// Past the budget nothing is watched, and every directory is listed.
	w2 := NewWalker(Hierarchy{Dir: c.root, V2: true})
	w2.files = 0
	defer w2.Close()
	for range 2 {
		r, err = w2.Walk()
		require.NoError(t, err)
		require.Zero(t, r.Cached)
	}
}
