// Command gen writes the Chronograf dashboard files from the generator in
// chronograf/internal/dashboards. It is run by go generate in chronograf/:
//
//	go generate ./chronograf
//
// A file whose content is already right is left alone. A .dashboard file
// in the folder that the generator does not write is reported, not removed.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/greencampus/powerinput/chronograf/internal/dashboards"
)

func main() {
	dir := flag.String("dir", ".", "folder of the dashboard files")
	flag.Parse()
	if err := generate(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func generate(dir string) error {
	written := map[string]bool{}
	for _, f := range dashboards.Files {
		path := filepath.Join(dir, f.Name)
		want := dashboards.Render(f.Build())
		written[f.Name] = true
		if got, err := os.ReadFile(path); err == nil && bytes.Equal(got, want) {
			continue
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", path)
	}
	others, err := filepath.Glob(filepath.Join(dir, "*.dashboard"))
	if err != nil {
		return err
	}
	for _, o := range others {
		if !written[filepath.Base(o)] {
			fmt.Fprintf(os.Stderr, "gen: %s is not written by the generator: add it to dashboards.Files or remove it\n", o)
		}
	}
	return nil
}
