package kfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDirReadsRegularFilesOnly(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "1", "stat"), "1 (init) S 0\n")
	write(t, filepath.Join(root, "secret"), "do not leak\n")
	require.NoError(t, os.Symlink(filepath.Join(root, "secret"), filepath.Join(root, "1", "link")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "1", "fifo"), 0o644))

	d, err := OpenDir(root)
	require.NoError(t, err)
	defer d.Close()
	buf := make([]byte, 64)
	n, err := d.ReadFile([]byte("1/stat"), buf)
	require.NoError(t, err)
	require.Equal(t, "1 (init) S 0\n", string(buf[:n]))

	for name, want := range map[string]error{
		"1/link":    ErrSymlink,
		"1/fifo":    ErrNotRegular,
		"1":         ErrNotRegular,
		"2/stat":    syscall.ENOENT,
		"/etc/host": ErrBadName,
		"../x":      ErrBadName,
		"1/../../x": ErrBadName,
		"1/..":      ErrBadName,
		"":          ErrBadName,
		"a\x00b":    ErrBadName,
	} {
		_, err := d.ReadFile([]byte(name), buf)
		require.ErrorIs(t, err, want, "ReadFile(%q)", name)
		msg := d.Err("open", []byte(name), err).Error()
		require.NotContains(t, msg, "leak", "errors never hold a file's content")
	}
	// "..x" is a name like any other.
	write(t, filepath.Join(root, "..x"), "ok\n")
	_, err = d.ReadFile([]byte("..x"), buf)
	require.NoError(t, err)
}

// A kept Handle reads the file as it is now, as sysfs and procfs files do.
func TestHandleReadsAgain(t *testing.T) {
	root := t.TempDir()
	path := write(t, filepath.Join(root, "cpu.stat"), "usage_usec 1\n")
	d, err := OpenDir(root)
	require.NoError(t, err)
	defer d.Close()
	h, err := d.Open([]byte("cpu.stat"))
	require.NoError(t, err)
	require.True(t, h.Valid())
	buf := make([]byte, 64)
	n, err := h.ReadAt(buf, 0)
	require.NoError(t, err)
	require.Equal(t, "usage_usec 1\n", string(buf[:n]))
	require.NoError(t, os.WriteFile(path, []byte("usage_usec 22\n"), 0o644))
	n, err = h.ReadAt(buf, 0)
	require.NoError(t, err)
	require.Equal(t, "usage_usec 22\n", string(buf[:n]))
	h.Close()
	h.Close()
	require.False(t, h.Valid())
	_, err = h.ReadAt(buf, 0)
	require.Error(t, err)
	var zero Handle
	require.False(t, zero.Valid(), "the zero Handle holds nothing (not stdin)")
}

func TestReadDir(t *testing.T) {
	root := t.TempDir()
	var want []string
	for _, name := range []string{"1", "22", "333", "self"} {
		require.NoError(t, os.Mkdir(filepath.Join(root, name), 0o755))
		want = append(want, name+"/")
	}
	write(t, filepath.Join(root, "stat"), "cpu 1\n")
	want = append(want, "stat")
	// Long names, so the records need more than one getdents call.
	for i := range 200 {
		name := strings.Repeat("x", 200) + string(rune('a'+i%26)) + strings.Repeat("y", i)
		if len(name) > 255 {
			break
		}
		write(t, filepath.Join(root, "long", name), "")
	}
	d, err := OpenDir(root)
	require.NoError(t, err)
	defer d.Close()
	recs, err := d.ReadDir([]byte("."), nil, 1<<20)
	require.NoError(t, err)
	var got []string
	for e, rest, ok := NextEntry(recs); ok; e, rest, ok = NextEntry(rest) {
		name := string(e.Name)
		if e.IsDir() {
			name += "/"
		}
		require.NotZero(t, e.Ino)
		if name != "long/" {
			got = append(got, name)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	require.Equal(t, want, got)

	recs, err = d.ReadDir([]byte("long"), recs, 1<<20)
	require.NoError(t, err)
	n := 0
	for _, rest, ok := NextEntry(recs); ok; _, rest, ok = NextEntry(rest) {
		n++
	}
	entries, _ := os.ReadDir(filepath.Join(root, "long"))
	require.Equal(t, len(entries), n)

	_, err = d.ReadDir([]byte("long"), recs[:0], 2048)
	require.ErrorIs(t, err, ErrTooLarge)
	_, err = d.ReadDir([]byte("stat"), nil, 1<<20)
	require.True(t, errors.Is(err, syscall.ENOTDIR), "a file is not a directory: %v", err)
}

// Reading under a Dir, with a kept Handle or not, allocates nothing, and
// neither does a process that has vanished.
func TestDirDoesNotAllocate(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "42", "stat"), "42 (x) S 1\n")
	d, err := OpenDir(root)
	require.NoError(t, err)
	defer d.Close()
	buf := make([]byte, 128)
	recs := make([]byte, 0, 8192)
	name := []byte("42/stat")
	gone := []byte("43/stat")
	h, err := d.Open(name)
	require.NoError(t, err)
	defer h.Close()
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := d.ReadFile(name, buf); err != nil {
			t.Fatal(err)
		}
		if _, err := h.ReadAt(buf, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ReadFile(gone, buf); !errors.Is(err, syscall.ENOENT) {
			t.Fatal(err)
		}
		recs, _ = d.ReadDir([]byte("."), recs, 1<<20)
		for _, rest, ok := NextEntry(recs); ok; _, rest, ok = NextEntry(rest) {
		}
	})
	require.Zero(t, allocs)
}

// Records cut short end the walk; they never panic.
func FuzzNextEntry(f *testing.F) {
	root := f.TempDir()
	for _, n := range []string{"1", "stat", "a b"} {
		os.WriteFile(filepath.Join(root, n), nil, 0o644)
	}
	d, err := OpenDir(root)
	if err != nil {
		f.Fatal(err)
	}
	recs, _ := d.ReadDir([]byte("."), nil, 1<<20)
	d.Close()
	f.Add(recs)
	f.Add(recs[:len(recs)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		for e, rest, ok := NextEntry(b); ok; e, rest, ok = NextEntry(rest) {
			if len(rest) >= len(b) {
				t.Fatal("no progress")
			}
			b = rest
			if len(e.Name) == 0 {
				t.Fatal("empty name")
			}
			n++
		}
	})
}

func TestDirReadAll(t *testing.T) {
	root := t.TempDir()
	var want strings.Builder
	for pid := range 5000 {
		fmt.Fprintf(&want, "%d\n", pid)
	}
	write(t, filepath.Join(root, "g", "cgroup.procs"), want.String())
	d, err := OpenDir(root)
	require.NoError(t, err)
	defer d.Close()
	b, err := d.ReadAll([]byte("g/cgroup.procs"), nil, 1<<20)
	require.NoError(t, err)
	require.Equal(t, want.String(), string(b))
	_, err = d.ReadAll([]byte("g/cgroup.procs"), b, 1000)
	require.ErrorIs(t, err, ErrTooLarge)
	_, err = d.ReadAll([]byte("g"), b, 1000)
	require.ErrorIs(t, err, ErrNotRegular)
	require.Zero(t, testing.AllocsPerRun(10, func() { b, _ = d.ReadAll([]byte("g/cgroup.procs"), b, 1<<20) }))
}
