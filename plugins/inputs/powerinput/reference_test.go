package powerinput

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/parsers/influx"

	"github.com/greencampus/powerinput/internal/metaphor"
)

// referenceDoc is the measurement reference: the one place where names,
// tags, fields and their types are listed.
const referenceDoc = "../../../docs/reference.md"

// referenceScenarios write, between them, every measurement, tag and field
// the plugin has: one measured (RAPL, dies, GPU, wall, psys, VMs, services,
// processes, cpu, net, CO2, metaphors), one estimated (the model tag).
var referenceScenarios = []string{"reference-measured", "reference-estimated"}

// column is one measurement's tag or field, as the reference lists it.
type column struct {
	measurement, name, kind string // kind: "tag" or "field"
}

// TestReference compares what the plugin writes with docs/reference.md:
// every measurement, tag and field written is listed there with the type
// InfluxDB stores, and every one listed is written by a reference scenario.
// Either side changed alone fails.
func TestReference(t *testing.T) {
	f, err := os.Open(referenceDoc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, metaphors, options, err := parseReference(f)
	if err != nil {
		t.Fatalf("%s: %v", referenceDoc, err)
	}
	written := map[column]string{}
	for _, name := range referenceScenarios {
		s := loadScenario(t, filepath.Join("testdata", "scenarios", name+".txtar"))
		s.run(t)
		for _, m := range asWritten(t, s.acc.GetTelegrafMetrics()) {
			for _, tag := range m.TagList() {
				written[column{m.Name(), tag.Key, "tag"}] = "string"
			}
			for _, fl := range m.FieldList() {
				written[column{m.Name(), fl.Key, "field"}] = lineProtocolType(fl.Value)
			}
		}
	}
	// The metaphor rows stand for the default table's fields.
	for c, typ := range doc {
		if c.name == "*metaphors*" {
			delete(doc, c)
			for _, m := range metaphors {
				doc[column{c.measurement, m.Field, "field"}] = typ
			}
		}
	}
	for _, c := range sortedColumns(written) {
		switch want, ok := doc[c]; {
		case !ok:
			t.Errorf("%s %s %s (%s) is written but not in %s", c.measurement, c.kind, c.name, written[c], referenceDoc)
		case want != written[c]:
			t.Errorf("%s %s %s is written as %s; %s says %s", c.measurement, c.kind, c.name, written[c], referenceDoc, want)
		}
	}
	for _, c := range sortedColumns(doc) {
		if _, ok := written[c]; !ok {
			t.Errorf("%s lists %s %s %s, which no reference scenario writes (%v)", referenceDoc, c.measurement, c.kind, c.name, referenceScenarios)
		}
	}
	if len(doc) == 0 || len(written) == 0 {
		t.Fatalf("nothing to compare: %d columns in %s, %d written", len(doc), referenceDoc, len(written))
	}

	// The plugin README's example output uses only what the reference lists
	// (and the host tag Telegraf adds).
	for _, m := range exampleOutput(t) {
		for _, tag := range m.TagList() {
			if _, ok := doc[column{m.Name(), tag.Key, "tag"}]; !ok && tag.Key != "host" {
				t.Errorf("README.md's example output has %s tag %s, which %s does not list", m.Name(), tag.Key, referenceDoc)
			}
		}
		for _, fl := range m.FieldList() {
			if want, got := doc[column{m.Name(), fl.Key, "field"}], lineProtocolType(fl.Value); want != got {
				t.Errorf("README.md's example output has %s field %s as %s; %s says %q", m.Name(), fl.Key, got, referenceDoc, want)
			}
		}
	}

	// The top README's table of measurements names each one the reference
	// has, and no other.
	var measurements []string
	for c := range doc {
		if !slices.Contains(measurements, c.measurement) {
			measurements = append(measurements, c.measurement)
		}
	}
	slices.Sort(measurements)
	if got := readmeMeasurements(t); !slices.Equal(got, measurements) {
		t.Errorf("the top README.md's table of measurements names %v; %s has %v", got, referenceDoc, measurements)
	}

	// The options' defaults are the plugin's.
	defaults, err := ParseConfig("[[inputs.powerinput]]\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(options) == 0 {
		t.Errorf("%s lists no options", referenceDoc)
	}
	for name, want := range options {
		if got, ok := optionDefault(defaults.Config, name); !ok {
			t.Errorf("%s lists option %s, which the plugin does not have", referenceDoc, name)
		} else if got != want {
			t.Errorf("option %s defaults to %s; %s says %s", name, got, referenceDoc, want)
		}
	}

	// The reference's metaphor table is the code's default table.
	builtIn := metaphor.Defaults()
	if len(metaphors) != len(builtIn) {
		t.Errorf("%s lists %d metaphors, the code has %d", referenceDoc, len(metaphors), len(builtIn))
	}
	for i, d := range builtIn {
		if i >= len(metaphors) {
			break
		}
		v, unit := d.Unit()
		want := docMetaphor{Field: d.Field, Kind: d.Kind().String(), Value: v, Unit: unit, Label: d.Label}
		if got := metaphors[i]; got.Field != want.Field || got.Kind != want.Kind || got.Value != want.Value || got.Unit != want.Unit || !strings.HasPrefix(got.Label, want.Label) {
			t.Errorf("%s metaphor %d: %+v; the code has %+v", referenceDoc, i+1, got, want)
		}
	}
}

// exampleOutput parses the line protocol under the plugin README's
// "## Example Output".
func exampleOutput(t *testing.T) []telegraf.Metric {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "## Example Output\n\n```text\n")
	block, _, closed := strings.Cut(after, "```")
	if !ok || !closed {
		t.Fatal("README.md has no ```text block under ## Example Output")
	}
	parser := &influx.Parser{}
	if err := parser.Init(); err != nil {
		t.Fatal(err)
	}
	ms, err := parser.Parse([]byte(block))
	if err != nil || len(ms) == 0 {
		t.Fatalf("README.md's example output: %d points, %v", len(ms), err)
	}
	return ms
}

