package vmhost

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/attribute"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/lineproto"
)

// tree writes files under a temporary root; a file named cmdline has its
// newlines turned into NUL bytes (one argument a line).
type tree struct {
	t    testing.TB
	root string
}

func newTree(t testing.TB) *tree {
	tr := &tree{t: t, root: t.TempDir()}
	tr.write("proc/stat", "cpu  1000 0 1000 8000 0 0 0 0 0 0\ncpu0 500 0 500 4000 0 0 0 0 0 0\ncpu1 500 0 500 4000 0 0 0 0 0 0\n")
	return tr
}

func (tr *tree) write(rel, text string) {
	tr.t.Helper()
	if filepath.Base(rel) == "cmdline" {
		text = strings.ReplaceAll(text, "\n", "\x00")
	}
	p := filepath.Join(tr.root, rel)
	require.NoError(tr.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(tr.t, os.WriteFile(p, []byte(text), 0o644))
}

func (tr *tree) mkdir(rel string) {
	tr.t.Helper()
	require.NoError(tr.t, os.MkdirAll(filepath.Join(tr.root, rel), 0o755))
}

// finder reads the tree; the users libvirt runs qemu as are looked up in
// its etc/passwd.
func (tr *tree) finder() *Finder {
	f := NewFinder(kfile.SysRoot(filepath.Join(tr.root, "sys")), kfile.ProcRoot(filepath.Join(tr.root, "proc")), func() time.Time { return time.Unix(100, 0) })
	f.QemuUsers(filepath.Join(tr.root, "etc"), DefaultQemuUsers())
	return f
}

// passwd has Debian's libvirt-qemu user (64055) and nobody.
const passwd = "root:x:0:0:root:/root:/bin/bash\n# comment\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nlibvirt-qemu:x:64055:108:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin\n"

// status is a /proc/<pid>/status run by uid.
func status(uid int) string {
	return fmt.Sprintf("Name:\tqemu-system-x86\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t%d\t%d\t%d\t%d\nGid:\t108\t108\t108\t108\n", uid, uid, uid, uid)
}

const v2 = "sys/fs/cgroup/"

func byDomain(vms []VM) map[string]VM {
	out := map[string]VM{}
	for _, v := range vms {
		out[v.Domain] = v
	}
	return out
}

func TestCgroupV2(t *testing.T) {
	tr := newTree(t)
	tr.write(v2+"cgroup.controllers", "cpu io memory\n")
	tr.write(v2+"cpu.stat", "usage_usec 30000000\n")
	// one: 1 vCPU in libvirt's sub-tree; its name from qemu's command line
	// differs from the machine name (libvirt drops the '_').
	one := v2 + `machine.slice/machine-qemu\x2d1\x2dmyvm.scope/`
	tr.write(one+"cpu.stat", "usage_usec 1000000\nuser_usec 900000\n")
	tr.write(one+"libvirt/vcpu0/cpu.stat", "usage_usec 1\n")
	tr.write(one+"libvirt/emulator/cgroup.procs", "4242\n")
	tr.write("proc/4242/cmdline", "/usr/bin/qemu-system-x86_64\n-name\nguest=my_vm,debug-threads=on\n-smp\n1,sockets=1,cores=1,threads=1\n")
	// two: 2 vCPUs directly under the scope, no readable emulator.
	two := v2 + `machine.slice/machine-qemu\x2d2\x2dtwo.scope/`
	tr.write(two+"cpu.stat", "usage_usec 2000000\n")
	tr.mkdir(two + "vcpu0")
	tr.mkdir(two + "vcpu1")
	// four: no vcpu groups; -smp 4 from its command line.
	four := v2 + `machine.slice/machine-qemu\x2d3\x2dfour.scope/`
	tr.write(four+"cpu.stat", "usage_usec 4000000\n")
	tr.write(four+"cgroup.procs", "77\n")
	tr.write("proc/77/cmdline", "qemu-kvm\n-smp\ncpus=4,maxcpus=8\n-name\nfour\n")
	// Not VMs.
	tr.mkdir(v2 + "machine.slice/machine-lxc\\x2d5\\x2dct.scope")
	tr.mkdir(v2 + "machine.slice/systemd-nspawn@x.service")

	f := tr.finder()
	var s Sample
	require.NoError(t, f.Sample(&s))
	require.Equal(t, CgroupV2, s.Method)
	require.Equal(t, BusyCgroupRoot, s.BusyFrom)
	require.Equal(t, 30*time.Second, s.Busy)
	require.Equal(t, 2, s.CPUs)
	require.Empty(t, s.Skipped)
	got := byDomain(s.VMs)
	require.Len(t, got, 3)
	require.Equal(t, VM{ID: filepath.Join(tr.root, one[:len(one)-1]), Domain: "my_vm", NameFrom: NameFromEmulator, PID: 4242, VCPUs: 1, Usage: time.Second}, got["my_vm"])
	require.Equal(t, 2, got["two"].VCPUs)
	require.Equal(t, NameFromMachine, got["two"].NameFrom)
	require.Equal(t, 4, got["four"].VCPUs)
	require.Equal(t, 4*time.Second, got["four"].Usage)

	// two stops; a new one starts; four moves on (the kept file reads anew).
	require.NoError(t, os.RemoveAll(filepath.Join(tr.root, two)))
	tr.write(v2+`machine.slice/machine-qemu\x2d4\x2dnew.scope/cpu.stat`, "usage_usec 5\n")
	tr.write(four+"cpu.stat", "usage_usec 4500000\n")
	require.NoError(t, f.Sample(&s))
	got = byDomain(s.VMs)
	require.Len(t, got, 3)
	require.Contains(t, got, "new")
	require.NotContains(t, got, "two")
	require.Equal(t, 4500*time.Millisecond, got["four"].Usage)
}

func TestCgroupV1AndProcStatBusy(t *testing.T) {
	tr := newTree(t)
	base := "sys/fs/cgroup/cpu,cpuacct/"
	tr.write(base+"cpuacct.usage", "garbage\n") // unreadable root: /proc/stat's busy
	tr.write(base+`machine.slice/machine-qemu\x2d7\x2dweb.scope/cpuacct.usage`, "2500000000\n")
	tr.mkdir(base + `machine.slice/machine-qemu\x2d7\x2dweb.scope/vcpu0`)
	// libvirt without systemd.
	tr.write(base+"machine/qemu-8-db.libvirt-qemu/cpuacct.usage", "1000\n")
	tr.write(base+"machine/old.libvirt-qemu/cpuacct.usage", "2000\n")
	f := tr.finder()
	var s Sample
	require.NoError(t, f.Sample(&s))
	require.Equal(t, CgroupV1, s.Method)
	require.Equal(t, BusyProcStat, s.BusyFrom)
	require.Equal(t, 20*time.Second, s.Busy) // 2000 ticks of user and system
	got := byDomain(s.VMs)
	require.Len(t, got, 3)
	require.Equal(t, 2500*time.Millisecond, got["web"].Usage)
	require.Equal(t, 1, got["web"].VCPUs)
	require.Equal(t, 0, got["db"].VCPUs, "unknown")
	require.Contains(t, got, "old")
}

func TestQemuProcesses(t *testing.T) {
	tr := newTree(t)
	tr.write("sys/fs/cgroup/cgroup.controllers", "cpu\n") // v2, but no machine.slice
	tr.write("etc/passwd", passwd)
	tr.write("proc/100/stat", "100 (qemu-system-x86) S 1 100 100 0 -1 4194560 0 0 0 0 150 50 0 0 20 0 9 0 5000 0 0\n")
	tr.write("proc/100/cmdline", "/usr/bin/qemu-system-x86_64\n-name\nguest=web,,prod,debug-threads=on\n-smp\n4\n")
	tr.write("proc/100/status", status(64055))
	tr.write("proc/200/stat", "200 (bash) S 1 200 200 0 -1 0 0 0 0 0 7 7 0 0 20 0 1 0 6000 0 0\n")
	tr.write("proc/200/cmdline", "bash\n")
	// A process whose name has spaces and parentheses.
	tr.write("proc/300/stat", "300 (qemu (x) y) R 1 300 300 0 -1 0 0 0 0 0 10 10 0 0 20 0 2 0 7000 0 0\n")
	tr.write("proc/300/cmdline", "qemu-system-aarch64\n-name\nweird\n")
	tr.write("proc/300/status", status(64055))
	f := tr.finder()
	var s Sample
	require.NoError(t, f.Sample(&s))
	require.Equal(t, Processes, s.Method)
	got := byDomain(s.VMs)
	require.Len(t, got, 2)
	require.Equal(t, VM{ID: "pid 100 started at tick 5000", Domain: "web,prod", NameFrom: NameFromProcess, PID: 100, UID: 64055, VCPUs: 4, Usage: 2 * time.Second}, got["web,prod"])
	require.Equal(t, 2*time.Second, got["web,prod"].Usage)
	require.Equal(t, 4, got["web,prod"].VCPUs)
	require.Equal(t, 1, got["weird"].VCPUs, "no -smp: qemu's default")

	// The same PID, a new process: a new ID (a baseline for the caller).
	id := got["web,prod"].ID
	tr.write("proc/100/stat", "100 (qemu-system-x86) S 1 100 100 0 -1 4194560 0 0 0 0 1 1 0 0 20 0 9 0 9999 0 0\n")
	require.NoError(t, f.Sample(&s)) // the kept file sees another start: dropped
	require.NoError(t, f.Sample(&s)) // found again
	got = byDomain(s.VMs)
	require.NotEqual(t, id, got["web,prod"].ID)
	require.Equal(t, 20*time.Millisecond, got["web,prod"].Usage)
}

func TestNoStat(t *testing.T) {
	f := NewFinder(kfile.SysRoot(t.TempDir()), kfile.ProcRoot(t.TempDir()), nil)
	var s Sample
	require.Error(t, f.Sample(&s))
}

func TestParseScopeName(t *testing.T) {
	for in, want := range map[string]string{
		`machine-qemu\x2d1\x2dgreenit.scope`:         "greenit",
		`machine-qemu\x2d12\x2dweb\x2dfront.scope`:   "web-front",
		`machine-qemu\x2d3\x2d..\x2f..\x2fetc.scope`: "../../etc",
		"qemu-4-db.libvirt-qemu":                     "db",
		"db.libvirt-qemu":                            "db",
	} {
		got, _, ok := ParseScopeName(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "machine-qemu.scope", `machine-qemu\x2dx\x2da.scope`, `machine-qemu\x2d1\x2d.scope`, "machine-lxc-1-a.scope", "libvirt", ".libvirt-qemu"} {
		_, _, ok := ParseScopeName(in)
		require.False(t, ok, in)
	}
}

func TestSMP(t *testing.T) {
	for in, want := range map[string]int{
		"4": 4, "cpus=2,sockets=2": 2, "sockets=2,cores=2,threads=2": 8, "2,maxcpus=8": 2,
		"": 0, "x": 0, "cpus=0": 0, "sockets=100,cores=100": 0, "maxcpus=4": 0,
	} {
		require.Equal(t, want, smpCPUs(in), in)
	}
}

func TestTagName(t *testing.T) {
	require.Equal(t, "greenit", TagName("greenit"))
	require.Equal(t, "__hypervisor", TagName("_hypervisor"))
	require.Equal(t, "___x", TagName("__x"))
	for _, hostile := range []string{"", "a\nb", "bad\\", "\xff", "../../etc/passwd\x00", strings.Repeat("x", 500), "_\x01",
		"web\u202e", "\u200bweb", "w\u2060eb", "web\ufeff", "\u2066web\u2069", "we\u0085b"} {
		tag := TagName(hostile)
		require.NoError(t, lineproto.CheckTagValue(tag), "%q → %q", hostile, tag)
		require.False(t, Reserved(tag))
		require.LessOrEqual(t, len(tag), MaxTagLen+1)
		require.NotContains(t, tag, "/")
		require.False(t, attribute.HasInvisible(tag), "%q → %q", hostile, tag)
	}
	// A right-to-left override makes "prod\u202edb-tset" show as
	// "prodtest-bd": it is no "prod…" VM's name.
	require.Equal(t, "prod___db-tset~"+attribute.HashSuffix("prod\u202edb-tset")[1:], TagName("prod\u202edb-tset"))
	require.NotEqual(t, TagName("web\u200b"), TagName("web\u2060"), "the hash keeps them apart")
	require.NotEqual(t, TagName("a\x01"), TagName("a\x02"), "the hash keeps them apart")
}

// Anyone may start a process named qemu-system-x86_64 with a VM's
// -name: only those of libvirt's qemu user, or root's from a system
// emulator owned by root, are VMs; the others are counted as refused.
func TestQemuImpostors(t *testing.T) {
	tr := newTree(t)
	tr.write("etc/passwd", passwd)
	qemu := func(pid, uid int, name string) {
		tr.write(fmt.Sprintf("proc/%d/stat", pid), fmt.Sprintf("%d (qemu-system-x86) S 1 1 1 0 -1 0 0 0 0 0 100 0 0 0 20 0 1 0 %d 0 0\n", pid, pid*10))
		tr.write(fmt.Sprintf("proc/%d/cmdline", pid), "/usr/bin/qemu-system-x86_64\n-name\nguest="+name+"\n")
		tr.write(fmt.Sprintf("proc/%d/status", pid), status(uid))
	}
	qemu(100, 64055, "web")
	qemu(200, 65534, "web")  // nobody, a real VM's name
	qemu(300, 65534, "evil") // nobody, its own name
	qemu(400, 0, "rootfake") // root, from a file of its own
	require.NoError(t, os.Symlink(filepath.Join(tr.root, "qemu-system-x86_64"), filepath.Join(tr.root, "proc/400/exe")))
	qemu(500, 0, "gone") // root, from a system path, but no such file
	require.NoError(t, os.Symlink("/usr/bin/qemu-system-nonexistent-test", filepath.Join(tr.root, "proc/500/exe")))
	qemu(600, 64055, "split") // real and effective users differ
	tr.write("proc/600/status", "Uid:\t65534\t64055\t64055\t64055\n")
	qemu(700, 64055, "ending") // its status is gone: neither a VM nor refused
	require.NoError(t, os.Remove(filepath.Join(tr.root, "proc/700/status")))
	f := tr.finder()
	var s Sample
	for range 3 { // refused for good, counted every round
		require.NoError(t, f.Sample(&s))
		require.Equal(t, []VM{{ID: "pid 100 started at tick 1000", Domain: "web", NameFrom: NameFromProcess, PID: 100, UID: 64055, VCPUs: 1, Usage: time.Second}}, s.VMs)
		require.Equal(t, 5, s.Refused)
		require.ElementsMatch(t, []uint32{65534, 0}, s.RefusedUIDs)
	}

	// Numeric user IDs are taken as they are.
	f = tr.finder()
	f.QemuUsers(filepath.Join(tr.root, "etc"), []string{"65534"})
	require.NoError(t, f.Sample(&s))
	require.ElementsMatch(t, []string{"web", "evil"}, []string{s.VMs[0].Domain, s.VMs[1].Domain})
	require.Equal(t, 4, s.Refused)
}

// Root's qemu from a system emulator owned by root is a VM. The exe link
// names a path of the host, and admit follows it there: the test makes
// that file in a mount namespace of its own, on a tmpfs over
// /usr/libexec that only its own thread sees (made private first, so
// nothing reaches the host's mounts). It needs root, and skips without.
func TestRootSystemEmulatorAdmitted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, for a mount namespace of its own")
	}
	tr := newTree(t)
	tr.write("etc/passwd", passwd)
	tr.write("proc/800/stat", "800 (qemu-kvm) S 1 1 1 0 -1 0 0 0 0 0 100 0 0 0 20 0 1 0 8000 0 0\n")
	tr.write("proc/800/cmdline", "/usr/libexec/qemu-kvm\n-name\nguest=rootvm\n")
	tr.write("proc/800/status", status(0))
	require.NoError(t, os.Symlink("/usr/libexec/qemu-kvm", filepath.Join(tr.root, "proc/800/exe")))
	var s Sample
	var err, skip error
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Never unlocked: the thread, and its namespace, end with the
		// goroutine.
		runtime.LockOSThread()
		if skip = syscall.Unshare(syscall.CLONE_NEWNS); skip != nil {
			return
		}
		if skip = syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); skip != nil {
			return
		}
		if skip = syscall.Mount("tmpfs", "/usr/libexec", "tmpfs", 0, "size=1m"); skip != nil {
			return
		}
		if err = os.WriteFile("/usr/libexec/qemu-kvm", nil, 0o755); err != nil {
			return
		}
		err = tr.finder().Sample(&s)
	}()
	<-done
	if skip != nil {
		t.Skipf("no mount namespace of its own here: %v", skip)
	}
	require.NoError(t, err)
	require.Equal(t, []VM{{ID: "pid 800 started at tick 8000", Domain: "rootvm", NameFrom: NameFromProcess, PID: 800, UID: 0, VCPUs: 1, Usage: time.Second}}, s.VMs)
	require.Zero(t, s.Refused)
}

