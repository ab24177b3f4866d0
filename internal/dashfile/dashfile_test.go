package dashfile

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Every committed dashboard decodes into these shapes with no key left
// over, and encodes back to the same JSON: the tools and the end-to-end
// tests that read the files see what the generator wrote.
func TestCommittedDashboardsRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "chronograf", "*.dashboard"))
	if err != nil || len(files) < 3 {
		t.Fatalf("%d dashboard files in chronograf/ (%v), want at least 3", len(files), err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var d Dashboard
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if d.Name == "" || len(d.Cells) == 0 {
			t.Errorf("%s: name %q, %d cells", file, d.Name, len(d.Cells))
		}
		again, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var want, got any
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(again, &got); err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(want, got) {
			t.Errorf("%s: decoding and encoding again changes the file", file)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
