// Package cgroup reads the CPU time of control groups from a sysfs tree
// rooted at a configurable path: cgroup v2 (cpu.stat usage_usec, in every
// group whether or not the cpu controller is on), or the v1 cpuacct
// hierarchy (cpuacct.usage, nanoseconds) where v2 is absent. It knows
// nothing of what a group is (a VM, a service): callers find those.
package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/kfile"
)

// ErrNoCgroup: the tree has neither a cgroup v2 nor a v1 cpuacct hierarchy.
var ErrNoCgroup = errors.New("no cgroup hierarchy with CPU accounting")

// ErrSyntax is wrapped by the errors of the parsers.
var ErrSyntax = errors.New("invalid cgroup file")

// Hierarchy is where CPU time is read.
type Hierarchy struct {
	// Dir is the hierarchy's root directory.
	Dir string
	// V2: cpu.stat usage_usec; otherwise cpuacct.usage.
	V2 bool
}

// Find returns the hierarchy under hostSys/fs/cgroup: v2 (unified, or the
// "unified" mount of a hybrid setup), else v1's cpuacct (cpuacct or
// cpu,cpuacct).
func Find(hostSys kfile.SysRoot) (Hierarchy, error) {
	base := hostSys.Path("fs", "cgroup")
	for _, dir := range []string{base, filepath.Join(base, "unified")} {
		if _, err := os.Lstat(filepath.Join(dir, "cgroup.controllers")); err == nil {
			return Hierarchy{Dir: dir, V2: true}, nil
		}
	}
	for _, name := range []string{"cpuacct", "cpu,cpuacct", "cpuacct,cpu"} {
		dir := filepath.Join(base, name)
		if _, err := os.Lstat(filepath.Join(dir, "cpuacct.usage")); err == nil {
			return Hierarchy{Dir: dir}, nil
		}
	}
	return Hierarchy{}, fmt.Errorf("%s: %w", base, ErrNoCgroup)
}

// statSize bounds cpu.stat and cpuacct.usage (a few hundred bytes).
const statSize = 4096

// Usage reads the CPU time a group (its directory) has used since it was
// made, its children's included. buf is scratch memory, reused.
func (h Hierarchy) Usage(dir string, buf []byte) (time.Duration, []byte, error) {
	name := "cpuacct.usage"
	if h.V2 {
		name = "cpu.stat"
	}
	path := filepath.Join(dir, name)
	b, err := kfile.ReadFile(path, buf, statSize)
	if err != nil {
		return 0, b, err
	}
	var d time.Duration
	if h.V2 {
		d, err = ParseCPUStat(b)
	} else {
		d, err = ParseUsage(b)
	}
	if err != nil {
		return 0, b, &fs.PathError{Op: "parse", Path: path, Err: err}
	}
	return d, b, nil
}

// ParseCPUStat returns usage_usec of a cgroup v2 cpu.stat.
func ParseCPUStat(b []byte) (time.Duration, error) {
	n, err := flatKey(b, "usage_usec", uint64(maxUsage/time.Microsecond))
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Microsecond, nil
}

// ParseDescendants returns nr_descendants of a cgroup v2 cgroup.stat: how
// many live groups are under the group.
func ParseDescendants(b []byte) (int, error) {
	n, err := flatKey(b, "nr_descendants", 1<<31)
	return int(n), err
}

// flatKey returns the number after key in a flat keyed file (lines of
// "key value"), at most most.
func flatKey(b []byte, key string, most uint64) (uint64, error) {
	for len(b) > 0 {
		var line []byte
		line, b = kfile.NextLine(b)
		k, rest := kfile.NextField(line)
		if string(k) != key {
			continue
		}
		v, _ := kfile.NextField(rest)
		n, ok := kfile.Uint(v)
		if !ok || n > most {
			return 0, fmt.Errorf("%s is not a count: %w", key, ErrSyntax)
		}
		return n, nil
	}
	return 0, fmt.Errorf("no %s: %w", key, ErrSyntax)
}

// maxUsage keeps usage within a Duration (292 years of CPU time).
const maxUsage = time.Duration(1<<63 - 1)

// ParseUsage returns a cgroup v1 cpuacct.usage (nanoseconds). Its errors
// do not name the file: the caller does (as for ParseCPUStat).
func ParseUsage(b []byte) (time.Duration, error) {
	n, err := kfile.ParseUint(b)
	if err != nil {
		return 0, fmt.Errorf("usage: %w: %w", ErrSyntax, err)
	}
	if n > uint64(maxUsage) {
		return 0, fmt.Errorf("usage above 292 years: %w", ErrSyntax)
	}
	return time.Duration(n), nil
}

// Children lists the subdirectories of dir (child groups), at most max of
// them; more is an error wrapping kfile.ErrTooLarge, with the first max.
func Children(dir string, max int) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var out []string
	for {
		entries, err := d.ReadDir(256)
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			if len(out) == max {
				return out, fmt.Errorf("%s has more than %d groups: %w", dir, max, kfile.ErrTooLarge)
			}
			out = append(out, e.Name())
		}
		if errors.Is(err, io.EOF) || len(entries) == 0 {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// Unescape undoes systemd's escaping of unit names: "\x2d" is "-",
// "\x5c" a backslash. Anything else is left as written.
func Unescape(name string) string {
	if !strings.Contains(name, `\x`) {
		return name
	}
	var b bytes.Buffer
	for i := 0; i < len(name); i++ {
		if name[i] == '\\' && i+3 < len(name) && name[i+1] == 'x' {
			if v, ok := hexByte(name[i+2], name[i+3]); ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(name[i])
	}
	return b.String()
}

func hexByte(a, b byte) (byte, bool) {
	x, ok1 := hexDigit(a)
	y, ok2 := hexDigit(b)
	return x<<4 | y, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// InMemory reports whether the hierarchy Find finds under hostSys is a
// cgroup file system with nothing of another type mounted inside
// (guard.InMemory): its reads need no deadline. Only the hierarchy's own
// directory counts: on a hybrid host /sys/fs/cgroup is a tmpfs holding
// the v1 mounts and v2's "unified", and the walk reads nothing of that
// tmpfs. Find runs under a deadline, as the statfs of guard.InMemory does:
// hostSys may be a mount that does not answer.
func InMemory(hostSys kfile.SysRoot) bool {
	var h Hierarchy
	err := errors.New("not found")
	var g guard.Guard
	if g.Do(time.Now().Add(findTimeout), func() { h, err = Find(hostSys) }) != nil {
		return false
	}
	return err == nil && guard.InMemory(h.Dir)
}

// findTimeout bounds InMemory's Find.
const findTimeout = time.Second