func TestSystemEmulator(t *testing.T) {
	for path, want := range map[string]bool{
		"/usr/bin/qemu-system-x86_64":            true,
		"/usr/bin/qemu-system-aarch64 (deleted)": true,
		"/usr/libexec/qemu-kvm":                  true,
		"/usr/bin/kvm":                           true,
		"/usr/bin/qemu-system-":                  false,
		"/usr/bin/qemu-system-x/../../tmp/q":     false,
		"/tmp/qemu-system-x86_64":                false,
		"/home/u/usr/bin/qemu-system-x86_64":     false,
		"qemu-system-x86_64":                     false,
	} {
		require.Equal(t, want, SystemEmulator(path), path)
	}
}

// libvirt's child process is in the VM's group before it becomes qemu: a
// round then names the VM from its machine name (libvirt's "myvm" for the
// domain "my_vm"), and the next rounds look again until qemu's command
// line gives the name; the ID, and so the CPU time's series, stays.
func TestNamedBeforeQemuStarted(t *testing.T) {
	tr := newTree(t)
	tr.write(v2+"cgroup.controllers", "cpu\n")
	tr.write(v2+"cpu.stat", "usage_usec 30000000\n")
	dir := v2 + `machine.slice/machine-qemu\x2d1\x2dmyvm.scope/`
	tr.write(dir+"cpu.stat", "usage_usec 1000\n")
	tr.write(dir+"cgroup.procs", "4242\n")
	tr.write("proc/4242/cmdline", "/usr/sbin/libvirtd\n--timeout\n120\n")
	f := tr.finder()
	var s Sample
	require.NoError(t, f.Sample(&s))
	require.Len(t, s.VMs, 1)
	vm := s.VMs[0]
	require.Equal(t, "myvm", vm.Domain)
	require.Equal(t, NameFromMachine, vm.NameFrom)
	require.Empty(t, s.Renamed)

	// Still libvirt's: still the fallback, and nothing said.
	require.NoError(t, f.Sample(&s))
	require.Equal(t, "myvm", s.VMs[0].Domain)
	require.Empty(t, s.Renamed)

	// It is qemu now; a helper listed first is passed over.
	tr.write(dir+"cgroup.procs", "4300\n4242\n")
	tr.write("proc/4300/cmdline", "/usr/bin/swtpm\nsocket\n")
	tr.write("proc/4242/cmdline", "/usr/bin/qemu-system-x86_64\n-name\nguest=my_vm,debug-threads=on\n-smp\n2\n")
	for i := 0; s.VMs[0].NameFrom == NameFromMachine; i++ {
		require.Less(t, i, 4, "looked up again within a few rounds")
		require.NoError(t, f.Sample(&s))
	}
	require.Equal(t, VM{ID: vm.ID, Domain: "my_vm", NameFrom: NameFromEmulator, PID: 4242, VCPUs: 2, Usage: time.Millisecond}, s.VMs[0])
	require.Equal(t, []Rename{{ID: vm.ID, From: "myvm", To: "my_vm"}}, s.Renamed)
	require.NoError(t, f.Sample(&s))
	require.Empty(t, s.Renamed, "said once")
	require.Equal(t, "my_vm", s.VMs[0].Domain)
}

