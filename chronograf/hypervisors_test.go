package chronograf

import (
	"strings"
	"testing"
)

// The English and French hypervisor dashboards are twins, as the everyday
// ones: same cells, queries (up to series names), rounding and sources.
func TestHypervisorTwins(t *testing.T) {
	ds := readDashboards(t)
	en, fr := ds["hypervisors-en.dashboard"], ds["hypervisors-fr.dashboard"]
	if len(en.Cells) == 0 || len(en.Cells) != len(fr.Cells) || len(en.Templates) != len(fr.Templates) {
		t.Fatalf("%d cells and %d templates in English, %d and %d in French", len(en.Cells), len(en.Templates), len(fr.Cells), len(fr.Templates))
	}
	for i := range en.Templates {
		if en.Templates[i].TempVar != fr.Templates[i].TempVar || en.Templates[i].Query != fr.Templates[i].Query {
			t.Errorf("template %d differs between the twins", i)
		}
	}
	for i := range en.Cells {
		a, b := en.Cells[i], fr.Cells[i]
		if a.X != b.X || a.Y != b.Y || a.W != b.W || a.H != b.H || a.Type != b.Type || len(a.Queries) != len(b.Queries) || a.DecimalPlaces != b.DecimalPlaces {
			t.Errorf("cell %d differs in layout, type or rounding between the twins", i)
			continue
		}
		for _, v := range []string{":host:", ":vm:"} {
			if strings.Contains(a.Name, v) != strings.Contains(b.Name, v) {
				t.Errorf("cell %d: one twin names %s, the other not", i, v)
			}
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
	// The stack is of the parts of each host: a stacked graph.
	if en.Cells[0].Type != "line-stacked" {
		t.Errorf("the first cell is a %s, want line-stacked", en.Cells[0].Type)
	}
}
