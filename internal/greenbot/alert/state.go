package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/atomicfile"
	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// stateVersion is the state file's format.
const stateVersion = 1

// State is what survives a restart: every pending or active alert, and
// the messages made but not yet handed to the outbox.
type State struct {
	Alerts map[string]*Alert
	// Outgoing are messages made by a Step and written here before they
	// go to the outbox, so a crash between the two loses none; the
	// outbox's de-duplication by ID makes handing one twice harmless.
	Outgoing []message.Message
	// Seen is each watched host's newest power reading (or, for a host
	// the alert names that never sent one, the start of the first
	// look-back that found none): a host that left the database's
	// look-back is still judged silent from it.
	Seen map[string]time.Time
}

type stateFile struct {
	Version  int                  `json:"version"`
	Alerts   []*Alert             `json:"alerts"`
	Outgoing []message.Message    `json:"outgoing,omitempty"`
	Seen     map[string]time.Time `json:"seen,omitempty"`
}

// maxStateFile bounds how much of a state file is read.
const maxStateFile = 16 << 20

// ParseState reads a state file.
func ParseState(r io.Reader) (State, error) {
	var f stateFile
	dec := json.NewDecoder(io.LimitReader(r, maxStateFile))
	if err := dec.Decode(&f); err != nil {
		return State{}, fmt.Errorf("not an alert state file: %w", err)
	}
	if f.Version != stateVersion {
		return State{}, fmt.Errorf("alert state file of version %d, this bot reads %d", f.Version, stateVersion)
	}
	st := State{Alerts: map[string]*Alert{}, Outgoing: f.Outgoing, Seen: f.Seen}
	for i, a := range f.Alerts {
		switch {
		case a == nil:
			return State{}, fmt.Errorf("alert %d is empty", i+1)
		case a.Kind != Power && a.Kind != Silent && a.Kind != Model && a.Kind != VMShare:
			return State{}, fmt.Errorf("alert %d: unknown kind %q", i+1, clip(a.Kind))
		case a.Host == "":
			return State{}, fmt.Errorf("alert %d: no host", i+1)
		case (a.Kind == VMShare) != (a.VM != ""):
			return State{}, fmt.Errorf("alert %d: a VM only for a vm-share alert", i+1)
		case a.Since.IsZero():
			return State{}, fmt.Errorf("alert %d: no since", i+1)
		}
		if _, dup := st.Alerts[a.key()]; dup {
			return State{}, fmt.Errorf("alert %d: a second %s alert for %q", i+1, a.Kind, clip(a.Host))
		}
		st.Alerts[a.key()] = a
	}
	for i, m := range f.Outgoing {
		if m.ID == "" {
			return State{}, fmt.Errorf("outgoing message %d has no ID", i+1)
		}
	}
	return st, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// Marshal is the state file's content; alerts in a stable order.
func (st State) Marshal() ([]byte, error) {
	f := stateFile{Version: stateVersion, Alerts: make([]*Alert, 0, len(st.Alerts)), Outgoing: st.Outgoing, Seen: st.Seen}
	for _, a := range st.Alerts {
		f.Alerts = append(f.Alerts, a)
	}
	sortAlerts(f.Alerts)
	return json.MarshalIndent(f, "", "  ")
}

// ErrDamaged marks a state file that was read but is not one this bot
// wrote (truncated, edited, of another version).
var ErrDamaged = errors.New("the file is damaged")

// LoadState reads path; a missing file is an empty state (the first run).
func LoadState(path string) (State, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{Alerts: map[string]*Alert{}}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("alert state: %w", err)
	}
	defer f.Close()
	st, err := ParseState(f)
	if err != nil {
		return State{}, fmt.Errorf("alert state %s: %w: %w", path, ErrDamaged, err)
	}
	return st, nil
}

// SaveState replaces path atomically.
func SaveState(path string, st State) error {
	b, err := st.Marshal()
	if err != nil {
		return fmt.Errorf("alert state: %w", err)
	}
	return atomicfile.Write(path, b, 0o600)
}
