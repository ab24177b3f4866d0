//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/dashfile"
)

// dashboard is a chronograf/*.dashboard file, as internal/dashfile reads it.
type dashboard = dashfile.Dashboard

// For "Past 1h", as Chronograf's browser fills them in (format notes 4.2,
// 4.3): the range is now() - 1h to now(), and :interval: is 1 h / 360.
const (
	dashboardTime      = "now() - 1h"
	upperDashboardTime = "now()"
	interval           = "10000ms"
)

var lowerBoundOnly = regexp.MustCompile(`time\s*>\s*:dashboardTime:`)

// needsHistory marks queries that compare with a week before the data's
// first day: the pipeline's minute of data cannot answer them (the seeded
// test does).
var needsHistory = regexp.MustCompile(`now\(\) - 14d`)

// checkDashboards runs every cell query of every chronograf/*.dashboard
// file, with the template variables resolved by their meta queries, and
// requires data from each, for at least one choice of the variables: a
// cell that shows only estimates has data for an estimated host, not for
// a measured one, and a "right now" cell none for a silent host. With
// history false, the queries that need a past week are only logged.
func checkDashboards(t *testing.T, srv *influxServer, repo string, history bool) {
	files, _ := filepath.Glob(filepath.Join(repo, "chronograf", "*.dashboard"))
	if len(files) < 3 {
		t.Fatalf("%d dashboard files in chronograf/, want at least 3", len(files))
	}
	queries := 0
	for _, file := range files {
		d := readDashboard(t, file)
		choices := resolveChoices(t, srv, file, d)
		for _, c := range d.Cells {
			for _, q := range c.Queries {
				if c.Type == "note" || strings.TrimSpace(q.Query) == "" {
					continue
				}
				queries++
				if !history && needsHistory.MatchString(q.Query) {
					t.Logf("%s, cell %q: needs a week of history, not checked on the pipeline's data", d.Name, c.Name)
					continue
				}
				// A cell that reads the :detail: policy must have data
				// from each: the raw points and both rollups.
				var errs []string
				found := map[string]bool{}
				for _, ch := range choices {
					policy := ""
					if strings.Contains(q.Query, detailVar) {
						policy = ch.raw[detailVar]
					}
					if _, ok := found[policy]; !ok {
						found[policy] = false
					}
					if found[policy] {
						continue
					}
					text := render(q.Query, ch.vars, ch.raw)
					res, err := srv.tryQuery(text)
					if err != nil {
						errs = append(errs, fmt.Sprintf("%v\n%s", err, text))
						continue
					}
					found[policy] = hasData(res)
				}
				if len(errs) > 0 {
					t.Errorf("%s, cell %q: %s", d.Name, c.Name, errs[0])
				}
				for policy, ok := range found {
					if !ok && len(errs) == 0 {
						t.Errorf("%s, cell %q: no data for any of %d choices of its variables (policy %q)\n%s", d.Name, c.Name, len(choices), policy, q.Query)
					}
				}
			}
		}
	}
	t.Logf("%d dashboard queries in %d files ran and returned data", queries, len(files))
}

func readDashboard(t *testing.T, file string) dashboard {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return d
}

// choice is one set of values of a dashboard's variables, as written into
// queries (vars) and bare, for regexes (raw).
type choice struct{ vars, raw map[string]string }

