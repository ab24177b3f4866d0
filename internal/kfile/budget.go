package kfile

import "syscall"

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
	return int(min(max(lim.Cur/uint64(share), uint64(least)), uint64(most)))
}
