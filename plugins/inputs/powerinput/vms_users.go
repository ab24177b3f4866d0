package powerinput

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/greencampus/powerinput/internal/say"
	"github.com/greencampus/powerinput/internal/vmhost"
)

// Users is an option naming users: one name, or a list of names and
// numeric user IDs.
type Users []string

// UnmarshalTOML reads a TOML string, or an array of strings and integers.
func (u *Users) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*u = Users{v}
		return nil
	case []any:
		out := Users{}
		for _, e := range v {
			switch e := e.(type) {
			case string:
				out = append(out, e)
			case int64:
				out = append(out, strconv.FormatInt(e, 10))
			default:
				return fmt.Errorf("want user names or numeric user IDs, not a %T", e)
			}
		}
		*u = out
		return nil
	}
	return fmt.Errorf("want a user name or a list of them, not a %T", v)
}

// String is the list as TOML writes it.
func (u Users) String() string {
	q := make([]string, len(u))
	for i, s := range u {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// checkQemuUsers validates vm_qemu_user and host_etc.
func checkQemuUsers(users Users, etc string) error {
	for _, n := range users {
		if n == "" || strings.ContainsAny(n, ": \t\n") {
			return fmt.Errorf("vm_qemu_user = %s: %q is no user name (as in /etc/passwd) nor a numeric user ID: %w", users, n, ErrConfig)
		}
		if id, err := strconv.ParseInt(n, 10, 64); err == nil && (id < 0 || id > 1<<32-2) {
			return fmt.Errorf("vm_qemu_user = %s: user ID %d is out of range: %w", users, id, ErrConfig)
		}
	}
	if !filepath.IsAbs(etc) {
		// Relative, it would be read from the working directory: the
		// clean-up would find no libvirt domain there and take the
		// folders of VMs that are only powered off.
		return fmt.Errorf("host_etc = %q: want an absolute path (the host's /etc): %w", etc, ErrConfig)
	}
	return nil
}

// reportNames says once each VM named anew, the qemu processes that are
// not VMs, and the VMs left out for the day's names.
func (c *vmsCollector) reportNames(s *vmhost.Sample) {
	for _, r := range s.Renamed {
		c.say.Say("vms:rename:"+r.ID, say.Info, fmt.Sprintf("VM %q is %q from now on: its name was read from its cgroup (libvirt's machine name) before qemu started, and qemu's command line gives it now; its power_vm rows and its guest's counter are under the new name from its next interval on, counted whole", r.From, r.To))
	}
	msg := ""
	if s.Refused > 0 {
		msg = fmt.Sprintf("qemu processes run by user ID %s are not counted as VMs (their CPU time is the host's own work, domain=%s): only those of vm_qemu_user, or root's from a system emulator, are; if they run your VMs, add their user to vm_qemu_user", uidList(s.RefusedUIDs), vmhost.Hypervisor)
	}
	c.say.Say("vms:refused", say.Warn, msg)
	msg = ""
	if s.OverNames > 0 {
		msg = fmt.Sprintf("more than %d VM names today: VMs of new names are not written on their own until the next day (UTC); their CPU time counts as domain=%s and their guests' counters do not move", vmhost.MaxNamesPerDay, vmhost.Hypervisor)
	}
	c.say.Say("vms:names", say.Warn, msg)
}
