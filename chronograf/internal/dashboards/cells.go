package dashboards

import (
	"fmt"
	"strings"
)

// spec is what a cell shows; layout places it.
type spec struct {
	id, name, kind string
	w              int
	queries        []string
	unit           string // y axis label or single-stat suffix
	digits         int
	note           string
}

// layout places rows of cells on the 12-column grid, each row directly
// under the previous one: compact as Chronograf's grid wants it.
func layout(prefix string, rows ...[]spec) []Cell {
	var cells []Cell
	y := 0
	for _, row := range rows {
		x, h := 0, 0
		for _, s := range row {
			c := newCell(prefix, s)
			c.X, c.Y = x, y
			x += c.W
			if c.H > h {
				h = c.H
			}
			cells = append(cells, c)
		}
		if x > 12 {
			panic(fmt.Sprintf("row at y=%d is %d columns wide", y, x))
		}
		for i := len(cells) - len(row); i < len(cells); i++ {
			cells[i].H = h // one height per row: no hole for the grid to close
		}
		y += h
	}
	return cells
}

func newCell(prefix string, s spec) Cell {
	c := Cell{
		I: prefix + "-" + s.id, W: s.w, H: 4, Name: s.name, Type: s.kind,
		Axes: map[string]Axis{
			"x":  {Bounds: []string{"", ""}, Base: "10", Scale: "linear"},
			"y":  {Bounds: []string{"0", ""}, Label: s.unit, Base: "10", Scale: "linear"},
			"y2": {Bounds: []string{"", ""}, Base: "10", Scale: "linear"},
		},
		Colors:         []Color{},
		Legend:         Legend{},
		FieldOptions:   []FieldOption{},
		DecimalPlaces:  DecimalPlaces{IsEnforced: true, Digits: s.digits},
		Note:           s.note,
		NoteVisibility: "default",
	}
	for _, q := range s.queries {
		c.Queries = append(c.Queries, Query{Query: q, QueryConfig: map[string]any{}, Type: "influxql"})
	}
	switch s.kind {
	case "note":
		c.Queries = []Query{{Query: "", QueryConfig: map[string]any{}, Type: "influxql"}}
		c.H = 3
		if strings.Count(s.note, "\n") > 8 {
			c.H = 5
		}
	case "single-stat":
		c.H = 3
		c.Axes["y"] = Axis{Bounds: []string{"", ""}, Suffix: s.unit, Base: "10", Scale: "linear"}
		c.Colors = []Color{{ID: "base", Type: "text", Hex: "#7CE490", Name: "honeydew", Value: "-1000000000000000000"}}
	case "table":
		c.TableOptions = &TableOptions{SortBy: FieldOption{InternalName: "time", Visible: true}, Wrapping: "truncate", FixFirstColumn: true}
	default:
		c.Colors = []Color{
			{ID: prefix + "-" + s.id + "-c1", Type: "scale", Hex: "#31C0F6", Name: "Nineteen Eighty Four", Value: "0"},
			{ID: prefix + "-" + s.id + "-c2", Type: "scale", Hex: "#A500A5", Name: "Nineteen Eighty Four", Value: "0"},
			{ID: prefix + "-" + s.id + "-c3", Type: "scale", Hex: "#FF7E27", Name: "Nineteen Eighty Four", Value: "0"},
		}
	}
	return c
}

func hostTemplate(id, measurement string) Template {
	return Template{
		ID: id, TempVar: ":host:", Type: "tagValues", Label: "Host", Values: []TemplateValue{},
		Query: TemplateQuery{InfluxQL: "SHOW TAG VALUES ON :database: FROM :measurement: WITH KEY=:tagKey:", DB: "metrics_from_pau", Measurement: measurement, TagKey: "host"},
	}
}
