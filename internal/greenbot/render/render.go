// Package render writes a digest for people, in English or French, in the
// three forms a message.Message carries: plain text, HTML (for mail and
// Matrix) and Markdown (for chat webhooks). Every name from the database
// goes through package escape for its form; the bot's own words do not
// need to.
package render

import (
	"fmt"
	"html"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/greencampus/powerinput/internal/greenbot/chart"
	"github.com/greencampus/powerinput/internal/greenbot/digest"
	"github.com/greencampus/powerinput/internal/greenbot/escape"
	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// Options of a rendering.
type Options struct {
	Lang string // "en" or "fr"
	// ID names the message (the digest's name and period).
	ID string
	// Late, when not zero, is when the digest was due: the texts say it
	// comes late.
	Late time.Time
	// MaxHosts bounds the machines listed one by one; the rest are
	// summed in one line. 0: 30.
	MaxHosts int
	// NoChart leaves the picture out.
	NoChart bool
}

func wordsFor(lang string) words {
	if lang == "fr" {
		return french
	}
	return english
}

// seg is a piece of a line: the bot's words, or a name from the database.
type seg struct {
	text       string
	name, bold bool
}

type blockKind int

const (
	heading blockKind = iota
	para
	item    // a list item
	subitem // a line under an item
	small   // a note in smaller type
	picture
)

type block struct {
	kind blockKind
	segs []seg
}

type doc struct{ blocks []block }

func w(s string) seg  { return seg{text: s} }
func b(s string) seg  { return seg{text: s, bold: true} }
func nm(s string) seg { return seg{text: shortName(s), name: true, bold: true} }
func nmPlain(s string) seg {
	return seg{text: shortName(s), name: true}
}

// maxNameRunes bounds a name from the database as shown: a long one is
// cut with an ellipsis, so that one odd name cannot fill a message.
const maxNameRunes = 64

func shortName(s string) string {
	if utf8.RuneCountInString(s) <= maxNameRunes {
		return s
	}
	return string([]rune(s)[:maxNameRunes-1]) + "…"
}

func (d *doc) add(k blockKind, segs ...seg) { d.blocks = append(d.blocks, block{k, segs}) }

// Digest renders d as a Message with its chart.
func Digest(d *digest.Digest, o Options) (message.Message, error) {
	wd := wordsFor(o.Lang)
	lang := wd.lang
	if o.MaxHosts == 0 {
		o.MaxHosts = 30
	}
	start, lastDay := d.Start.In(d.Loc), d.End.In(d.Loc).AddDate(0, 0, -1)
	period := wd.dayPeriod(start)
	if d.Weekly {
		period = wd.weekPeriod(start, lastDay)
	}
	title := wd.title(period)
	var x doc
	x.add(heading, w(title))
	if !o.Late.IsZero() {
		x.add(para, b(wd.late(o.Late.In(d.Loc).Format("2006-01-02 15:04"))))
	}
	if silentAll(d) {
		return none(d, wd, o, title)
	}
	totEnergy := kwh(lang, d.Total.Joules)
	if d.Total.EstimatedJoules > 0 {
		totEnergy += " (" + wd.ofWhichEst(kwh(lang, d.Total.EstimatedJoules)) + ")"
	}
	tot := wd.total(d.WithData(), totEnergy)
	if d.Total.HasCO2 {
		tot += wd.co2(grams(lang, d.Total.CO2Grams), d.CO2Hosts(), d.WithData()) + intensity(wd, d)
	}
	subject := kwh(lang, d.Total.Joules)
	// Only guest VMs wrote (their hypervisor is not in the list): their
	// energy is a share of a hypervisor's, not "0 machines used 0 Wh".
	if n, j := guests(d); d.WithData() == 0 && n > 0 {
		tot, subject = wd.guestTotal(n, kwh(lang, j)), kwh(lang, j)
	}
	x.add(para, b(tot+"."))
	if eq := equivalents(wd, d.Total.Equivalents, d.Weekly); eq != "" {
		x.add(para, w(wd.asMuchAs+" "+eq+"."))
	}
	x.add(para, w(compare(wd, d.Total, d.Weekly)))
	if !o.NoChart {
		x.add(picture)
	}
	x.add(heading, w(wd.byHost))
	shown := d.Hosts
	if len(shown) > o.MaxHosts {
		shown = shown[:o.MaxHosts]
	}
	for _, h := range shown {
		if h.NoData() {
			x.add(item, nm(h.Name), w(sep(lang)+wd.noData))
			continue
		}
		line := []seg{nm(h.Name), w(sep(lang) + kwh(lang, h.Joules))}
		// An estimate is said as such before anything else about the
		// figure; a measured basis is named only for measured energy.
		switch {
		case h.Guest:
			line = append(line, w(" ("+wd.guest+")"))
		case h.Joules > 0 && h.EstimatedJoules >= h.Joules*(1-1e-9):
			line = append(line, w(" ("+wd.estimatedAll+")"))
		case h.Wall:
			line = append(line, w(" ("+wd.atWall+")"))
		case h.Joules > 0 && !h.PartWall:
			line = append(line, w(" ("+wd.partsOnly+")"))
		}
		if h.EstimatedJoules > 0 && h.EstimatedJoules < h.Joules*(1-1e-9) {
			line = append(line, w(", "+wd.ofWhichEst(kwh(lang, h.EstimatedJoules))))
		}
		if h.HasCO2 && h.Joules > 0 {
			line = append(line, w(", "+grams(lang, h.CO2Grams)+unitSpace+"CO₂"))
		}
		if eq := equivalents(wd, h.Equivalents, d.Weekly); eq != "" {
			line = append(line, w(" — "+eq))
		}
		x.add(item, line...)
		if h.Joules > 0 {
			x.add(subitem, w(compact(wd, h.Amount, d.Weekly)))
		}
		// Shares are of the energy divided (processors, memory, GPUs):
		// where the line above counts the wall, say so, or 10 % of the
		// parts would read as a wrong 10 % of the wall's figure.
		vms, services := wd.vms, wd.services
		if h.Wall || h.PartWall {
			vms, services = vms+" "+wd.ofParts, services+" "+wd.ofParts
		}
		if len(h.VMs) > 0 {
			x.add(subitem, partsLine(wd, vms, h.VMs, h.OtherVMs, d.Weekly)...)
			if top := h.VMs[0]; top.Equivalent != nil {
				before, after, _ := strings.Cut(wd.topVM("\x00", equivalents(wd, []digest.Equivalent{*top.Equivalent}, d.Weekly)), "\x00")
				x.add(subitem, w(before), nmPlain(top.Name), w(after))
			}
		}
		if len(h.Services) > 0 {
			x.add(subitem, partsLine(wd, services, h.Services, digest.Part{}, d.Weekly)...)
		}
		if h.Unused.Joules > 0 {
			x.add(subitem, w(wd.unused(percent(lang, h.Unused.Share))+" "+wd.unusedExplain+"."))
		}
	}
	if rest := d.Hosts[len(shown):]; len(rest) > 0 {
		var j float64
		for _, h := range rest {
			j += h.Joules
		}
		x.add(item, w(wd.moreHosts(len(rest), kwh(lang, j))+"."))
	}
	quality(&x, wd, d, o.MaxHosts)
	x.add(small, w(wd.footer))

	m := message.Message{ID: o.ID, Kind: message.Digest, Lang: lang, Subject: title + " — " + subject + subjectMark(wd, d.Total), Late: !o.Late.IsZero()}
	var img *message.Image
	if !o.NoChart {
		png, err := chart.PNG(bars(wd, d), chart.Labels{Title: wd.chartTitle, YAxis: wd.chartY, ThisWeek: wd.thisWeek, PrevWeek: wd.prevWeek}, 720, 320)
		if err != nil {
			return m, err
		}
		m.Images = []message.Image{{Name: "energy-per-day.png", CID: "chart@greenbot", ContentType: "image/png", Alt: wd.chartAlt, Data: png}}
		img = &m.Images[0]
	}
	m.Text = x.text()
	m.HTML = x.html(lang, title, img)
	m.Markdown = x.markdown()
	return m, nil
}

// intensity names the rate the CO₂ was counted at, from the data.
func intensity(wd words, d *digest.Digest) string {
	lo, hi, ok := d.Intensity()
	if !ok {
		return ""
	}
	a, z := perKWh(wd.lang, lo), perKWh(wd.lang, hi)
	// Machines set alike differ by float noise only (55.4999… and
	// 55.5000…): compare the rates, not their rounded strings.
	if hi-lo <= 1e-6*hi {
		return wd.at(a+unitSpace+"g/kWh", false)
	}
	if wd.lang == "fr" {
		return wd.at("de "+a+" à "+z+unitSpace+"g/kWh", true)
	}
	return wd.at(a+"–"+z+unitSpace+"g/kWh", true)
}

// perKWh writes grams per kWh as a setting is written: up to three
// significant digits, no trailing zeros (55.6, 5, 0.004, 420).
func perKWh(lang string, g float64) string {
	if g <= 0 || math.IsNaN(g) || math.IsInf(g, 0) {
		return num(lang, 0, 0)
	}
	d := max(0, 2-int(math.Floor(math.Log10(g))))
	r := roundTo(g, d)
	for d > 0 && roundTo(r, d-1) == r {
		d--
	}
	return num(lang, r, d)
}

// roundTo rounds v to d decimals.
func roundTo(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// guests returns how many guest VMs wrote and their energy.
func guests(d *digest.Digest) (n int, joules float64) {
	for _, h := range d.Hosts {
		if h.Guest && !h.NoData() {
			n++
			joules += h.Joules
		}
	}
	return n, joules
}

// silentAll reports whether no host, guest or not, wrote in the period.
func silentAll(d *digest.Digest) bool {
	for _, h := range d.Hosts {
		if !h.NoData() {
			return false
		}
	}
	return true
}

// none is the digest of a period no machine wrote in: a zero total, an
// empty list and a chart of nothing would read like a quiet campus, when
// the measurements (or the bot's way to them) are broken. It says so, and
// where to look.
func none(d *digest.Digest, wd words, o Options, title string) (message.Message, error) {
	var x doc
	x.add(heading, w(title))
	if !o.Late.IsZero() {
		x.add(para, b(wd.late(o.Late.In(d.Loc).Format("2006-01-02 15:04"))))
	}
	x.add(para, b(wd.noneSent(d.Weekly)))
	x.add(para, w(wd.noneSentHint))
	if d.Rollup != "" {
		x.add(para, w(wd.noneRollup(d.Rollup)))
	}
	if len(d.Hosts) > 0 {
		names := make([][]seg, len(d.Hosts))
		for i, h := range d.Hosts {
			names[i] = []seg{nmPlain(h.Name)}
		}
		x.add(para, append(append([]seg{w(wd.noneSentNamed(len(names)) + " ")}, list(wd, names, o.MaxHosts)...), w("."))...)
	}
	x.add(small, w(wd.footer))
	m := message.Message{ID: o.ID, Kind: message.Digest, Lang: wd.lang, Subject: title + " — " + wd.subjectNone, Late: !o.Late.IsZero()}
	m.Text = x.text()
	m.HTML = x.html(wd.lang, title, nil)
	m.Markdown = x.markdown()
	return m, nil
}

func equivalents(wd words, eqs []digest.Equivalent, weekly bool) string {
	var parts []string
	for _, e := range eqs {
		label := e.Metaphor.LabelFor(wd.lang, shownCount(e.Count))
		s := count(wd.lang, e.Count) + " " + label
		if e.Metaphor.WattHours == nil {
			s = count(wd.lang, e.Count) + " " + wd.powerAll(label, weekly)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " · ")
}

// ratio is the change from an earlier period's energy then to a's, less
// one: on energy per hour where both lengths are known, since a day of a
// clock change (23 or 25 hours) is no change of use.
func ratio(a digest.Amount, then, thenSeconds float64) float64 {
	if a.Seconds > 0 && thenSeconds > 0 {
		return (a.Joules/a.Seconds)/(then/thenSeconds) - 1
	}
	return a.Joules/then - 1
}

// compare says how an amount compares with the period a week before and
// with the mean of the weeks before.
func compare(wd words, a digest.Amount, weekly bool) string {
	if !a.HasPrev && a.MeanOf == 0 {
		return wd.noCompare
	}
	lang := wd.lang
	var out []string
	change := func(then, thenSeconds float64) (string, string) {
		if then <= 0 {
			return "", ""
		}
		r := ratio(a, then, thenSeconds)
		dir := wd.more
		if r < 0 {
			dir = wd.less
		}
		if math.Abs(r) < 0.005 {
			return "≈", ""
		}
		return percent(lang, math.Abs(r)), dir
	}
	if a.HasPrev {
		if pct, dir := change(a.Prev, a.PrevSeconds); pct == "≈" {
			out = append(out, wd.sameAs(weekly, false, kwh(lang, a.Prev), 1))
		} else if pct != "" {
			if weekly {
				out = append(out, wd.vsPrevWeek(pct, dir, kwh(lang, a.Prev)))
			} else {
				out = append(out, wd.vsPrevDay(pct, dir, kwh(lang, a.Prev)))
			}
		}
	}
	if showMean(a) {
		if pct, dir := change(a.Mean, a.MeanSeconds); pct == "≈" {
			out = append(out, wd.sameAs(weekly, true, kwh(lang, a.Mean), a.MeanOf))
		} else if pct != "" {
			out = append(out, wd.vsMean(pct, dir, kwh(lang, a.Mean), a.MeanOf))
		}
	}
	if len(out) == 0 {
		return wd.noCompare
	}
	return capital(strings.Join(out, nnbspIf(lang)+"; ")) + "."
}

// subjectMark says in the subject that the total is not all measured.
func subjectMark(wd words, a digest.Amount) string {
	switch {
	case a.EstimatedJoules <= 0 || a.Joules <= 0:
		return ""
	case a.EstimatedJoules >= a.Joules*(1-1e-9):
		return " (" + wd.subjectEstimated + ")"
	}
	return " (" + wd.subjectPartly + ")"
}

// showMean says whether the mean of the weeks before tells more than the
// week before: the mean of one week, where the week before has data, is
// that week.
func showMean(a digest.Amount) bool {
	return a.MeanOf > 1 || a.MeanOf == 1 && !a.HasPrev
}

// compact is compare in short, for one host: "same day last week:
// 6.60 kWh (−10%) · average of the 4 weeks before: 6.60 kWh (−10%)".
func compact(wd words, a digest.Amount, weekly bool) string {
	lang := wd.lang
	one := func(label string, then, thenSeconds float64) string {
		s := capital(label) + sep(lang) + kwh(lang, then)
		if then <= 0 {
			return s
		}
		r := ratio(a, then, thenSeconds)
		switch {
		case math.Abs(r) < 0.005:
			return s + " (" + wd.unchanged + ")"
		case r > 0:
			return s + " (+" + percent(lang, r) + ")"
		}
		return s + " (−" + percent(lang, -r) + ")"
	}
	var out []string
	if a.HasPrev {
		out = append(out, one(wd.prevLabel(weekly), a.Prev, a.PrevSeconds))
	}
	if showMean(a) {
		out = append(out, one(wd.meanLabel(a.MeanOf), a.Mean, a.MeanSeconds))
	}
	if len(out) == 0 {
		return wd.noCompare
	}
	return strings.Join(out, " · ")
}

// capital gives s a capital first letter.
func capital(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func partsLine(wd words, label string, parts []digest.Part, other digest.Part, weekly bool) []seg {
	segs := []seg{w(label + sep(wd.lang))}
	for i, p := range parts {
		if i > 0 {
			segs = append(segs, w(", "))
		}
		if k, ok := wd.kinds[p.Kind]; ok {
			segs = append(segs, w(k+" "))
		}
		segs = append(segs, nmPlain(p.Name), w(" "+kwh(wd.lang, p.Joules)+" ("+percent(wd.lang, p.Share)+")"))
	}
	if other.Joules > 0 {
		segs = append(segs, w(", … "+kwh(wd.lang, other.Joules)+" ("+percent(wd.lang, other.Share)+")"))
	}
	return segs
}

func sep(lang string) string {
	if lang == "fr" {
		return nnbsp + ": "
	}
	return ": "
}

// quality says how much was measured, and names the hosts estimated and
// the hosts silent, at most maxNames of each.
func quality(x *doc, wd words, d *digest.Digest, maxNames int) {
	lang := wd.lang
	x.add(heading, w(wd.quality))
	// The total counts machines with data, VMs left out; this sentence
	// counts every machine: say which more, or the counts disagree.
	var guests, silents bool
	for _, h := range d.Hosts {
		guests = guests || h.Guest
		silents = silents || h.NoData()
	}
	x.add(para, w(wd.measured(percent(lang, d.Measured), d.Reporting, d.Weekly)+wd.included(guests, silents)+"."))
	var est, silent [][]seg
	var estTime float64
	for _, h := range d.Hosts {
		if h.Estimated > 0 {
			est = append(est, []seg{nmPlain(h.Name)})
			estTime += h.Estimated
		}
		if h.Missing >= 0.01 {
			what := wd.silentFor(percent(lang, h.Missing))
			if h.Missing >= 1 {
				what = wd.noData
			}
			silent = append(silent, []seg{nmPlain(h.Name), w(" (" + what + ")")})
		}
	}
	if len(est) > 0 {
		// The names are data: put them in as segments.
		text := wd.estimated("\x00", percent(lang, estTime/float64(len(est))))
		before, after, _ := strings.Cut(text, "\x00")
		segs := append([]seg{w(before)}, list(wd, est, maxNames)...)
		x.add(para, append(segs, w(after))...)
	}
	if len(silent) > 0 {
		x.add(para, append(append([]seg{w(wd.silent + " ")}, list(wd, silent, maxNames)...), w("."))...)
	}
	x.add(small, w(wd.basis))
}

// list joins items with commas, the first max of them, then "and N more".
func list(wd words, items [][]seg, max int) []seg {
	var segs []seg
	for i, it := range items {
		if i == max {
			return append(segs, w(" "+wd.andMore(len(items)-max)))
		}
		if i > 0 {
			segs = append(segs, w(", "))
		}
		segs = append(segs, it...)
	}
	return segs
}

func bars(wd words, d *digest.Digest) []chart.Bar {
	out := make([]chart.Bar, len(d.Days))
	for i, day := range d.Days {
		t := day.Date.In(d.Loc)
		out[i] = chart.Bar{
			Label: fmt.Sprintf("%s %d", wd.weekday[t.Weekday()][:3], t.Day()),
			KWh:   day.Joules / 3.6e6, PrevKWh: day.PrevJoule / 3.6e6,
			HasKWh: day.HasData, HasPrev: day.HasPrev,
		}
	}
	return out
}

// text is the plain form.
func (x *doc) text() string {
	var sb strings.Builder
	for _, bl := range x.blocks {
		line := ""
		for _, s := range bl.segs {
			if s.name {
				line += escape.Plain(s.text)
			} else {
				line += s.text
			}
		}
		switch bl.kind {
		case heading:
			sb.WriteString("\n" + line + "\n" + strings.Repeat("=", min(len([]rune(line)), 72)) + "\n")
		case item:
			sb.WriteString("\n* " + line + "\n")
		case subitem:
			sb.WriteString("    " + line + "\n")
		case picture:
		default:
			sb.WriteString("\n" + line + "\n")
		}
	}
	return strings.TrimLeft(sb.String(), "\n")
}

// markdown is the chat form (Slack's mrkdwn: *bold*).
func (x *doc) markdown() string {
	var sb strings.Builder
	// Slack's three escapes, for the bot's own words.
	slack := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	for _, bl := range x.blocks {
		line := ""
		for _, s := range bl.segs {
			t := s.text
			if s.name {
				t = escape.Markdown(t)
			} else {
				t = escape.Mentions(slack.Replace(t))
			}
			if s.bold && strings.TrimSpace(t) != "" {
				t = "*" + t + "*"
			}
			line += t
		}
		switch bl.kind {
		case heading:
			sb.WriteString("\n*" + line + "*\n")
		case item:
			sb.WriteString("• " + line + "\n")
		case subitem:
			sb.WriteString("    ◦ " + line + "\n")
		case picture:
		case small:
			sb.WriteString("\n_" + line + "_\n")
		default:
			sb.WriteString("\n" + line + "\n")
		}
	}
	return strings.TrimLeft(sb.String(), "\n")
}

// command is a command the bot's words name ("powerinput -doctor"): in
// HTML it is code and never broken at its hyphen.
var command = regexp.MustCompile(`\b(powerinput|greenbot) -[a-z_]+`)

// html is the mail form: simple markup with inline styles, which mail
// programs keep.
func (x *doc) html(lang, title string, img *message.Image) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "<!DOCTYPE html>\n<html lang=%q><head><meta charset=\"utf-8\"><title>%s</title></head>\n", lang, html.EscapeString(title))
	sb.WriteString(`<body style="font-family:Helvetica,Arial,sans-serif;font-size:15px;line-height:1.45;color:#1b1b1b;max-width:760px;margin:0 auto;padding:16px">` + "\n")
	inList := false
	first := true
	for _, bl := range x.blocks {
		line := ""
		for _, s := range bl.segs {
			t := html.EscapeString(s.text)
			if s.name {
				t = escape.HTML(s.text)
			} else {
				t = command.ReplaceAllString(t, `<code style="white-space:nowrap">$0</code>`)
			}
			if s.bold {
				t = "<strong>" + t + "</strong>"
			}
			line += t
		}
		if bl.kind != item && bl.kind != subitem && inList {
			sb.WriteString("</li></ul>\n")
			inList = false
		}
		switch bl.kind {
		case heading:
			if first {
				sb.WriteString(`<h1 style="font-size:22px;color:#2e8b57;margin:0 0 12px">` + line + "</h1>\n")
				first = false
			} else {
				sb.WriteString(`<h2 style="font-size:18px;color:#2e8b57;margin:22px 0 8px;border-bottom:1px solid #d6e9dd">` + line + "</h2>\n")
			}
		case item:
			if inList {
				sb.WriteString("</li>\n")
			} else {
				sb.WriteString(`<ul style="padding-left:20px;margin:0">` + "\n")
				inList = true
			}
			sb.WriteString(`<li style="margin:0 0 10px">` + line)
		case subitem:
			sb.WriteString(`<div style="color:#444;font-size:14px;margin-left:4px">` + line + "</div>")
		case picture:
			if img != nil {
				fmt.Fprintf(&sb, `<p><img src="cid:%s" alt="%s" width="720" style="max-width:100%%;height:auto"></p>`+"\n", html.EscapeString(img.CID), html.EscapeString(img.Alt))
			}
		case small:
			sb.WriteString(`<p style="font-size:13px;color:#666">` + line + "</p>\n")
		default:
			sb.WriteString("<p>" + line + "</p>\n")
		}
	}
	if inList {
		sb.WriteString("</li></ul>\n")
	}
	sb.WriteString("</body></html>\n")
	return sb.String()
}