// A VM whose emulator's command line cannot be read (a /proc that hides
// it) keeps its machine name after nameKeep rounds, NameFromMachineKept,
// and is still named by qemu's command line once it can be read.
func TestMachineNameKept(t *testing.T) {
	tr := newTree(t)
	tr.write(v2+"cgroup.controllers", "cpu\n")
	tr.write(v2+"cpu.stat", "usage_usec 30000000\n")
	dir := v2 + `machine.slice/machine-qemu\x2d1\x2dmyvm.scope/`
	tr.write(dir+"cpu.stat", "usage_usec 1000\n")
	tr.write(dir+"cgroup.procs", "4242\n") // no /proc/4242
	f := tr.finder()
	var s Sample
	rounds := 0
	for ; rounds < 2*nameKeep; rounds++ {
		require.NoError(t, f.Sample(&s))
		require.Len(t, s.VMs, 1)
		require.Equal(t, "myvm", s.VMs[0].Domain)
		if s.VMs[0].NameFrom != NameFromMachine {
			break
		}
	}
	require.Equal(t, NameFromMachineKept, s.VMs[0].NameFrom)
	require.Equal(t, nameKeep-1, rounds, "kept at the lookup nameKeep-1 rounds after it was found, not before")
	require.True(t, s.VMs[0].NameFrom.Fallback())

	tr.write("proc/4242/cmdline", "/usr/bin/qemu-system-x86_64\n-name\nguest=my_vm\n")
	for i := 0; s.VMs[0].NameFrom != NameFromEmulator; i++ {
		require.Less(t, i, 2*nameKeep, "still looked up")
		require.NoError(t, f.Sample(&s))
	}
	require.Equal(t, "my_vm", s.VMs[0].Domain)
	require.Equal(t, []Rename{{ID: s.VMs[0].ID, From: "myvm", To: "my_vm"}}, s.Renamed)
}

