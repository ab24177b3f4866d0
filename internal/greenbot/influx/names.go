package influx

import "strings"

// VMName is the VM behind a power_vm domain tag, and whether there is one.
// powerinput writes the parts of a host that are not VMs as reserved tags
// starting with one '_' (_hypervisor, _unused, _unattributed), and a VM
// whose own name starts with '_' with one more '_' in front (docs/
// reference.md): "__x" is the VM "_x".
func VMName(domain string) (string, bool) {
	switch {
	case strings.HasPrefix(domain, "__"):
		return domain[1:], true
	case strings.HasPrefix(domain, "_"):
		return "", false
	}
	return domain, true
}
