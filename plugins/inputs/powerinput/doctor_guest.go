package powerinput

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/guestcounter"
	"github.com/greencampus/powerinput/internal/source/vm"
)

// Waiting on a guest's counter: a hypervisor writes it at each of its own
// gathers (every 10 s by default), so -doctor looks at it for a little
// longer than that before calling it measured.
const (
	guestPoll  = time.Second
	guestPolls = 12
)

// guestCounterMoves reads the guest's counters until one changes, at most
// guestPolls times guestPoll; it returns how long it looked and whether a
// counter moved. A counter found but still is a hypervisor that stopped
// writing (or a share that is no longer mounted): not a measurement.
func (p *PowerInput) guestCounterMoves() (bool, time.Duration) {
	counters, err := vm.Discover(p.VMPowercapPath)
	if err != nil || len(counters) == 0 {
		return false, 0
	}
	read := func() [][]byte {
		out := make([][]byte, len(counters))
		var g guard.Guard
		_ = g.Do(p.deadline(), func() {
			for i, c := range counters {
				out[i], _ = os.ReadFile(c.Path)
			}
		})
		return out
	}
	first := read()
	for i := 1; i <= guestPolls; i++ {
		p.sleep(guestPoll)
		for j, b := range read() {
			if len(b) > 0 && !bytes.Equal(b, first[j]) {
				return true, time.Duration(i) * guestPoll
			}
		}
	}
	return false, guestPolls * guestPoll
}

// runningCounters reports whether a powerinput holds the counters'
// folder's lock, or a guest counter under it was written within the last
// minute (an older powerinput, or Scaphandre): a writer with vms = true
// already runs on this host (under Telegraf, with its own configuration),
// whatever the configuration -doctor read.
func runningCounters(locks, dir string, now time.Time) bool {
	if guestcounter.LockHolder(locks, dir) != 0 {
		return true
	}
	var newest time.Time
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		// <folder>/<domain>/intel-rapl:0/energy_uj: no deeper.
		if rel, _ := filepath.Rel(dir, path); d.IsDir() && rel != "." && depth(rel) > 2 {
			return filepath.SkipDir
		}
		if info, err := d.Info(); err == nil && !d.IsDir() && info.ModTime().After(newest) {
			newest = info.ModTime()
		}
		return nil
	})
	return !newest.IsZero() && now.Sub(newest) < time.Minute
}

// depth is how many folders deep rel is.
func depth(rel string) int {
	n := 1
	for _, r := range rel {
		if r == filepath.Separator {
			n++
		}
	}
	return n
}

// guestLine is -doctor's line for a vm source whose counter is found:
// measured only if it moves.
func (p *PowerInput) guestLine() (line string, works bool) {
	moved, after := p.guestCounterMoves()
	if !moved {
		return fmt.Sprintf("%-6s found, but its counter did not move in %s: not a measurement\n%-6s fix: check that powerinput (vms = true) or Scaphandre's exporter runs on the hypervisor and that this VM's folder is still shared at %s",
			vm.Name, after, "", p.VMPowercapPath), false
	}
	return fmt.Sprintf("its counter moved within %s", after), true
}