// In the "qemu processes" mode, a process seen before it became qemu
// (libvirt's child) is looked at again within a few rounds when it is
// young; an old one only after vcpuRecount rounds (the cost of a host
// of thousands of processes stays one stat read per process per
// vcpuRecount rounds).
func TestProcessBecomesQemu(t *testing.T) {
	tr := newTree(t)
	tr.write("etc/passwd", passwd)
	tr.write("proc/uptime", "100.50 180.00\n") // 10050 ticks since boot
	tr.write("proc/100/stat", "100 (libvirtd) S 1 1 1 0 -1 0 0 0 0 0 1 0 0 0 20 0 1 0 10000 0 0\n")
	tr.write("proc/100/cmdline", "/usr/sbin/libvirtd\n")
	tr.write("proc/100/status", status(64055))
	tr.write("proc/200/stat", "200 (bash) S 1 1 1 0 -1 0 0 0 0 0 1 0 0 0 20 0 1 0 100 0 0\n")
	tr.write("proc/200/cmdline", "bash\n")
	tr.write("proc/200/status", status(64055))
	f := tr.finder()
	var s Sample
	require.NoError(t, f.Sample(&s))
	require.Empty(t, s.VMs)
	// Both exec qemu, keeping their PIDs and start times.
	tr.write("proc/100/stat", "100 (qemu-system-x86) S 1 1 1 0 -1 0 0 0 0 0 50 50 0 0 20 0 1 0 10000 0 0\n")
	tr.write("proc/100/cmdline", "/usr/bin/qemu-system-x86_64\n-name\nguest=young\n")
	tr.write("proc/200/stat", "200 (qemu-system-x86) S 1 1 1 0 -1 0 0 0 0 0 50 50 0 0 20 0 1 0 100 0 0\n")
	tr.write("proc/200/cmdline", "/usr/bin/qemu-system-x86_64\n-name\nguest=old\n")
	rounds := 1
	for ; rounds < vcpuRecount && len(s.VMs) == 0; rounds++ {
		require.NoError(t, f.Sample(&s))
	}
	require.Equal(t, 2, rounds, "the young one at the next round")
	require.Equal(t, "young", s.VMs[0].Domain)
	for ; rounds < 2*vcpuRecount && len(s.VMs) == 1; rounds++ {
		require.NoError(t, f.Sample(&s))
	}
	require.Equal(t, vcpuRecount+1, rounds, "the old one after vcpuRecount rounds")
	require.Len(t, s.VMs, 2)
}

