package guestcounter

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Check says whether counters can be written under dir: it exists and a
// file can be made in it, or it is missing (exists false) and its parent
// is a folder it can be made in. It leaves nothing behind.
func Check(dir string) (exists bool, err error) {
	fd, err := openDir(dir)
	if err == syscall.ENOENT {
		parent := filepath.Dir(dir)
		if err := syscall.Access(parent, 2|1); err != nil { // W_OK|X_OK
			return false, &fs.PathError{Op: "make a folder in", Path: parent, Err: err}
		}
		return false, nil // made at the first write
	}
	if err != nil {
		return false, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer syscall.Close(fd)
	name := ".powerinput-check-" + strconv.Itoa(os.Getpid())
	f, err := syscall.Openat(fd, name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return true, &fs.PathError{Op: "create a file in", Path: dir, Err: err}
	}
	syscall.Close(f)
	syscall.Unlinkat(fd, name)
	return true, nil
}

// Reader is the user that must read the counters: the one the guests'
// file server (qemu's 9p, virtiofsd) runs as, with its primary group
// (supplementary groups are not looked at).
type Reader struct{ UID, GID uint32 }

// Access is what Inspect found of the folder, for a reader.
type Access struct {
	// Mode of dir, when it exists.
	Mode fs.FileMode
	// Closed: dir or a folder above it that the reader cannot pass
	// through (no x bit for it).
	Closed []string
	// Unreadable: folders or files of the counters' layout under dir that
	// the reader cannot read (of at most inspectLook looked at), and one
	// of them.
	Unreadable int
	Example    string
	// LockPID: 0 when no writer holds the folder's lock, the holder's PID
	// otherwise (-1: held, PID unknown).
	LockPID int
	// Foreign: the lock file and VMs' folders under dir that belong to
	// another user than Owner (of at most inspectLook looked at), and one
	// of them: a writer run as Owner cannot use them.
	Foreign        int
	ForeignExample string
	// Owner is the user a writer runs as: this process's, or, for root,
	// the folder's owner (a check run as root of a service's folder).
	Owner string
}

// inspectLook bounds the files Inspect looks at.
const inspectLook = 4096

// Inspect looks, for r (nil: any user, by the bits for "others"), at the
// modes of dir, of every folder above it and of the counters' folders and
// files under it, at who holds its lock, and at who owns the lock file and
// the VMs' folders (the kernel's table of locks at locks, see
// LockHolder). It changes nothing.
func Inspect(dir, locks string, r *Reader) Access {
	var a Access
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil {
			if p == filepath.Clean(dir) {
				a.Mode = fs.FileMode(st.Mode & 0o777)
			}
			if !r.may(&st, 1) {
				a.Closed = append(a.Closed, p)
			}
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	look := 0
	euid := uint32(os.Geteuid())
	var dst syscall.Stat_t
	if euid == 0 && syscall.Lstat(dir, &dst) == nil {
		euid = dst.Uid
	}
	a.Owner = userName(int(euid))
	foreign := func(p string, st *syscall.Stat_t) {
		if st.Uid != euid {
			if a.Foreign == 0 {
				a.ForeignExample = p
			}
			a.Foreign++
		}
	}
	var lst syscall.Stat_t
	if p := filepath.Join(dir, LockName); syscall.Lstat(p, &lst) == nil {
		foreign(p, &lst)
	}
	domains, _ := os.ReadDir(dir)
	for _, d := range domains {
		if look >= inspectLook || CheckName(d.Name()) != nil {
			continue
		}
		for _, p := range []string{filepath.Join(dir, d.Name()), filepath.Join(dir, d.Name(), Zone), filepath.Join(dir, d.Name(), Zone, "name"), Path(dir, d.Name()), filepath.Join(dir, d.Name(), Zone, IDFile)} {
			look++
			var st syscall.Stat_t
			if syscall.Lstat(p, &st) != nil {
				break
			}
			if p == filepath.Join(dir, d.Name()) {
				foreign(p, &st)
			}
			want := uint32(4)
			if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
				want = 4 | 1
			}
			if !r.may(&st, want) {
				if a.Unreadable == 0 {
					a.Example = p
				}
				a.Unreadable++
			}
		}
	}
	a.LockPID = LockHolder(locks, dir)
	return a
}

// may says whether r has the permission bits want (4 r, 1 x) on a file.
func (r *Reader) may(st *syscall.Stat_t, want uint32) bool {
	bits := st.Mode & 0o7
	switch {
	case r == nil:
	case r.UID == 0:
		return true
	case st.Uid == r.UID:
		bits = st.Mode >> 6 & 0o7
	case st.Gid == r.GID:
		bits = st.Mode >> 3 & 0o7
	}
	return bits&want == want
}

// CheckOwner says why powerinput, run as this process's user, would write
// nothing in the existing folder dir (ErrForeign), or nil.
func CheckOwner(dir string) error {
	var st syscall.Stat_t
	if err := syscall.Lstat(dir, &st); err != nil {
		return nil // missing: made at the first write, ours
	}
	return ownFolder(dir, &st, os.Geteuid())
}
