package kfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBudget(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(name+"!"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	b := NewBudget(2)
	var hs [3]Handle
	buf := make([]byte, 16)
	for i, name := range []string{"a", "b", "c"} {
		n, err := b.ReadKept(d, &hs[i], []byte(name), buf)
		if err != nil || string(buf[:n]) != name+"!" {
			t.Fatalf("%s: read %q, %v", name, buf[:n], err)
		}
	}
	if got := []bool{hs[0].Valid(), hs[1].Valid(), hs[2].Valid()}; !got[0] || !got[1] || got[2] || b.Kept() != 2 {
		t.Fatalf("kept %v (%d), want the first two", got, b.Kept())
	}
	b.Drop(&hs[0])
	b.Drop(&hs[2]) // not kept: nothing to give back
	if b.Kept() != 1 || hs[0].Valid() {
		t.Fatalf("after drop: %d kept, first valid %v", b.Kept(), hs[0].Valid())
	}
	if !b.Take() || b.Take() {
		t.Fatalf("Take: want one place left, then none (%d kept)", b.Kept())
	}
	b.Release()
	if _, err := b.ReadKept(d, &hs[0], []byte("missing"), buf); err == nil || hs[0].Valid() {
		t.Fatalf("a missing file: err %v, kept %v", err, hs[0].Valid())
	}
	if n := NewBudget(-1); n.Take() {
		t.Error("a negative budget keeps a file")
	}
	b.Drop(&hs[1])
}
