package guestcounter

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The clean-up of folders of VMs gone for long: a folder under dir is
// removed when it is, in every detail, one this package makes and nothing
// else (a directory of ours holding only Zone, a directory of ours holding
// only name, max_energy_range_uj, energy_uj and counter_id, regular files of ours
// with no other name, and perhaps a temporary file of replace), when its
// counter is not one the writer holds, when energy_uj was last written
// more than StaleAfter ago, and when libvirt does not define the domain
// (a VM powered off for long: libvirt refuses to start a domain whose
// shared folder is missing). Anything else is left alone.
const (
	// StaleAfter: a counter not written for that long belongs to a VM that
	// is gone (a VM that comes back later starts again from 0, which its
	// guest reads as a counter reset).
	StaleAfter = 30 * 24 * time.Hour
	// sweepEvery: the clean-up runs at the first Apply that holds the
	// folder, then at most once in that time.
	sweepEvery = time.Hour
	// sweepLook bounds the names looked at in one clean-up, sweepRemove
	// the folders removed; each clean-up goes on from where the last one
	// stopped. 24 clean-ups a day remove more than the 2048 names a day
	// vmhost lists at most (twice MaxCounters).
	sweepLook   = 4096
	sweepRemove = 256
	// sweepTime bounds the time of one clean-up, so that it never makes
	// the counters' writes late (read_timeout is 1 s by default).
	sweepTime = 200 * time.Millisecond
	// qemuDefs is where, under the host's /etc, libvirt keeps its qemu
	// domains' definitions.
	qemuDefs = "libvirt/qemu"
)

// zoneFiles are the files of a Zone folder this package makes.
var zoneFiles = [...]string{"energy_uj", "name", "max_energy_range_uj", IDFile, ".energy_uj.powerinput", ".name.powerinput", ".max_energy_range_uj.powerinput", "." + IDFile + ".powerinput"}

// Swept is the domains whose folders the last Apply removed.
func (w *Writer) Swept() []string { return w.swept }

// NoDefinitions says whether the last clean-up found no folder of
// libvirt's domain definitions under host_etc, and so removed nothing.
func (w *Writer) NoDefinitions() bool { return w.noDefs }

// Definitions is the folder of libvirt's domain definitions the clean-up
// asks (SetHostEtc).
func (w *Writer) Definitions() string { return w.qemuEtc }

// sweep runs the clean-up when it is due.
func (w *Writer) sweep(now time.Time) {
	if !w.held || now.Sub(w.lastPass) < sweepEvery {
		return
	}
	w.lastPass = now
	var st syscall.Stat_t
	if err := syscall.Stat(w.qemuEtc, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		// No folder of libvirt's definitions here (host_etc not the
		// host's, or VMs not libvirt's): a VM that is only powered off
		// cannot be told from one gone, and libvirt would refuse to start
		// one whose folder is missing. Nothing is removed.
		w.noDefs = true
		return
	}
	w.noDefs = false
	start := time.Now()
	for looked := 0; looked < sweepLook && len(w.swept) < sweepRemove; looked++ {
		if looked%64 == 63 && time.Since(start) > w.sweepBudget {
			return // a slow disk: the rest at the next clean-up, not in the writes' time
		}
		if len(w.unlooked) == 0 {
			if w.unlooked = w.readNames(sweepLook - looked); len(w.unlooked) == 0 {
				return // the end of the folder: the next clean-up starts again
			}
		}
		name := w.unlooked[0]
		w.unlooked = w.unlooked[1:]
		if _, held := w.counters[name]; held || CheckName(name) != nil {
			continue
		}
		if w.removeStale(name, now) {
			w.swept = append(w.swept, name)
		}
	}
}

// readNames reads at most n names of the folder, from where the last read
// stopped; none at its end, and the next read starts again.
func (w *Writer) readNames(n int) []string {
	if w.cursor == nil {
		fd, err := syscall.Openat(w.root, ".", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return nil
		}
		w.cursor = os.NewFile(uintptr(fd), w.dir)
	}
	names, _ := w.cursor.Readdirnames(n)
	if len(names) == 0 {
		w.closeCursor()
	}
	return names
}

// closeCursor lets go of the clean-up's place in the folder.
func (w *Writer) closeCursor() {
	if w.cursor != nil {
		w.cursor.Close()
		w.cursor = nil
	}
	w.unlooked = nil
}

// defined says whether libvirt defines the domain name (or whether that
// cannot be known: then it is kept).
func (w *Writer) defined(name string) bool {
	var st syscall.Stat_t
	return syscall.Stat(filepath.Join(w.qemuEtc, name+".xml"), &st) != syscall.ENOENT
}

// removeStale removes the domain folder name if it is one of ours, in our
// layout, not written for StaleAfter.
func (w *Writer) removeStale(name string, now time.Time) bool {
	dfd, ok := w.ownDir(w.root, name)
	if !ok {
		return false
	}
	defer syscall.Close(dfd)
	if entries, ok := list(dfd); !ok || len(entries) != 1 || entries[0] != Zone {
		return false
	}
	zfd, ok := w.ownDir(dfd, Zone)
	if !ok {
		return false
	}
	defer syscall.Close(zfd)
	entries, ok := list(zfd)
	if !ok {
		return false
	}
	counter := false
	for _, e := range entries {
		known := false
		for _, z := range zoneFiles {
			known = known || e == z
		}
		var st unix.Stat_t
		if !known || unix.Fstatat(zfd, e, &st, unix.AT_SYMLINK_NOFOLLOW) != nil ||
			st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 || int(st.Uid) != w.euid {
			return false
		}
		if e == "energy_uj" {
			if now.Sub(time.Unix(st.Mtim.Unix())) < StaleAfter {
				return false
			}
			counter = true
		}
	}
	if !counter || w.defined(name) {
		return false
	}
	for _, e := range entries {
		if syscall.Unlinkat(zfd, e) != nil {
			return false
		}
	}
	return unlinkDir(dfd, Zone) == nil && unlinkDir(w.root, name) == nil
}

// ownDir opens the folder name under parent if it is a directory of ours,
// not a link.
func (w *Writer) ownDir(parent int, name string) (int, bool) {
	fd, err := syscall.Openat(parent, name, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1, false
	}
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || int(st.Uid) != w.euid {
		syscall.Close(fd)
		return -1, false
	}
	return fd, true
}

// list names what the open folder fd holds (at most a few: more is not
// our layout).
func list(fd int) ([]string, bool) {
	dup, err := syscall.Openat(fd, ".", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	f := os.NewFile(uintptr(dup), ".")
	defer f.Close()
	names, err := f.Readdirnames(len(zoneFiles) + 1)
	if err != nil && len(names) == 0 {
		return nil, errors.Is(err, io.EOF)
	}
	return names, len(names) <= len(zoneFiles)
}

// unlinkDir removes the empty folder name under parent.
func unlinkDir(parent int, name string) error {
	return unix.Unlinkat(parent, name, unix.AT_REMOVEDIR)
}
