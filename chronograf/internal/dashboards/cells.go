package dashboards

import (
	"fmt"
	"strings"
)

// Decimals gives the digits shown for each unit, on every dashboard: the
// same quantity is rounded the same way wherever it appears. Counts are
// the everyday metaphors (LED bulbs, smartphone charges, …). Sig is a
// figure the query rounds to two significant digits (twoDigits), shown as
// it comes: energy, CO₂ and counts over a range, which run from 0.0018 to
// thousands depending on the range.
var Decimals = map[string]int{
	"W":     0,
	"%":     0,
	"bit/s": 0,
	"count": 1,
	Sig:     -1,
}

// Sig is the unit key of figures rounded by their query (twoDigits).
const Sig = "2 significant digits"

// Colours of single numbers: green for a measurement, amber for an
// estimate (and its title says so), grey for what is no one's (the unused
// capacity).
const (
	measuredHex = "#7CE490"
	estimateHex = "#FFB94A"
	greyHex     = "#8E91A1"
)

// spec is what a cell shows; layout places it. Use the constructors below.
type spec struct {
	id, name, kind string
	w, h           int // h 0: the kind's height
	queries        []string
	unit           string        // a key of Decimals
	label          string        // graph: y axis label; single-stat: text after the number
	columns        []FieldOption // table: the visible columns, in order
	note           string        // note cell: its text; other cells: the note in the header
	colors         []string      // graph: the colour scale, when not the default
	tone           string        // single-stat: its colour (measuredHex when "")
	showTime       string        // table: the time column's title, shown first; hidden when ""
	empty          string        // shown in the cell, instead of "No Results", when it has no data
}

// graph is a line graph with a static legend under it.
func graph(id, name string, w int, unit, label string, queries ...string) spec {
	return spec{id: id, name: name, kind: "line", w: w, unit: unit, label: label, queries: queries}
}

// stat is a single number followed by what it counts ("14.9 LED bulbs").
func stat(id, name string, w int, unit, label, query string) spec {
	return spec{id: id, name: name, kind: "single-stat", w: w, unit: unit, label: label, queries: []string{query}}
}

// table is a table with one row per series and the given columns; time is
// hidden (use it for last() and the like, where time says nothing).
func table(id, name string, w int, unit, query string, columns ...FieldOption) spec {
	return spec{id: id, name: name, kind: "table", w: w, unit: unit, queries: []string{query}, columns: columns}
}

// col is a visible table column: a tag key, or "<measurement>.<alias>".
func col(internal, display string) FieldOption {
	return FieldOption{InternalName: internal, DisplayName: display, Visible: true}
}

// note is a Markdown note across the whole width.
func note(id, name, text string) spec {
	return spec{id: id, name: name, kind: "note", w: 12, note: text}
}

// withNote adds a note to the cell's header (Chronograf shows an icon;
// the text appears on hover).
func (s spec) withNote(text string) spec { s.note = text; return s }

// whenEmpty is what the cell says when its query returns nothing
// (Chronograf then shows the note in the cell, instead of "No Results"):
// a silent host, a meter it lacks.
func (s spec) whenEmpty(text string) spec { s.empty = text; return s }

// silence is what a "right now" cell says without data, in lang.
func silence(lang string) string {
	if lang == "fr" {
		return "Rien depuis 3 minutes : la machine est muette (voir ses dernières nouvelles), ou elle n’a pas cette mesure."
	}
	return "Nothing in the last 3 minutes: the machine has gone silent (see when it was last heard from), or it has no such measurement."
}

// withTone sets a single number's colour: estimateHex, greyHex.
func (s spec) withTone(hex string) spec { s.tone = hex; return s }

// withUnit sets the key of Decimals the cell is rounded by.
func (s spec) withUnit(unit string) spec { s.unit = unit; return s }

// tall sets the cell's height in grid rows.
func (s spec) tall(h int) spec { s.h = h; return s }

// withColors sets a graph's colour scale. Chronograf gives one series the
// first colour, two series the first two, and n > 2 series n colours
// spread over the scale (so n colours for n series exactly).
func (s spec) withColors(hex ...string) spec { s.colors = hex; return s }

