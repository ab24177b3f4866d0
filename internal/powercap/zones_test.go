package powercap

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestCounterRereadsAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "energy_uj")
	if err := os.WriteFile(path, []byte("100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	denied := false
	c := NewCounter(path, func(p string) (File, error) {
		if denied {
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
		}
		return OpenFile(p)
	})
	defer c.Close()
	if v, err := c.Read(); err != nil || v != 100 {
		t.Fatalf("Read = %d, %v; want 100", v, err)
	}
	if err := os.WriteFile(path, []byte("2500\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Read(); err != nil || v != 2500 {
		t.Fatalf("Read after rewrite = %d, %v; want 2500", v, err)
	}
	// A garbled value closes the file; the next read opens it again and
	// then meets the permission error.
	if err := os.WriteFile(path, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(); !errors.Is(err, ErrSyntax) {
		t.Fatalf("garbled value: err %v, want ErrSyntax", err)
	}
	denied = true
	if _, err := c.Read(); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("denied: err %v, want ErrPermission", err)
	}
}

func TestDiscoverNoPowercap(t *testing.T) {
	_, err := Discover(t.TempDir())
	if !errors.Is(err, ErrNoPowercap) {
		t.Fatalf("err %v, want ErrNoPowercap", err)
	}
}

func BenchmarkCounterRead(b *testing.B) {
	path := filepath.Join(b.TempDir(), "energy_uj")
	if err := os.WriteFile(path, []byte("262143328850\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	c := NewCounter(path, nil)
	defer c.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Read(); err != nil {
			b.Fatal(err)
		}
	}
}
