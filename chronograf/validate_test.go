package chronograf

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/greencampus/powerinput/chronograf/internal/dashboards"
)

// The rules below are those of shared/chronograf-dashboard-format.md: what
// Chronograf 1.10 loads from a resources folder and renders as intended.
// They check the files, whoever wrote them.

type (
	Dashboard = dashboards.Dashboard
	Cell      = dashboards.Cell
)

var (
	cellTypes      = set("line", "line-stacked", "line-stepplot", "bar", "line-plus-single-stat", "single-stat", "gauge", "table", "note")
	graphTypes     = set("line", "line-stacked", "line-stepplot", "bar", "line-plus-single-stat")
	tmplTypes      = set("databases", "measurements", "fieldKeys", "tagKeys", "tagValues", "influxql", "flux", "csv", "map", "text")
	tmplValueTypes = set("csv", "map", "fieldKey", "tagKey", "tagValue", "measurement", "database", "influxql", "flux") // constant blanks the page
	colorTypes     = set("min", "max", "threshold", "text", "background", "scale")
	axisBases      = set("10", "2", "raw", "")
	axisScales     = set("linear", "log", "")
	orientations   = set("top", "bottom", "left", "right")
	tempVarForm    = regexp.MustCompile(`^:[^:\s]+:$`)
	varUse         = regexp.MustCompile(`:[A-Za-z][A-Za-z0-9_-]*:`)
	fromClause     = regexp.MustCompile(`(?i)\bFROM\s+(\S+)`)
	metaOnDB       = regexp.MustCompile(`(?i)^SHOW [A-Z ]+ ON "?[A-Za-z0-9_]+"?`)
	// The raw points, or one of the rollups of deploy/setup-influxdb.sh.
	fullyQualified = regexp.MustCompile(`^"metrics_from_pau"\."(forever|rollup_1h|rollup_5m)"\.`)
	policies       = set("forever", "rollup_1h", "rollup_5m")
	// Or the policy the reader picks in a variable (:detail:).
	policyVar = regexp.MustCompile(`^"metrics_from_pau"\."(:[A-Za-z][A-Za-z0-9_-]*:)"\.`)
	ownWindow = regexp.MustCompile(`time > now\(\) - \d+[mhd]\b`)
	builtins  = set(":dashboardTime:", ":upperDashboardTime:", ":interval:")
)

func set(xs ...string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// strict decodes b into v, refusing unknown keys and wrong types.
func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// readDashboards reads every .dashboard file of the folder, by name.
func readDashboards(t *testing.T) map[string]Dashboard {
	t.Helper()
	files, _ := filepath.Glob("*.dashboard")
	out := map[string]Dashboard{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d Dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[f] = d
	}
	return out
}

func TestDashboardFiles(t *testing.T) {
	files, _ := filepath.Glob("*.dashboard")
	if len(files) < 4 {
		t.Fatalf("%d dashboard files, want servers, everyday (en, fr) and vms", len(files))
	}
	ids := map[int]string{}
	names := map[string]string{}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			// Chronograf runs file dashboards through text/template.
			if bytes.Contains(b, []byte("{{")) {
				t.Error("contains {{, which Chronograf's template pass would expand")
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(b, &raw); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"id", "name", "organization", "cells", "templates"} {
				if _, ok := raw[k]; !ok {
					t.Errorf("missing top-level key %q", k)
				}
			}
			var d Dashboard
			if err := strict(b, &d); err != nil {
				t.Fatalf("does not decode as a dashboard (types or keys): %v", err)
			}
			checkDashboard(t, d, raw)
			if other, dup := ids[d.ID]; dup {
				t.Errorf("id %d also used by %s", d.ID, other)
			}
			ids[d.ID] = file
			// A save from the UI writes <name>.dashboard: two dashboards
			// of one name would overwrite each other.
			if other, dup := names[d.Name]; dup {
				t.Errorf("name %q also used by %s", d.Name, other)
			}
			names[d.Name] = file
		})
	}
}

