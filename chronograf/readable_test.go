package chronograf

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/greencampus/powerinput/chronograf/internal/dashboards"
	"github.com/greencampus/powerinput/internal/metaphor"
)

// The project's own rules for dashboards people can read without the
// README: each number says its unit and its host, tables have a row per
// series, graphs say which line is which, and the same quantity is rounded
// the same way everywhere.
func TestReadable(t *testing.T) {
	digits := map[string]int{} // unit shown → digits
	unitOf := map[string]string{}
	for file, d := range readDashboards(t) {
		for _, c := range d.Cells {
			where := fmt.Sprintf("%s, cell %s", file, c.I)
			if strings.TrimSpace(c.Name) == "" {
				t.Errorf("%s: no title", where)
			}
			host := false
			for _, q := range c.Queries {
				host = host || strings.Contains(q.Query, ":host:")
			}
			if host && !strings.Contains(c.Name, ":host:") {
				t.Errorf("%s: %q shows the selected host's data without naming it (:host: in the title)", where, c.Name)
			}
			unit := ""
			switch c.Type {
			case "single-stat":
				unit = strings.TrimSpace(c.Axes["y"].Prefix + " " + c.Axes["y"].Suffix)
				if unit == "" {
					t.Errorf("%s: a bare number: say what it counts with a suffix", where)
				}
			case "line", "line-stacked", "line-stepplot", "bar":
				unit = c.Axes["y"].Label
				if unit == "" {
					t.Errorf("%s: the y axis has no unit", where)
				}
				if c.Legend.Type != "static" {
					t.Errorf("%s: no legend: which line is which?", where)
				}
			case "table":
				if c.TableOptions == nil || !c.TableOptions.VerticalTimeAxis {
					t.Errorf("%s: a table with a column per series; use verticalTimeAxis (a row per series)", where)
				}
				for _, f := range c.FieldOptions {
					if f.Visible && f.DisplayName == "" {
						t.Errorf("%s: column %s shows its internal name", where, f.InternalName)
					}
				}
			}
			if c.Type != "note" && !c.DecimalPlaces.IsEnforced {
				t.Errorf("%s: decimals not set: values show with all their digits", where)
			}
			if unit != "" {
				key := dimension(unit)
				if n, ok := digits[key]; ok && n != c.DecimalPlaces.Digits {
					t.Errorf("%s: %q with %d decimals, but %d in %s", where, unit, c.DecimalPlaces.Digits, n, unitOf[key])
				}
				digits[key], unitOf[key] = c.DecimalPlaces.Digits, where
			}
		}
	}
}

// dimension groups units for the decimals rule: counts of things (LED
// bulbs, PS5s) are rounded alike whatever they count.
func dimension(unit string) string {
	switch unit {
	case "W", "Wh", "kWh", "%", "bit/s":
		return unit
	}
	if strings.HasPrefix(unit, "g ") {
		return "g"
	}
	return "count"
}

var alias = regexp.MustCompile(`AS "[^"]*"`)

// The English and French everyday dashboards are twins: same cells, same
// queries (up to the names of the series, which the legends show), same
// rounding, same sources.
func TestEverydayTwins(t *testing.T) {
	ds := readDashboards(t)
	en, fr := ds["everyday-en.dashboard"], ds["everyday-fr.dashboard"]
	if len(en.Cells) != len(fr.Cells) || len(en.Templates) != len(fr.Templates) {
		t.Fatalf("%d cells and %d templates in English, %d and %d in French", len(en.Cells), len(en.Templates), len(fr.Cells), len(fr.Templates))
	}
	for i := range en.Cells {
		a, b := en.Cells[i], fr.Cells[i]
		if a.X != b.X || a.Y != b.Y || a.W != b.W || a.H != b.H || a.Type != b.Type || len(a.Queries) != len(b.Queries) {
			t.Errorf("cell %d differs in layout or type between the twins", i)
			continue
		}
		if a.DecimalPlaces != b.DecimalPlaces {
			t.Errorf("cell %d: decimals differ between the twins", i)
		}
		if strings.Contains(a.Name, ":host:") != strings.Contains(b.Name, ":host:") {
			t.Errorf("cell %d: one twin names the host, the other not", i)
		}
		for j := range a.Queries {
			if alias.ReplaceAllString(a.Queries[j].Query, "AS _") != alias.ReplaceAllString(b.Queries[j].Query, "AS _") {
				t.Errorf("cell %d: queries differ between the twins:\n%s\n%s", i, a.Queries[j].Query, b.Queries[j].Query)
			}
		}
		if sources(a.Note) != sources(b.Note) {
			t.Errorf("cell %d: the twins cite %q and %q", i, sources(a.Note), sources(b.Note))
		}
	}
}

// sources lists the metaphor sources a text cites.
func sources(text string) string {
	var out []string
	for _, m := range dashboards.Metaphors {
		if strings.Contains(text, m.Source) {
			out = append(out, m.Source)
		}
	}
	return strings.Join(out, ", ")
}

// Each metaphor a dashboard shows keeps its source: in the note of the
// cell that shows it and in the dashboard's note cell.
func TestMetaphorsCiteTheirSource(t *testing.T) {
	for file, d := range readDashboards(t) {
		notes := ""
		for _, c := range d.Cells {
			if c.Type == "note" {
				notes += c.Note
			}
		}
		for _, c := range d.Cells {
			for _, q := range c.Queries {
				for _, m := range dashboards.Metaphors {
					if !strings.Contains(q.Query, `"`+m.Field+`"`) {
						continue
					}
					if c.Type == "single-stat" && !strings.Contains(c.Note, m.Source) {
						t.Errorf("%s, cell %s: shows %s without its source (%s) in its note", file, c.I, m.Field, m.Source)
					}
					if !strings.Contains(notes, m.Source) {
						t.Errorf("%s: shows %s but its note cell does not cite %s", file, m.Field, m.Source)
					}
				}
			}
		}
	}
}

// The dashboards' figures are the plugin's: same fields, same watts or
// watt-hours, same sources.
func TestMetaphorsMatchThePlugin(t *testing.T) {
	plugin := metaphor.Defaults()
	if len(plugin) != len(dashboards.Metaphors) {
		t.Fatalf("the plugin has %d default metaphors, the dashboards %d", len(plugin), len(dashboards.Metaphors))
	}
	for i, p := range plugin {
		d := dashboards.Metaphors[i]
		var watts, wh float64
		if p.Watts != nil {
			watts = *p.Watts
		}
		if p.WattHours != nil {
			wh = *p.WattHours
		}
		if p.Field != d.Field || watts != d.Watts || wh != d.WattHours {
			t.Errorf("plugin %s (%v W, %v Wh), dashboards %s (%v W, %v Wh)", p.Field, watts, wh, d.Field, d.Watts, d.WattHours)
		}
		if !strings.Contains(p.Source, d.Source) {
			t.Errorf("%s: the plugin's source %q does not name %q", p.Field, p.Source, d.Source)
		}
	}
}
