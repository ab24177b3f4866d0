// Package summary words a measurement for people, in English or French:
// what the machine draws, where the number comes from, and what it equals
// in everyday things now, per hour and per day at this rate.
package summary

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/metaphor"
)

// Reading is one measured interval of the whole machine.
type Reading struct {
	// Label says where the number comes from, in the summary's language
	// (the source's Label).
	Label    string
	Power    energy.Power
	Interval time.Duration
}

// Languages are the languages a summary is written in.
var languages = map[string]words{
	"en": {
		title:    "This machine, measured over %s s",
		draws:    "Power: %s W",
		source:   "Source: %s",
		rightNow: "Right now, that equals:",
		perHour:  "At this rate, per hour (%s kWh):",
		perDay:   "At this rate, per day (%s kWh):",
	},
	"fr": {
		title:    "Cette machine, mesurée sur %s s",
		draws:    "Puissance : %s W",
		source:   "Origine : %s",
		rightNow: "En ce moment, cela équivaut à :",
		perHour:  "À ce rythme, par heure (%s kWh) :",
		perDay:   "À ce rythme, par jour (%s kWh) :",
		comma:    true,
	},
}

type words struct {
	title, draws, source, rightNow, perHour, perDay string
	comma                                           bool // decimal comma
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
	num := func(format string, v float64) string {
		out := fmt.Sprintf(format, v)
		if t.comma {
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
	fmt.Fprintf(w, t.source+"\n", r.Label)

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
