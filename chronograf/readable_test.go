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
				// Shown as the query rounds it: the query must round.
				for _, q := range c.Queries {
					if !strings.Contains(q.Query, "log10(") {
						t.Errorf("%s: decimals not set and the query does not round to significant digits: values show with all their digits", where)
					}
				}
				continue
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
	switch {
	case unit == "W" || strings.HasPrefix(unit, "W "):
		return "W"
	case strings.HasPrefix(unit, "%"):
		return "%"
	case unit == "Wh", unit == "kWh", unit == "bit/s":
		return unit
	}
	if strings.HasPrefix(unit, "g ") {
		return "g"
	}
	return "count"
}

var alias = regexp.MustCompile(`AS "[^"]*"`)

// Every dashboard is in English and French, named alike: NAME-en and
// NAME-fr files, "Green Campus (EN) - …" and "Green Campus (FR) - …". The
// twins have the same cells and queries (up to the names of the series,
// which the legends show), the same rounding and the same sources.
func TestTwins(t *testing.T) {
	ds := readDashboards(t)
	for file, en := range ds {
		base, ok := strings.CutSuffix(file, "-en.dashboard")
		if !ok {
			if !strings.HasSuffix(file, "-fr.dashboard") {
				t.Errorf("%s: not named NAME-en.dashboard or NAME-fr.dashboard", file)
			}
			continue
		}
		fr, ok := ds[base+"-fr.dashboard"]
		if !ok {
			t.Errorf("%s has no French twin %s-fr.dashboard", file, base)
			continue
		}
		if !strings.HasPrefix(en.Name, "Green Campus (EN) - ") || !strings.HasPrefix(fr.Name, "Green Campus (FR) - ") {
			t.Errorf("%s: named %q and %q, want Green Campus (EN) - … and Green Campus (FR) - …", base, en.Name, fr.Name)
		}
		checkTwins(t, base, en, fr)
	}
	for file := range ds {
		if base, ok := strings.CutSuffix(file, "-fr.dashboard"); ok {
			if _, ok := ds[base+"-en.dashboard"]; !ok {
				t.Errorf("%s has no English twin", file)
			}
		}
	}
}

func checkTwins(t *testing.T, base string, en, fr Dashboard) {
	t.Helper()
	if len(en.Cells) != len(fr.Cells) || len(en.Templates) != len(fr.Templates) {
		t.Errorf("%s: %d cells and %d templates in English, %d and %d in French", base, len(en.Cells), len(en.Templates), len(fr.Cells), len(fr.Templates))
		return
	}
	for i := range en.Templates {
		if en.Templates[i].TempVar != fr.Templates[i].TempVar || en.Templates[i].Query != fr.Templates[i].Query {
			t.Errorf("%s: template %d differs between the twins", base, i)
		}
	}
	for i := range en.Cells {
		a, b := en.Cells[i], fr.Cells[i]
		// A note is as high as its text, which differs by language.
		if a.X != b.X || a.Y != b.Y || a.W != b.W || (a.H != b.H && a.Type != "note") || a.Type != b.Type || len(a.Queries) != len(b.Queries) {
			t.Errorf("%s: cell %d differs in layout or type between the twins", base, i)
			continue
		}
		if a.DecimalPlaces != b.DecimalPlaces {
			t.Errorf("%s: cell %d: decimals differ between the twins", base, i)
		}
		for _, v := range []string{":host:", ":vm:"} {
			if strings.Contains(a.Name, v) != strings.Contains(b.Name, v) {
				t.Errorf("%s: cell %d: one twin names %s, the other not", base, i, v)
			}
		}
		for j := range a.Queries {
			if alias.ReplaceAllString(a.Queries[j].Query, "AS _") != alias.ReplaceAllString(b.Queries[j].Query, "AS _") {
				t.Errorf("%s: cell %d: queries differ between the twins:\n%s\n%s", base, i, a.Queries[j].Query, b.Queries[j].Query)
			}
		}
		if sources(a.Note) != sources(b.Note) {
			t.Errorf("%s: cell %d: the twins cite %q and %q", base, i, sources(a.Note), sources(b.Note))
		}
	}
}

// sources lists the metaphor sources a text cites.
func sources(text string) string {
	var out []string
	for _, m := range dashboards.Metaphors() {
		if strings.Contains(text, m.Site()) {
			out = append(out, m.Site())
		}
	}
	return strings.Join(out, ", ")
}

// Each metaphor a dashboard shows keeps its source: in the note of the
// cell that shows it and in the dashboard's note cell.
func TestMetaphorsCiteTheirSource(t *testing.T) {
	for file, d := range readDashboards(t) {
		notes := noteCells(d)
		for _, c := range d.Cells {
			for _, q := range c.Queries {
				for _, m := range dashboards.Metaphors() {
					if !strings.Contains(q.Query, `"`+m.Field+`"`) {
						continue
					}
					if c.Type == "single-stat" && !strings.Contains(c.Note, m.Site()) {
						t.Errorf("%s, cell %s: shows %s without its source (%s) in its note", file, c.I, m.Field, m.Site())
					}
					if !strings.Contains(notes, m.Site()) {
						t.Errorf("%s: shows %s but its note cell does not cite %s", file, m.Field, m.Site())
					}
				}
			}
		}
	}
}

