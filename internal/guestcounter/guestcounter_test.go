package guestcounter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/energy"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// failureOf is the failures of the domains named.
func failureOf(fails []Failure, domains ...string) []Failure {
	var out []Failure
	for _, f := range fails {
		for _, d := range domains {
			if f.Domain == d {
				out = append(out, f)
			}
		}
	}
	return out
}

func TestWriteAndContinue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "scaphandre") // made by the first write
	w := New(dir)
	require.Empty(t, w.Apply([]Add{{"greenit", 1500}, {"web", 0}}))
	zone := filepath.Join(dir, "greenit", Zone)
	require.Equal(t, "1500                \n", read(t, filepath.Join(zone, "energy_uj")))
	require.Equal(t, "package-0\n", read(t, filepath.Join(zone, "name")))
	require.Equal(t, "1000000000000000000\n", read(t, filepath.Join(zone, "max_energy_range_uj")))
	require.Equal(t, "0                   \n", read(t, Path(dir, "web")), "a counter is made at first sight")
	st, err := os.Stat(Path(dir, "greenit"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), st.Mode().Perm())

	// The open file is rewritten in place: a reader's kept file sees it.
	kept, err := os.Open(Path(dir, "greenit"))
	require.NoError(t, err)
	defer kept.Close()
	require.Empty(t, w.Apply([]Add{{"greenit", 98_500}}))
	b := make([]byte, 64)
	n, _ := kept.ReadAt(b, 0)
	require.Equal(t, "100000              \n", string(b[:n]))
	w.Close()

	// A restart goes on from the file's value.
	w = New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"greenit", 1}}))
	require.Equal(t, "100001              \n", read(t, Path(dir, "greenit")))
}

func TestAdoptsOtherFormats(t *testing.T) {
	dir := t.TempDir()
	for domain, text := range map[string]string{
		"scaph":   "123456789", // Scaphandre's: no newline
		"garbage": "12ab\n",    // goes on from 0
		"empty":   "",          // Scaphandre caught truncating: 0
		"huge":    "18446744073709551615\n",
	} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, domain, Zone), 0o755))
		require.NoError(t, os.WriteFile(Path(dir, domain), []byte(text), 0o644))
	}
	w := New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"scaph", 1}, {"garbage", 2}, {"empty", 3}, {"huge", 0}}))
	require.Equal(t, "123456790           \n", read(t, Path(dir, "scaph")))
	require.Equal(t, "2                   \n", read(t, Path(dir, "garbage")))
	require.Equal(t, "3                   \n", read(t, Path(dir, "empty")))
	v, _ := w.Value("huge")
	require.Equal(t, energy.Energy(18446744073709551615%uint64(Wrap)), v)
}

func TestWrap(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "a", Zone), 0o755))
	var b [Width + 1]byte
	Format(&b, Wrap-10)
	require.NoError(t, os.WriteFile(Path(dir, "a"), b[:], 0o644))
	w := New(dir)
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"a", 25}}))
	require.Equal(t, "15                  \n", read(t, Path(dir, "a")))
	// A reader's max − prev + cur is the 25 µJ added.
	require.Equal(t, energy.Energy(25), Wrap-(Wrap-10)+15)
}

func TestHostileNames(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "counters")
	outside := filepath.Join(base, "outside")
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	secret := filepath.Join(outside, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("keep\n"), 0o644))

	w := New(dir)
	defer w.Close()
	for _, name := range []string{"", ".", "..", "../outside", "a/b", ".hidden", "tab\there", "\xff", strings.Repeat("x", MaxName+1)} {
		f := w.Apply([]Add{{name, 5}})
		require.Len(t, f, 1, "%q", name)
		require.ErrorIs(t, f[0].Err, ErrName, "%q", name)
	}

	// A folder that is a link elsewhere is refused, not followed (and its
	// energy kept, should it be mended).
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "linked")))
	f := w.Apply([]Add{{"linked", 5}})
	require.Len(t, f, 1)
	require.ErrorIs(t, f[0].Err, ErrUnsafe)
	require.True(t, f[0].Kept)

	// A zone folder that is a link: refused.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "zonelink"), 0o755))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "zonelink", Zone)))
	f = failureOf(w.Apply([]Add{{"zonelink", 5}}), "zonelink")
	require.Len(t, f, 1)
	require.ErrorIs(t, f[0].Err, ErrUnsafe)

	// energy_uj as a link, or as a hard link, to a file elsewhere: replaced;
	// the file elsewhere is untouched.
	for _, name := range []string{"sym", "hard"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, name, Zone), 0o755))
	}
	require.NoError(t, os.Symlink(secret, Path(dir, "sym")))
	require.NoError(t, os.Link(secret, Path(dir, "hard")))
	require.Empty(t, failureOf(w.Apply([]Add{{"sym", 7}, {"hard", 8}}), "sym", "hard"))
	require.Equal(t, "keep\n", read(t, secret))
	require.Equal(t, "7                   \n", read(t, Path(dir, "sym")))
	require.Equal(t, "8                   \n", read(t, Path(dir, "hard")))

	// A folder owned by someone else is refused (root can make one).
	if os.Geteuid() == 0 {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "theirs"), 0o755))
		require.NoError(t, os.Chown(filepath.Join(dir, "theirs"), 4321, 4321))
		f = failureOf(w.Apply([]Add{{"theirs", 5}}), "theirs")
		require.Len(t, f, 1)
		require.ErrorIs(t, f[0].Err, ErrUnsafe)
	}

	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	require.Len(t, entries, 1, "nothing was written outside the counters' folder")
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	exists, err := Check(dir)
	require.True(t, exists)
	require.NoError(t, err)
	exists, err = Check(filepath.Join(dir, "new"))
	require.False(t, exists)
	require.NoError(t, err)
	_, err = Check(filepath.Join(dir, "no", "parent"))
	require.Error(t, err)
	entries, _ := os.ReadDir(dir)
	require.Empty(t, entries, "Check leaves nothing behind")
}

func TestIdleCountersClosed(t *testing.T) {
	w := New(t.TempDir())
	defer w.Close()
	require.Empty(t, w.Apply([]Add{{"gone", 1}, {"stays", 1}}))
	for i := 0; i < idleApplies; i++ {
		require.Empty(t, w.Apply([]Add{{"stays", 1}}))
	}
	_, ok := w.Value("gone")
	require.False(t, ok)
	v, _ := w.Value("stays")
	require.Equal(t, energy.Energy(1+idleApplies), v)
}
