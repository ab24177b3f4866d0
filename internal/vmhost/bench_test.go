package vmhost

import (
	"fmt"
	"testing"
)

// BenchmarkSample100 is one sample of a cgroup v2 host with 100 VMs of 2
// vCPUs each in libvirt's sub-tree: /proc/stat, the root's cpu.stat and
// each VM's cpu.stat, all kept open. Target: no allocation once warm.
func BenchmarkSample100(b *testing.B) {
	tr := newTree(b)
	tr.write(v2+"cgroup.controllers", "cpu\n")
	tr.write(v2+"cpu.stat", "usage_usec 30000000\n")
	for i := 1; i <= 100; i++ {
		dir := fmt.Sprintf(v2+`machine.slice/machine-qemu\x2d%d\x2dvm%03d.scope/`, i, i)
		tr.write(dir+"cpu.stat", fmt.Sprintf("usage_usec %d\nuser_usec 1\nsystem_usec 1\n", i*1000000))
		tr.mkdir(dir + "libvirt/vcpu0")
		tr.mkdir(dir + "libvirt/vcpu1")
	}
	f := tr.finder()
	var s Sample
	if err := f.Sample(&s); err != nil || len(s.VMs) != 100 {
		b.Fatalf("%v, %d VMs", err, len(s.VMs))
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Sample(&s); err != nil {
			b.Fatal(err)
		}
	}
	if len(s.VMs) != 100 || s.VMs[0].VCPUs != 2 {
		b.Fatalf("%d VMs, %+v", len(s.VMs), s.VMs[0])
	}
}
