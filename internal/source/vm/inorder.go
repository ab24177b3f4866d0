package vm

import (
	"errors"
	"io/fs"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guestcounter"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/meter"
)

// errNoOrder: no two reads of the counter in a row were in order.
var errNoOrder = errors.New("no two reads in a row in order (a writer tearing the value?)")

// maxReads bounds the reads of one value: a truncating writer that rewrites
// the file without pause leaves it empty nine reads in ten (measured here),
// and two good reads are wanted; each read takes microseconds.
const maxReads = 64

// maxSwitches bounds the reads of a value whose counter_id changed while
// it was read.
const maxSwitches = 3

// inOrder reads a guest counter until two reads in a row are in order (the
// first not above the second) and returns the first of them, with the
// identity of the counter it was read from.
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
//
// The identity (counter_id, next to energy_uj, that powerinput's writer
// makes) is read before and after the value: the value is the identified
// counter's only when both say the same (a migration switches the share
// between them otherwise, and the value is read again). A missing or
// unreadable counter_id (Scaphandre, an older powerinput) is an unknown
// identity, and then the read after is not made: one failed open a sample.
type inOrder struct {
	meter.Counter
	id   *kfile.Attr // counter_id
	last meter.Identity
}

// Identity is the identity of the counter of the last Read; zero: unknown.
func (r *inOrder) Identity() meter.Identity { return r.last }

func (r *inOrder) Read() (energy.Energy, error) {
	for range maxSwitches {
		before := r.readID()
		v, err := r.value()
		if err != nil {
			r.last = meter.Identity{}
			return 0, err
		}
		if before == (meter.Identity{}) || r.readID() == before {
			r.last = before
			return v, nil
		}
	}
	// Switching again and again: judged by its move alone, as without an
	// identity.
	r.last = meter.Identity{}
	return r.value()
}

// readID reads counter_id; zero when it cannot.
func (r *inOrder) readID() meter.Identity {
	b, err := r.id.Text()
	if err != nil {
		return meter.Identity{}
	}
	id, err := guestcounter.ParseID(b)
	if err != nil {
		return meter.Identity{}
	}
	return meter.Identity(id)
}

func (r *inOrder) value() (energy.Energy, error) {
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

// Close releases both files.
func (r *inOrder) Close() error {
	r.id.Close()
	return r.Counter.Close()
}
