package kfile

import "path/filepath"

// The roots of the host's file systems, each a type of its own, so that a
// sysfs root cannot be passed where a procfs root is wanted (the swap of
// two strings compiles; the swap of two roots does not). A root is a mount
// point as the configuration names it (host_sys, host_proc, host_dev); a
// reader joins its files under it with Path.

// SysRoot is where the host's sysfs is mounted (/sys).
type SysRoot string

// ProcRoot is where the host's procfs is mounted (/proc).
type ProcRoot string

// DevRoot is the host's directory of device files (/dev).
type DevRoot string

// Path joins elem under the root.
func (r SysRoot) Path(elem ...string) string { return join(string(r), elem) }

// Path joins elem under the root.
func (r ProcRoot) Path(elem ...string) string { return join(string(r), elem) }

// Path joins elem under the root.
func (r DevRoot) Path(elem ...string) string { return join(string(r), elem) }

func join(root string, elem []string) string {
	return filepath.Join(append([]string{root}, elem...)...)
}

// Roots are the three roots a reader of the host may need, passed as one
// value.
type Roots struct {
	Sys  SysRoot
	Proc ProcRoot
	Dev  DevRoot
}