// row is one row of the grid.
func row(cells ...spec) []spec { return cells }

// layout places rows of cells on the 12-column grid, each row directly
// under the previous one and every cell of a row as high as the row:
// compact as Chronograf's grid wants it, so the browser never moves a cell
// (and never re-saves the file).
func layout(prefix string, rows ...[]spec) []Cell {
	var cells []Cell
	y := 0
	for _, r := range rows {
		x, h := 0, 0
		for _, s := range r {
			c := newCell(prefix, s)
			c.X, c.Y = x, y
			x += c.W
			h = max(h, c.H)
			cells = append(cells, c)
		}
		if x > 12 {
			panic(fmt.Sprintf("%s: row at y=%d is %d columns wide", prefix, y, x))
		}
		for i := len(cells) - len(r); i < len(cells); i++ {
			cells[i].H = h
		}
		y += h
	}
	return cells
}

func newCell(prefix string, s spec) Cell {
	digits, ok := Decimals[s.unit]
	if !ok && s.kind != "note" {
		panic(fmt.Sprintf("%s-%s: unit %q has no entry in Decimals", prefix, s.id, s.unit))
	}
	id := prefix + "-" + s.id
	c := Cell{
		I: id, W: s.w, H: s.h, Name: s.name, Type: s.kind,
		Axes: map[string]Axis{
			"x":  axis(),
			"y":  {Bounds: []string{"0", ""}, Label: s.label, Base: "10", Scale: "linear"},
			"y2": axis(),
		},
		Colors:         []Color{},
		FieldOptions:   []FieldOption{},
		DecimalPlaces:  decimals(digits),
		Note:           s.note,
		NoteVisibility: "default",
	}
	for _, q := range s.queries {
		c.Queries = append(c.Queries, Query{Query: q, QueryConfig: map[string]any{}, Type: "influxql"})
	}
	height := 4
	switch s.kind {
	case "note":
		// A note cell needs a query object all the same, or the browser
		// shows an "Add Data" button instead of the text.
		c.Queries = []Query{{Query: "", QueryConfig: map[string]any{}, Type: "influxql"}}
		height = noteHeight(s.note, s.w)
	case "single-stat":
		height = 2
		c.Axes["y"] = Axis{Bounds: []string{"", ""}, Suffix: " " + s.label, Base: "10", Scale: "linear"}
		hex := s.tone
		if hex == "" {
			hex = measuredHex
		}
		c.Colors = []Color{{ID: "base", Type: "text", Hex: hex, Name: hex, Value: "-1000000000000000000"}}
	case "table":
		c.Axes["y"] = axis()
		c.TableOptions = &TableOptions{
			VerticalTimeAxis: true, // one row per series, not one column
			SortBy:           s.columns[0],
			Wrapping:         "truncate",
		}
		c.FieldOptions = append([]FieldOption{{InternalName: "time", DisplayName: s.showTime, Visible: s.showTime != ""}}, s.columns...)
		c.TableOptions.SortBy = c.FieldOptions[0]
		c.TimeFormat = "YYYY-MM-DD HH:mm"
	default:
		c.Legend = Legend{Type: "static", Orientation: "bottom"}
		// Bright on the dark background, legend text included: one series
		// is cyan, two are cyan and amber, more run cyan, green, amber,
		// orange, pink (Chronograf interpolates in LCH).
		hexes := s.colors
		if hexes == nil {
			hexes = []string{"#31C0F6", "#FFB94A", "#FF4D9E"}
		}
		for i, h := range hexes {
			c.Colors = append(c.Colors, Color{ID: fmt.Sprintf("%s-c%d", id, i+1), Type: "scale", Hex: h, Name: h, Value: "0"})
		}
	}
	if s.empty != "" {
		c.Note = strings.TrimSpace(s.empty + " " + s.note)
		c.NoteVisibility = "showWhenNoData"
	}
	if c.H == 0 {
		c.H = height
	}
	return c
}