func checkDashboard(t *testing.T, d Dashboard, raw map[string]json.RawMessage) {
	if d.ID < 900000 {
		t.Errorf("id %d: use large distinct ids (900000 and up) so stored dashboards do not shadow it", d.ID)
	}
	if d.Name == "" || strings.Contains(d.Name, "/") {
		t.Errorf("name %q: must be non-empty and without '/'", d.Name)
	}
	if d.Organization != "default" {
		t.Errorf("organization %q, want default", d.Organization)
	}

	// Templates: well-formed, unique, with values, never constant.
	defined := map[string]string{}  // tempVar → type
	policyVars := map[string]bool{} // map variables whose values are policies
	for _, tv := range d.Templates {
		if !tempVarForm.MatchString(tv.TempVar) {
			t.Errorf("template %q: tempVar must look like :name:", tv.TempVar)
		}
		if _, dup := defined[tv.TempVar]; dup {
			t.Errorf("template %s defined twice", tv.TempVar)
		}
		defined[tv.TempVar] = tv.Type
		if !tmplTypes[tv.Type] {
			t.Errorf("template %s: type %q (constant blanks the page)", tv.TempVar, tv.Type)
		}
		if tv.Values == nil {
			t.Errorf("template %s: values must be an array", tv.TempVar)
		}
		selected, ofPolicies := 0, len(tv.Values) > 0
		for _, v := range tv.Values {
			if !tmplValueTypes[v.Type] {
				t.Errorf("template %s: value type %q", tv.TempVar, v.Type)
			}
			if tv.Type == "map" && v.Key == "" {
				t.Errorf("template %s: a map value needs the key the menu shows", tv.TempVar)
			}
			if v.Selected {
				selected++
			}
			ofPolicies = ofPolicies && policies[v.Value]
		}
		if tv.Type == "map" && ofPolicies {
			policyVars[tv.TempVar] = true
			if selected != 1 {
				t.Errorf("template %s: %d values selected, want the default one", tv.TempVar, selected)
			}
		}
		if (tv.Type == "influxql" || tv.Type == "tagValues") && tv.Query.InfluxQL == "" {
			t.Errorf("template %s: a query-driven template needs its query", tv.TempVar)
		}
		if tv.Type == "influxql" {
			if !strings.HasPrefix(tv.Query.InfluxQL, "SHOW ") {
				t.Errorf("template %s: an influxql meta query must start with SHOW", tv.TempVar)
			}
			// The proxy finds the database only in an ON clause.
			if !metaOnDB.MatchString(tv.Query.InfluxQL) {
				t.Errorf("template %s: the meta query must name its database with ON", tv.TempVar)
			}
		}
	}

	// Cells: ids, types, queries, keys the browser needs, and the grid.
	seen := map[string]bool{}
	used := map[string]bool{}
	var cellsRaw []map[string]json.RawMessage
	if err := json.Unmarshal(raw["cells"], &cellsRaw); err != nil {
		t.Fatal(err)
	}
	for i, c := range d.Cells {
		where := "cell " + c.I
		if c.I == "" || seen[c.I] {
			t.Errorf("%s: cell ids must be non-empty and unique", where)
		}
		seen[c.I] = true
		if !cellTypes[c.Type] {
			t.Errorf("%s: type %q would be drawn as a line graph", where, c.Type)
		}
		for _, k := range []string{"fieldOptions", "colors", "legend", "axes", "decimalPlaces", "queries", "note", "noteVisibility", "timeFormat"} {
			if _, ok := cellsRaw[i][k]; !ok {
				t.Errorf("%s: missing %q", where, k)
			}
		}
		if c.FieldOptions == nil {
			t.Errorf("%s: fieldOptions must be an array, at least []", where)
		}
		for _, f := range c.FieldOptions {
			if f.InternalName == "" {
				t.Errorf("%s: a field option without internalName", where)
			}
		}
		if c.Type == "table" && c.TableOptions == nil {
			t.Errorf("%s: a table needs tableOptions", where)
		}
		if c.Type == "note" && strings.TrimSpace(c.Note) == "" {
			t.Errorf("%s: a note cell without text", where)
		}
		if len(c.Queries) == 0 {
			t.Errorf("%s: every cell needs a query object, notes included", where)
		}
		if c.NoteVisibility != "default" && c.NoteVisibility != "showWhenNoData" {
			t.Errorf("%s: noteVisibility %q", where, c.NoteVisibility)
		}
		checkAxes(t, where, c)
		checkLegend(t, where, c)
		checkColors(t, where, c)
		for _, v := range varUse.FindAllString(c.Name, -1) {
			switch typ, ok := defined[v]; {
			case builtins[v]:
			case !ok:
				t.Errorf("%s: title uses %s, which is not defined", where, v)
			case typ == "tagValues":
				t.Errorf("%s: title uses %s, a tagValues variable, which shows in quotes ('kvm-0'): use an influxql variable", where, v)
			}
		}
		for _, q := range c.Queries {
			if q.Type != "influxql" || q.QueryConfig == nil {
				t.Errorf("%s: query type %q, queryConfig %v", where, q.Type, q.QueryConfig)
			}
			if len(q.QueryConfig) != 0 {
				t.Errorf("%s: queryConfig is recomputed by the server (and its shifts dropped from files): write {}", where)
			}
			if q.Source != "" {
				t.Errorf("%s: source %q: an unknown source falls back silently; leave it empty (the current source)", where, q.Source)
			}
			if c.Type == "note" {
				continue
			}
			checkQuery(t, where, q.Query, defined, policyVars)
			for _, v := range varUse.FindAllString(q.Query, -1) {
				used[v] = true
			}
		}
		checkGrid(t, c, d.Cells[:i])
	}
	for v := range defined {
		if !used[v] {
			t.Errorf("template %s is defined but no query uses it", v)
		}
	}
}

