package alert

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/greenbot/escape"
	"github.com/greencampus/powerinput/internal/greenbot/message"
	"github.com/greencampus/powerinput/internal/greenbot/numfmt"
	"github.com/greencampus/powerinput/internal/metaphor"
)

// Narrow no-break space (French thousands, and before : ; ! ? %) and
// no-break space (between a number and its unit).
const (
	nnbsp = numfmt.NNBSP
	nbsp  = "\u00A0"
)

// words is one language's wording: format strings whose verbs are filled
// with names and numbers already formatted.
type words struct {
	powerStartSubject, powerStart, powerEndSubject, powerEnd string
	wall, parts, estimated, asMuchAs                         string
	silentStartSubject, silentStart, silentEndSubject        string
	silentEnd                                                string
	modelStartSubject, modelStart, modelEndSubject, modelEnd string
	vmStartSubject, vmStart, vmEndSubject, vmEnd             string
}

func wordsFor(lang string) words {
	if lang == "fr" {
		return words{
			powerStartSubject:  "%s consomme plus de %s",
			powerStart:         "Depuis %[3]s, %[1]s consomme plus de %[2]s (%[4]s en ce moment, %[5]s%[7]s). C’est au-dessus de la limite fixée pour cette machine : il vaut peut-être la peine de regarder ce qu’elle fait. Un autre message suivra quand elle repassera sous %[6]s.",
			asMuchAs:           ", autant que %s %s",
			powerEndSubject:    "%s est repassé sous %s",
			powerEnd:           "%[1]s est repassé sous %[2]s (%[3]s en ce moment), après %[4]s au-dessus de %[5]s ; au plus fort : %[6]s.",
			wall:               "mesurés à la prise",
			parts:              "mesurés sur ses processeurs et sa mémoire",
			estimated:          "ESTIMÉS d’après son activité, non mesurés",
			silentStartSubject: "Plus de nouvelles de %s",
			silentStart:        "%[1]s n’a envoyé aucune mesure de consommation depuis %[2]s (%[3]s). La machine est peut-être éteinte, ou son agent de mesure arrêté.",
			silentEndSubject:   "%s donne de nouveau des nouvelles",
			silentEnd:          "%[1]s envoie de nouveau ses mesures, après %[2]s sans nouvelles.",
			modelStartSubject:  "La consommation de %s n’est plus qu’estimée",
			modelStart:         "Depuis %[2]s, la consommation de %[1]s ne peut plus être mesurée : les chiffres de cette machine sont désormais une estimation calculée d’après son activité, pas une mesure. Ses compteurs d’énergie ne sont peut-être plus lisibles.",
			modelEndSubject:    "%s est de nouveau mesuré",
			modelEnd:           "La consommation de %[1]s est de nouveau mesurée, après %[2]s d’estimation.",
			vmStartSubject:     "La machine virtuelle %s utilise plus de %s de %s",
			vmStart:            "Depuis %[4]s, la machine virtuelle %[1]s utilise plus de %[2]s de l’énergie de %[3]s (%[5]s en ce moment). Un autre message suivra quand elle repassera sous %[6]s.",
			vmEndSubject:       "La machine virtuelle %s est repassée sous %s de %s",
			vmEnd:              "La machine virtuelle %[1]s utilise de nouveau moins de %[2]s de l’énergie de %[3]s (%[4]s en ce moment), après %[5]s ; au plus fort : %[6]s.",
		}
	}
	return words{
		powerStartSubject:  "%s is drawing more than %s",
		powerStart:         "Since %[3]s, %[1]s has drawn more than %[2]s (%[4]s right now, %[5]s%[7]s). That is above the limit set for this machine: it may be worth a look at what it is running. Another message will follow when it is back under %[6]s.",
		asMuchAs:           ", as much as %s %s",
		powerEndSubject:    "%s is back under %s",
		powerEnd:           "%[1]s is back under %[2]s (%[3]s right now), after %[4]s above %[5]s; at its highest: %[6]s.",
		wall:               "measured at the wall socket",
		parts:              "measured on its processors and memory",
		estimated:          "ESTIMATED from how busy it is, not measured",
		silentStartSubject: "No news from %s",
		silentStart:        "%[1]s has sent no power reading since %[2]s (%[3]s). The machine may be off, or its measuring agent stopped.",
		silentEndSubject:   "%s is reporting again",
		silentEnd:          "%[1]s sends its power readings again, after %[2]s without.",
		modelStartSubject:  "The power of %s is now only estimated",
		modelStart:         "Since %[2]s, the power of %[1]s can no longer be measured: its figures are now an estimate worked out from how busy it is, not a measurement. Its energy counters may have become unreadable.",
		modelEndSubject:    "%s is measured again",
		modelEnd:           "The power of %[1]s is measured again, after %[2]s of estimates.",
		vmStartSubject:     "The virtual machine %s uses more than %s of %s",
		vmStart:            "Since %[4]s, the virtual machine %[1]s has used more than %[2]s of the energy of %[3]s (%[5]s right now). Another message will follow when it is back under %[6]s.",
		vmEndSubject:       "The virtual machine %s is back under %s of %s",
		vmEnd:              "The virtual machine %[1]s uses less than %[2]s of the energy of %[3]s again (%[4]s right now), after %[5]s; at its highest: %[6]s.",
	}
}

