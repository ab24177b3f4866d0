package guestcounter

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"syscall"

	"github.com/greencampus/powerinput/internal/kfile"
)

// IDFile is the file, next to energy_uj, that holds the counter's
// identity: a random ID made when the writer makes the counter's file. A
// counter made anew (its value restarts) gets a new one; a counter that
// goes on (the writer restarted and reads its file back, or rewrites it
// from memory after its folder was removed) keeps it. A guest whose ID
// changes knows its counter is another one (made anew, or another
// hypervisor's after a migration), whatever the value says. Readers that
// do not know the file (Scaphandre's layout) ignore it.
const IDFile = "counter_id"

// ID is a counter's identity; the zero ID is none.
type ID [16]byte

// errID: a counter_id that is not 32 lowercase hex digits.
var errID = errors.New("not a counter identity (32 lowercase hexadecimal digits)")

// NewID makes a random ID.
func NewID() (ID, error) {
	var id ID
	if _, err := rand.Read(id[:]); err != nil {
		return ID{}, fmt.Errorf("make a counter identity: %w", err)
	}
	if id == (ID{}) {
		id[0] = 1 // the zero ID is none
	}
	return id, nil
}

// idText is what counter_id holds: the ID in hex, then a newline.
func idText(id ID) string {
	var b [2*len(ID{}) + 1]byte
	hex.Encode(b[:], id[:])
	b[len(b)-1] = '\n'
	return string(b[:])
}

// ParseID reads what counter_id holds: 32 lowercase hexadecimal digits,
// trailing white space ignored. The zero ID is refused.
func ParseID(b []byte) (ID, error) {
	b = kfile.TrimSpace(b)
	var id ID
	if len(b) != 2*len(id) {
		return ID{}, errID
	}
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return ID{}, errID
		}
	}
	if _, err := hex.Decode(id[:], b); err != nil || id == (ID{}) {
		return ID{}, errID
	}
	return id, nil
}

// identify gives c its identity, when it has none yet, and makes counter_id
// hold it. A counter this writer holds keeps its own: its value goes on,
// whatever its file (rewritten from memory after the folder was removed).
// Otherwise, a counter whose file goes on (made by an earlier run) keeps
// the identity counter_id holds, and one whose file is made anew (fresh:
// its value restarts) gets a new one; so does a counter without a valid
// counter_id (one an older powerinput made: its guests knew none).
func (w *Writer) identify(dfd int, dir string, c *counter, fresh bool) error {
	if c.id == (ID{}) {
		if !fresh {
			c.id = w.readID(dfd)
		}
		if c.id == (ID{}) {
			id, err := NewID()
			if err != nil {
				return err
			}
			c.id = id
		}
	}
	return w.ensure(dfd, dir, IDFile, idText(c.id))
}

// readID reads counter_id under the folder dfd: the zero ID when it is
// missing, not a regular file of ours, or not an identity.
func (w *Writer) readID(dfd int) ID {
	fd, err := kfile.Retry(func() (int, error) {
		return syscall.Openat(dfd, IDFile, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	})
	if err != nil {
		return ID{}
	}
	defer syscall.Close(fd)
	var b [64]byte
	n, err := syscall.Pread(fd, b[:], 0)
	if !w.ours(fd) || err != nil || n <= 0 {
		return ID{}
	}
	id, err := ParseID(b[:n])
	if err != nil {
		return ID{}
	}
	return id
}
