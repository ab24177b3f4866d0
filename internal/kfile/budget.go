package kfile

import "syscall"

// Budget bounds how many files a reader keeps open between reads. A kept
// file costs one read at the next gather instead of an open, a read and a
// close; past the budget a file is opened, read and closed each time. The
// scans that keep files (processes, control groups, network interfaces)
// each take a budget, so together they never use up the descriptors the
// rest of the process needs.
type Budget struct {
	max, kept int
}

// NewBudget allows n kept files (none when n <= 0), and never more than a
// quarter of the process's limit on open files (RLIMIT_NOFILE).
func NewBudget(n int) Budget {
	n = max(n, 0)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < 1<<30 {
		n = min(n, int(lim.Cur/4))
	}
	return Budget{max: n}
}

// Take reserves the place of one more kept file; false when the budget is
// spent.
func (b *Budget) Take() bool {
	if b.kept >= b.max {
		return false
	}
	b.kept++
	return true
}

// Release gives back the place of a kept file that was closed.
func (b *Budget) Release() { b.kept-- }

// Max is how many files may be kept.
func (b *Budget) Max() int { return b.max }

// Kept is how many files are kept.
func (b *Budget) Kept() int { return b.kept }

// Reset: every kept file was closed.
func (b *Budget) Reset() { b.kept = 0 }

// ReadKept reads name under d into buf, in one read from offset 0. While
// the budget allows, the file stays open in *h (which holds none) for the
// next read; otherwise it is closed. Its errors are bare: see Dir.Err.
func (b *Budget) ReadKept(d *Dir, h *Handle, name, buf []byte) (int, error) {
	if b.kept >= b.max {
		return d.ReadFile(name, buf)
	}
	k, err := d.Open(name)
	if err != nil {
		return 0, err
	}
	n, err := k.ReadAt(buf, 0)
	if err != nil {
		k.Close()
		return n, err
	}
	*h = k
	b.kept++
	return n, nil
}

// Drop closes *h, a file kept under the budget; a closed Handle is left
// alone.
func (b *Budget) Drop(h *Handle) {
	if h.Valid() {
		h.Close()
		b.kept--
	}
}

// KeepBudget is how many files a reader may keep open: the open-file
// limit (RLIMIT_NOFILE, which Go raises to its hard limit at start) divided
// by share, within [least, most]. Readers that keep files (a process scan,
// a control-group walk, network interfaces) each take a share, so that
// together they leave most of the limit to the rest of the process.
func KeepBudget(share, least, most int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || share <= 0 {
		return least
	}
	// Never more than a quarter of the limit, whatever least says: a
	// process started with a low limit (ulimit -n 64) keeps room to open.
	return int(min(max(lim.Cur/uint64(share), uint64(least)), uint64(most), lim.Cur/4))
}
