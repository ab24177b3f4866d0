package guard

import (
	"syscall"
	"time"

	"github.com/greencampus/powerinput/internal/kfile"
)

// statfsTimeout bounds InMemory's statfs calls.
const statfsTimeout = time.Second

// InMemory reports whether every path (a directory whose files a reader
// opens) is on procfs, sysfs or a cgroup file system: their files are made
// by the kernel when read, from its memory. Anything else, a path that
// does not exist, or one whose file system does not answer (statfs itself
// hangs on a hung mount) is not: its reads stay under a
// deadline. Checked once, when a reader is made, not per read; statfs is
// given a second.
//
// A file system of another type mounted at or under a path (lxcfs puts
// FUSE files over /proc/stat and others in LXC and Incus containers)
// makes the answer false: callers pass the narrowest path they read.
//
// tmpfs is left out on purpose: tests build their trees there, and a
// test's file that blocks must keep blocking under a deadline. hwmon and
// GPU attributes are on sysfs but ask a device (I2C, a BMC), which can be
// slow: their readers do not use this.
func InMemory(paths ...string) bool {
	if len(paths) == 0 {
		return false
	}
	ok := false
	var g Guard
	err := g.Do(time.Now().Add(statfsTimeout), func() {
		for _, p := range paths {
			var st syscall.Statfs_t
			var err error
			for {
				err = syscall.Statfs(p, &st)
				if err != syscall.EINTR {
					break
				}
			}
			if err != nil {
				return
			}
			if !kfile.InMemoryFS(st.Type) {
				return
			}
		}
		// A file mounted over one inside (lxcfs over /proc/stat) is not
		// seen by statfs of the directory.
		ok = !anyMountedOver(paths)
	})
	return err == nil && ok
}
