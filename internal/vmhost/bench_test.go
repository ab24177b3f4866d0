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

// BenchmarkSampleProcesses2000 is one sample of a host without libvirt
// cgroups and 2,000 processes, 10 of them VMs run by libvirt-qemu: each
// round reads the VMs' stat files (kept open) and 1/60 of the others'
// (looked at again every vcpuRecount rounds).
func BenchmarkSampleProcesses2000(b *testing.B) {
	tr := newTree(b)
	tr.write("etc/passwd", "libvirt-qemu:x:64055:108::/:/usr/sbin/nologin\n")
	tr.write("proc/uptime", "100000.00 1.00\n")
	for pid := 100; pid < 2100; pid++ {
		dir := fmt.Sprintf("proc/%d/", pid)
		if pid%200 == 0 {
			tr.write(dir+"stat", fmt.Sprintf("%d (qemu-system-x86) S 1 1 1 0 -1 0 0 0 0 0 150 50 0 0 20 0 9 0 5000 0 0\n", pid))
			tr.write(dir+"cmdline", fmt.Sprintf("/usr/bin/qemu-system-x86_64\n-name\nguest=vm%d\n-smp\n2\n", pid))
			tr.write(dir+"status", "Name:\tqemu-system-x86\nUid:\t64055\t64055\t64055\t64055\n")
			continue
		}
		tr.write(dir+"stat", fmt.Sprintf("%d (bash) S 1 1 1 0 -1 0 0 0 0 0 7 7 0 0 20 0 1 0 6000 0 0\n", pid))
	}
	f := tr.finder()
	var s Sample
	if err := f.Sample(&s); err != nil || len(s.VMs) != 10 {
		b.Fatalf("%v, %d VMs", err, len(s.VMs))
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Sample(&s); err != nil {
			b.Fatal(err)
		}
	}
	if len(s.VMs) != 10 {
		b.Fatalf("%d VMs", len(s.VMs))
	}
}