func TestParseOwners(t *testing.T) {
	r, e, err := ParseStatusUIDs([]byte(status(64055)))
	require.NoError(t, err)
	require.Equal(t, [2]uint32{64055, 64055}, [2]uint32{r, e})
	for _, bad := range []string{"", "Name:\tx\n", "Uid:\t1\n", "Uid:\tx\t1\n", "Uid:\t99999999999\t1\n"} {
		_, _, err := ParseStatusUIDs([]byte(bad))
		require.ErrorIs(t, err, ErrSyntax, "%q", bad)
	}
	tr := newTree(t)
	tr.write("etc/passwd", passwd+"qemu:x:bad:1::/:/bin/false\n+libvirt-qemu:::\nlibvirt-qemu:x:1:1::/:/bin/false\n")
	etc := filepath.Join(tr.root, "etc")
	got, err := LookupUsers(etc, []string{"qemu", "libvirt-qemu", "65534", "4242"})
	require.NoError(t, err)
	require.Equal(t, []User{
		{Name: "libvirt-qemu", UID: 64055, GID: 108}, // the first entry; qemu's bad uid left out
		{Name: "nobody", UID: 65534, GID: 65534},
		{UID: 4242, GID: NoGroup},
	}, got)
	_, err = LookupUsers(filepath.Join(tr.root, "nope"), []string{"qemu"})
	require.ErrorIs(t, err, fs.ErrNotExist)
	got, err = LookupUsers(filepath.Join(tr.root, "nope"), []string{"107"})
	require.NoError(t, err, "numbers need no file")
	require.Equal(t, []User{{UID: 107, GID: NoGroup}}, got)

	for in, want := range map[string]uint64{"100.50 180.00\n": 10050, "7 1": 700, "3.1 0": 310, "0.999 0": 99} {
		got, err := ParseUptime([]byte(in))
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "x", "1.x 2", "-1 2", "1.2.3 4"} {
		_, err := ParseUptime([]byte(bad))
		require.ErrorIs(t, err, ErrSyntax, "%q", bad)
	}
}

