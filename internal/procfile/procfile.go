// Package procfile reads a whole pseudo-file (procfs, sysfs) again and
// again into one growing buffer, without trusting the size the kernel
// reports for it (0 for most of them).
package procfile

import (
	"errors"
	"io"
	"os"
)

// File is an open pseudo-file that is read again from offset 0 each time.
type File struct {
	path string
	f    *os.File
	buf  []byte
}

// New returns a File for path; it is opened on the first Read.
func New(path string) *File { return &File{path: path, buf: make([]byte, 0, 4096)} }

// Path is the file's path.
func (p *File) Path() string { return p.path }

// Read returns the file's whole content. The slice is valid until the next
// call. After a failure the file is opened again on the next call.
func (p *File) Read() ([]byte, error) {
	if p.f == nil {
		f, err := os.Open(p.path)
		if err != nil {
			return nil, err
		}
		p.f = f
	}
	p.buf = p.buf[:cap(p.buf)]
	n := 0
	for {
		m, err := p.f.ReadAt(p.buf[n:], int64(n))
		n += m
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.Close()
			return nil, err
		}
		if n == len(p.buf) {
			p.buf = append(p.buf, make([]byte, len(p.buf))...)
			p.buf = p.buf[:cap(p.buf)]
		}
	}
	p.buf = p.buf[:n]
	return p.buf, nil
}

// Close releases the file.
func (p *File) Close() error {
	if p.f == nil {
		return nil
	}
	err := p.f.Close()
	p.f = nil
	return err
}
