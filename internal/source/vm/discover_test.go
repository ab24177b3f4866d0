package vm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "intel-rapl:0", "energy_uj"), "100\n")
	// A name file wins over the index; a maximum is read where given.
	write(t, filepath.Join(dir, "intel-rapl:1", "energy_uj"), "100\n")
	write(t, filepath.Join(dir, "intel-rapl:1", "name"), "package-3\n")
	write(t, filepath.Join(dir, "intel-rapl:1", "max_energy_range_uj"), "262143328850\n")
	// Not counters: a subzone, a folder without energy_uj, a stray file.
	write(t, filepath.Join(dir, "intel-rapl:0:0", "energy_uj"), "5\n")
	write(t, filepath.Join(dir, "intel-rapl:2", "name"), "package-2\n")
	write(t, filepath.Join(dir, "README"), "hello\n")

	got, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Package != 0 || got[1].Package != 3 || got[0].MaxRange != 0 || got[1].MaxRange != 262143328850 {
		t.Fatalf("Discover = %+v", got)
	}
}

func TestDiscoverNothing(t *testing.T) {
	_, err := Discover(filepath.Join(t.TempDir(), "missing"))
	require.ErrorIs(t, err, ErrNoCounter, "missing folder")
	_, err = Discover(t.TempDir())
	require.ErrorIs(t, err, ErrNoCounter, "empty folder")
}
