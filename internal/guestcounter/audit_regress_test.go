package guestcounter

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRemadeFileHoldsItsValue: the folder removed while the writer runs is
// made again around the values it holds; a guest reading between the new
// file's rename and the writer's pwrite must not see 0 under the kept
// counter_id (it would count the value twice when it comes back).
func TestRemadeFileHoldsItsValue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "counters")
	w := New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"vm", 5000}}))
	id := idOf(t, dir, "vm")
	require.NoError(t, os.RemoveAll(dir))
	var seen []string
	w.pwrite = func(fd int, b []byte, off int64) (int, error) {
		if v, err := os.ReadFile(Path(dir, "vm")); err == nil {
			seen = append(seen, strings.TrimSpace(string(v)))
		}
		return syscall.Pwrite(fd, b, off)
	}
	w.Apply([]Add{{"vm", 10}})
	require.Equal(t, id, idOf(t, dir, "vm"), "the value went on: the identity must too")
	require.NotEmpty(t, seen, "the hook saw no read")
	for _, s := range seen {
		require.NotEqual(t, "0", s, "a guest read 0 under the kept identity")
	}
	require.Equal(t, "5010", counterOf(t, dir, "vm"))
}

// TestOursMadeWritableByUsAlone: a VM's folder and counter of ours that
// others may write (an older tool, a chmod -R 777) are made writable by us
// alone when opened, so that no other user can swap what a guest reads;
// the value goes on.
func TestOursMadeWritableByUsAlone(t *testing.T) {
	dir := filepath.Join(openTemp(t), "counters")
	w := New(dir)
	require.Empty(t, w.Apply([]Add{{"vm", 100}}))
	w.Close()
	for _, p := range []string{filepath.Join(dir, "vm"), filepath.Join(dir, "vm", Zone)} {
		require.NoError(t, os.Chmod(p, 0o777))
	}
	require.NoError(t, os.Chmod(Path(dir, "vm"), 0o666))
	w = New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"vm", 5}}))
	for p, want := range map[string]os.FileMode{filepath.Join(dir, "vm"): 0o755, filepath.Join(dir, "vm", Zone): 0o755, Path(dir, "vm"): 0o644} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, want, st.Mode().Perm(), p)
	}
	require.Equal(t, "105", counterOf(t, dir, "vm"))
}

// TestAnotherUserMakesTheFolderFirst: the folder removed, another user
// makes it before the writer does: refused, the energy kept, nothing
// written in it; once the folder is ours again, the writer goes on.
func TestAnotherUserMakesTheFolderFirst(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to play the other user")
	}
	dir := filepath.Join(openTemp(t), "counters")
	w := New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"vm", 100}}))
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.Chown(dir, 65534, 65534))
	f := w.Apply([]Add{{"vm", 5}})
	require.Len(t, f, 1)
	require.ErrorIs(t, f[0].Err, ErrForeign)
	require.True(t, f[0].Kept)
	e, _ := os.ReadDir(dir)
	require.Empty(t, e, "something was written in another user's folder")
	require.NoError(t, os.Chown(dir, 0, 0))
	w.Apply(nil)
	require.Equal(t, "105", counterOf(t, dir, "vm"))
}