// decimals enforces digits, or leaves a figure as its query rounded it
// (digits < 0).
func decimals(digits int) DecimalPlaces {
	if digits < 0 {
		return DecimalPlaces{IsEnforced: false, Digits: 2}
	}
	return DecimalPlaces{IsEnforced: true, Digits: digits}
}

// axis is an axis with nothing set: automatic bounds, no label.
func axis() Axis {
	return Axis{Bounds: []string{"", ""}, Base: "10", Scale: "linear"}
}

// noteHeight is enough grid rows (83.5 px and a 4 px margin each) for the
// Markdown text on a 1280 px wide screen: about 12 characters per column
// of width on a line of 24 px, 6 px between paragraphs, 50 px for the title.
func noteHeight(text string, w int) int {
	perLine := 12 * w
	px := 50
	for _, l := range strings.Split(text, "\n") {
		if l == "" {
			px += 6
			continue
		}
		px += 24 * ((len([]rune(l)) + perLine - 1) / perLine)
	}
	return max(2, (px+86)/87)
}

// hostTemplate is the :host: variable: the hosts that have written
// measurement (and match the optional condition). It is of type influxql
// so that the value goes into titles bare (kvm-0); queries quote it
// themselves (onHost).
func hostTemplate(id, label, measurement, cond string) Template {
	q := fmt.Sprintf(`SHOW TAG VALUES ON "%s" FROM "%s" WITH KEY = "host"`, Database, measurement)
	if cond != "" {
		q += " WHERE " + cond
	}
	return Template{
		ID: id, TempVar: ":host:", Type: "influxql", Label: label, Values: []TemplateValue{},
		Query: TemplateQuery{InfluxQL: q, DB: Database, Measurement: measurement, TagKey: "host"},
	}
}

// detailWords is the :detail: menu in one language: the label, then what
// each choice is called, raw points first. Chronograf's menu is about 14
// characters wide and breaks longer words mid-word (TestMenusFit); it
// shows the variable's name, :detail:, not the label.
var detailWords = map[string][4]string{
	"en": {"Detail", "every reading", "5 min summary", "1 h summary"},
	"fr": {"Détail", "chaque mesure", "résumé 5 min", "résumé 1 h"},
}

// detailTemplate is the :detail: variable: which retention policy the
// cells over the time range read (Detail). Chronograf 1.x cannot pick it
// from the range, so the reader does; the default is every measurement,
// which fits the default range (the past 15 minutes). Of type map: the
// menu shows the words, the query gets the policy's name.
func detailTemplate(id, lang string) Template {
	w := detailWords[lang]
	t := Template{ID: id, TempVar: Detail, Type: "map", Label: w[0], Values: []TemplateValue{}}
	for i, rp := range []string{RetentionPolicy, FiveMinuteRollup, HourlyRollup} {
		t.Values = append(t.Values, TemplateValue{Key: w[i+1], Value: rp, Type: "map", Selected: i == 0})
	}
	return t
}

// detailAbout is the paragraph of a dashboard's note that explains
// :detail:.
func detailAbout(lang string) string {
	if lang == "fr" {
		return "Le menu **:detail:** (sous **Variables**) choisit ce que lisent les graphiques et les totaux de la période : *chaque mesure*, ou un résumé gardé par 5 minutes ou par heure, qui répond en une fraction de seconde sur des mois là où chaque mesure prend plusieurs secondes. Un total lu dans un résumé compte des 5 minutes ou des heures entières : celle en cours s’y ajoute quand elle se termine. Pour quelques heures, prenez *chaque mesure* (un résumé n’y montre que quelques points) ; pour des semaines ou plus, *résumé 1 h*. Les chiffres « en ce moment » et les dernières nouvelles lisent toujours chaque mesure."
	}
	return "The **:detail:** menu (under **Variables**) chooses what the charts and the totals over the range read: *every reading*, or a summary kept per 5 minutes or per hour, which answers in a fraction of a second over months where every measurement takes several seconds. A total read from a summary counts whole 5 minutes or hours: the one under way joins it when it ends. For a few hours, choose *every reading* (a summary shows only a few points there); for weeks or more, *1 h summary*. The \"right now\" figures and when each server was last heard from always read every measurement."
}
