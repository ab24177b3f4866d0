package powerinput

import (
	"cmp"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/guestcounter"
	"github.com/greencampus/powerinput/internal/vmhost"
)

// doctorVMs says, on a hypervisor, which VMs were found and how, whether
// their guests' counters can be written, and how to share a VM's folder
// with its guest. On a machine without VMs and without vms = true it says
// nothing.
func (p *PowerInput) doctorVMs(w io.Writer) {
	f := vmhost.NewFinder(p.Roots().Sys, p.Roots().Proc, nil)
	f.QemuUsers(p.HostEtc, p.VMQemuUser)
	var s vmhost.Sample
	var err error
	var g guard.Guard
	if gerr := g.Do(p.deadline(), func() { err = f.Sample(&s) }); gerr != nil {
		err = gerr
	} else {
		defer f.Close()
	}
	if !p.VMs {
		if err == nil && len(s.VMs) > 0 {
			// Telegraf's powerinput may divide them already: -doctor then
			// read another configuration (or none). File times are the
			// wall clock's.
			if runningCounters(p.Roots().Proc.Path("locks"), p.VMCounterDir, time.Now()) {
				fmt.Fprintf(w, "vms    %d VM(s) found by %s; a running powerinput wrote their counters under %s less than a minute ago: this check read a configuration without vms = true (give it the one Telegraf runs with -config)\n",
					len(s.VMs), s.Method, p.VMCounterDir)
				return
			}
			fmt.Fprintf(w, "vms    %d VM(s) found by %s: set vms = true to divide this host's energy over them (power_vm) and give each guest its counter\n", len(s.VMs), s.Method)
		}
		return
	}
	if err != nil {
		fmt.Fprintf(w, "vms    cannot read the VMs' CPU times: %v\n", err)
		return
	}
	if len(s.VMs) == 0 {
		fmt.Fprintf(w, "vms    no VM found (looked in libvirt's cgroups under %s, then for qemu processes under %s); power_vm will hold the host's own work and its unused capacity\n", p.HostSys, p.HostProc)
	} else {
		fmt.Fprintf(w, "vms    %d VM(s) found by %s under %s; the machine's busy time from %s, %d CPUs\n", len(s.VMs), s.Method, s.Where, s.BusyFrom, s.CPUs)
	}
	vms := slices.Clone(s.VMs)
	slices.SortFunc(vms, func(a, b vmhost.VM) int { return cmp.Compare(a.Domain, b.Domain) })
	for _, vm := range vms {
		vcpus := "vCPUs unknown"
		if vm.VCPUs > 0 {
			vcpus = fmt.Sprintf("%d vCPU(s)", vm.VCPUs)
		}
		line := fmt.Sprintf("       %q: %s, %s", vm.Domain, vcpus, nameFrom(vm, userName(f, vm.UID)))
		if tag := vmhost.TagName(vm.Domain); tag != vm.Domain {
			line += fmt.Sprintf(", written as domain=%q", tag)
		}
		fmt.Fprintln(w, line)
	}
	for _, e := range s.Skipped {
		fmt.Fprintf(w, "       not readable now: %v\n", e)
	}
	if s.Method == vmhost.Processes {
		switch users, err := f.QemuUsersFound(); {
		case err != nil:
			fmt.Fprintf(w, "vms    vm_qemu_user = %s: cannot read the users: %v\n       fix: set host_etc to the host's /etc, or give numeric user IDs\n", p.VMQemuUser, err)
		case users != nil && len(users) == 0:
			fmt.Fprintf(w, "vms    vm_qemu_user = %s: none of them is in %s\n", p.VMQemuUser, filepath.Join(p.HostEtc, "passwd"))
		case users != nil:
			uids := make([]uint32, len(users))
			for i, u := range users {
				uids[i] = u.UID
			}
			fmt.Fprintf(w, "vms    vm_qemu_user = %s: user ID %s\n", p.VMQemuUser, uidList(uids))
		}
	}
	if s.Refused > 0 {
		fmt.Fprintf(w, "vms    %d qemu process(es) refused as not libvirt's (run by user ID %s): a VM is a qemu process of a user of vm_qemu_user = %s (looked up in %s), or root's from a system emulator\n       fix: if they run your VMs, add their user to vm_qemu_user\n",
			s.Refused, uidList(s.RefusedUIDs), p.VMQemuUser, filepath.Join(p.HostEtc, "passwd"))
	}
	dir := p.VMCounterDir
	if dir == "" {
		fmt.Fprintln(w, "vms    guest counters: off (vm_counter_dir is empty)")
		return
	}
	exists, err := guestcounter.Check(dir)
	switch {
	case err != nil:
		fmt.Fprintf(w, "vms    guest counters: cannot write under %s: %v\n       fix: run powerinput as a user that may write there, or set vm_counter_dir to a folder it may\n", dir, err)
	case !exists:
		fmt.Fprintf(w, "vms    guest counters: %s will be made at the first write; each guest reads <folder>/<domain>/%s/energy_uj\n", dir, guestcounter.Zone)
	default:
		if err := guestcounter.CheckOwner(dir); err != nil {
			fmt.Fprintf(w, "vms    guest counters: none is written: %v\n", err)
		} else {
			fmt.Fprintf(w, "vms    guest counters: %s is writable; each guest reads <folder>/<domain>/%s/energy_uj\n", dir, guestcounter.Zone)
		}
	}
	reader, who := counterReader(p.HostEtc, p.VMQemuUser)
	access := guestcounter.Inspect(dir, p.Roots().Proc.Path("locks"), reader)
	doctorCounterAccess(w, dir, access, who)
	for _, vm := range vms {
		if err := guestcounter.CheckName(vm.Domain); err != nil {
			fmt.Fprintf(w, "       no counter for %q: %v\n", vm.Domain, err)
		}
	}
	// An example for one VM named from its command line (a machine name
	// gets no counter, and may not be the domain's).
	name, other := "DOMAIN", "each VM"
	for _, vm := range vms {
		if !vm.NameFrom.Fallback() && guestcounter.CheckName(vm.Domain) == nil {
			name, other = vm.Domain, "each other VM"
			break
		}
	}
	fmt.Fprintf(w, `vms    to share a VM's folder with its guest, for VM %[1]s (the same for %[3]s, with its own folder), add to its domain XML (virsh edit %[1]s), inside <devices>:
         <filesystem type='mount' accessmode='passthrough'>
           <source dir='%[2]s'/>
           <target dir='scaphandre'/>
           <readonly/>
         </filesystem>
       libvirt refuses to start a domain whose folder is missing, and powerinput makes it once the VM runs:
       for a VM that has not run since powerinput started, make it first: %[4]s
       then stop the VM and start it again from the host, so that qemu adds the folder (a reboot
       from inside the guest keeps the old devices): virsh shutdown %[1]s, wait until virsh list
       no longer shows it running, then virsh start %[1]s
       then, in the guest: sudo mkdir -p /var/scaphandre
                           sudo mount -t 9p -o trans=virtio,version=9p2000.L,ro scaphandre /var/scaphandre
       to mount it at every boot, add this line to the guest's /etc/fstab:
         scaphandre /var/scaphandre 9p trans=virtio,version=9p2000.L,ro,nofail 0 0
       (the guest's powerinput reads it with its vm source: vm_powercap_path = "/var/scaphandre")
`, name, filepath.Join(dir, name), other, mkdirAs(access.Owner, filepath.Join(dir, name)))
}

