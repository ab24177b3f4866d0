package guard

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/kfile"
)

func TestInMemory(t *testing.T) {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/proc", &st); err != nil || !kfile.InMemoryFS(st.Type) {
		t.Skip("no procfs at /proc")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		paths []string
		want  bool
	}{
		{"procfs", []string{"/proc"}, true},
		{"a directory of procfs", []string{"/proc/self"}, true},
		{"a test's tree", []string{dir}, false},
		{"procfs and a test's tree", []string{"/proc", dir}, false},
		{"missing", []string{filepath.Join(dir, "none")}, false},
		{"nothing", nil, false},
	} {
		if got := InMemory(tc.paths...); got != tc.want {
			t.Errorf("%s: InMemory(%q) = %v, want %v", tc.name, tc.paths, got, tc.want)
		}
	}
}

// An Inline guard runs the work in the caller's goroutine: a deadline
// already past does not stop it, and nothing is left running.
func TestInlineRunsInTheCaller(t *testing.T) {
	g := Guard{Inline: true}
	ran := 0
	if err := g.Do(time.Now().Add(-time.Second), func() { ran++ }); err != nil || ran != 1 {
		t.Fatalf("Do = %v, ran %d times; want nil, 1", err, ran)
	}
	if g.work != nil || g.Busy() {
		t.Fatal("an Inline guard started a goroutine")
	}
}

// What a guarded read costs beside an inline one (the work itself is
// nothing): the hand-off to the guard's goroutine and the timer.
func BenchmarkDo(b *testing.B) {
	for _, tc := range []struct {
		name   string
		inline bool
	}{{"guarded", false}, {"inline", true}} {
		b.Run(tc.name, func(b *testing.B) {
			g := Guard{Inline: tc.inline}
			n := 0
			f := func() { n++ }
			b.ReportAllocs()
			for b.Loop() {
				if err := g.Do(time.Now().Add(time.Second), f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
