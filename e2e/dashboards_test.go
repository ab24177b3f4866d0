//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type dashboard struct {
	Name  string `json:"name"`
	Cells []struct {
		I       string `json:"i"`
		Name    string `json:"name"`
		Type    string `json:"type"`
		Queries []struct {
			Query string `json:"query"`
		} `json:"queries"`
	} `json:"cells"`
	Templates []struct {
		TempVar string `json:"tempVar"`
		Type    string `json:"type"`
		Values  []struct {
			Value    string `json:"value"`
			Selected bool   `json:"selected"`
		} `json:"values"`
		Query struct {
			InfluxQL    string `json:"influxql"`
			DB          string `json:"db"`
			Measurement string `json:"measurement"`
			TagKey      string `json:"tagKey"`
		} `json:"query"`
	} `json:"templates"`
}

// For "Past 1h", as Chronograf's browser fills them in (format notes 4.2,
// 4.3): the range is now() - 1h to now(), and :interval: is 1 h / 360.
const (
	dashboardTime      = "now() - 1h"
	upperDashboardTime = "now()"
	interval           = "10000ms"
)

var lowerBoundOnly = regexp.MustCompile(`time\s*>\s*:dashboardTime:`)

// checkDashboards runs every cell query of every chronograf/*.dashboard
// file, with the template variables resolved by their meta queries, and
// requires data from each.
func checkDashboards(t *testing.T, srv *influxServer, repo string) {
	files, _ := filepath.Glob(filepath.Join(repo, "chronograf", "*.dashboard"))
	if len(files) < 3 {
		t.Fatalf("%d dashboard files in chronograf/, want at least 3", len(files))
	}
	queries := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		vars := map[string]string{} // tempVar → value as written into queries
		raw := map[string]string{}  // tempVar → bare value, for regexes
		for _, tv := range d.Templates {
			meta := tv.Query.InfluxQL
			switch tv.Type {
			case "tagValues":
				meta = fmt.Sprintf(`SHOW TAG VALUES ON "%s" FROM "%s" WITH KEY = "%s"`, tv.Query.DB, tv.Query.Measurement, tv.Query.TagKey)
			case "influxql":
				// A variable's query may use those before it (:vm: uses
				// :host:): the browser resolves them first.
				meta = render(meta, vars, raw)
			default:
				t.Fatalf("%s: template %s of type %q: this check resolves tagValues and influxql only", file, tv.TempVar, tv.Type)
			}
			res := srv.query(t, meta)
			if len(res) == 0 || len(res[0].Values) == 0 {
				t.Fatalf("%s: template %s: %s returned no values", file, tv.TempVar, meta)
			}
			choices := []string{}
			for _, s := range res {
				for _, row := range s.Values {
					choices = append(choices, fmt.Sprint(row[len(row)-1]))
				}
			}
			value := choices[0]
			// Where the lab's hypervisor is a choice, the dashboard is read
			// for it, as a browser's first choice would be without the
			// guests (greenit sorts before kvm-0): a guest has no TDP.
			for _, c := range choices {
				if c == "kvm-0" {
					value = c
				}
			}
			for _, v := range tv.Values {
				for _, c := range choices {
					if v.Selected && v.Value == c {
						value = c
					}
				}
			}
			raw[tv.TempVar] = value
			if tv.Type == "tagValues" {
				vars[tv.TempVar] = "'" + value + "'"
			} else {
				vars[tv.TempVar] = value // influxql values go in as they are
			}
		}
		for _, c := range d.Cells {
			for _, q := range c.Queries {
				if c.Type == "note" || strings.TrimSpace(q.Query) == "" {
					continue
				}
				text := render(q.Query, vars, raw)
				queries++
				res, err := srv.tryQuery(text)
				if err != nil {
					t.Errorf("%s, cell %q: %v\n%s", d.Name, c.Name, err, text)
					continue
				}
				if !hasData(res) {
					t.Errorf("%s, cell %q: no data\n%s", d.Name, c.Name, text)
				}
			}
		}
	}
	t.Logf("%d dashboard queries in %d files ran and returned data", queries, len(files))
}

// render does what Chronograf's browser does to a stored query.
func render(q string, vars, raw map[string]string) string {
	if lowerBoundOnly.MatchString(q) && !strings.Contains(q, ":upperDashboardTime:") && !strings.Contains(q, "time <") {
		q = lowerBoundOnly.ReplaceAllString(q, "time > :dashboardTime: AND time < :upperDashboardTime:")
	}
	// Inside a regex a tag value goes in bare; elsewhere quoted.
	for name, v := range raw {
		q = regexp.MustCompile(`/[^/]*`+regexp.QuoteMeta(name)+`[^/]*/`).ReplaceAllStringFunc(q, func(re string) string {
			return strings.Replace(re, name, v, 1)
		})
	}
	for name, v := range vars {
		q = strings.ReplaceAll(q, name, v)
	}
	q = strings.ReplaceAll(q, ":dashboardTime:", dashboardTime)
	q = strings.ReplaceAll(q, ":upperDashboardTime:", upperDashboardTime)
	return strings.ReplaceAll(q, ":interval:", interval)
}

func hasData(res []series) bool {
	for _, s := range res {
		for _, row := range s.Values {
			for _, v := range row[1:] {
				if v != nil {
					return true
				}
			}
		}
	}
	return false
}