func checkQuery(t *testing.T, where, q string, defined map[string]string, policyVars map[string]bool) {
	t.Helper()
	if strings.TrimSpace(q) == "" {
		t.Errorf("%s: empty query", where)
		return
	}
	for _, m := range fromClause.FindAllStringSubmatch(q, -1) {
		if v := policyVar.FindStringSubmatch(m[1]); v != nil {
			if !policyVars[v[1]] {
				t.Errorf("%s: FROM %s: %s is not a map variable whose values are retention policies", where, m[1], v[1])
			}
			continue
		}
		if m[1] != "(SELECT" && !fullyQualified.MatchString(m[1]) {
			t.Errorf("%s: FROM %s is not fully qualified as \"metrics_from_pau\".\"forever\".… (or \"rollup_1h\", \"rollup_5m\", made by deploy/setup-influxdb.sh)", where, m[1])
		}
	}
	// A query follows the time picker, or says its own window ("right
	// now" is the last few minutes; the campus screen's figures cover the
	// past 24 hours, 30 days…): never the whole database.
	if !strings.Contains(q, ":dashboardTime:") && !ownWindow.MatchString(q) {
		t.Errorf("%s: the query has no time range: neither the time picker's nor a window of its own (time > now() - …)", where)
	}
	if strings.Contains(q, ":upperDashboardTime:") && !strings.Contains(q, ":dashboardTime:") {
		t.Errorf("%s: an upper bound without a lower one", where)
	}
	// Chronograf finds the range for :interval: in the text's first time
	// condition: every SELECT that groups by time(:interval:) needs its
	// own, or the browser sends time(0ms) (observed with a subquery whose
	// range was only in the outer query).
	for _, level := range selectLevels(q) {
		if strings.Contains(level, ":interval:") && !strings.Contains(level, "time > :dashboardTime:") {
			t.Errorf("%s: a SELECT groups by time(:interval:) without its own time > :dashboardTime:\n%s", where, level)
		}
	}
	for _, v := range varUse.FindAllString(q, -1) {
		typ, ok := defined[v]
		if !builtins[v] && !ok {
			t.Errorf("%s: %s is used but not defined", where, v)
		}
		quoted := strings.Contains(q, "'"+v+"'")
		switch {
		case typ == "tagValues" && quoted:
			t.Errorf("%s: %s is a tagValues variable, which Chronograf quotes itself: write it without quotes", where, v)
		case typ == "influxql" && !quoted && !inRegex(q, v):
			t.Errorf("%s: %s is an influxql variable, written as it is: quote it, '%s'", where, v, v)
		}
	}
}

// selectLevels splits a query into its SELECT statements, each without
// its subqueries.
func selectLevels(q string) []string {
	i := strings.Index(q, "(SELECT")
	if i < 0 {
		return []string{q}
	}
	depth := 0
	for j := i; j < len(q); j++ {
		switch q[j] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				inner := q[i+1 : j]
				return append(selectLevels(q[:i]+"(…)"+q[j+1:]), selectLevels(inner)...)
			}
		}
	}
	return []string{q} // unbalanced: InfluxDB will say so
}

