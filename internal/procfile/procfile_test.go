package procfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadGrowsAndRereads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stat")
	big := strings.Repeat("intr 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", 500) // 20 kB, past the first buffer
	if err := os.WriteFile(path, []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	f := New(path)
	defer f.Close()
	b, err := f.Read()
	if err != nil || string(b) != big {
		t.Fatalf("first read: %d bytes, %v; want %d", len(b), err, len(big))
	}
	if err := os.WriteFile(path, []byte("short\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := f.Read(); err != nil || string(b) != "short\n" {
		t.Fatalf("re-read: %q, %v", b, err)
	}
	os.Remove(path)
	// An open file of a regular filesystem stays readable; after Close the
	// next Read opens the path again and fails.
	f.Close()
	if _, err := f.Read(); !os.IsNotExist(err) {
		t.Fatalf("read of a removed file: %v, want not-exist", err)
	}
}

func TestTokens(t *testing.T) {
	f, rest := NextField([]byte("  \tcpu0 12 34"))
	if string(f) != "cpu0" || string(rest) != " 12 34" {
		t.Fatalf("NextField = %q, %q", f, rest)
	}
	if f, _ := NextField([]byte("   ")); f != nil {
		t.Fatalf("blank line gave %q", f)
	}
	for in, want := range map[string]bool{"0": true, "9999999999999999999": true, "": false, "12a": false, "-1": false, "99999999999999999999": false} {
		if _, ok := Uint([]byte(in)); ok != want {
			t.Errorf("Uint(%q) ok = %v, want %v", in, ok, want)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	path := filepath.Join(b.TempDir(), "stat")
	os.WriteFile(path, []byte(strings.Repeat("cpu0 1 2 3 4 5 6 7 8 9 10\n", 64)), 0o644)
	f := New(path)
	defer f.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Read(); err != nil {
			b.Fatal(err)
		}
	}
}
