package chronograf

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/greencampus/powerinput/chronograf/internal/dashboards"
)

// The committed files are what users load: they must be exactly what the
// generator writes.
func TestFilesUpToDate(t *testing.T) {
	for _, f := range dashboards.Files {
		want := dashboards.Render(f.Build())
		got, err := os.ReadFile(f.Name)
		if err != nil {
			t.Errorf("%v: run go generate ./chronograf", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator's output: run go generate ./chronograf (and edit internal/dashboards, not the file)", f.Name)
		}
	}
}

// A .dashboard file nobody generates is either hand-made or one Chronograf
// wrote itself after an edit in the UI (it renames the file after the
// dashboard): it would be served next to the generated one.
func TestNoStrayDashboards(t *testing.T) {
	known := map[string]bool{}
	for _, f := range dashboards.Files {
		if filepath.Ext(f.Name) != ".dashboard" || filepath.Base(f.Name) != f.Name {
			t.Errorf("%q: a file name in chronograf/, ending in .dashboard", f.Name)
		}
		if known[f.Name] {
			t.Errorf("%s is generated twice", f.Name)
		}
		known[f.Name] = true
	}
	files, _ := filepath.Glob("*.dashboard")
	for _, f := range files {
		if !known[f] {
			t.Errorf("%s is not written by the generator: add it to dashboards.Files or remove it", f)
		}
	}
}
