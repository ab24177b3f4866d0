package cgroup

import (
	"strings"
)

// Kind is what a control group holds, as its name tells.
type Kind uint8

// The kinds of workload. Each group of the tree is either one workload
// (and what lies under it is part of it) or a directory to look into.
const (
	NotWorkload Kind = iota
	Service          // a systemd service or scope: system.slice/nginx.service
	User             // a user's sessions and services: user.slice/user-1000.slice
	Container        // a container outside Kubernetes: docker, podman, containerd, CRI-O, nspawn, LXC
	Pod              // a Kubernetes pod, its containers included
	VM               // a virtual machine registered with systemd-machined or libvirt
	Group            // a leaf group that follows none of these namings, by its path
)

var kindNames = [...]string{"", "service", "user", "container", "pod", "vm", "group"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Classify says what the group at rel (its path from the hierarchy's
// root, with the names as the kernel lists them) is: a workload, with its
// kind and its name as its runtime names it, or else whether to look into
// it. A workload is never looked into: a group's usage holds its
// children's, so each microsecond is counted once, in the first group on
// its path that names a workload.
//
//   - systemd units: system.slice/<unit>.service and .scope, init.scope,
//     with systemd's escapes undone (\x2d is "-"); slices are looked into;
//   - users: user.slice/user-<uid>.slice, named by the unit;
//   - containers: docker-<id>.scope, libpod-<id>.scope (and podman's
//     libpod-conmon-<id>.scope, counted with its container),
//     cri-containerd-<id>.scope, crio-<id>.scope, and a bare 64-digit id
//     (cgroupfs drivers: docker/<id>), named by the short id their tools
//     print (12 digits; 13 for the CRI runtimes, as crictl does);
//     other machines of machine.slice (nspawn, LXC) by their machine name;
//   - pods: kubepods[-<qos>]-pod<uid>.slice (systemd driver, "_" for "-")
//     and pod<uid> (cgroupfs driver), named by the pod's UID;
//   - virtual machines: machine.slice/machine-qemu\x2d<n>\x2d<name>.scope
//     and libvirt's <name>.libvirt-qemu, named by the domain's name;
//   - any other directory is looked into; one without subdirectories is
//     a Group named by its path, so that nothing named otherwise is lost.
func Classify(rel string) (kind Kind, name string, descend bool) {
	kind, name, descend = classify(rel)
	if kind != NotWorkload && name == "" {
		// "machine-.scope": the naming's part is empty; the unit names it.
		name = Unescape(rel[strings.LastIndexByte(rel, '/')+1:])
	}
	if name == "" {
		return NotWorkload, "", true
	}
	return kind, name, descend
}

func classify(rel string) (kind Kind, name string, descend bool) {
	if rel == "" || rel == "." {
		return NotWorkload, "", true
	}
	parts := strings.Split(rel, "/")
	last := parts[len(parts)-1]
	parent := ""
	if len(parts) > 1 {
		parent = parts[len(parts)-2]
	}
	if id, n, ok := containerID(last); ok {
		return Container, id[:n], false
	}
	if uid, ok := podUID(last, parent); ok {
		return Pod, uid, false
	}
	switch {
	case parent == "user.slice":
		return User, Unescape(last), false
	case parent == "machine.slice" || parent == "machine":
		if name, ok := qemuMachine(last); ok {
			return VM, name, false
		}
		if name, ok := strings.CutSuffix(last, ".libvirt-qemu"); ok {
			return VM, qemuName(Unescape(name)), false
		}
		if name, ok := strings.CutPrefix(last, "machine-"); ok && strings.HasSuffix(name, ".scope") {
			return Container, Unescape(strings.TrimSuffix(name, ".scope")), false
		}
		if strings.HasSuffix(last, ".service") || strings.HasSuffix(last, ".scope") {
			return Container, Unescape(last), false
		}
	}
	switch {
	case strings.HasSuffix(last, ".service"), strings.HasSuffix(last, ".scope"):
		return Service, Unescape(last), false
	}
	return NotWorkload, "", true
}

// containerID finds a container's id in a group's name: a 64-digit
// hexadecimal id, bare or as <runtime>-<id>[.scope]. n is how many digits
// the runtime's tools print.
func containerID(name string) (id string, n int, ok bool) {
	base := strings.TrimSuffix(name, ".scope")
	id = base
	runtime := ""
	if i := strings.LastIndexByte(base, '-'); i >= 0 {
		runtime, id = base[:i], base[i+1:]
	}
	if !isHex64(id) {
		return "", 0, false
	}
	if runtime == "" && base != name {
		return "", 0, false // "<id>.scope": not a runtime's naming
	}
	switch runtime {
	case "cri-containerd", "crio", "crio-conmon":
		return id, 13, true
	}
	return id, 12, true
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// podUID finds a pod's UID in a group's name: kubepods[-<qos>]-pod<uid>.slice
// (the systemd driver writes "_" for "-"), or pod<uid> under kubepods or
// its QoS groups (the cgroupfs driver).
func podUID(name, parent string) (string, bool) {
	var uid string
	if base, ok := strings.CutSuffix(name, ".slice"); ok && strings.HasPrefix(base, "kubepods-") {
		i := strings.LastIndex(base, "-pod")
		if i < 0 {
			return "", false
		}
		uid = strings.ReplaceAll(base[i+len("-pod"):], "_", "-")
	} else if rest, ok := strings.CutPrefix(name, "pod"); ok && (parent == "kubepods" || parent == "burstable" || parent == "besteffort") {
		uid = rest
	} else {
		return "", false
	}
	return uid, isUUID(uid)
}

// isUUID: 8-4-4-4-12 hexadecimal digits, as Kubernetes writes a UID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

// qemuMachine names a libvirt guest from systemd-machined's scope
// machine-qemu\x2d<n>\x2d<name>.scope: the domain's name.
func qemuMachine(unit string) (string, bool) {
	base, ok := strings.CutSuffix(unit, ".scope")
	if !ok {
		return "", false
	}
	base, ok = strings.CutPrefix(base, "machine-")
	if !ok {
		return "", false
	}
	name := Unescape(base)
	if !strings.HasPrefix(name, "qemu-") {
		return "", false
	}
	return qemuName(name), true
}

// qemuName drops libvirt's "qemu-<n>-" from a machine's name.
func qemuName(name string) string {
	rest, ok := strings.CutPrefix(name, "qemu-")
	if !ok {
		return name
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i > 0 && i < len(rest)-1 && rest[i] == '-' {
		return rest[i+1:]
	}
	return name
}
