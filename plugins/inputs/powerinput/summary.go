package powerinput

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	srcmsr "github.com/greencampus/powerinput/internal/source/msr"
	"github.com/greencampus/powerinput/internal/source/rapl"
	"github.com/greencampus/powerinput/internal/summary"
)

// Measure takes a baseline, waits d and returns the machine's power over
// that interval, with where it comes from in lang, and the GPUs and the
// wall beside it where the machine has them.
func (p *PowerInput) Measure(d time.Duration, lang string) (summary.Reading, error) {
	step := func() {
		if p.cpu != nil {
			p.cpu.sample(p.deadline())
		}
	}
	step()
	p.power.sample()
	// A counter that moves less often than every d (a hypervisor's, written
	// at each of its own gathers) holds the interval: wait on, short of the
	// number of intervals that would make it stale.
	var s sample
	waits := max(p.VMStaleIntervals-1, 1)
	for tries := 1; ; tries++ {
		p.sleep(d)
		step()
		s = p.power.sample()
		if !s.ok || !s.reading.Result.Held || tries >= waits {
			break
		}
	}
	if !s.ok {
		return summary.Reading{}, errors.New("no power source works here (run powerinput -doctor)")
	}
	h, ok := p.power.host(s)
	if !ok {
		why := "see the messages above"
		if s.reading.Result.Held {
			why = fmt.Sprintf("its counters did not move in %s; try a longer -summary_duration", time.Duration(waits)*d)
		}
		return summary.Reading{}, fmt.Errorf("source %s gave no complete value for the interval (%s)", s.reading.Source.Name(), why)
	}
	src := s.reading.Source
	r := summary.Reading{
		Label:    src.Label(lang),
		Power:    energy.Average(h.total, h.interval),
		Interval: h.interval,
		Partial:  h.partial,
		Measured: src.Name() == rapl.Name || src.Name() == srcmsr.Name,
		Estimate: src.Model() != "",
	}
	if s.side != nil {
		r.GPUs = len(s.side.GPUs)
		r.GPU = energy.Average(h.gpu, h.interval)
	}
	if h.wall != nil {
		r.Wall, r.WallName = h.wall.Power(), h.wall.Sensor.Name
	}
	_, _, r.FromWall, ok = h.basis(p.power.basis)
	r.NoMetaphors = !ok
	return r, nil
}

// Summary measures for d and prints the result in lang.
func (p *PowerInput) Summary(w io.Writer, d time.Duration, lang string) error {
	if !summary.Supported(lang) {
		return fmt.Errorf("-lang %q: want en or fr", lang)
	}
	if d <= 0 || d > time.Hour {
		return fmt.Errorf("-summary_duration %s: want a duration above 0 and at most 1h", d)
	}
	r, err := p.Measure(d, lang)
	if err != nil {
		return err
	}
	summary.Render(w, r, p.power.metaphors.table, lang)
	return nil
}
