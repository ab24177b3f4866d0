package guard

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// inMemoryTypes are the file system types (as /proc/self/mountinfo names
// them) whose files the kernel makes from its memory.
var inMemoryTypes = map[string]bool{"proc": true, "sysfs": true, "cgroup": true, "cgroup2": true}

// mountedOver reports whether a file system of another type is mounted at
// or under one of paths, as lxcfs mounts FUSE files over /proc/stat in a
// container: a statfs of the directory cannot see those, and their reads
// can hang. mountinfo is /proc/self/mountinfo's text; one that cannot be
// read counts as mounted over (the reads then keep their deadline).
func mountedOver(mountinfo io.Reader, paths []string) bool {
	sc := bufio.NewScanner(mountinfo)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	seen := false
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
		f := strings.Fields(sc.Text())
		sep := -1
		for i, w := range f {
			if w == "-" {
				sep = i
				break
			}
		}
		if len(f) < 5 || sep < 0 || sep+1 >= len(f) {
			continue
		}
		seen = true
		point := unescapeMount(f[4])
		for _, p := range paths {
			if (point == p || strings.HasPrefix(point, p+"/")) && !inMemoryTypes[f[sep+1]] {
				return true
			}
		}
	}
	return sc.Err() != nil || !seen
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// anyMountedOver reads this process's mount table for mountedOver.
func anyMountedOver(paths []string) bool {
	abs := make([]string, 0, len(paths))
	for _, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return true
		}
		if r, err := filepath.EvalSymlinks(a); err == nil {
			a = r
		}
		abs = append(abs, filepath.Clean(a))
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return true
	}
	defer f.Close()
	return mountedOver(f, abs)
}
