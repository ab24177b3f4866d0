package powerinput

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/metaphor"
)

// Reading is one measured interval of the whole machine, for people.
type Reading struct {
	Source   string // rapl, vm or model
	Model    string // the estimate's model, for source model
	Power    energy.Power
	Energy   energy.Energy
	Interval time.Duration
}

// Measure takes a baseline, waits d and returns the machine's power over
// that interval.
func (p *PowerInput) Measure(d time.Duration) (Reading, error) {
	p.samplePower(p.sampleCPU())
	time.Sleep(d)
	r, ok := p.samplePower(p.sampleCPU())
	if !ok {
		return Reading{}, errors.New("no power source works here (run powerinput -doctor)")
	}
	if !r.res.Complete || r.res.Interval <= 0 {
		return Reading{}, fmt.Errorf("source %s gave no complete value for the interval (see the messages above)", r.src.name())
	}
	total := r.res.Total()
	return Reading{
		Source:   r.src.name(),
		Model:    r.src.model(),
		Power:    energy.Average(total, r.res.Interval),
		Energy:   total,
		Interval: r.res.Interval,
	}, nil
}

// Summary measures for d and prints the result in lang.
func (p *PowerInput) Summary(w io.Writer, d time.Duration, lang string) error {
	if lang != "en" && lang != "fr" {
		return fmt.Errorf("-lang %q: want en or fr", lang)
	}
	r, err := p.Measure(d)
	if err != nil {
		return err
	}
	RenderSummary(w, r, p.table, lang)
	return nil
}

type words struct {
	title, draws, source, rightNow, perHour, perDay, estimate string
	sources                                                   map[string]string
}

func dictionary(lang string) words {
	if lang == "fr" {
		return words{
			title:    "Cette machine, mesurée sur %s s",
			draws:    "Puissance : %s W",
			source:   "Origine : %s",
			rightNow: "En ce moment, cela équivaut à :",
			perHour:  "À ce rythme, par heure (%s kWh) :",
			perDay:   "À ce rythme, par jour (%s kWh) :",
			estimate: "ESTIMATION, pas une mesure",
			sources: map[string]string{
				SourceRAPL:  "mesurée par les compteurs d'énergie RAPL du processeur (rapl)",
				SourceVM:    "compteur fourni par l'hyperviseur à cette VM (vm)",
				SourceModel: "modèle %s à partir de l'utilisation du processeur (model)",
			},
		}
	}
	return words{
		title:    "This machine, measured over %s s",
		draws:    "Power: %s W",
		source:   "Source: %s",
		rightNow: "Right now, that equals:",
		perHour:  "At this rate, per hour (%s kWh):",
		perDay:   "At this rate, per day (%s kWh):",
		estimate: "ESTIMATE, not a measurement",
		sources: map[string]string{
			SourceRAPL:  "measured by the CPU's RAPL energy counters (rapl)",
			SourceVM:    "counter provided to this VM by the hypervisor (vm)",
			SourceModel: "%s model from CPU utilisation (model)",
		},
	}
}

// RenderSummary writes r in everyday terms: power metaphors for now,
// energy metaphors for an hour and a day at this rate.
func RenderSummary(w io.Writer, r Reading, table []metaphor.Metaphor, lang string) {
	t := dictionary(lang)
	num := func(format string, v float64) string {
		out := fmt.Sprintf(format, v)
		if lang == "fr" {
			out = strings.ReplaceAll(out, ".", ",")
		}
		return out
	}
	line := func(m metaphor.Metaphor, count float64) {
		v, unit := m.Unit()
		fmt.Fprintf(w, "  %9s  %s (1 = %s %s)\n", num(countFormat(count), count), m.LabelIn(lang), num("%g", v), unit)
	}
	fmt.Fprintf(w, t.title+"\n", num("%.1f", r.Interval.Seconds()))
	fmt.Fprintf(w, t.draws+"\n", num("%.1f", r.Power.Watts()))
	src := t.sources[r.Source]
	if r.Source == SourceModel {
		src = fmt.Sprintf(src, r.Model) + " — " + t.estimate
	}
	fmt.Fprintf(w, t.source+"\n", src)

	fmt.Fprintln(w, t.rightNow)
	for _, m := range table {
		if m.Kind() == metaphor.Power {
			line(m, m.Value(r.Power, 0))
		}
	}
	for _, span := range []struct {
		head string
		d    time.Duration
	}{{t.perHour, time.Hour}, {t.perDay, 24 * time.Hour}} {
		e := r.Power.Over(span.d)
		fmt.Fprintf(w, span.head+"\n", num("%.3f", e.WattHours()/1000))
		for _, m := range table {
			if m.Kind() == metaphor.Energy {
				line(m, m.Value(r.Power, e))
			}
		}
	}
}

// countFormat keeps about three significant digits.
func countFormat(v float64) string {
	switch {
	case v >= 100:
		return "%.0f"
	case v >= 10:
		return "%.1f"
	default:
		return "%.2f"
	}
}
