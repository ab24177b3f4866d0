package kfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ListDir returns the names in directory path, at most max of them (more
// is an error wrapping ErrTooLarge). The directory is opened with
// O_DIRECTORY and O_NONBLOCK, so a FIFO in its place is refused at once
// instead of blocking the open. A symbolic link to a directory is
// followed: a configured path may be one.
func ListDir(path string, max int) ([]string, error) {
	fd, err := Retry(func() (int, error) { return syscall.Open(path, dirFlags, 0) })
	if err != nil {
		if err == syscall.ENOTDIR {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("not a directory: %w", ErrNotRegular)}
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	d := os.NewFile(uintptr(fd), path)
	defer d.Close()
	names, err := d.Readdirnames(max + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(names) > max {
		return names[:max], &fs.PathError{Op: "list", Path: path, Err: fmt.Errorf("more than %d entries: %w", max, ErrTooLarge)}
	}
	return names, nil
}