// resolveChoices lists the combinations of the dashboard's variables the
// browser could pick, resolving each variable's meta query after those it
// depends on (:vm: uses :host:), as the browser does.
func resolveChoices(t *testing.T, srv *influxServer, file string, d dashboard) []choice {
	t.Helper()
	out := []choice{{vars: map[string]string{}, raw: map[string]string{}}}
	for _, tv := range d.Templates {
		var next []choice
		for _, ch := range out {
			meta := tv.Query.InfluxQL
			if tv.Type == "map" {
				// The listed values; a rollup is read over a week, as
				// the menu advises, since the hour under way is not in
				// it yet.
				for _, v := range tv.Values {
					c := choice{vars: maps.Clone(ch.vars), raw: maps.Clone(ch.raw)}
					c.vars[tv.TempVar], c.raw[tv.TempVar] = v.Value, v.Value
					if tv.TempVar == detailVar && v.Value != "forever" {
						c.vars[":dashboardTime:"], c.vars[":interval:"] = "now() - 7d", "1680000ms"
					}
					next = append(next, c)
				}
				continue
			}
			switch tv.Type {
			case "tagValues":
				meta = fmt.Sprintf(`SHOW TAG VALUES ON "%s" FROM "%s" WITH KEY = "%s"`, tv.Query.DB, tv.Query.Measurement, tv.Query.TagKey)
			case "influxql":
				meta = render(meta, ch.vars, ch.raw)
			default:
				t.Fatalf("%s: template %s of type %q: this check resolves tagValues and influxql only", file, tv.TempVar, tv.Type)
			}
			for _, s := range srv.query(t, meta) {
				for _, row := range s.Values {
					value := fmt.Sprint(row[len(row)-1])
					c := choice{vars: maps.Clone(ch.vars), raw: maps.Clone(ch.raw)}
					c.raw[tv.TempVar] = value
					if tv.Type == "tagValues" {
						c.vars[tv.TempVar] = "'" + value + "'"
					} else {
						c.vars[tv.TempVar] = value // influxql values go in as they are
					}
					next = append(next, c)
				}
			}
		}
		if len(next) == 0 {
			t.Fatalf("%s: template %s: its meta query returned no values", file, tv.TempVar)
		}
		out = next
	}
	return out
}

// detailVar is the variable in which a dashboard's reader picks the raw
// points or a rollup (chronograf/internal/dashboards: Detail).
const detailVar = ":detail:"

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

