package guestcounter

import (
	"fmt"
	"testing"
)

// BenchmarkApply100 is one gather's writes on a hypervisor of 100 VMs:
// 100 counters advanced and rewritten in place, on the test's file
// system. It holds the folder's check (an lstat an Apply) and, every
// linkCheckEvery applies, the fstat of each counter.
func BenchmarkApply100(b *testing.B) {
	w := New(b.TempDir())
	defer w.Close()
	batch := make([]Add, 100)
	for i := range batch {
		batch[i] = Add{Domain: fmt.Sprintf("vm%03d", i), Energy: 1_000_000}
	}
	if f := w.Apply(batch); len(f) > 0 {
		b.Fatal(f[0].Err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if f := w.Apply(batch); len(f) > 0 {
			b.Fatal(f[0].Err)
		}
	}
}
