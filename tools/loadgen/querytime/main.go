// Command querytime measures how long InfluxDB takes to answer every query
// of the Chronograf dashboards (chronograf/*.dashboard) and the digest-like
// queries (a week's or a year's energy per host, per VM, per service),
// over ranges ending at -end, on the raw points and on the rollups. It is
// how docs/scale.md was measured, after tools/loadgen filled the database.
//
//	go run ./tools/loadgen/querytime -url http://127.0.0.1:8086 -end 2026-12-04T12:00:00Z -ranges 1h,24h,168h -var host=sim-0
//
// For each query and range it prints one tab-separated line: the dashboard
// (or "digest"), the cell, the range, the median of -runs answers in ms on
// the raw points, the same on the rollup (where the query reads power_*
// measurements only: power metaphors by mean, energy ones by sum), and the
// rows of the raw answer. The rollup is rollup_5m up to a week, rollup_1h
// beyond, and :interval: never finer than its bucket.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/dashfile"
)

// dashboard is a chronograf/*.dashboard file, as internal/dashfile reads it.
type dashboard = dashfile.Dashboard

type vars map[string]string

func (v vars) String() string { return fmt.Sprint(map[string]string(v)) }
func (v vars) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return errors.New("want NAME=VALUE")
	}
	v[":"+name+":"] = value
	return nil
}

func main() {
	u := flag.String("url", "http://127.0.0.1:8086", "InfluxDB's HTTP address")
	dir := flag.String("dashboards", "chronograf", "folder of the .dashboard files")
	endFlag := flag.String("end", "", "end of every range, RFC 3339 (default: now)")
	rangesFlag := flag.String("ranges", "1h,24h,168h,8760h", "ranges, as Go durations")
	runs := flag.Int("runs", 3, "answers timed per query (the median is printed)")
	given := vars{}
	flag.Var(given, "var", "a template variable's value, NAME=VALUE (host=sim-0); others take their first value")
	flag.Parse()

	end := time.Now()
	if *endFlag != "" {
		var err error
		if end, err = time.Parse(time.RFC3339, *endFlag); err != nil {
			fail(err)
		}
	}
	var ranges []time.Duration
	for _, s := range strings.Split(*rangesFlag, ",") {
		d, err := time.ParseDuration(s)
		if err != nil {
			fail(err)
		}
		ranges = append(ranges, d)
	}
	c := &client{base: *u, http: &http.Client{Timeout: 10 * time.Minute}}
	files, _ := filepath.Glob(filepath.Join(*dir, "*.dashboard"))
	if len(files) == 0 {
		fail(fmt.Errorf("no .dashboard files in %s", *dir))
	}
	fmt.Println("dashboard\tcell\trange\traw_ms\trollup_ms\trows")
	for _, file := range files {
		var d dashboard
		b, err := os.ReadFile(file)
		if err == nil {
			err = json.Unmarshal(b, &d)
		}
		if err != nil {
			fail(fmt.Errorf("%s: %w", file, err))
		}
		v := resolve(c, d, given)
		for _, cell := range d.Cells {
			for _, q := range cell.Queries {
				if strings.TrimSpace(q.Query) == "" {
					continue
				}
				for _, r := range ranges {
					c.measure(d.Name, cell.Name, render(q.Query, v, end, r), r, *runs)
				}
			}
		}
	}
	for _, q := range digests {
		for _, r := range ranges {
			c.measure("digest", q.name, render(q.query, given, end, r), r, *runs)
		}
	}
}

// digests are of the shape of what a digest asks: each host's energy and
// peak, each VM's and each service's energy over the range.
var digests = []struct{ name, query string }{
	{"energy and peak per host", `SELECT sum("energy_joules"), max("power_watts") FROM "metrics_from_pau"."forever"."power_host" WHERE time > :dashboardTime: AND time < :upperDashboardTime: GROUP BY "host"`},
	{"energy per VM", `SELECT sum("energy_joules") FROM "metrics_from_pau"."forever"."power_vm" WHERE time > :dashboardTime: AND time < :upperDashboardTime: GROUP BY "host", "domain"`},
	{"energy per service", `SELECT sum("energy_joules") FROM "metrics_from_pau"."forever"."power_service" WHERE time > :dashboardTime: AND time < :upperDashboardTime: GROUP BY "host", "unit"`},
}

