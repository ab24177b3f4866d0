package powerinput

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/summary"
)

// Measure takes a baseline, waits d and returns the machine's power over
// that interval, with where it comes from in lang.
func (p *PowerInput) Measure(d time.Duration, lang string) (summary.Reading, error) {
	step := func() {
		if p.cpu != nil {
			p.cpu.sample(p.deadline())
		}
	}
	step()
	p.power.chain.Sample()
	time.Sleep(d)
	step()
	r, ok := p.power.chain.Sample()
	if !ok {
		return summary.Reading{}, errors.New("no power source works here (run powerinput -doctor)")
	}
	res := r.Result
	if !res.Complete || res.Interval <= 0 {
		return summary.Reading{}, fmt.Errorf("source %s gave no complete value for the interval (see the messages above)", r.Source.Name())
	}
	return summary.Reading{
		Label:    r.Source.Label(lang),
		Power:    energy.Average(res.Total(), res.Interval),
		Interval: res.Interval,
	}, nil
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
	summary.Render(w, r, p.power.table, lang)
	return nil
}
