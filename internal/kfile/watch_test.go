package kfile

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// event builds a struct inotify_event as the kernel writes it, its name
// padded with NULs.
func event(wd int32, mask uint32, name string) []byte {
	n := 0
	if name != "" {
		n = (len(name) + 1 + 15) / 16 * 16
	}
	b := make([]byte, inotifyHeader+n)
	binary.NativeEndian.PutUint32(b[0:], uint32(wd))
	binary.NativeEndian.PutUint32(b[4:], mask)
	binary.NativeEndian.PutUint32(b[12:], uint32(n))
	copy(b[inotifyHeader:], name)
	return b
}

// A watch reports the directories where a subdirectory was made or
// removed, and the end of a watch, not files written.
func TestWatch(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	require.NoError(t, os.Mkdir(a, 0o755))
	require.NoError(t, os.Mkdir(b, 0o755))
	w, err := NewWatch()
	if err != nil {
		t.Skipf("no inotify: %v", err)
	}
	defer w.Close()
	wa, err := w.Add(a)
	require.NoError(t, err)
	wb, err := w.Add(b)
	require.NoError(t, err)
	type ev struct {
		wd             int32
		gone, overflow bool
	}
	changes := func() []ev {
		t.Helper()
		var out []ev
		require.NoError(t, w.Changes(func(wd int32, gone, overflow bool) { out = append(out, ev{wd, gone, overflow}) }))
		return out
	}
	require.Empty(t, changes())
	require.NoError(t, os.WriteFile(filepath.Join(a, "cpu.stat"), []byte("usage_usec 1\n"), 0o644))
	require.Empty(t, changes(), "a file written is no change of groups")
	require.NoError(t, os.Mkdir(filepath.Join(a, "sub"), 0o755))
	require.Equal(t, []ev{{wd: wa}}, changes())
	require.NoError(t, os.Remove(filepath.Join(a, "sub")))
	require.NoError(t, os.RemoveAll(b))
	require.Equal(t, []ev{{wd: wa}, {wd: wb}, {wd: wb, gone: true}}, changes())
}

// A queue that does not empty within the reads allowed ends the call with
// an overflow: the caller lists every directory again, and the gather goes
// on instead of reading events for as long as they come.
func TestWatchChangesBounded(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWatch()
	if err != nil {
		t.Skipf("no inotify: %v", err)
	}
	defer w.Close()
	wd, err := w.Add(dir)
	require.NoError(t, err)
	// 400 events of 32 bytes: about three reads of the 4 KiB buffer.
	for i := range 400 {
		require.NoError(t, os.Mkdir(filepath.Join(dir, fmt.Sprintf("g%03d", i)), 0o755))
	}
	w.maxReads = 2
	var dirs, overflows int
	require.NoError(t, w.Changes(func(got int32, gone, overflow bool) {
		switch {
		case overflow:
			overflows++
		case got == wd && !gone:
			dirs++
		}
	}))
	require.Equal(t, 1, overflows, "a queue not drained within the bound is an overflow")
	require.Less(t, dirs, 400, "the call stopped before the end of the queue")
	require.Positive(t, dirs)
	// The next call takes what was left, within the default bound.
	w.maxReads = 0
	overflows = 0
	require.NoError(t, w.Changes(func(_ int32, _, overflow bool) {
		if overflow {
			overflows++
		}
	}))
	require.Zero(t, overflows)
}

func FuzzNextEvent(f *testing.F) {
	f.Add(event(1, syscall.IN_CREATE|syscall.IN_ISDIR, "nginx.service"))
	f.Add(append(event(2, syscall.IN_DELETE_SELF, ""), event(2, syscall.IN_IGNORED, "")...))
	f.Add(event(-1, syscall.IN_Q_OVERFLOW, ""))
	f.Add(event(3, syscall.IN_MOVED_TO|syscall.IN_ISDIR, "x")[:20])
	f.Fuzz(func(t *testing.T, b []byte) {
		rest := b
		for {
			wd, mask, next, ok := NextEvent(rest)
			if !ok {
				break
			}
			n := len(rest) - len(next)
			if n < inotifyHeader || n != inotifyHeader+int(binary.NativeEndian.Uint32(rest[12:16])) {
				t.Fatalf("an event of %d bytes taken from %d", n, len(rest))
			}
			if wd != int32(binary.NativeEndian.Uint32(rest[0:4])) || mask != binary.NativeEndian.Uint32(rest[4:8]) {
				t.Fatalf("wd %d mask %#x, not the event's", wd, mask)
			}
			rest = next
		}
		if len(rest) >= inotifyHeader && uint64(binary.NativeEndian.Uint32(rest[12:16])) <= uint64(len(rest)-inotifyHeader) {
			t.Fatalf("a whole event left unread")
		}
	})
}
