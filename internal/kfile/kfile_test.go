package kfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/fixtures"
)

func TestParseUint(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		err  error
	}{
		{"123456\n", 123456, nil},
		{"0", 0, nil},
		{"18446744073709551615\n", 18446744073709551615, nil},
		{"18446744073709551616", 0, ErrSyntax},
		{"", 0, ErrEmpty},
		{"\n", 0, ErrEmpty},
		{"-5", 0, ErrSyntax},
		{"12a", 0, ErrSyntax},
		{" 12", 0, ErrSyntax},
		{"1\n2", 0, ErrSyntax},
	}
	for _, tt := range tests {
		got, err := ParseUint([]byte(tt.in))
		if tt.err != nil {
			require.ErrorIs(t, err, tt.err, "ParseUint(%q)", tt.in)
			if in := strings.TrimSpace(tt.in); len(in) > 2 {
				require.NotContains(t, err.Error(), in, "say what was wrong, never what the file held")
			}
			continue
		}
		require.NoError(t, err, "ParseUint(%q)", tt.in)
		require.Equal(t, tt.want, got, "ParseUint(%q)", tt.in)
	}
}

func write(t *testing.T, path, text string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// What would block (a FIFO), never end (/dev/zero) or leak another file
// (a symbolic link to a secret) is refused at open, at once, and the error
// says what was wrong without any of the content.
func TestOpenRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "energy_uj")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	_, err := Open(fifo)
	require.ErrorIs(t, err, ErrNotRegular)
	require.Contains(t, err.Error(), fifo)

	secret := write(t, filepath.Join(dir, "shadow"), "root:$6$hash:19000\n")
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(secret, link))
	_, err = ReadUint(link)
	require.ErrorIs(t, err, ErrSymlink)
	require.NotContains(t, err.Error(), "hash")

	zero := filepath.Join(dir, "stat")
	require.NoError(t, os.Symlink("/dev/zero", zero))
	_, err = ReadFile(zero, nil, 1<<20)
	require.ErrorIs(t, err, ErrSymlink)

	_, err = Open(dir)
	require.ErrorIs(t, err, ErrNotRegular)
	_, err = Open(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestReadAllBounded(t *testing.T) {
	dir := t.TempDir()
	big := write(t, filepath.Join(dir, "stat"), strings.Repeat("cpu0 1 2 3 4 5 6 7 8\n", 2000)) // 42 kB
	b, err := ReadFile(big, nil, 1<<20)
	require.NoError(t, err)
	require.Len(t, b, 42000)
	_, err = ReadFile(big, nil, 10000)
	require.ErrorIs(t, err, ErrTooLarge)
	// Exactly at the limit is fine.
	b, err = ReadFile(big, make([]byte, 0, 7), 42000)
	require.NoError(t, err)
	require.Len(t, b, 42000)

	f, err := Open(big)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, os.WriteFile(big, []byte("short\n"), 0o644))
	b, err = f.ReadAll(b, 1<<20)
	require.NoError(t, err)
	require.Equal(t, "short\n", string(b), "read again from offset 0")
}

func TestAttr(t *testing.T) {
	dir := t.TempDir()
	path := write(t, filepath.Join(dir, "energy_uj"), "100\n")
	opens := 0
	denied := false
	a := NewAttr(path, func(p string) (Reader, error) {
		opens++
		if denied {
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
		}
		return OpenReader(p)
	})
	defer a.Close()
	v, err := a.Uint()
	require.NoError(t, err)
	require.EqualValues(t, 100, v)
	require.NoError(t, os.WriteFile(path, []byte("2500\n"), 0o644))
	v, err = a.Uint()
	require.NoError(t, err)
	require.EqualValues(t, 2500, v)
	require.Equal(t, 1, opens, "a kept attribute is opened once")

	// A torn write leaves the file empty for a moment: an error wrapping
	// ErrEmpty, and the file is opened again next time.
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	_, err = a.Uint()
	require.ErrorIs(t, err, ErrEmpty)
	require.NoError(t, os.WriteFile(path, []byte("12x45\n"), 0o644))
	_, err = a.Uint()
	require.ErrorIs(t, err, ErrSyntax)
	require.NotContains(t, err.Error(), "12x45")
	denied = true
	_, err = a.Uint()
	require.ErrorIs(t, err, fs.ErrPermission)

	// A file replaced by rename: a kept file reads the old one; Reopen reads
	// the new one.
	denied = false
	require.NoError(t, os.WriteFile(path, []byte("7\n"), 0o644))
	kept, fresh := NewAttr(path, nil), NewAttr(path, nil)
	fresh.Reopen = true
	defer kept.Close()
	defer fresh.Close()
	_, _ = kept.Uint()
	_, _ = fresh.Uint()
	require.NoError(t, os.WriteFile(path+".new", []byte("8\n"), 0o644))
	require.NoError(t, os.Rename(path+".new", path))
	v, _ = kept.Uint()
	require.EqualValues(t, 7, v)
	v, _ = fresh.Uint()
	require.EqualValues(t, 8, v)
}

func FuzzParseUint(f *testing.F) {
	for _, b := range fixtures.Files("energy_uj", "max_energy_range_uj", "constraint_*_max_power_uw", "*_usec", "speed") {
		f.Add(b)
	}
	for _, s := range []string{"262143328850\n", "0", "", "65712999613\n", "1\n2", "99999999999999999999", "12x45"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseUint(b)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrEmpty) {
				t.Fatalf("error %v wraps neither ErrSyntax nor ErrEmpty", err)
			}
			if len(b) > 3 && bytes.Contains([]byte(err.Error()), b) {
				t.Fatalf("error %q holds the input", err)
			}
			return
		}
		// A value it accepts is digits (and trailing blanks) that print back.
		digits := strings.TrimRight(string(b), " \t\r\n")
		if strings.TrimLeft(digits, "0") != strings.TrimLeft(strconv.FormatUint(v, 10), "0") {
			t.Fatalf("ParseUint(%q) = %d", b, v)
		}
	})
}

func BenchmarkAttr(b *testing.B) {
	path := filepath.Join(b.TempDir(), "energy_uj")
	if err := os.WriteFile(path, []byte("262143328850\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	a := NewAttr(path, nil)
	defer a.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Uint(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRootsPath(t *testing.T) {
	r := Roots{Sys: "/host/sys", Proc: "/host/proc/", Dev: "dev"}
	for _, c := range []struct{ got, want string }{
		{r.Sys.Path("class", "powercap"), "/host/sys/class/powercap"},
		{r.Proc.Path("stat"), "/host/proc/stat"},
		{r.Proc.Path(), "/host/proc"},
		{r.Dev.Path("cpu", "0", "msr"), "dev/cpu/0/msr"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestKeepBudget(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		share, least, most int
		want               uint64
	}{
		{4, 1, 1 << 40, lim.Cur / 4},
		{4, int(lim.Cur), 1 << 40, lim.Cur / 4}, // never above a quarter of the limit, whatever the least
		{1, 1, 10, min(lim.Cur/4, 10)},          // the most
		{0, 7, 100, 7},                          // no share: the least
	} {
		if got := KeepBudget(tc.share, tc.least, tc.most); uint64(got) != tc.want {
			t.Errorf("KeepBudget(%d, %d, %d) = %d with a limit of %d, want %d", tc.share, tc.least, tc.most, got, lim.Cur, tc.want)
		}
	}
}
