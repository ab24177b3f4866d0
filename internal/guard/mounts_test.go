package guard

import (
	"strings"
	"testing"
)

// A mount table as a container with lxcfs has it, and as a plain host has
// it.
const lxcfsMounts = `22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw
23 22 0:45 /proc/stat /proc/stat rw,nosuid,nodev,relatime shared:30 - fuse.lxcfs lxcfs rw,user_id=0,group_id=0
24 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw
25 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw
26 24 0:7 / /sys/kernel/debug rw,nosuid,nodev,noexec,relatime shared:10 - debugfs debugfs rw
27 1 0:50 / /host\040proc rw,relatime - fuse.x x rw
`

func TestMountedOver(t *testing.T) {
	for _, tc := range []struct {
		name  string
		table string
		paths []string
		want  bool
	}{
		{"lxcfs over /proc/stat", lxcfsMounts, []string{"/proc/stat"}, true},
		{"lxcfs under /proc", lxcfsMounts, []string{"/proc"}, true},
		{"a process's files beside it", lxcfsMounts, []string{"/proc/1"}, false},
		{"cgroup2 under sysfs", lxcfsMounts, []string{"/sys/fs/cgroup"}, false},
		{"powercap", lxcfsMounts, []string{"/sys/class/powercap"}, false},
		{"debugfs under /sys", lxcfsMounts, []string{"/sys"}, true},
		{"an escaped space", lxcfsMounts, []string{"/host proc"}, true},
		{"a prefix is not a parent", lxcfsMounts, []string{"/pro"}, false},
		{"an empty table", "", []string{"/proc/stat"}, true},
		{"a garbled table", "x y z\n", []string{"/proc/stat"}, true},
	} {
		if got := mountedOver(strings.NewReader(tc.table), tc.paths); got != tc.want {
			t.Errorf("%s: mountedOver(%v) = %v, want %v", tc.name, tc.paths, got, tc.want)
		}
	}
}

func FuzzMountedOver(f *testing.F) {
	f.Add(lxcfsMounts, "/proc/stat")
	f.Add("", "/")
	f.Add(`1 2 3:4 / /a\1 - x`, "/a")
	f.Fuzz(func(t *testing.T, table, path string) {
		mountedOver(strings.NewReader(table), []string{path})
		unescapeMount(table)
	})
}