func inRegex(q, v string) bool {
	return regexp.MustCompile(`[=!]~\s*/[^/]*` + regexp.QuoteMeta(v)).MatchString(q)
}

func checkAxes(t *testing.T, where string, c Cell) {
	t.Helper()
	for _, k := range []string{"x", "y", "y2"} {
		if _, ok := c.Axes[k]; !ok {
			t.Errorf("%s: axis %s missing (the server always serves x, y and y2)", where, k)
		}
	}
	for k, a := range c.Axes {
		if k != "x" && k != "y" && k != "y2" {
			t.Errorf("%s: axis %q", where, k)
		}
		if len(a.Bounds) != 2 || !axisBases[a.Base] || !axisScales[a.Scale] {
			t.Errorf("%s: axis %s: bounds %q, base %q, scale %q", where, k, a.Bounds, a.Base, a.Scale)
		}
	}
}

func checkLegend(t *testing.T, where string, c Cell) {
	t.Helper()
	l := c.Legend
	if (l.Type == "") != (l.Orientation == "") {
		t.Errorf("%s: legend needs both type and orientation, or neither", where)
	}
	if l.Type != "" && (l.Type != "static" || !orientations[l.Orientation]) {
		t.Errorf("%s: legend %+v", where, l)
	}
}

func checkColors(t *testing.T, where string, c Cell) {
	t.Helper()
	kinds := map[string]int{}
	base := false
	for _, col := range c.Colors {
		if !colorTypes[col.Type] || len(col.Hex) != 7 || col.Hex[0] != '#' {
			t.Errorf("%s: colour %+v", where, col)
		}
		kinds[col.Type]++
		base = base || col.ID == "base"
	}
	if len(c.Colors) == 0 {
		return
	}
	switch {
	case graphTypes[c.Type]:
		if kinds["scale"] != len(c.Colors) || len(c.Colors) < 2 {
			t.Errorf("%s: a graph takes two or more scale colours, or it uses the default palette", where)
		}
	case c.Type == "single-stat" || c.Type == "table":
		if kinds["text"]+kinds["background"] != len(c.Colors) || !base {
			t.Errorf("%s: a %s takes text or background colours, one of id base", where, c.Type)
		}
	case c.Type == "gauge":
		if kinds["min"] != 1 || kinds["max"] != 1 {
			t.Errorf("%s: a gauge needs one min and one max colour", where)
		}
	}
}

// checkGrid: 12 columns, no overlap, and compact (each cell at the top or
// resting on a cell above), so the browser does not move cells and re-save.
func checkGrid(t *testing.T, c Cell, before []Cell) {
	if c.W < 1 || c.H < 1 || c.X < 0 || c.Y < 0 || c.X+c.W > 12 {
		t.Errorf("cell %s: x=%d w=%d h=%d does not fit 12 columns", c.I, c.X, c.W, c.H)
	}
	xOverlap := func(a, b Cell) bool { return a.X < b.X+b.W && b.X < a.X+a.W }
	rests := c.Y == 0
	for _, o := range before {
		if xOverlap(c, o) && c.Y < o.Y+o.H && o.Y < c.Y+c.H {
			t.Errorf("cell %s overlaps cell %s", c.I, o.I)
		}
		if xOverlap(c, o) && o.Y+o.H == c.Y {
			rests = true
		}
	}
	if !rests {
		t.Errorf("cell %s at y=%d rests on no cell: the grid would float it up", c.I, c.Y)
	}
}

func TestSourceFile(t *testing.T) {
	b, err := os.ReadFile("pau-influxdb.src")
	if err != nil {
		t.Fatal(err)
	}
	var src map[string]any
	if err := json.Unmarshal(b, &src); err != nil {
		t.Fatal(err)
	}
	if _, ok := src["id"].(string); !ok {
		t.Errorf("id must be a JSON string, got %T", src["id"])
	}
	if src["telegraf"] != "metrics_from_pau" || src["defaultRP"] != "forever" || src["type"] != "influx" {
		t.Errorf("source %v: want database metrics_from_pau, retention policy forever", src)
	}
}
