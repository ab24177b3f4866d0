package guestcounter

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// idOf reads a domain's counter_id, parsed.
func idOf(t *testing.T, dir, domain string) ID {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, domain, Zone, IDFile))
	require.NoError(t, err)
	id, err := ParseID(b)
	require.NoError(t, err)
	return id
}

// A counter's identity follows its value: it stays while the value goes
// on (the writer restarted and goes on from the file, or rewrites the
// counter from memory after the folder or the domain's folder was
// removed), and changes when the value restarts (the file made anew, by a
// writer that does not hold it). counter_id is a regular file of mode 0644
// whatever the umask.
func TestIdentity(t *testing.T) {
	cases := []struct {
		name string
		// do acts on the folder between two applies, with w the running
		// writer; it returns the writer to go on with.
		do   func(t *testing.T, dir string, w *Writer) *Writer
		same bool // the same identity after
		want string
	}{
		{"nothing happens", func(t *testing.T, dir string, w *Writer) *Writer { return w }, true, "160"},
		{"the writer restarts", func(t *testing.T, dir string, w *Writer) *Writer {
			w.Close()
			return New(dir)
		}, true, "160"},
		{"the folder removed while running", func(t *testing.T, dir string, w *Writer) *Writer {
			require.NoError(t, os.RemoveAll(dir))
			return w
		}, true, "160"},
		{"the domain's folder removed while running", func(t *testing.T, dir string, w *Writer) *Writer {
			require.NoError(t, os.RemoveAll(filepath.Join(dir, "a")))
			for range linkCheckEvery { // until the writer checks its files
				w.Apply(nil)
			}
			return w
		}, true, "160"},
		{"counter_id removed while stopped", func(t *testing.T, dir string, w *Writer) *Writer {
			w.Close()
			require.NoError(t, os.Remove(filepath.Join(dir, "a", Zone, IDFile)))
			return New(dir)
		}, false, "160"},
		{"the counter made anew while stopped", func(t *testing.T, dir string, w *Writer) *Writer {
			w.Close()
			require.NoError(t, os.Remove(Path(dir, "a")))
			return New(dir)
		}, false, "10"},
		{"the domain's folder removed while stopped", func(t *testing.T, dir string, w *Writer) *Writer {
			w.Close()
			require.NoError(t, os.RemoveAll(filepath.Join(dir, "a")))
			return New(dir)
		}, false, "10"},
		{"the counter damaged while stopped", func(t *testing.T, dir string, w *Writer) *Writer {
			w.Close()
			require.NoError(t, os.WriteFile(Path(dir, "a"), []byte("x\n"), 0o644))
			return New(dir)
		}, false, "10"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "counters")
			w := New(dir)
			require.Empty(t, w.Apply([]Add{{"a", 100}, {"b", 50}}))
			require.Empty(t, w.Apply([]Add{{"a", 50}}))
			before, other := idOf(t, dir, "a"), idOf(t, dir, "b")
			require.NotEqual(t, before, other, "each counter has its own")
			w = tc.do(t, dir, w)
			defer w.Close()
			w.Apply([]Add{{"a", 10}})
			require.Equal(t, tc.want, counterOf(t, dir, "a"))
			after := idOf(t, dir, "a")
			if tc.same {
				require.Equal(t, before, after)
			} else {
				require.NotEqual(t, before, after)
			}
			st, err := os.Lstat(filepath.Join(dir, "a", Zone, IDFile))
			require.NoError(t, err)
			require.True(t, st.Mode().IsRegular())
			require.Equal(t, os.FileMode(0o644), st.Mode().Perm())
		})
	}
}

// ParseID takes what idText writes, and nothing else: a torn, empty or
// foreign file is no identity (a guest then judges its counter by its move
// alone).
func TestParseID(t *testing.T) {
	id := ID{0xde, 0xad, 0xbe, 0xef, 15: 1}
	for _, tt := range []struct {
		in   string
		want ID
		ok   bool
	}{
		{idText(id), id, true},
		{"deadbeef000000000000000000000001", id, true},
		{"deadbeef000000000000000000000001 \r\n", id, true},
		{"DEADBEEF000000000000000000000001\n", ID{}, false},
		{"deadbeef00000000000000000000001\n", ID{}, false},
		{"deadbeef0000000000000000000000011\n", ID{}, false},
		{"00000000000000000000000000000000\n", ID{}, false},
		{" deadbeef000000000000000000000001", ID{}, false},
		{"", ID{}, false},
		{"+eadbeef000000000000000000000001\n", ID{}, false},
	} {
		got, err := ParseID([]byte(tt.in))
		require.Equal(t, tt.ok, err == nil, "%q: %v", tt.in, err)
		require.Equal(t, tt.want, got, "%q", tt.in)
	}
}

// FuzzParseID: any bytes give an identity or an error, never a panic; an
// identity read is the one its text writes back.
func FuzzParseID(f *testing.F) {
	f.Add([]byte(idText(ID{1, 2, 3})))
	f.Add([]byte("deadbeef000000000000000000000001"))
	f.Add([]byte("00000000000000000000000000000000\n"))
	f.Add([]byte(""))
	f.Add([]byte("5000000000\n")) // an energy_uj, read in its place
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := ParseID(b)
		if err != nil {
			require.Equal(t, ID{}, id)
			return
		}
		require.NotEqual(t, ID{}, id)
		again, err := ParseID([]byte(idText(id)))
		require.NoError(t, err)
		require.Equal(t, id, again)
	})
}