// mkdirAs is the command that makes a VM's folder as its writer: root
// needs no sudo -u root (and a Debian with a root password has no sudo).
func mkdirAs(owner, dir string) string {
	if owner == "root" {
		return "mkdir -p " + dir + " (as root)"
	}
	return "sudo -u " + owner + " mkdir -p " + dir
}

// doctorCounterAccess says whether the guests' file server (qemu's 9p or
// virtiofsd, run as another user than powerinput) can reach and read the
// counters, and which powerinput writes them; who names the reader that
// a was inspected for.
func doctorCounterAccess(w io.Writer, dir string, a guestcounter.Access, who string) {
	ok := true
	for _, p := range a.Closed {
		ok = false
		if p == filepath.Clean(dir) {
			fmt.Fprintf(w, "vms    guest counters: %s has mode %04o: %s cannot pass through it to the counters, so the guests fall back to an estimate\n       fix: chmod 0755 %s\n", p, a.Mode, who, p)
			continue
		}
		fmt.Fprintf(w, "vms    guest counters: %s, a folder above them, has no x bit for %s: they cannot reach the counters, so the guests fall back to an estimate\n       fix: chmod o+x %s\n", p, who, p)
	}
	if a.Unreadable > 0 {
		ok = false
		fmt.Fprintf(w, "vms    guest counters: %d folder(s) or file(s) under %s cannot be read by %s, such as %s (made under a restrictive umask?)\n       fix: chmod -R a+rX %s\n", a.Unreadable, dir, who, a.Example, dir)
	}
	if ok {
		fmt.Fprintf(w, "vms    guest counters: %s can reach and read them\n", who)
	}
	if a.Foreign > 0 {
		fmt.Fprintf(w, "vms    guest counters: %d VM folder(s) or lock file under %s belong to another user than %s, such as %s (made by a test run as root?): powerinput run as %s cannot write them, and those guests get no counter\n       fix: chown -R %s: %s\n",
			a.Foreign, dir, a.Owner, a.ForeignExample, a.Owner, a.Owner, dir)
	}
	switch {
	case a.LockPID == 0:
		fmt.Fprintf(w, "vms    guest counters: no powerinput writes them now (the folder's lock %s is free)\n", guestcounter.LockName)
	case a.LockPID < 0:
		fmt.Fprintf(w, "vms    guest counters: another powerinput writes them (it holds the folder's lock %s; its PID is unknown): a second one on this folder would write none\n", guestcounter.LockName)
	default:
		fmt.Fprintf(w, "vms    guest counters: the powerinput of PID %d writes them (it holds the folder's lock %s): a second one on this folder would write none\n", a.LockPID, guestcounter.LockName)
	}
}

