package vmhost

import (
	"encoding/binary"
	"io/fs"
	"syscall"

	"github.com/greencampus/powerinput/internal/kfile"
)

// listDirs calls fn with the name of each subdirectory of path (entries of
// type directory, or of unknown type, which the caller's next open will
// check), reusing buf; it returns buf. It reads the directory with
// getdents64 so that a listing of a hundred VMs allocates nothing: the name
// given to fn is only valid during the call.
func listDirs(path string, buf []byte, fn func(name []byte)) ([]byte, error) {
	fd, err := kfile.Retry(func() (int, error) {
		return syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	})
	if err != nil {
		return buf, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	if cap(buf) < 8192 {
		buf = make([]byte, 8192)
	}
	buf = buf[:cap(buf)]
	for {
		n, err := kfile.Retry(func() (int, error) { return syscall.ReadDirent(fd, buf) })
		if err != nil {
			return buf, &fs.PathError{Op: "readdir", Path: path, Err: err}
		}
		if n <= 0 {
			return buf, nil
		}
		for off := 0; off+19 <= n; {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			if reclen < 19 || off+reclen > n {
				break
			}
			typ := buf[off+18]
			name := buf[off+19 : off+reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			off += reclen
			if (typ != syscall.DT_DIR && typ != syscall.DT_UNKNOWN) || string(name) == "." || string(name) == ".." {
				continue
			}
			fn(name)
		}
	}
}
