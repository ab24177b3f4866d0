package kfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMajor(t *testing.T) {
	tests := []struct {
		dev  uint64
		want uint32
	}{
		{0x0103, 1},              // /dev/null: 1, 3
		{0xca00, 202},            // /dev/cpu/0/msr: 202, 0
		{0xca05, 202},            // /dev/cpu/5/msr
		{0x1000ca00, 202},        // minor 0x10000: its high bits sit above the major's
		{0x100000000500, 0x1005}, // a major above 4095 keeps its high bits above 32
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Major(tt.dev), "Major(%#x)", tt.dev)
	}
}

// OpenDevice takes a character device of the driver asked for, and
// nothing else: not another driver's device, not a regular file, not a
// FIFO, not a symbolic link.
func TestOpenDevice(t *testing.T) {
	dir := t.TempDir()
	reg := write(t, filepath.Join(dir, "msr"), "x")

	// /dev/null is a character device of major 1.
	d, err := OpenDevice("/dev/null", 1)
	require.NoError(t, err)
	var b [8]byte
	n, err := d.ReadAt(b[:], 0x606)
	require.NoError(t, err)
	require.Zero(t, n)
	require.NoError(t, d.Close())
	_, err = OpenDevice("/dev/null", 202)
	require.ErrorIs(t, err, ErrWrongDevice)
	_, err = Open("/dev/null")
	require.ErrorIs(t, err, ErrNotRegular)

	_, err = OpenDevice(reg, 202)
	require.ErrorIs(t, err, ErrWrongDevice)

	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	_, err = OpenDevice(fifo, 202)
	require.ErrorIs(t, err, ErrWrongDevice)

	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink("/dev/null", link))
	_, err = OpenDevice(link, 1)
	require.ErrorIs(t, err, ErrSymlink)

	r, err := DeviceOpener(1)("/dev/null")
	require.NoError(t, err)
	require.NoError(t, r.Close())
}

func TestAttrText(t *testing.T) {
	path := write(t, filepath.Join(t.TempDir(), "runtime_status"), "suspended\n")
	a := NewAttr(path, nil)
	defer a.Close()
	b, err := a.Text()
	require.NoError(t, err)
	require.Equal(t, "suspended", string(b))
	require.NoError(t, os.WriteFile(path, []byte("active\n"), 0o644))
	b, err = a.Text()
	require.NoError(t, err)
	require.Equal(t, "active", string(b))
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	_, err = a.Text()
	require.ErrorIs(t, err, ErrEmpty)
}
