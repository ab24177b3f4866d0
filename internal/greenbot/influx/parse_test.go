package influx

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		file     string
		results  int
		series   []int // series per statement
		queryErr string
	}{
		{file: "sum-by-host.json", results: 1, series: []int{2}},
		{file: "vm-by-hour.json", results: 1, series: []int{2}},
		{file: "two-statements.json", results: 2, series: []int{1, 1}},
		{file: "empty.json", results: 1, series: []int{0}},
		{file: "parse-error.json", queryErr: "error parsing query"},
		{file: "no-database.json", queryErr: "statement 1: database not found"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, err := Parse(f)
			if tc.queryErr != "" {
				if !errors.Is(err, ErrQuery) || !strings.Contains(err.Error(), tc.queryErr) {
					t.Fatalf("got error %v, want ErrQuery with %q", err, tc.queryErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != tc.results {
				t.Fatalf("got %d results, want %d", len(res), tc.results)
			}
			for i, n := range tc.series {
				if len(res[i].Series) != n {
					t.Errorf("statement %d: got %d series, want %d", i, len(res[i].Series), n)
				}
			}
		})
	}
}

func TestSeriesValues(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "sum-by-host.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	byHost := map[string]Series{}
	for _, s := range res[0].Series {
		byHost[s.Tags["host"]] = s
	}
	kvm := byHost["kvm-0"]
	if e, ok := kvm.Float(0, "e"); !ok || e != 2810.2 {
		t.Errorf("kvm-0 e: got %v %v, want 2810.2", e, ok)
	}
	if w, ok := byHost["pc-1"].Float(0, "w"); ok {
		t.Errorf("pc-1 w: got %v, want null (no wall sensor)", w)
	}
	if _, ok := kvm.Float(0, "nosuch"); ok {
		t.Error("a missing column gave a value")
	}
	tm, ok := kvm.Time(0)
	if !ok || tm.UnixNano() != 1796498317655487272 {
		t.Errorf("time: got %v %v", tm, ok)
	}
	if kvm.Tags["basis"] != "wall" || byHost["pc-1"].Tags["source"] != "model" {
		t.Errorf("tags: got %v and %v", kvm.Tags, byHost["pc-1"].Tags)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":       "<html>502 Bad Gateway</html>",
		"truncated":      `{"results":[{"statement_id":0,"series":[{"name":"x","columns":["a"`,
		"short row":      `{"results":[{"series":[{"name":"x","columns":["time","a"],"values":[[1]]}]}]}`,
		"values not row": `{"results":[{"series":[{"name":"x","columns":["a"],"values":[1]}]}]}`,
	} {
		if _, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Every accessor must be safe on whatever parsed.
		for _, r := range res {
			for _, s := range r.Series {
				for i := range s.Values {
					for _, c := range s.Columns {
						s.Float(i, c)
						s.String(i, c)
					}
					s.Time(i)
				}
			}
		}
	})
}
