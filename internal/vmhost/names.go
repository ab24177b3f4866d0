package vmhost

import (
	"strings"

	"github.com/greencampus/powerinput/internal/attribute"
	"github.com/greencampus/powerinput/internal/lineproto"
)

// Reserved values of the domain tag: the parts of a host's energy that are
// not a VM's. A VM's own tag never takes one of them (TagName).
const (
	// Hypervisor is the host's own work: busy CPU time outside every VM
	// (kernel, libvirt, agents, and VMs in the interval they start or stop,
	// or while their name is only their cgroup's machine name).
	Hypervisor = "_hypervisor"
	// Unused is the energy of the CPU capacity nobody used in the interval:
	// not the machine's idle (static) power, which every part contains.
	Unused = "_unused"
	// Unattributed is an interval's energy when the VMs' CPU times could
	// not be read for it.
	Unattributed = "_unattributed"
)

// MaxTagLen caps a domain tag, in bytes.
const MaxTagLen = 128

// TagName is the value of the domain tag for a domain name. Names are data
// from the kernel and from qemu's command line, so:
//   - a name that starts with '_' gets one more '_' in front: reserved names
//     (a single '_' then a letter) can never be a VM's;
//   - a name that would not read back unchanged through line protocol
//     (lineproto.CheckTagValue: control characters, invalid UTF-8, a trailing
//     backslash, …), that holds a character that shows as nothing or moves
//     the text around it (attribute.Invisible: a right-to-left override,
//     a zero-width space, …: a name that passes for another), or that is
//     longer than MaxTagLen is written with every byte
//     outside [A-Za-z0-9._:@+-] as '_', cut, and followed by '~' and 8 hex
//     digits of a hash of the whole name, so two such names stay apart.
//
// Two domains that still end up with the same tag (in practice, never) are
// added up into one series by the caller.
func TagName(domain string) string {
	if domain == "" || lineproto.CheckTagValue(domain) != nil || len(domain) > MaxTagLen || attribute.HasInvisible(domain) {
		var b strings.Builder
		for i := 0; i < len(domain) && b.Len() < MaxTagLen-9; i++ {
			c := domain[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._:@+-", c) >= 0) {
				c = '_'
			}
			b.WriteByte(c)
		}
		b.WriteString(attribute.HashSuffix(domain))
		domain = b.String()
	}
	if strings.HasPrefix(domain, "_") {
		return "_" + domain
	}
	return domain
}

// Reserved says whether tag is one of the reserved domain tags.
func Reserved(tag string) bool {
	return tag == Hypervisor || tag == Unused || tag == Unattributed
}
