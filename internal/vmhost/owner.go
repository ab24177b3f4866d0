package vmhost

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/greencampus/powerinput/internal/kfile"
)

// DefaultQemuUsers are the users libvirt runs qemu as: "qemu" on Red Hat
// and SUSE systems, "libvirt-qemu" on Debian and Ubuntu.
func DefaultQemuUsers() []string { return []string{"qemu", "libvirt-qemu"} }

// SystemEmulator says whether path, the target of /proc/<pid>/exe, is
// where distributions install qemu's system emulators (only root can
// write there; the file itself must be root's too, see admit). A binary
// replaced by an upgrade while it runs reads "<path> (deleted)": the path
// it was started from.
func SystemEmulator(path string) bool {
	path = strings.TrimSuffix(path, " (deleted)")
	// A trailing '*' takes any rest of the name.
	for _, p := range [...]string{
		"/usr/bin/qemu-system-*",
		"/usr/libexec/qemu-kvm",
		"/usr/libexec/qemu-system-*",
		"/usr/bin/qemu-kvm",
		"/usr/bin/kvm",
	} {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if rest, ok := strings.CutPrefix(path, prefix); ok && rest != "" && !strings.Contains(rest, "/") {
				return true
			}
		} else if path == p {
			return true
		}
	}
	return false
}

// ParseStatusUIDs returns the real and effective user IDs of the Uid line
// of /proc/<pid>/status ("Uid:\treal\teffective\tsaved\tfs").
func ParseStatusUIDs(b []byte) (real, effective uint32, err error) {
	for len(b) > 0 {
		var line []byte
		line, b = kfile.NextLine(b)
		rest, ok := bytes.CutPrefix(line, []byte("Uid:"))
		if !ok {
			continue
		}
		var ids [2]uint32
		for i := range ids {
			var f []byte
			f, rest = kfile.NextField(rest)
			n, ok := kfile.Uint(kfile.TrimSpace(f))
			if f == nil || !ok || n > 1<<32-1 {
				return 0, 0, fmt.Errorf("Uid line without a real and an effective user ID: %w", ErrSyntax)
			}
			ids[i] = uint32(n)
		}
		return ids[0], ids[1], nil
	}
	return 0, 0, fmt.Errorf("no Uid line: %w", ErrSyntax)
}

// User is an entry of a passwd file.
type User struct {
	Name     string
	UID, GID uint32
}

// NoGroup is the GID of a user given by number that the passwd file does
// not list (the kernel's invalid ID, -1).
const NoGroup = ^uint32(0)

// ParsePasswd returns the entries of r, an /etc/passwd
// (name:password:uid:gid:…), in its order; lines that are not entries
// (comments, NIS "+" lines, garbage, IDs that are not numbers) are passed
// over.
func ParsePasswd(r io.Reader) ([]User, error) {
	var out []User
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<10)
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), ":", 5)
		if len(f) < 4 || f[0] == "" || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], "+") || strings.HasPrefix(f[0], "-") {
			continue
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, User{Name: f[0], UID: uint32(uid), GID: uint32(gid)})
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("passwd: %w", err)
	}
	return out, nil
}

// LookupUsers finds users (names, or numeric user IDs) in etc's passwd
// file, the first entry of each, as the system does; a name that is not
// there is left out, a number is taken as it is (with its entry's name
// and group where it has one, else no name and NoGroup). It reads the
// host's file, not the C library's name service: the host's, under a
// root that may be another than this process's. The error says why the
// file could not be read when a name needed it.
func LookupUsers(etc string, users []string) ([]User, error) {
	path := filepath.Join(etc, "passwd")
	var entries []User
	b, err := kfile.ReadFile(path, nil, 16<<20)
	if err == nil {
		entries, err = ParsePasswd(bytes.NewReader(b))
		if err != nil {
			err = fmt.Errorf("%s: %w", path, err)
		}
	}
	var out []User
	named := false
	for _, u := range users {
		id, numErr := strconv.ParseUint(u, 10, 32)
		named = named || numErr != nil
		i := slices.IndexFunc(entries, func(e User) bool { return e.Name == u || numErr == nil && e.UID == uint32(id) })
		switch {
		case i >= 0:
			out = append(out, entries[i])
		case numErr == nil:
			out = append(out, User{UID: uint32(id), GID: NoGroup})
		}
	}
	if !named {
		err = nil
	}
	return out, err
}

// qemuUsers are the users whose qemu processes are VMs (QemuUsers).
type qemuUsers struct {
	etc   string   // the host's /etc
	names []string // names and numeric user IDs, as configured
	found []User   // resolved; nil: not yet
	at    uint64   // the round they were resolved
	err   error    // why some could not be (said by the doctor)
}

// resolve looks the users up.
func (q *qemuUsers) resolve(round uint64) {
	q.found, q.err = LookupUsers(q.etc, q.names)
	q.at = round
	if q.found == nil {
		q.found = []User{} // looked up, if none
	}
}

func (q *qemuUsers) has(uid uint32) bool {
	return slices.ContainsFunc(q.found, func(u User) bool { return u.UID == uid })
}

// QemuUsers sets the users whose qemu processes are VMs in the "qemu
// processes" mode (names, looked up in etc's passwd, or numeric user
// IDs); by default DefaultQemuUsers under /etc. A qemu process run by
// root is a VM when its executable is a system emulator (SystemEmulator)
// owned by root. Others are refused: any local user may start a process
// named qemu-system-x86_64 with "-name guest=" a real VM's name.
func (f *Finder) QemuUsers(etc string, users []string) {
	f.users = qemuUsers{etc: etc, names: users}
}

// admit says whether the qemu process whose /proc directory is dir is a
// VM, by who runs it (uid, its real user) and from which file; known is
// false when its status cannot be read (it has just ended).
func (f *Finder) admit(dir string) (uid uint32, ok, known bool) {
	var err error
	f.buf, err = kfile.ReadFile(filepath.Join(dir, "status"), f.buf, 1<<16)
	if err != nil {
		return 0, false, false
	}
	real, eff, err := ParseStatusUIDs(f.buf)
	if err != nil {
		return 0, false, false
	}
	if real != eff {
		return real, false, true
	}
	// The users are looked up at the first need, and again (a package
	// installed since) at most every vcpuRecount rounds when refusing.
	if f.users.found == nil || !f.users.has(real) && f.round-f.users.at >= vcpuRecount {
		f.users.resolve(f.round)
	}
	if f.users.has(real) {
		return real, true, true
	}
	if real != 0 {
		return real, false, true
	}
	exe, err := os.Readlink(filepath.Join(dir, "exe"))
	if err != nil || !SystemEmulator(exe) {
		return real, false, true
	}
	// Through the link, the file the process runs, whatever mount
	// namespace it was started in: a user's own file mounted over
	// /usr/bin in a namespace of theirs is not root's.
	st, err := os.Stat(filepath.Join(dir, "exe"))
	if err != nil {
		return real, false, true
	}
	sys, isStat := st.Sys().(*syscall.Stat_t)
	return real, isStat && sys.Uid == 0, true
}

// QemuUsersFound are the users QemuUsers came to when last looked up
// (nil before a qemu process was looked at), and why the passwd file
// could not be read.
func (f *Finder) QemuUsersFound() ([]User, error) { return f.users.found, f.users.err }
