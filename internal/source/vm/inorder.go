package vm

import (
	"errors"
	"io/fs"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/meter"
)

// errNoOrder: no two reads of the counter in a row were in order.
var errNoOrder = errors.New("no two reads in a row in order (a writer tearing the value?)")

// maxReads bounds the reads of one value: a truncating writer that rewrites
// the file without pause leaves it empty nine reads in ten (measured here),
// and two good reads are wanted; each read takes microseconds.
const maxReads = 64

// inOrder reads a guest counter until two reads in a row are in order (the
// first not above the second) and returns the first of them.
//
// Hypervisors write the counter in three ways: in place (powerinput), by
// truncating then writing (Scaphandre), or by renaming a new file over it.
// A read can catch the second one between its truncation and its write: an
// empty file (an error, tried again) or the first digits of the value (a
// value too low, which the meter tries again when it is below the last
// one, and which costs nothing when it is not: the interval after it gets
// what it missed). A value too high is the one that would do harm: a
// spike, then a counter that seems to go backwards. No writer here
// produces one, but should a read ever mix two values, the read after it,
// a few microseconds later, is below it, and the pair is refused. A
// counter that moves normally costs two reads.
type inOrder struct{ meter.Counter }

func (r inOrder) Read() (energy.Energy, error) {
	var first energy.Energy
	have := false
	var lastErr error
	for range maxReads {
		v, err := r.Counter.Read()
		if err != nil {
			if !meter.Transient(err) {
				return 0, err
			}
			lastErr = err
			continue
		}
		if have && first <= v {
			return first, nil
		}
		first, have = v, true
	}
	if lastErr == nil {
		lastErr = &fs.PathError{Op: "read", Path: r.Path(), Err: errNoOrder}
	}
	return 0, lastErr
}