// watts: whole watts from 10 W, one decimal below.
func watts(w float64, lang string) string {
	d := 0
	if math.Abs(w) < 10 {
		d = 1
	}
	return numfmt.Number(w, d, lang) + nbsp + "W"
}

// percent: a share 0..1 as "62 %" (fr: a narrow no-break space before %;
// en: none).
func percent(s float64, lang string) string {
	p := s * 100
	d := 0
	if p < 10 {
		d = 1
	}
	if lang == "fr" {
		return numfmt.Number(p, d, lang) + nnbsp + "%"
	}
	return numfmt.Number(p, d, lang) + "%"
}

// duration in everyday words: "45 seconds", "12 minutes", "2 h 05".
func duration(d time.Duration, lang string) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		if lang == "fr" {
			return fmt.Sprintf("%d secondes", int(d.Seconds()))
		}
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	case d < time.Hour:
		m := int(d.Round(time.Minute).Minutes())
		if m == 1 {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", m)
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%d"+nbsp+"h"+nbsp+"%02d", int(d.Hours()), int(d.Minutes())%60)
	default:
		if lang == "fr" {
			return fmt.Sprintf("%d jours", int(d.Hours()/24))
		}
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
}

// clock is a time of day in loc, with the day where it is not today's.
func clock(t, now time.Time, loc *time.Location, lang string) string {
	t, now = t.In(loc), now.In(loc)
	zone, _ := t.Zone()
	if lang == "fr" {
		s := t.Format("15") + nnbsp + "h" + nnbsp + t.Format("04") + " " + zone
		if t.YearDay() != now.YearDay() || t.Year() != now.Year() {
			s = "le " + t.Format("02/01") + " à " + s
		}
		return s
	}
	s := t.Format("15:04") + " " + zone
	if t.YearDay() != now.YearDay() || t.Year() != now.Year() {
		s = t.Format("Jan 2") + ", " + s
	}
	return s
}

// likeness is ", as much as 139 LED bulbs": the power in the table's
// first power metaphor; "" without one.
func likeness(w float64, table []metaphor.Metaphor, format, lang string) string {
	if table == nil {
		table = metaphor.Defaults()
	}
	for _, m := range table {
		if m.Kind() == metaphor.Power && m.Watts != nil && *m.Watts > 0 {
			n := math.Round(m.Value(energy.Power(w), 0))
			label := m.LabelFor(lang, n)
			if n < 1 || n < 2 && label == m.LabelIn(lang) {
				// "0 LED bulbs" says nothing, and a metaphor of one's own
				// without a singular label would read "1 kettles".
				return ""
			}
			return fmt.Sprintf(format, numfmt.Number(n, 0, lang), label)
		}
	}
	return ""
}

// frenchPunctuation puts a narrow no-break space before : ; ! ? where the
// wording has a plain space (the wording is written with plain spaces).
func frenchPunctuation(s string) string {
	return strings.NewReplacer(" :", nnbsp+":", " ;", nnbsp+";", " !", nnbsp+"!", " ?", nnbsp+"?").Replace(s)
}