// A day lists at most maxNames VM names: a VM of a new name beyond them
// waits for the next day (its CPU time is the hypervisor's); the VMs
// already let in stay, and start the next day first.
func TestNamesPerDay(t *testing.T) {
	tr := newTree(t)
	tr.write(v2+"cgroup.controllers", "cpu\n")
	vm := func(id int, name string) {
		dir := fmt.Sprintf(v2+`machine.slice/machine-qemu\x2d%d\x2d%s.scope/`, id, name)
		tr.write(dir+"cpu.stat", "usage_usec 1000\n")
	}
	vm(1, "a")
	vm(2, "b")
	now := time.Date(2026, 12, 5, 23, 59, 0, 0, time.UTC)
	f := NewFinder(kfile.SysRoot(filepath.Join(tr.root, "sys")), kfile.ProcRoot(filepath.Join(tr.root, "proc")), func() time.Time { return now })
	f.maxNames = 3
	var s Sample
	names := func() []string {
		var out []string
		for _, v := range s.VMs {
			out = append(out, v.Domain)
		}
		return out
	}
	require.NoError(t, f.Sample(&s))
	require.ElementsMatch(t, []string{"a", "b"}, names())
	vm(3, "c")
	require.NoError(t, f.Sample(&s))
	require.ElementsMatch(t, []string{"a", "b", "c"}, names())
	// c stops; d is a fourth name today; c again is not new.
	require.NoError(t, os.RemoveAll(filepath.Join(tr.root, v2, `machine.slice/machine-qemu\x2d3\x2dc.scope`)))
	vm(4, "d")
	vm(5, "c")
	require.NoError(t, f.Sample(&s))
	require.ElementsMatch(t, []string{"a", "b", "c"}, names())
	require.Equal(t, 1, s.OverNames)
	// The next day (b has stopped): d is let in.
	require.NoError(t, os.RemoveAll(filepath.Join(tr.root, v2, `machine.slice/machine-qemu\x2d2\x2db.scope`)))
	now = now.Add(2 * time.Minute)
	require.NoError(t, f.Sample(&s))
	require.ElementsMatch(t, []string{"a", "c", "d"}, names())
	require.Zero(t, s.OverNames)
}