// counterReader is who the guests' file server runs as: the first user of
// vm_qemu_user that the host's passwd lists (qemu's 9p runs in qemu's
// process; virtiofsd is started by libvirt as the same user). When none
// is listed, other users in general (nil).
func counterReader(etc string, users []string) (*guestcounter.Reader, string) {
	found, _ := vmhost.LookupUsers(etc, users)
	for _, u := range found {
		if u.GID != vmhost.NoGroup {
			return &guestcounter.Reader{UID: u.UID, GID: u.GID}, fmt.Sprintf("the user qemu runs as, %s (user ID %d, from vm_qemu_user)", u.Name, u.UID)
		}
	}
	return nil, "other users (such as the one qemu's file server runs as)"
}

// nameFrom says where a VM's name was read; user is the name of its
// process's user, if known.
func nameFrom(vm vmhost.VM, user string) string {
	switch vm.NameFrom {
	case vmhost.NameFromEmulator:
		return fmt.Sprintf("name from the command line of its emulator (qemu, process %d)", vm.PID)
	case vmhost.NameFromProcess:
		who := fmt.Sprintf("user ID %d, of vm_qemu_user", vm.UID)
		if user != "" {
			who = fmt.Sprintf("%s (user ID %d), of vm_qemu_user", user, vm.UID)
		}
		if vm.UID == 0 {
			who = "root, from a system emulator"
		}
		return fmt.Sprintf("a qemu process (%d) run by %s; name from its command line", vm.PID, who)
	}
	if vm.NameFrom == vmhost.NameFromMachineKept {
		return "name from its cgroup's machine name (libvirt's, which may drop or change characters of the domain's): qemu's command line could not be read for long, so it is written under it with no guest counter, or counted as " + vmhost.Hypervisor + " when a VM named from its command line has that name"
	}
	return "name from its cgroup's machine name (libvirt's, which may drop or change characters of the domain's): counted as " + vmhost.Hypervisor + " until qemu's command line can be read (a moment after libvirt starts a VM), or, if it never can, for about 63 gathers (about ten minutes at Telegraf's usual 10 s interval), after which it is written under that name with no guest counter"
}

// uidList writes user IDs as "0, 65534".
func uidList(uids []uint32) string {
	var b strings.Builder
	for i, u := range uids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatUint(uint64(u), 10))
	}
	return b.String()
}

// userName is the name of uid among the users vm_qemu_user came to.
func userName(f *vmhost.Finder, uid uint32) string {
	users, _ := f.QemuUsersFound()
	for _, u := range users {
		if u.UID == uid {
			return u.Name
		}
	}
	return ""
}