// TestDashboardsOnSeed loads the seed (chronograf/seed: a hypervisor with
// VMs, services and a power meter at the socket, a plain server, a VM
// measured by its hypervisor, an estimated VM, and old-0, a server silent
// for 20 minutes) over 15 days, and 20 days more from 40 days ago, into a
// real InfluxDB set up by deploy/setup-influxdb.sh, fills the rollups
// with its backfill up to the last whole hour, then checks that every
// cell has data, that "right now" leaves the silent server out, and that
// the campus screen's figures equal sums this test makes itself from the
// raw points.
func TestDashboardsOnSeed(t *testing.T) {
	if _, err := exec.LookPath("influxd"); err != nil {
		t.Skip("needs influxd (apt-get install influxdb)")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	// The last hour every 10 s, and 15 days before it every hour, half an
	// hour off the hour so that no point sits on a window's edge.
	fine := seed(t, repo, "-minutes", "60", "-end", fmt.Sprint(now))
	coarse := seed(t, repo, "-minutes", "21600", "-step", "1h", "-end", fmt.Sprint(now-3600-1800))
	// Beyond 30 days, so that the 30-day window cuts the data.
	old := seed(t, repo, "-minutes", "28800", "-step", "1h", "-end", fmt.Sprint(now-20*86400-1800))
	srv := newInflux(t)
	withoutCQService(t, srv)
	srv.start()
	runSetup(t, srv, repo)
	for _, lp := range [][]byte{old, coarse, fine} {
		resp, err := http.Post(srv.url()+"/write?db=metrics_from_pau&rp=forever", "text/plain", bytes.NewReader(lp))
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("write: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	// The rollups as the continuous queries leave them: every whole hour
	// up to the last that ended, the hour under way not yet.
	filled := time.Now().Truncate(time.Hour)
	runSetup(t, srv, repo, "backfill", time.Unix(now-45*86400, 0).UTC().Format(time.RFC3339), filled.UTC().Format(time.RFC3339))

	t.Run("every cell has data", func(t *testing.T) { checkDashboards(t, srv, repo, true) })
	t.Run("right now leaves out a silent host", func(t *testing.T) { checkSilent(t, srv, repo) })
	t.Run("campus screen equals the sums of the points", func(t *testing.T) { checkCampus(t, srv, repo, filled) })
	t.Run("totals from the rollups equal the raw points", func(t *testing.T) { checkDetail(t, srv, repo, filled) })
}

// checkDetail runs every total over the time range that follows the
// :detail: variable (every query of it without GROUP BY time), for every
// choice of the other variables, over the week of whole hours before
// filled, on the raw points and on each rollup, without the rounding to
// two digits: the rollups must give the raw figures to 1e-9. A cell that
// read the raw points whatever :detail: says fails (the rollup under
// test is checked to be in the query sent), as does a rollup that lost or
// doubled a bucket: one hour is 1/168 of the week.
func checkDetail(t *testing.T, srv *influxServer, repo string, filled time.Time) {
	files, _ := filepath.Glob(filepath.Join(repo, "chronograf", "*.dashboard"))
	// Chronograf writes an absolute range quoted; the lower bound is
	// exclusive (time > …), so it starts a nanosecond before the first
	// hour, whose bucket is stamped with its start.
	week := map[string]string{
		":dashboardTime:":      "'" + filled.Add(-7*24*time.Hour-time.Nanosecond).UTC().Format(time.RFC3339Nano) + "'",
		":upperDashboardTime:": "'" + filled.UTC().Format(time.RFC3339Nano) + "'",
	}
	compared, dashboards := 0, 0
	for _, file := range files {
		d := readDashboard(t, file)
		choices := resolveChoices(t, srv, file, d)
		checked := false
		for _, c := range d.Cells {
			for _, q := range c.Queries {
				if !strings.Contains(q.Query, detailVar) || strings.Contains(q.Query, "GROUP BY time(") {
					continue
				}
				text := withoutRounding(t, q.Query)
				for _, ch := range choices {
					if ch.raw[detailVar] != "forever" {
						continue
					}
					figures := map[string]map[string]float64{}
					for _, rp := range []string{"forever", "rollup_5m", "rollup_1h"} {
						vars, raw := maps.Clone(ch.vars), maps.Clone(ch.raw)
						maps.Copy(vars, week)
						vars[detailVar], raw[detailVar] = rp, rp
						sent := render(text, vars, raw)
						if !strings.Contains(sent, `."`+rp+`".`) {
							t.Fatalf("%s, cell %q: the query sent does not read %s:\n%s", d.Name, c.Name, rp, sent)
						}
						figures[rp] = figuresOf(srv.query(t, sent))
					}
					if len(figures["forever"]) == 0 {
						continue // nothing for this host: the other choices are checked
					}
					for _, rp := range []string{"rollup_5m", "rollup_1h"} {
						if !sameFigures(figures["forever"], figures[rp]) {
							t.Errorf("%s, cell %q, %v: from %s %v, from the raw points %v", d.Name, c.Name, ch.raw, rp, figures[rp], figures["forever"])
						}
					}
					compared++
					checked = true
				}
			}
		}
		if checked {
			dashboards++
		}
	}
	// Everyday, hypervisors, VMs, applications: EN and FR.
	if dashboards < 8 {
		t.Errorf("totals that follow %s compared in %d dashboards, want at least 8", detailVar, dashboards)
	}
	t.Logf("%d totals compared in %d dashboards: the rollups equal the raw points to 1e-9", compared, dashboards)
}

// withoutRounding undoes twoDigits (chronograf/internal/dashboards) in a
// query: each rounded expression becomes the expression itself, so that
// the comparison sees differences two digits hide.
func withoutRounding(t *testing.T, q string) string {
	t.Helper()
	for {
		m := rounding.FindStringSubmatch(q)
		if m == nil {
			return q
		}
		scale := "pow(10, 1 - floor(log10(" + m[1] + " + 0.000000001)))"
		rounded := "round(" + m[1] + " * " + scale + ") / " + scale
		if !strings.Contains(q, rounded) {
			t.Fatalf("a rounding not written by twoDigits: %s", q)
		}
		q = strings.Replace(q, rounded, m[1], 1)
	}
}

// figuresOf keys each number of an answer by its series, its row's
// strings (a ranked name) and its column: rows ranked by top() come in
// whatever order equal times give.
func figuresOf(res []series) map[string]float64 {
	out := map[string]float64{}
	for _, s := range res {
		for _, row := range s.Values {
			var names []string
			for i, v := range row {
				if _, ok := v.(string); ok && s.Columns[i] != "time" {
					names = append(names, fmt.Sprint(v))
				}
			}
			for i, v := range row {
				if _, ok := v.(json.Number); ok && s.Columns[i] != "time" {
					out[fmt.Sprint(s.Name, s.Tags, names, s.Columns[i])] = number(v)
				}
			}
		}
	}
	return out
}

func sameFigures(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !near(w, v, 1e-9) {
			return false
		}
	}
	return true
}

// withoutCQService turns InfluxDB's continuous-query service off before
// srv starts: it runs on the wall clock, and would add the hour under way
// to the rollups if that hour ended during the test, behind the back of
// the sums the test expects. The backfill fills the rollups instead.
func withoutCQService(t *testing.T, srv *influxServer) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(srv.dir, "influxdb.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("[continuous_queries]\n  enabled = false\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func seed(t *testing.T, repo string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", append([]string{"run", "./chronograf/seed"}, args...)...)
	cmd.Dir = repo
	lp, err := cmd.Output()
	if err != nil {
		t.Fatalf("seed %v: %v", args, err)
	}
	return lp
}

// silentHost stopped sending 20 minutes before the seed's end.
const silentHost = "old-0"

// rightNow marks the "right now" queries: a window of a few minutes.
var rightNow = regexp.MustCompile(`time > now\(\) - [1-9]m\b`)

// checkSilent runs every "right now" query of a host with the silent host
// chosen: none may return a value (a host silent longer than the window
// shows nothing, not its old figure). The same queries have data for some
// live host (checkDashboards).
func checkSilent(t *testing.T, srv *influxServer, repo string) {
	files, _ := filepath.Glob(filepath.Join(repo, "chronograf", "*.dashboard"))
	checked, widened := 0, 0
	for _, file := range files {
		d := readDashboard(t, file)
		for _, c := range d.Cells {
			for _, q := range c.Queries {
				if !rightNow.MatchString(q.Query) || !strings.Contains(q.Query, ":host:") {
					continue
				}
				text := render(q.Query, map[string]string{":host:": silentHost, ":vm:": "web"}, map[string]string{":host:": silentHost, ":vm:": "web"})
				res, err := srv.tryQuery(text)
				if err != nil {
					t.Errorf("%s, cell %q: %v", d.Name, c.Name, err)
					continue
				}
				checked++
				if hasData(res) {
					t.Errorf("%s, cell %q: shows %v for %s, silent for 20 minutes\n%s", d.Name, c.Name, res, silentHost, text)
				}
				// Widened to 30 minutes, the same query finds the silent
				// host's old figure: the window is what leaves it out.
				wide := strings.Replace(text, rightNow.FindString(text), "time > now() - 30m", 1)
				if res, err := srv.tryQuery(wide); err == nil && hasData(res) {
					widened++
				}
			}
		}
	}
	if checked < 8 || widened < 4 {
		t.Errorf("%d right-now queries checked, %d of them with data for %s over 30 minutes: want at least 8 and 4", checked, widened, silentHost)
	}
	t.Logf("%d right-now queries show nothing for %s; %d of them find its old figure over 30 minutes", checked, silentHost, widened)
}

// hostPoint is one power_host point, as the test reads it raw.
type hostPoint struct {
	at                         time.Time
	host, source, basis        string
	energy, wall, co2, charges float64
	km, watts, wallWatts       float64
}

// basisJoules is what the point's metaphors count: the socket where the
// host has a meter, else the parts.
func (p hostPoint) basisJoules() float64 {
	if p.basis == "wall" {
		return p.wall
	}
	return p.energy
}

func (p hostPoint) measured() bool { return p.source == "rapl" || p.source == "msr" }

func rawHostPoints(t *testing.T, srv *influxServer) []hostPoint {
	t.Helper()
	res := srv.query(t, `SELECT "energy_joules", "wall_joules", "co2_grams", "smartphone_charges", "ebike_km", "power_watts", "wall_watts" FROM "metrics_from_pau"."forever"."power_host" WHERE time > now() - 1000d GROUP BY "host", "source", "basis"`)
	var out []hostPoint
	for _, s := range res {
		ts := times(t, s)
		col := func(name string) []float64 {
			vs := column(t, s, name)
			fs := make([]float64, len(vs))
			for i, v := range vs {
				if fs[i] = number(v); math.IsNaN(fs[i]) {
					fs[i] = 0
				}
			}
			return fs
		}
		e, w, co2, ch, km, pw, ww := col("energy_joules"), col("wall_joules"), col("co2_grams"), col("smartphone_charges"), col("ebike_km"), col("power_watts"), col("wall_watts")
		for i := range ts {
			out = append(out, hostPoint{at: ts[i], host: s.Tags["host"], source: s.Tags["source"], basis: s.Tags["basis"],
				energy: e[i], wall: w[i], co2: co2[i], charges: ch[i], km: km[i], watts: pw[i], wallWatts: ww[i]})
		}
	}
	return out
}

// twoDigits rounds as a person reads a figure: two significant digits.
func twoDigits(x float64) float64 {
	q := math.Pow(10, 1-math.Floor(math.Log10(x+1e-9)))
	return math.Round(x*q) / q
}

// checkCampus runs the campus screen's cells (both languages) and compares
// each figure with a sum over the raw points in the same window; for the
// cells that read the hourly rollup, filled up to filled, over the whole
// hours of the window before filled.
func checkCampus(t *testing.T, srv *influxServer, repo string, filled time.Time) {
	points := rawHostPoints(t, srv)
	for _, lang := range []string{"en", "fr"} {
		d := readDashboard(t, filepath.Join(repo, "chronograf", "campus-"+lang+".dashboard"))
		cell := func(id string) string {
			for _, c := range d.Cells {
				if c.I == "pi-campus-"+lang+"-"+id {
					return c.Queries[0].Query
				}
			}
			t.Fatalf("%s: no cell %s", d.Name, id)
			return ""
		}
		// sum adds f over the measured servers' points newer than since.
		sum := func(since time.Duration, f func(hostPoint) float64) float64 {
			from, total := time.Now().Add(-since), 0.0
			for _, p := range points {
				if p.measured() && p.at.After(from) {
					total += f(p)
				}
			}
			return total
		}
		day, week, month, year := 24*time.Hour, 7*24*time.Hour, 30*24*time.Hour, 365*24*time.Hour
		kWh := func(p hostPoint) float64 { return p.basisJoules() / 3.6e6 }
		kg := func(p hostPoint) float64 { return p.co2 / 1000 }
		before := sum(2*week, kWh) - sum(week, kWh)
		checkHourly(t, srv, d.Name, points, filled, []hourlyCell{
			{"kwh-month", cell("kwh-month"), month, kWh},
			{"co2-month", cell("co2-month"), month, kg},
			{"kwh-year", cell("kwh-year"), year, kWh},
			{"co2-year", cell("co2-year"), year, kg},
		})
		for _, c := range []struct {
			id   string
			want float64
		}{
			{"kwh-day", twoDigits(sum(day, kWh))},
			{"co2-day", twoDigits(sum(day, kg))},
			{"kwh-week", twoDigits(sum(week, kWh))},
			{"phones", twoDigits(sum(day, func(p hostPoint) float64 { return p.charges }))},
			{"ebike", twoDigits(sum(day, func(p hostPoint) float64 { return p.km }))},
			{"trend", math.Round((sum(week, kWh)/before - 1) * 100)},
		} {
			got := singleValue(t, srv, cell(c.id))
			if math.Abs(got-c.want) > 1e-9*math.Max(1, math.Abs(c.want)) {
				t.Errorf("%s, %s: the screen shows %v, the points add up to %v", d.Name, c.id, got, c.want)
			}
		}
		// The trend compares weeks measured alike only: eight days back,
		// the week before falls in the seed's gap (20 to 15 days ago) and
		// holds two of its seven days, so the cell shows nothing rather
		// than a rise of hundreds of percent.
		early := strings.ReplaceAll(cell("trend"), "now()", "now() - 8d")
		if res := srv.query(t, render(early, nil, nil)); len(res) != 0 {
			t.Errorf("%s: trend eight days back, the week before holding 2 days: %v, want nothing", d.Name, res)
		}
		// Right now: the last point of each live server in the last
		// 3 minutes, at the socket where it has a meter.
		last := map[string]hostPoint{}
		for _, p := range points {
			if p.measured() && p.at.After(time.Now().Add(-3*time.Minute)) && p.at.After(last[p.host].at) {
				last[p.host] = p
			}
		}
		if _, ok := last[silentHost]; ok || len(last) < 2 {
			t.Fatalf("live servers in the last 3 minutes: %v", last)
		}
		wantW := 0.0
		for _, p := range last {
			if p.basis == "wall" {
				wantW += p.wallWatts
			} else {
				wantW += p.watts
			}
		}
		if got := singleValue(t, srv, cell("w-now")); math.Abs(got-wantW) > 1e-6*wantW {
			t.Errorf("%s: campus power right now %v W, the live servers' last points add up to %v W", d.Name, got, wantW)
		}
		// Servers ranked: each one's energy over the past 24 hours,
		// biggest first, none at 0.
		perHost := map[string]float64{}
		for _, p := range points {
			if p.measured() && p.at.After(time.Now().Add(-day)) {
				perHost[p.host] += kWh(p)
			}
		}
		res := srv.query(t, render(cell("servers"), nil, nil))
		if len(res) != 1 || len(res[0].Values) != len(perHost) {
			t.Fatalf("%s: servers ranked: %v, want %d rows (%v)", d.Name, res, len(perHost), perHost)
		}
		prev := math.Inf(1)
		for _, row := range res[0].Values {
			v, host := number(row[1]), fmt.Sprint(row[2])
			if want := twoDigits(perHost[host]); v != want || v > prev || v == 0 {
				t.Errorf("%s: servers ranked: %s %v kWh after %v, want %v, biggest first, no zero", d.Name, host, v, prev, want)
			}
			prev = v
		}
	}
}

// hourlyCell is a campus cell that reads the hourly rollup: its query, its
// window, and what a raw point adds to it.
type hourlyCell struct {
	id, query string
	window    time.Duration
	of        func(hostPoint) float64
}

// rounding finds, in a cell's query, the aggregate it rounds to two
// significant digits (see twoDigits in chronograf/internal/dashboards).
var rounding = regexp.MustCompile(`log10\((.+?) \+ 0\.000000001\)`)

// unrounded is a cell's query without the rounding: the same aggregate
// over the same FROM and WHERE, so that a single hour too many or too few
// shows, which two digits would hide.
func unrounded(t *testing.T, q string) string {
	t.Helper()
	m, as := rounding.FindStringSubmatch(q), strings.Index(q, ` AS "`)
	if m == nil || as < 0 {
		t.Fatalf("no rounded aggregate in %s", q)
	}
	return "SELECT " + m[1] + q[as:]
}

// checkHourly compares each cell with the raw points of the measured
// servers in the whole hours it covers: a bucket of the rollup is stamped
// with its hour's start, so the window keeps the hours that start inside
// it, and the rollup holds the hours before filled. A cell that read the
// raw points (or a rollup that lost a point) would count the hour under
// way and the window's first part-hour, and differ.
func checkHourly(t *testing.T, srv *influxServer, name string, points []hostPoint, filled time.Time, cells []hourlyCell) {
	t.Helper()
	inHours := func(c hourlyCell, now time.Time) (hours, raw float64) {
		from := now.Add(-c.window)
		for _, p := range points {
			if !p.measured() || !p.at.After(from) {
				continue
			}
			raw += c.of(p)
			if p.at.Before(filled) && p.at.Truncate(time.Hour).After(from) {
				hours += c.of(p)
			}
		}
		return hours, raw
	}
	for _, c := range cells {
		// The window's start moves with the clock: a figure read while an
		// hour turned is read again.
		for try := 0; ; try++ {
			t0 := time.Now()
			got, shown := singleValue(t, srv, unrounded(t, c.query)), singleValue(t, srv, c.query)
			t1 := time.Now()
			if !t0.Truncate(time.Hour).Equal(t1.Truncate(time.Hour)) && try == 0 {
				continue
			}
			want, raw := inHours(c, t1)
			if near(raw, want, 1e-9) {
				t.Fatalf("%s, %s: the raw points of the window add up to what its whole hours do (%v): the check could not tell a cell reading raw points", name, c.id, raw)
			}
			if !near(got, want, 1e-9) || shown != twoDigits(want) {
				t.Errorf("%s, %s: the rollup gives %v (shown %v), the raw points of the window's whole hours before %v add up to %v (%v); all its raw points %v",
					name, c.id, got, shown, filled.UTC().Format(time.RFC3339), want, twoDigits(want), raw)
			} else {
				t.Logf("%s, %s: rollup %.12g, whole hours of raw points %.12g, all raw points %.12g", name, c.id, got, want, raw)
			}
			break
		}
	}
}

// singleValue is what a single-stat shows: the last value of the first
// series.
func singleValue(t *testing.T, srv *influxServer, q string) float64 {
	t.Helper()
	res := srv.query(t, render(q, nil, nil))
	if len(res) == 0 || len(res[0].Values) == 0 {
		t.Fatalf("no value: %s", q)
	}
	row := res[0].Values[len(res[0].Values)-1]
	return number(row[len(row)-1])
}
