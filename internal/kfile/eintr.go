package kfile

import "syscall"

// Retry calls call again while a signal interrupts it (EINTR) and returns
// what it returned last. Every system call powerinput makes directly goes
// through it or RetryErr: the Go runtime's signals (preemption among them)
// interrupt slow calls on file systems such as FUSE and NFS.
//
// call does not escape: a closure passed here costs no allocation.
func Retry(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// RetryErr is Retry for a call that returns only an error.
func RetryErr(call func() error) error {
	for {
		if err := call(); err != syscall.EINTR {
			return err
		}
	}
}