// resolve gives each template variable the value given, or the first its
// meta query returns; a variable of listed values (:detail:, the policy)
// gets its default, the one selected: the raw points, which onRollup
// moves to a rollup.
func resolve(c *client, d dashboard, given vars) vars {
	v := vars{}
	for _, tv := range d.Templates {
		if val, ok := given[tv.TempVar]; ok {
			v[tv.TempVar] = val
			continue
		}
		if tv.Type == "map" || tv.Type == "csv" {
			for _, val := range tv.Values {
				if val.Selected {
					v[tv.TempVar] = val.Value
				}
			}
			continue
		}
		meta := tv.Query.InfluxQL
		if tv.Type == "tagValues" {
			meta = fmt.Sprintf(`SHOW TAG VALUES ON "%s" FROM "%s" WITH KEY = "%s"`, tv.Query.DB, tv.Query.Measurement, tv.Query.TagKey)
		} else {
			meta = strings.NewReplacer(flatten(v)...).Replace(meta)
		}
		res, err := c.query(meta)
		if err == nil && len(res) > 0 && len(res[0].Values) > 0 {
			row := res[0].Values[0]
			v[tv.TempVar] = fmt.Sprint(row[len(row)-1])
		}
	}
	return v
}

func flatten(v vars) []string {
	var out []string
	for k, val := range v {
		out = append(out, k, val)
	}
	return out
}

var (
	lowerBoundOnly = regexp.MustCompile(`time\s*>\s*:dashboardTime:`)
	rawPower       = regexp.MustCompile(`"forever"\."(power_(host|vm|service|process))"`)
	otherRaw       = regexp.MustCompile(`"forever"\."[a-z_]+"`)
	groupByTime    = regexp.MustCompile(`time\((\d+)ms\)`)
)

// render does what Chronograf's browser does to a stored query for the
// range r ending at end; :interval: is r/360, as in the e2e.
func render(q string, v vars, end time.Time, r time.Duration) string {
	if lowerBoundOnly.MatchString(q) && !strings.Contains(q, ":upperDashboardTime:") {
		q = lowerBoundOnly.ReplaceAllString(q, "time > :dashboardTime: AND time < :upperDashboardTime:")
	}
	q = strings.NewReplacer(flatten(v)...).Replace(q)
	return strings.NewReplacer(
		":dashboardTime:", fmt.Sprintf("'%s'", end.Add(-r).UTC().Format(time.RFC3339)),
		":upperDashboardTime:", fmt.Sprintf("'%s'", end.UTC().Format(time.RFC3339)),
		":interval:", fmt.Sprintf("%dms", (r/360).Milliseconds()),
	).Replace(q)
}

// onRollup is q on the rollup for range r, or "" where q reads anything
// but power_* measurements or a field the rollups do not have.
func onRollup(q string, r time.Duration) string {
	rp, bucket := "rollup_5m", 5*time.Minute
	if r > 7*24*time.Hour {
		rp, bucket = "rollup_1h", time.Hour
	}
	out := rawPower.ReplaceAllString(q, `"`+rp+`"."$1"`)
	if out == q || otherRaw.MatchString(out) {
		return ""
	}
	return groupByTime.ReplaceAllStringFunc(out, func(s string) string {
		var ms int64
		fmt.Sscanf(s, "time(%dms)", &ms)
		return fmt.Sprintf("time(%dms)", max(ms, bucket.Milliseconds()))
	})
}

type series struct {
	Values [][]any `json:"values"`
}

type client struct {
	base string
	http *http.Client
}

func (c *client) query(q string) ([]series, error) {
	resp, err := c.http.Get(c.base + "/query?db=metrics_from_pau&q=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Results []struct {
			Series []series `json:"series"`
			Error  string   `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	if body.Error != "" {
		return nil, errors.New("InfluxDB refused the query")
	}
	var out []series
	for _, r := range body.Results {
		if r.Error != "" {
			return nil, errors.New("InfluxDB refused the query")
		}
		out = append(out, r.Series...)
	}
	return out, nil
}

// timed is the median time of runs answers to q, and the rows of the last.
func (c *client) timed(q string, runs int) (time.Duration, int, error) {
	var ds []time.Duration
	rows := 0
	for range runs {
		began := time.Now()
		res, err := c.query(q)
		if err != nil {
			return 0, 0, err
		}
		ds = append(ds, time.Since(began))
		rows = 0
		for _, s := range res {
			rows += len(s.Values)
		}
	}
	slices.Sort(ds)
	return ds[len(ds)/2], rows, nil
}

func (c *client) measure(dash, cell, q string, r time.Duration, runs int) {
	raw, rows, err := c.timed(q, runs)
	rawMS := ms(raw)
	if err != nil {
		rawMS = "error"
	}
	rollMS := "-"
	if rq := onRollup(q, r); rq != "" {
		if d, _, err := c.timed(rq, runs); err == nil {
			rollMS = ms(d)
		} else {
			rollMS = "error"
		}
	}
	fmt.Printf("%s\t%s\t%s\t%s\t%s\t%d\n", dash, cell, r, rawMS, rollMS, rows)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func fail(err error) {
	fmt.Fprintf(os.Stderr, "querytime: %v\n", err)
	os.Exit(2)
}