// readmeMeasurements returns the measurements named in the first column
// of the top README's "| measurement | what it holds |" table, sorted.
func readmeMeasurements(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "| measurement | what it holds |"):
			in = true
		case in && strings.HasPrefix(line, "|"):
			first, _, _ := strings.Cut(strings.TrimPrefix(line, "|"), "|")
			for _, m := range codeSpan.FindAllStringSubmatch(first, -1) {
				names = append(names, m[1])
			}
		default:
			in = false
		}
	}
	slices.Sort(names)
	return names
}

// optionDefault is the value of the option named name (its toml tag) in c,
// as the reference writes a default.
func optionDefault(c Config, name string) (string, bool) {
	v := reflect.ValueOf(c)
	for i := range v.NumField() {
		if strings.Split(v.Type().Field(i).Tag.Get("toml"), ",")[0] == name {
			return fmt.Sprint(v.Field(i).Interface()), true
		}
	}
	return "", false
}

// lineProtocolType names a field value's type as InfluxDB stores it.
func lineProtocolType(v any) string {
	switch v.(type) {
	case float64:
		return "float"
	case int64:
		return "integer"
	case uint64:
		return "unsigned"
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

func sortedColumns(m map[column]string) []column {
	cs := make([]column, 0, len(m))
	for c := range m {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b column) int {
		return strings.Compare(a.measurement+" "+a.kind+" "+a.name, b.measurement+" "+b.kind+" "+b.name)
	})
	return cs
}

// docMetaphor is one row of the reference's metaphor table.
type docMetaphor struct {
	Field, Kind string
	Value       float64
	Unit        string
	Label       string
}

var (
	measurementHeading = regexp.MustCompile("^#{2,3} `([a-z_]+)`$")
	codeSpan           = regexp.MustCompile("`([^`]+)`")
	equals             = regexp.MustCompile(`^([0-9.]+) (W|Wh)\b`)
)

// parseReference reads the reference's tables: under each "## `name`" (or
// "### `name`") heading, a table whose header starts "| name | kind | type
// |" lists the measurement's tags and fields, several names to a row where
// they share kind and type ("*one per metaphor*" stands for the metaphor
// fields); the table whose header starts "| field | kind | 1 equals |" is
// the metaphor table; the one whose header starts "| option | default |"
// gives options' defaults (several options to a row where they share it).
func parseReference(r io.Reader) (cols map[column]string, metaphors []docMetaphor, options map[string]string, err error) {
	cols, options = map[column]string{}, map[string]string{}
	measurement, table := "", ""
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			measurement, table = "", ""
			if m := measurementHeading.FindStringSubmatch(line); m != nil {
				measurement = m[1]
			}
			continue
		}
		if !strings.HasPrefix(line, "|") {
			table = ""
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case table == "" && len(cells) >= 3 && cells[0] == "name" && cells[1] == "kind" && cells[2] == "type":
			if measurement == "" {
				return nil, nil, nil, fmt.Errorf("line %d: a table of names outside a measurement's section", n)
			}
			table = "columns"
		case table == "" && len(cells) >= 3 && cells[0] == "field" && cells[1] == "kind" && cells[2] == "1 equals":
			table = "metaphors"
		case table == "" && len(cells) >= 2 && cells[0] == "option" && cells[1] == "default":
			table = "options"
		case table == "" || strings.HasPrefix(cells[0], "---"):
		case table == "columns":
			if len(cells) < 3 || (cells[1] != "tag" && cells[1] != "field") {
				return nil, nil, nil, fmt.Errorf("line %d: want | name | tag or field | type | …", n)
			}
			names := codeSpan.FindAllStringSubmatch(cells[0], -1)
			if cells[0] == "*one per metaphor*" {
				names = [][]string{{"", "*metaphors*"}}
			}
			if len(names) == 0 {
				return nil, nil, nil, fmt.Errorf("line %d: no `name` in %q", n, cells[0])
			}
			for _, nm := range names {
				c := column{measurement, nm[1], cells[1]}
				if _, dup := cols[c]; dup {
					return nil, nil, nil, fmt.Errorf("line %d: %s %s %s listed twice", n, measurement, c.kind, c.name)
				}
				cols[c] = cells[2]
			}
		case table == "metaphors":
			m := equals.FindStringSubmatch(cells[2])
			names := codeSpan.FindStringSubmatch(cells[0])
			if len(cells) < 4 || m == nil || names == nil {
				return nil, nil, nil, fmt.Errorf("line %d: want | `field` | kind | N W or N Wh | label | …", n)
			}
			v, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("line %d: %w", n, err)
			}
			metaphors = append(metaphors, docMetaphor{Field: names[1], Kind: cells[1], Value: v, Unit: m[2], Label: cells[3]})
		case table == "options":
			names, def := codeSpan.FindAllStringSubmatch(cells[0], -1), codeSpan.FindStringSubmatch(cells[1])
			if len(names) == 0 || def == nil {
				return nil, nil, nil, fmt.Errorf("line %d: want | `option` | `default` | …", n)
			}
			for _, nm := range names {
				options[nm[1]] = def[1]
			}
		}
	}
	return cols, metaphors, options, sc.Err()
}
