// Package summary words a measurement for people, in English or French:
// what the machine draws, where the number comes from, and what it equals
// in everyday things now, per hour and per day at this rate.
package summary

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/metaphor"
)

// Reading is one measured interval of the whole machine.
type Reading struct {
	// Label says where the number comes from, in the summary's language
	// (the source's Label).
	Label string
	// Power is the host total: the CPU packages and their DRAM, and the
	// GPUs measured (GPU of it).
	Power    energy.Power
	Interval time.Duration
	// GPU is the GPUs' part of Power; GPUs how many there are, and
	// Partial says that one of them has no value (left out of Power).
	GPU     energy.Power
	GPUs    int
	Partial bool
	// Wall is the whole machine at the wall, 0 without a wall sensor;
	// WallName names its sensor. Measured says that Power is measured on
	// this machine (rapl, msr), so its share of the wall means something.
	Wall     energy.Power
	WallName string
	Measured bool
	// FromWall: the metaphors count Wall, not Power. NoMetaphors: they
	// count nothing (metaphor_basis = "wall" without a wall reading).
	FromWall, NoMetaphors bool
	// Estimate says that Power is a model's estimate, not a measurement.
	Estimate bool
}

// Languages are the languages a summary is written in.
var languages = map[string]words{
	"en": {
		title:      "This machine, measured over %s s",
		estimated:  "This machine, ESTIMATED over %s s from its CPU use (not a measurement)",
		draws:      "Power: %s W",
		drawsWall:  "Power: %s W, the whole machine at the wall socket (%s)",
		parts:      " (CPUs and memory %s W, GPUs %s W)",
		partial:    "A GPU had no value over the interval: it is left out of this power.",
		source:     "Source: %s",
		beside:     "The CPUs and memory draw %s W; the wall socket gives %s W (%s).",
		besideGPU:  "The CPUs and memory draw %s W, the GPUs %s W; the wall socket gives %s W (%s).",
		covers:     "The CPUs and memory are %s %% of the machine.",
		coversGPU:  "These parts are %s %% of the machine.",
		basisWall:  "The everyday terms below count the wall socket's %s W.",
		basisParts: "The everyday terms below count the %s W measured part by part.",
		basisEst:   "The everyday terms below count the parts' estimate, %s W, not the wall socket.",
		noBasis:    "No everyday terms: metaphor_basis = \"wall\" and the wall socket has no value.",
		rightNow:   "Right now, that equals:",
		perHour:    "At this rate, per hour (%s kWh):",
		perDay:     "At this rate, per day (%s kWh):",
		about:      "about ",
		doctor:     "To measure rather than estimate, run powerinput -doctor: it says which sensors this machine has and how to make them readable.",
	},
	"fr": {
		title:      "Cette machine, mesurée sur %s s",
		estimated:  "Cette machine, ESTIMÉE sur %s s d’après l’utilisation de son processeur (pas une mesure)",
		draws:      "Puissance\u202f: %s W",
		drawsWall:  "Puissance\u202f: %s W, toute la machine à la prise murale (%s)",
		parts:      " (processeurs et mémoire %s W, cartes graphiques %s W)",
		partial:    "Une carte graphique n’avait pas de valeur sur l’intervalle\u202f: elle manque à cette puissance.",
		source:     "Origine\u202f: %s",
		beside:     "Les processeurs et la mémoire consomment %s W\u202f; la prise murale fournit %s W (%s).",
		besideGPU:  "Les processeurs et la mémoire consomment %s W, les cartes graphiques %s W\u202f; la prise murale fournit %s W (%s).",
		covers:     "Les processeurs et la mémoire font %s\u202f%% de la machine.",
		coversGPU:  "Ces parties font %s\u202f%% de la machine.",
		basisWall:  "Les équivalences ci-dessous comptent les %s W de la prise murale.",
		basisParts: "Les équivalences ci-dessous comptent les %s W mesurés partie par partie.",
		basisEst:   "Les équivalences ci-dessous comptent l’estimation des parties, %s W, pas la prise murale.",
		noBasis:    "Pas d’équivalences\u202f: metaphor_basis = \"wall\" et la prise murale n’a pas de valeur.",
		rightNow:   "En ce moment, cela équivaut à\u202f:",
		perHour:    "À ce rythme, par heure (%s kWh)\u202f:",
		perDay:     "À ce rythme, par jour (%s kWh)\u202f:",
		about:      "environ ",
		doctor:     "Pour mesurer au lieu d’estimer, lancez powerinput -doctor\u202f: il dit quels capteurs cette machine a et comment les rendre lisibles.",
		comma:      true,
	},
}

type words struct {
	title, estimated, draws, drawsWall   string
	parts, partial, source               string
	beside, besideGPU, covers, coversGPU string
	basisWall, basisParts, noBasis       string
	basisEst                             string // the parts' estimate beside a wall
	rightNow, perHour, perDay            string
	about                                string // before an estimate's rounded numbers
	doctor                               string // where an estimate learns how to measure
	comma                                bool   // decimal comma
}

// Supported reports whether lang is a language of the summary.
func Supported(lang string) bool {
	_, ok := languages[lang]
	return ok
}