// Message puts e in words in lang ("en" or "fr"), times in loc; a power
// alert's start says what the power is as much as, in the first power
// metaphor of table (the plugin's LED bulbs by default).
func (r Rules) Message(e Event, lang string, loc *time.Location, table []metaphor.Metaphor) message.Message {
	w := wordsFor(lang)
	a := e.Alert
	var subject, text string
	var args func(host, vm string) []any
	var subjectArgs func(host, vm string) []any
	switch {
	case a.Kind == Power && e.Kind == message.AlertStart:
		basis := w.parts
		if e.Wall {
			basis = w.wall
		}
		if e.Estimated {
			basis = w.estimated
		}
		subject, text = w.powerStartSubject, w.powerStart
		subjectArgs = func(h, _ string) []any { return []any{h, watts(r.PowerAbove, lang)} }
		like := likeness(e.Value, table, w.asMuchAs, lang)
		args = func(h, _ string) []any {
			return []any{h, watts(r.PowerAbove, lang), clock(a.Since, e.At, loc, lang), watts(e.Value, lang), basis, watts(r.PowerBelow, lang), like}
		}
	case a.Kind == Power:
		subject, text = w.powerEndSubject, w.powerEnd
		subjectArgs = func(h, _ string) []any { return []any{h, watts(r.PowerBelow, lang)} }
		args = func(h, _ string) []any {
			return []any{h, watts(r.PowerBelow, lang), watts(e.Value, lang), duration(e.At.Sub(a.Since), lang), watts(r.PowerAbove, lang), watts(a.Peak, lang)}
		}
	case a.Kind == Silent && e.Kind == message.AlertStart:
		subject, text = w.silentStartSubject, w.silentStart
		subjectArgs = func(h, _ string) []any { return []any{h} }
		args = func(h, _ string) []any {
			return []any{h, clock(a.Since, e.At, loc, lang), duration(e.At.Sub(a.Since), lang)}
		}
	case a.Kind == Silent:
		subject, text = w.silentEndSubject, w.silentEnd
		subjectArgs = func(h, _ string) []any { return []any{h} }
		args = func(h, _ string) []any { return []any{h, duration(e.At.Sub(a.Since), lang)} }
	case a.Kind == Model && e.Kind == message.AlertStart:
		subject, text = w.modelStartSubject, w.modelStart
		subjectArgs = func(h, _ string) []any { return []any{h} }
		args = func(h, _ string) []any { return []any{h, clock(a.Since, e.At, loc, lang)} }
	case a.Kind == Model:
		subject, text = w.modelEndSubject, w.modelEnd
		subjectArgs = func(h, _ string) []any { return []any{h} }
		args = func(h, _ string) []any { return []any{h, duration(e.At.Sub(a.Since), lang)} }
	case e.Kind == message.AlertStart: // VMShare
		subject, text = w.vmStartSubject, w.vmStart
		subjectArgs = func(h, vm string) []any { return []any{vm, percent(r.VMShareAbove, lang), h} }
		args = func(h, vm string) []any {
			return []any{vm, percent(r.VMShareAbove, lang), h, clock(a.Since, e.At, loc, lang), percent(e.Value, lang), percent(r.VMShareBelow, lang)}
		}
	default:
		subject, text = w.vmEndSubject, w.vmEnd
		subjectArgs = func(h, vm string) []any { return []any{vm, percent(r.VMShareBelow, lang), h} }
		args = func(h, vm string) []any {
			return []any{vm, percent(r.VMShareBelow, lang), h, percent(e.Value, lang), duration(e.At.Sub(a.Since), lang), percent(a.Peak, lang)}
		}
	}
	// Names are never capitalised: a host is called what it is called.
	fix := func(s string) string {
		if lang == "fr" {
			s = frenchPunctuation(s)
		}
		return s
	}
	plainHost, plainVM := escape.Plain(a.Host), escape.Plain(a.VM)
	m := message.Message{
		ID: e.ID(), Kind: e.Kind, Lang: lang,
		Subject: fix(fmt.Sprintf(subject, subjectArgs(plainHost, plainVM)...)),
		Text:    fix(fmt.Sprintf(text, args(plainHost, plainVM)...)) + "\n",
	}
	m.HTML = "<p>" + fix(fmt.Sprintf(text, args("<strong>"+escape.HTML(a.Host)+"</strong>", "<strong>"+escape.HTML(a.VM)+"</strong>")...)) + "</p>\n"
	m.Markdown = fix(fmt.Sprintf(text, args("*"+escape.Markdown(a.Host)+"*", "*"+escape.Markdown(a.VM)+"*")...))
	return m
}