// The dashboards take their figures from the plugin's table: every
// default metaphor has its words in both languages, and a note cites the
// plugin's own figure.
func TestMetaphorsAreThePlugin(t *testing.T) {
	ms := dashboards.Metaphors() // panics on a default without words
	if len(ms) != len(metaphor.Defaults()) {
		t.Fatalf("%d metaphors on the dashboards, %d in the plugin", len(ms), len(metaphor.Defaults()))
	}
	for _, m := range ms {
		for _, lang := range []string{"en", "fr"} {
			w := m.Words(lang)
			if w.Unit == "" || !strings.Contains(w.Worth, "%s") {
				t.Errorf("%s: words in %s: %+v", m.Field, lang, w)
			}
		}
		if m.Site() == "" || m.Site() == m.Source {
			t.Errorf("%s: source %q does not start with its site", m.Field, m.Source)
		}
	}
}

// Chronograf cuts a cell's title that is wider than the cell ("Campus
// energy, past 30…"), and the cut part is often what the number covers.
// Budget on a 1366 px wide laptop screen, as measured on screenshots at
// 1440 px: a grid column is about 98 px there, the title's padding 30 px,
// the note icon 22 px, and a character of the title's font 7.5 px on
// average (French accents included). A host or VM name counts 10
// characters (kvm-0, pau-hv-03).
func TestTitlesFit(t *testing.T) {
	vars := strings.NewReplacer(":host:", "1234567890", ":vm:", "1234567890")
	for file, d := range readDashboards(t) {
		for _, c := range d.Cells {
			px := c.W*98 - 30
			if c.Note != "" && c.NoteVisibility != "showWhenNoData" {
				px -= 22
			}
			title := vars.Replace(c.Name)
			if n := len([]rune(title)); n*15 > px*2 {
				t.Errorf("%s, cell %s: the title %q is %d characters, %d fit in %d columns", file, c.I, c.Name, n, px*2/15, c.W)
			}
		}
	}
}

// A table of watts or energy that can hold both measured hosts and
// estimated ones (a condition on "source" other than the measured ones)
// shows each row's source: an estimate's number must not pass for a
// measurement among measured ones.
func TestTablesSayWhatIsEstimated(t *testing.T) {
	measuredOnly := `("source" = 'rapl' OR "source" = 'msr')`
	for file, d := range readDashboards(t) {
		for _, c := range d.Cells {
			if c.Type != "table" {
				continue
			}
			mixed := false
			for _, q := range c.Queries {
				mixed = mixed || strings.Contains(q.Query, `"power_host"`) && !strings.Contains(q.Query, measuredOnly) &&
					!strings.Contains(q.Query, `"source" = 'vm'`) && !strings.Contains(q.Query, `"source" = 'model'`) &&
					!strings.Contains(q.Query, `= ':host:'`)
			}
			if !mixed {
				continue
			}
			shown := false
			for _, f := range c.FieldOptions {
				shown = shown || f.InternalName == "source" && f.Visible
			}
			if !shown {
				t.Errorf("%s, cell %s: %q mixes measured and estimated hosts without a source column", file, c.I, c.Name)
			}
		}
	}
}

// Chronograf sizes a table's columns by their longest value and scrolls
// sideways past the cell's edge: a service named by a container's id
// (8f14e45f-ceea-467f-9d6b-3d2a1c0b9e8d) pushed the kWh off a laptop's
// screen. Names of unbounded length (services, programs, VMs) are the last
// column, so that only they run off.
func TestLongNamesLast(t *testing.T) {
	long := set("unit", "process", "domain")
	for file, d := range readDashboards(t) {
		for _, c := range d.Cells {
			var visible []string
			for _, f := range c.FieldOptions {
				if f.Visible {
					visible = append(visible, f.InternalName[strings.LastIndex(f.InternalName, ".")+1:])
				}
			}
			for i, name := range visible {
				if long[name] && i != len(visible)-1 {
					t.Errorf("%s, cell %s: the column %s, whose values can be long, is not the last (%v)", file, c.I, name, visible)
				}
			}
		}
	}
}

