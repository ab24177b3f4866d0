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

type (
	Dashboard = dashboards.Dashboard
	Cell      = dashboards.Cell
)

// The rules below are those of shared/chronograf-dashboard-format.md: what
// Chronograf 1.10 loads from a resources folder and renders as intended.

var (
	cellTypes   = map[string]bool{"line": true, "line-stacked": true, "line-stepplot": true, "bar": true, "line-plus-single-stat": true, "single-stat": true, "gauge": true, "table": true, "note": true}
	tmplTypes   = map[string]bool{"databases": true, "measurements": true, "fieldKeys": true, "tagKeys": true, "tagValues": true, "influxql": true, "flux": true, "csv": true, "map": true, "text": true}
	colorTypes  = map[string]bool{"min": true, "max": true, "threshold": true, "text": true, "background": true, "scale": true}
	tempVarForm = regexp.MustCompile(`^:[^:\s]+:$`)
	varUse      = regexp.MustCompile(`:[A-Za-z][A-Za-z0-9_-]*:`)
	fromClause  = regexp.MustCompile(`(?i)\bFROM\s+(\S+)`)
	builtins    = map[string]bool{":dashboardTime:": true, ":upperDashboardTime:": true, ":interval:": true}
)

// strict decodes b into v, refusing unknown keys and wrong types.
func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func TestDashboardFiles(t *testing.T) {
	files, _ := filepath.Glob("*.dashboard")
	if len(files) < 4 {
		t.Fatalf("%d dashboard files, want servers, everyday (en, fr) and vms", len(files))
	}
	ids := map[int]string{}
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
	defined := map[string]bool{}
	for _, tv := range d.Templates {
		if !tempVarForm.MatchString(tv.TempVar) {
			t.Errorf("template %q: tempVar must look like :name:", tv.TempVar)
		}
		if defined[tv.TempVar] {
			t.Errorf("template %s defined twice", tv.TempVar)
		}
		defined[tv.TempVar] = true
		if !tmplTypes[tv.Type] {
			t.Errorf("template %s: type %q (constant blanks the page)", tv.TempVar, tv.Type)
		}
		if tv.Values == nil {
			t.Errorf("template %s: values must be an array", tv.TempVar)
		}
		if (tv.Type == "influxql" || tv.Type == "tagValues") && tv.Query.InfluxQL == "" {
			t.Errorf("template %s: a query-driven template needs its query", tv.TempVar)
		}
		if tv.Type == "influxql" && !strings.HasPrefix(tv.Query.InfluxQL, "SHOW ") {
			t.Errorf("template %s: an influxql meta query must start with SHOW", tv.TempVar)
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
		if len(c.Queries) == 0 {
			t.Errorf("%s: every cell needs a query object, notes included", where)
		}
		if c.NoteVisibility != "default" && c.NoteVisibility != "showWhenNoData" {
			t.Errorf("%s: noteVisibility %q", where, c.NoteVisibility)
		}
		for k := range c.Axes {
			if k != "x" && k != "y" && k != "y2" {
				t.Errorf("%s: axis %q", where, k)
			}
		}
		for _, col := range c.Colors {
			if !colorTypes[col.Type] || len(col.Hex) != 7 || col.Hex[0] != '#' {
				t.Errorf("%s: colour %+v", where, col)
			}
			line := c.Type != "single-stat" && c.Type != "table" && c.Type != "gauge"
			if line && col.Type != "scale" {
				t.Errorf("%s: a graph takes scale colours only", where)
			}
		}
		for _, q := range c.Queries {
			if q.Type != "influxql" || q.QueryConfig == nil {
				t.Errorf("%s: query type %q, queryConfig %v", where, q.Type, q.QueryConfig)
			}
			if c.Type == "note" {
				continue
			}
			if strings.TrimSpace(q.Query) == "" {
				t.Errorf("%s: empty query", where)
			}
			for _, m := range fromClause.FindAllStringSubmatch(q.Query, -1) {
				if m[1] != "(SELECT" && !strings.HasPrefix(m[1], `"metrics_from_pau"."forever".`) {
					t.Errorf("%s: FROM %s is not fully qualified as \"metrics_from_pau\".\"forever\".…", where, m[1])
				}
			}
			if !strings.Contains(q.Query, ":dashboardTime:") {
				t.Errorf("%s: the query ignores the time picker", where)
			}
			if strings.Contains(q.Query, ":interval:") && !strings.Contains(q.Query, "time > :dashboardTime:") {
				t.Errorf("%s: :interval: needs a time range the server can parse", where)
			}
			for _, v := range varUse.FindAllString(q.Query, -1) {
				if !builtins[v] && !defined[v] {
					t.Errorf("%s: %s is used but not defined", where, v)
				}
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

func TestEverydayTwins(t *testing.T) {
	read := func(f string) Dashboard {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d Dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	en, fr := read("everyday-en.dashboard"), read("everyday-fr.dashboard")
	if len(en.Cells) != len(fr.Cells) {
		t.Fatalf("%d cells in English, %d in French", len(en.Cells), len(fr.Cells))
	}
	for i := range en.Cells {
		a, b := en.Cells[i], fr.Cells[i]
		if a.X != b.X || a.Y != b.Y || a.W != b.W || a.H != b.H || len(a.Queries) != len(b.Queries) {
			t.Errorf("cell %d differs in layout between the twins", i)
			continue
		}
		for j := range a.Queries {
			if a.Queries[j].Query != b.Queries[j].Query {
				t.Errorf("cell %d: queries differ between the twins", i)
			}
		}
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
