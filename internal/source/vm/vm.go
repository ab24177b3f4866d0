// Package vm reads the energy counter a hypervisor gives its guest: a
// powercap-style tree (intel-rapl:0/energy_uj) that powerinput's own
// hypervisor mode or Scaphandre's qemu exporter writes on the host and the
// guest mounts (virtiofs, 9p).
//
// Writers differ: powerinput rewrites the file in place (one pwrite of a
// fixed width), Scaphandre truncates it, then writes, others write a new
// file and rename it over the old. The counter is therefore opened again
// at each read (a kept file would read a replaced one forever), a value is
// taken only from two reads in order (inOrder), an empty or torn read is
// read again, and all reads are bounded in time (the share's host side may
// stop answering).
package vm

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/guestcounter"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/meter"
	"github.com/greencampus/powerinput/internal/procstat"
	"github.com/greencampus/powerinput/internal/source"
)

// Name is the source tag's value.
const Name = "vm"

// Spec registers the source.
var Spec = source.Spec{Name: Name, New: New}

// Source is the vm source.
type Source struct {
	env      source.Env
	counters source.Counters
	// vcpus are the guest's online CPUs when the counters were found (0:
	// unknown); they set the counters' bound (meter.GuestCeiling).
	vcpus int
	buf   []byte
	stat  procstat.Stat
}

// New returns the source over env.VMPowercapPath. A counter found stale
// (the host's agent stopped) is resumed where it stopped: what the host
// writes when it comes back is measured.
func New(env source.Env) source.Source {
	return &Source{env: env, counters: source.Counters{Clock: env.Clock, StopAfter: env.StaleIntervals, Resume: true}}
}

func (s *Source) Name() string  { return Name }
func (s *Source) Model() string { return "" }

// TDP is the configured one (a guest knows no TDP of its own).
func (s *Source) TDP(meter.Key) energy.Power { return s.env.TDPWatts }

func (s *Source) Probe(deadline time.Time) error {
	return s.counters.Probe(deadline, s.discover)
}

func (s *Source) discover() ([]meter.Channel, energy.Power, error) {
	counters, err := Discover(s.env.VMPowercapPath)
	if err != nil {
		return nil, 0, err
	}
	s.vcpus = s.onlineCPUs()
	ch := make([]meter.Channel, 0, len(counters))
	for _, c := range counters {
		attr := kfile.NewAttr(c.Path, s.env.Open)
		attr.Reopen = true
		id := kfile.NewAttr(filepath.Join(filepath.Dir(c.Path), guestcounter.IDFile), s.env.Open)
		id.Reopen = true
		ch = append(ch, meter.Channel{
			Key:        meter.Key{Domain: meter.Package, ID: c.Package, Die: meter.NoDie},
			Name:       c.Path,
			Reader:     &inOrder{Counter: meter.Counter{Attr: attr}, id: id},
			Limits:     meter.GuestLimits(c.MaxRange, s.vcpus),
			StaleAfter: s.env.StaleIntervals,
		})
	}
	// Each counter is bounded; no bound of the total follows tdp_watts.
	return ch, 0, nil
}

// statLimit bounds the read of /proc/stat: 1 MiB is some 10,000 CPUs.
const statLimit = 1 << 20

// onlineCPUs counts the guest's online CPUs (its vCPUs) in /proc/stat; 0
// when it cannot be read.
func (s *Source) onlineCPUs() int {
	b, err := kfile.ReadFile(s.env.Roots.Proc.Path("stat"), s.buf[:0], statLimit)
	s.buf = b[:0]
	if err != nil {
		return 0
	}
	procstat.ParseBytes(b, &s.stat) // a bad line leaves out its CPU only
	return s.stat.Online()
}

func (s *Source) Sample(deadline time.Time) (*meter.Result, error) {
	return s.counters.Sample(deadline)
}

func (s *Source) Close() { s.counters.Close() }

func (s *Source) Describe() string {
	d := source.DescribeChannels(s.counters.Meter(), s.TDP)
	if s.counters.Meter() == nil {
		return d
	}
	vcpus := "vCPUs unknown"
	if s.vcpus > 0 {
		vcpus = fmt.Sprintf("%d vCPU(s) online", s.vcpus)
	}
	ids := "no counter_id (Scaphandre, or an older powerinput, on the host): a move to another hypervisor is told from energy only by the size of its jump"
	if s.identified() {
		ids = "with an identity (counter_id): a move to another hypervisor is one interval left out"
	}
	return fmt.Sprintf("%s; bound %.0f W (%s × %.0f W, at least %.0f W); %s", d, s.Bound().Watts(),
		vcpus, meter.GuestPerVCPU.Watts(), meter.GuestFloor.Watts(), ids)
}

// identified says whether every counter had an identity at its last read.
func (s *Source) identified() bool {
	m := s.counters.Meter()
	for i := range m.Channels {
		if r, ok := m.Channels[i].Reader.(*inOrder); !ok || r.Identity() == (meter.Identity{}) {
			return false
		}
	}
	return len(m.Channels) > 0
}

// Bound is the most this guest may draw: a reading above it over an
// interval is left out as impossible.
func (s *Source) Bound() energy.Power { return meter.GuestCeiling(s.vcpus) }

func (s *Source) Explain(err error) (why, fix string) {
	switch {
	case errors.Is(err, ErrNoCounter):
		return err.Error(),
			fmt.Sprintf("on the hypervisor run powerinput with vms = true (or Scaphandre's qemu exporter) and share this VM's folder into this guest, mounted at %s (see README, Virtual machines; -doctor on the hypervisor gives the domain XML)", s.env.VMPowercapPath)
	case errors.Is(err, source.ErrStale):
		return fmt.Sprintf("the counter under %s has not advanced for %d intervals", s.env.VMPowercapPath, s.env.StaleIntervals),
			"check that the exporter on the hypervisor is running and the share is mounted"
	default:
		return err.Error(), fmt.Sprintf("check the share mounted at %s", s.env.VMPowercapPath)
	}
}

func (s *Source) Label(lang string) string {
	if lang == "fr" {
		return "compteur fourni par l’hyperviseur à cette VM (vm)"
	}
	return "counter provided to this VM by the hypervisor (vm)"
}
