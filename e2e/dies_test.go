//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Multi-die CPUs may write one powerstat_package point per die, with a die
// tag and the package's package_id. The admin and servers dashboards' per-package
// queries must show the same watts whether a package comes as one point
// or as its dies: the seed writes the same data both ways (-dies 2 splits
// kvm-1's packages 60/40), and every query that reads powerstat_package
// is run on each.
func TestDashboardsAddDies(t *testing.T) {
	if _, err := exec.LookPath("influxd"); err != nil {
		t.Skip("needs influxd (apt-get install influxdb)")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// The per-package queries are on the admin dashboard, the processors
	// added up on the servers one; both pick a :host:.
	var d dashboard
	for _, name := range []string{"admin-en.dashboard", "servers-en.dashboard"} {
		b, err := os.ReadFile(filepath.Join(repo, "chronograf", name))
		if err != nil {
			t.Fatal(err)
		}
		var one dashboard
		if err := json.Unmarshal(b, &one); err != nil {
			t.Fatal(err)
		}
		d.Cells = append(d.Cells, one.Cells...)
		d.Templates = one.Templates
	}
	vars, raw := map[string]string{}, map[string]string{":host:": "kvm-1"}
	for _, tv := range d.Templates {
		if tv.TempVar == ":host:" && tv.Type == "tagValues" {
			vars[":host:"] = "'kvm-1'"
		} else if tv.TempVar == ":host:" {
			vars[":host:"] = "kvm-1"
		}
	}

	end := time.Now().Add(-time.Minute).Unix()
	answers := map[int]map[string][]series{}
	for _, dies := range []int{1, 2} {
		cmd := exec.Command("go", "run", "./chronograf/seed", "-minutes", "30", "-dies", fmt.Sprint(dies), "-end", fmt.Sprint(end))
		cmd.Dir = repo
		lp, err := cmd.Output()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
		srv := newInflux(t)
		srv.start()
		srv.query(t, `CREATE DATABASE metrics_from_pau`)
		srv.query(t, `CREATE RETENTION POLICY "forever" ON "metrics_from_pau" DURATION 52w REPLICATION 1 DEFAULT`)
		resp, err := http.Post(srv.url()+"/write?db=metrics_from_pau&rp=forever", "text/plain", bytes.NewReader(lp))
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("write: %v %v", err, resp)
		}
		resp.Body.Close()
		dieTags := srv.query(t, `SHOW TAG VALUES ON "metrics_from_pau" FROM "powerstat_package" WITH KEY = "die"`)
		if (len(dieTags) > 0) != (dies > 1) {
			t.Fatalf("-dies %d: die tag values %v", dies, dieTags)
		}
		answers[dies] = map[string][]series{}
		for _, c := range d.Cells {
			for _, q := range c.Queries {
				if !strings.Contains(q.Query, `"powerstat_package"`) {
					continue
				}
				// One fixed range for both runs, so that their rows match.
				text := render(q.Query, vars, raw)
				text = strings.ReplaceAll(text, dashboardTime, "'"+time.Unix(end-3600, 0).UTC().Format(time.RFC3339)+"'")
				text = strings.ReplaceAll(text, upperDashboardTime, "'"+time.Unix(end+60, 0).UTC().Format(time.RFC3339)+"'")
				res, err := srv.tryQuery(text)
				if err != nil || !hasData(res) {
					t.Fatalf("-dies %d, cell %q: %v, %d series\n%s", dies, c.Name, err, len(res), text)
				}
				answers[dies][q.Query] = res
			}
		}
		srv.stop()
	}
	if len(answers[1]) == 0 {
		t.Fatal("no query of the admin and servers dashboards reads powerstat_package")
	}
	for q, one := range answers[1] {
		two := answers[2][q]
		if len(one) != len(two) {
			t.Errorf("%d series from packages, %d from dies\n%s", len(one), len(two), q)
			continue
		}
		for i := range one {
			if fmt.Sprint(one[i].Tags) != fmt.Sprint(two[i].Tags) || len(one[i].Values) != len(two[i].Values) {
				t.Errorf("series %v (%d rows) from packages, %v (%d rows) from dies\n%s", one[i].Tags, len(one[i].Values), two[i].Tags, len(two[i].Values), q)
				continue
			}
			for r := range one[i].Values {
				for c := 1; c < len(one[i].Values[r]); c++ {
					a, b := number(one[i].Values[r][c]), number(two[i].Values[r][c])
					if math.IsNaN(a) != math.IsNaN(b) || math.Abs(a-b) > 1e-3*math.Max(1, math.Abs(a)) {
						t.Errorf("package %v, row %d: %v from packages, %v from dies\n%s", one[i].Tags, r, one[i].Values[r][c], two[i].Values[r][c], q)
					}
				}
			}
		}
	}
	t.Logf("%d queries give the same numbers for packages written whole and as dies", len(answers[1]))
}

// number is a JSON number as a float, NaN for null.
func number(v interface{}) float64 {
	n, ok := v.(json.Number)
	if !ok {
		return math.NaN()
	}
	f, err := n.Float64()
	if err != nil {
		return math.NaN()
	}
	return f
}