// Render writes r in everyday terms in lang: power metaphors for now,
// energy metaphors for an hour and a day at this rate.
func Render(w io.Writer, r Reading, table []metaphor.Metaphor, lang string) {
	t, ok := languages[lang]
	if !ok {
		t = languages["en"]
	}
	num := func(format string, v float64) string { return localize(fmt.Sprintf(format, v), t.comma) }
	w1 := func(p energy.Power) string { return num("%.1f", p.Watts()) }
	// An estimate's figures (Power, and Power less the measured GPUs) are
	// rounded to what a model knows and said to be about so; a measured
	// figure (the wall, the GPUs) keeps its digits. The everyday terms
	// follow what they count: the wall is measured even on an estimated
	// machine.
	est := w1
	if r.Estimate {
		est = func(p energy.Power) string { return t.about + localize(roughly(p.Watts()), t.comma) }
	}
	counted := r.Estimate && !r.FromWall
	about := ""
	if counted {
		about = t.about
	}
	line := func(m metaphor.Metaphor, count float64) {
		v, unit := m.Unit()
		shown := fmt.Sprintf(countFormat(count), count)
		if counted {
			shown = roughly(count)
		}
		n, _ := strconv.ParseFloat(shown, 64) // the count as written decides the noun's number
		// fmt pads by runes: the column stays right-aligned with "about".
		fmt.Fprintf(w, "  %*s  %s (1 = %s %s)\n", 9+len([]rune(about)), about+localize(shown, t.comma), m.LabelFor(lang, n), num("%g", v), unit)
	}
	title := t.title
	if r.Estimate {
		title = t.estimated
	}
	fmt.Fprintf(w, title+"\n", num("%.1f", r.Interval.Seconds()))
	// The headline is what the everyday terms count: the wall where they
	// count it, the parts beside it below.
	if r.FromWall && !r.NoMetaphors {
		fmt.Fprintf(w, t.drawsWall, w1(r.Wall), r.WallName)
	} else {
		fmt.Fprintf(w, t.draws, est(r.Power))
		if r.GPUs > 0 {
			fmt.Fprintf(w, t.parts, est(r.Power-r.GPU), w1(r.GPU))
		}
	}
	fmt.Fprintln(w)
	if r.Partial {
		fmt.Fprintln(w, t.partial)
	}
	fmt.Fprintf(w, t.source+"\n", r.Label)
	if r.Estimate {
		fmt.Fprintln(w, t.doctor)
	}
	if r.Wall > 0 {
		if r.GPUs > 0 {
			fmt.Fprintf(w, t.besideGPU, est(r.Power-r.GPU), w1(r.GPU), w1(r.Wall), r.WallName)
		} else {
			fmt.Fprintf(w, t.beside, est(r.Power), w1(r.Wall), r.WallName)
		}
		if r.Measured && !r.Partial {
			share := num("%.0f", 100*r.Power.Watts()/r.Wall.Watts())
			if r.GPUs > 0 {
				fmt.Fprintf(w, " "+t.coversGPU, share)
			} else {
				fmt.Fprintf(w, " "+t.covers, share)
			}
		}
		fmt.Fprintln(w)
	}
	basis := r.Power
	switch {
	case r.NoMetaphors:
		fmt.Fprintln(w, t.noBasis)
		return
	case r.FromWall:
		basis = r.Wall
		fmt.Fprintf(w, t.basisWall+"\n", w1(r.Wall))
	case r.Wall > 0 && r.Estimate:
		fmt.Fprintf(w, t.basisEst+"\n", est(r.Power))
	case r.Wall > 0:
		fmt.Fprintf(w, t.basisParts+"\n", w1(r.Power))
	}

	fmt.Fprintln(w, t.rightNow)
	for _, m := range table {
		if m.Kind() == metaphor.Power {
			line(m, m.Value(basis, 0))
		}
	}
	for _, span := range []struct {
		head string
		d    time.Duration
	}{{t.perHour, time.Hour}, {t.perDay, 24 * time.Hour}} {
		e := basis.Over(span.d)
		kwh := num("%.3f", e.WattHours()/1000)
		if counted {
			kwh = about + localize(roughly(e.WattHours()/1000), t.comma)
		}
		fmt.Fprintf(w, span.head+"\n", kwh)
		for _, m := range table {
			if m.Kind() == metaphor.Energy {
				line(m, m.Value(basis, e))
			}
		}
	}
}

// localize writes a number formatted by fmt as people read it: digits
// grouped by three (a comma in English; a narrow no-break space in
// French, with a decimal comma).
func localize(s string, french bool) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	sep, point := ",", "."
	if french {
		sep, point = "\u202f", ","
	}
	var b strings.Builder
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(d)
	}
	if hasFrac {
		b.WriteString(point + frac)
	}
	return sign + b.String()
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

// roughly writes an estimate's v to one significant digit below 10 and
// two above (0.7, 3, 71, 1200): a model's figure is not known closer,
// and more digits would read as a measurement.
func roughly(v float64) string {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	digits := 1
	if v >= 10 {
		digits = 2
	}
	mag := math.Floor(math.Log10(v))
	step := math.Pow(10, mag-float64(digits-1))
	r := math.Round(v/step) * step
	if r >= math.Pow(10, mag+1) { // rounded up a decade: 0.96 is 1, not 1.0
		mag++
	}
	return strconv.FormatFloat(r, 'f', max(0, int(float64(digits-1)-mag)), 64)
}