// French texts follow French typography (the typography pass was checked
// in the JSON only, and a plain space before a colon wraps the colon to
// the next line on screen): a narrow no-break space (U+202F) before : ; ! ?
// and inside « », the apostrophe ’. Checked on everything a reader sees:
// titles, notes, column names, menu words, units and series names.
func TestFrenchTypography(t *testing.T) {
	placeholder := regexp.MustCompile(`:[a-zA-Z]+:`)
	rules := []struct {
		bad  *regexp.Regexp
		what string
	}{
		{regexp.MustCompile(`[ \x{a0}][:;!?]`), "a plain space before : ; ! ? (want U+202F)"},
		{regexp.MustCompile(`[\p{L}\d)*][;!?]|[\p{L}\d)*]:(\s|$)`), "no space before : ; ! ? (want U+202F)"},
		{regexp.MustCompile(`\p{L}'\p{L}`), "a typewriter apostrophe (want ’)"},
		{regexp.MustCompile(`«[^\x{202f}]|[^\x{202f}]»`), "« » without U+202F inside"},
		{regexp.MustCompile(`(^|\s)"\p{L}`), "English quotes (want « »)"},
		{regexp.MustCompile(`\d\.\d`), "a decimal point (want a comma)"},
		{regexp.MustCompile(`\d,\d{3}\b`), "a comma between thousands (want U+202F)"},
	}
	for file, d := range readDashboards(t) {
		if !strings.HasSuffix(file, "-fr.dashboard") {
			continue
		}
		var texts []string
		for _, tp := range d.Templates {
			texts = append(texts, tp.Label)
			for _, v := range tp.Values {
				texts = append(texts, v.Key)
			}
		}
		for _, c := range d.Cells {
			texts = append(texts, c.Name, c.Note, c.Axes["y"].Label, c.Axes["y"].Suffix)
			for _, f := range c.FieldOptions {
				texts = append(texts, f.DisplayName)
			}
			for _, q := range c.Queries {
				for _, m := range regexp.MustCompile(`AS "([^"]*)"`).FindAllStringSubmatch(q.Query, -1) {
					texts = append(texts, m[1])
				}
			}
		}
		for _, text := range texts {
			text = placeholder.ReplaceAllString(text, "X")
			text = regexp.MustCompile(`https?://\S+`).ReplaceAllString(text, "")
			for _, r := range rules {
				if loc := r.bad.FindStringIndex(text); loc != nil {
					from, to := max(0, loc[0]-30), min(len(text), loc[1]+30)
					t.Errorf("%s: %s in %q", file, r.what, text[from:to])
				}
			}
		}
	}
}

// The campus screen hangs on a wall, 1920×1080 in present mode, where
// nobody scrolls: every cell but the closing note fits in the screen's
// height, 12 grid rows of 83.5 px and a 4 px margin (1050 px). At 14 rows
// the graph of the campus's power was cut in half at the bottom edge.
func TestCampusFitsAWall(t *testing.T) {
	for file, d := range readDashboards(t) {
		if !strings.HasPrefix(file, "campus-") {
			continue
		}
		for _, c := range d.Cells {
			if c.Type != "note" && c.Y+c.H > 12 {
				t.Errorf("%s, cell %s: ends at row %d, below a 1080p screen's 12", file, c.I, c.Y+c.H)
			}
		}
	}
}

// Chronograf 1.10's Variables bar shows each menu under its variable's
// name (:host:, :detail:), not its label, in a box about 14 characters
// wide that breaks a longer choice mid-word ("résumé par heu / re"). So
// the dashboard's note names each menu as the bar does, and the choices
// of a fixed menu are short.
func TestMenusFit(t *testing.T) {
	for file, d := range readDashboards(t) {
		notes := noteCells(d)
		for _, tv := range d.Templates {
			if !strings.Contains(notes, "**"+tv.TempVar+"**") {
				t.Errorf("%s: the note does not name the menu **%s**, as the Variables bar shows it", file, tv.TempVar)
			}
			for _, v := range tv.Values {
				if n := len([]rune(v.Key)); n > 14 {
					t.Errorf("%s: %s's choice %q is %d characters, the menu shows 14 a line", file, tv.TempVar, v.Key, n)
				}
			}
		}
	}
}

// noteCells is the text of a dashboard's note cells.
func noteCells(d Dashboard) string {
	notes := ""
	for _, c := range d.Cells {
		if c.Type == "note" {
			notes += c.Note
		}
	}
	return notes
}

// A cell that reads only the last 3 minutes says "right now" ("en ce
// moment"), the words its dashboard's note defines, not "now" or
// "maintenant" on one screen and "right now" on the next.
func TestRightNowSaysSo(t *testing.T) {
	words := map[string]string{"-en.dashboard": "right now", "-fr.dashboard": "en ce moment"}
	for file, d := range readDashboards(t) {
		want := words[file[strings.LastIndex(file, "-"):]]
		for _, c := range d.Cells {
			recent := len(c.Queries) > 0
			for _, q := range c.Queries {
				recent = recent && strings.Contains(q.Query, "time > now() - 3m") && !strings.Contains(q.Query, ":dashboardTime:")
			}
			if recent && !strings.Contains(strings.ToLower(c.Name), want) {
				t.Errorf("%s, cell %s: %q reads the last 3 minutes without saying %q", file, c.I, c.Name, want)
			}
		}
	}
}