// The process in a VM's group is qemu's only once it has exec'd it:
// before, its command line is libvirt's daemon's (libvirtd, or
// virtqemud with the modular daemons), which names no VM.
func TestParseCmdlineRejectsNonQemu(t *testing.T) {
	for _, cmd := range []string{
		"/usr/sbin/libvirtd\x00--timeout\x00120\x00",
		"/usr/sbin/virtqemud\x00--timeout\x00120\x00",
		"libvirtd\x00-name\x00guest=x\x00",
		"/usr/bin/swtpm\x00socket\x00",
		"/usr/bin/qemu-img\x00info\x00-name\x00x\x00",
		"/usr/bin/qemu-system-x86_64\x00-m\x001024\x00", // no -name
		"",
	} {
		_, err := ParseCmdline([]byte(cmd))
		require.ErrorIs(t, err, ErrSyntax, "%q", cmd)
	}
}

// TestStoppedVMIsNotSkipped: a VM whose group goes away between the
// listing and the read (a shutdown) is gone, not "could not be read"; a
// group whose CPU time cannot be parsed is skipped and said.
func TestStoppedVMIsNotSkipped(t *testing.T) {
	tr := newTree(t)
	tr.write(v2+"cgroup.controllers", "cpu io memory\n")
	tr.write(v2+"cpu.stat", "usage_usec 30000000\n")
	tr.mkdir(v2 + `machine.slice/machine-qemu\x2d1\x2dstopping.scope`) // its files gone already
	tr.write(v2+`machine.slice/machine-qemu\x2d2\x2dbroken.scope/cpu.stat`, "usage_usec lots\n")
	var s Sample
	require.NoError(t, tr.finder().Sample(&s))
	require.Empty(t, s.VMs)
	require.Len(t, s.Skipped, 1)
	require.Contains(t, s.Skipped[0].Error(), "broken")
}
