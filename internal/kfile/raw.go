package kfile

import (
	"syscall"
	"unsafe"
)

// Magic numbers of the file systems whose files the kernel makes from its
// own memory when they are read (statfs f_type, linux/magic.h).
const (
	procMagic    = 0x9fa0
	sysfsMagic   = 0x62656572
	cgroupMagic  = 0x27e0eb
	cgroup2Magic = 0x63677270
)

// InMemoryFS reports whether a statfs f_type is procfs, sysfs or a cgroup
// file system: their files are made by the kernel from its memory, hold
// only regular files, directories and symbolic links (no FIFO, no device),
// and a read of them returns without waiting on a device or a network.
func InMemoryFS(fsType int64) bool {
	switch fsType {
	case procMagic, sysfsMagic, cgroupMagic, cgroup2Magic:
		return true
	}
	return false
}

// fsOf says whether the open file fd is on a file system in memory
// (InMemoryFS), and whether its calls are made raw: procfs and cgroupfs
// only. sysfs is in memory, but some of its attributes ask a driver (a
// link's speed, a sensor behind a slow bus): their calls stay ordinary, so
// that a slow one gives its processor to the other goroutines.
func fsOf(fd int) (mem, raw bool) {
	var st syscall.Statfs_t
	for {
		err := syscall.Fstatfs(fd, &st)
		if err == nil {
			return InMemoryFS(st.Type), st.Type != sysfsMagic && InMemoryFS(st.Type)
		}
		if err != syscall.EINTR {
			return false, false
		}
	}
}

// The system calls of a file on procfs or cgroupfs are made raw:
// without telling the Go scheduler, which otherwise wakes its monitor
// thread at the first call of a gather and hands the processor to another
// thread when a call lasts more than 20 µs. Such calls cannot block (the
// files are in memory, opened non-blocking); every other file's calls are
// ordinary ones, so a hung read holds a thread, never a processor.

func sysPread(fd int, b []byte, off int64, raw bool) (int, error) {
	if !raw {
		return syscall.Pread(fd, b, off)
	}
	r, _, e := syscall.RawSyscall6(syscall.SYS_PREAD64, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(off), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func sysRead(fd int, b []byte, raw bool) (int, error) {
	return sysBuf(syscall.SYS_READ, syscall.Read, fd, b, raw)
}

func sysGetdents(fd int, b []byte, raw bool) (int, error) {
	return sysBuf(syscall.SYS_GETDENTS64, syscall.Getdents, fd, b, raw)
}

// sysBuf makes a call that fills b: trap raw, else plain.
func sysBuf(trap uintptr, plain func(int, []byte) (int, error), fd int, b []byte, raw bool) (int, error) {
	if !raw {
		return plain(fd, b)
	}
	r, _, e := syscall.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func sysClose(fd int, raw bool) {
	if !raw {
		syscall.Close(fd)
		return
	}
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
}
