package vmhost

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// ParsePasswd returns the user IDs of the users named in want found in r,
// an /etc/passwd (name:password:uid:gid:…); names not there are left out,
// and lines that are not entries (comments, NIS "+" lines, garbage) are
// passed over.
func ParsePasswd(r io.Reader, want []string) (map[string]uint32, error) {
	out := map[string]uint32{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<10)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name == "" {
			continue
		}
		wanted := false
		for _, w := range want {
			wanted = wanted || w == name
		}
		if !wanted {
			continue
		}
		if _, ok := out[name]; ok {
			continue // the first entry is the one the system takes
		}
		_, rest, _ = strings.Cut(rest, ":")
		uid, _, _ := strings.Cut(rest, ":")
		if n, err := strconv.ParseUint(uid, 10, 32); err == nil {
			out[name] = uint32(n)
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("passwd: %w", err)
	}
	return out, nil
}

// qemuUsers are the users whose qemu processes are VMs (QemuUsers).
type qemuUsers struct {
	etc   string   // the host's /etc
	names []string // names and numeric user IDs, as configured
	uids  []uint32 // resolved; nil: not yet
	who   []string // the name of each of uids ("" for a number)
	at    uint64   // the round they were resolved
	err   error    // why some could not be (said by the doctor)
}

// resolve reads the users' IDs: numbers as they are, names through the
// host's passwd file (not the C library's name service: the host's file,
// under a root that may be another than this process's).
func (q *qemuUsers) resolve(round uint64) {
	q.uids, q.who, q.at, q.err = q.uids[:0], q.who[:0], round, nil
	if q.uids == nil {
		q.uids = make([]uint32, 0, len(q.names)) // looked up, if none
	}
	var names []string
	for _, n := range q.names {
		if id, err := strconv.ParseUint(n, 10, 32); err == nil {
			q.uids, q.who = append(q.uids, uint32(id)), append(q.who, "")
		} else {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return
	}
	path := filepath.Join(q.etc, "passwd")
	b, err := kfile.ReadFile(path, nil, 16<<20)
	if err != nil {
		q.err = err
		return
	}
	found, err := ParsePasswd(bytes.NewReader(b), names)
	if err != nil {
		q.err = fmt.Errorf("%s: %w", path, err)
	}
	for _, n := range names {
		if id, ok := found[n]; ok {
			q.uids, q.who = append(q.uids, id), append(q.who, n)
		}
	}
}

func (q *qemuUsers) has(uid uint32) bool {
	for _, u := range q.uids {
		if u == uid {
			return true
		}
	}
	return false
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
	if f.users.uids == nil || !f.users.has(real) && f.round-f.users.at >= vcpuRecount {
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

// QemuUIDs are the user IDs QemuUsers came to when last looked up (none
// before a qemu process was looked at), and why the passwd file could
// not be read.
func (f *Finder) QemuUIDs() ([]uint32, error) { return f.users.uids, f.users.err }

// QemuUserName is the name of vm_qemu_user that came to uid, if any.
func (f *Finder) QemuUserName(uid uint32) string {
	for i, u := range f.users.uids {
		if u == uid && f.users.who[i] != "" {
			return f.users.who[i]
		}
	}
	return ""
}
