//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"math"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// The rollups' contract, which the bot and the long-range dashboards read:
// each field of rollup_5m and rollup_1h and the aggregate of the raw field
// it must equal over its bucket.
var rollupContract = []struct{ field, fn, raw string }{
	{"energy_joules", "sum", "energy_joules"},
	{"power_watts", "mean", "power_watts"},
	{"power_watts_max", "max", "power_watts"},
	{"co2_grams", "sum", "co2_grams"},
	{"smartphone_charges", "sum", "smartphone_charges"},
	{"led_bulbs", "mean", "led_bulbs"},
	{"cpu_seconds", "sum", "cpu_seconds"},
	{"interval_seconds", "sum", "interval_seconds"},
}

var rollupMeasurements = []string{"power_host", "power_vm", "power_service", "power_process"}

// cq is one continuous query as InfluxDB stores it.
type cq struct {
	name, rollup, measurement string
	every, span               time.Duration // RESAMPLE EVERY … FOR …
	selectInto, groupBy       string        // the body, cut where the CQ service adds its time range
}

var cqText = regexp.MustCompile(`^CREATE CONTINUOUS QUERY (\S+) ON \S+ RESAMPLE EVERY (\S+) FOR (\S+) BEGIN (SELECT .* INTO \S+\.(\S+)\.(\S+) FROM \S+) (GROUP BY time\(\S+\), \*) END$`)

// storedCQs reads the continuous queries of metrics_from_pau back from the
// server: the test runs what InfluxDB holds, not a copy of the script.
func storedCQs(t *testing.T, srv *influxServer) []cq {
	t.Helper()
	var out []cq
	for _, s := range srv.query(t, "SHOW CONTINUOUS QUERIES") {
		if s.Name != "metrics_from_pau" {
			continue
		}
		for _, row := range s.Values {
			text := fmt.Sprint(row[1])
			m := cqText.FindStringSubmatch(text)
			if m == nil {
				t.Fatalf("continuous query %v is not a rollup as the test reads them: %s", row[0], text)
			}
			every, err1 := time.ParseDuration(m[2])
			span, err2 := time.ParseDuration(m[3])
			if err1 != nil || err2 != nil {
				t.Fatalf("continuous query %s: RESAMPLE %s/%s: %v %v", m[1], m[2], m[3], err1, err2)
			}
			out = append(out, cq{name: m[1], rollup: m[5], measurement: m[6], every: every, span: span, selectInto: m[4], groupBy: m[7]})
		}
	}
	return out
}

// run executes the query as the CQ service does at time at: over
// [at-FOR, at), with the grouping of the stored query.
func (c cq) run(t *testing.T, srv *influxServer, at time.Time) {
	t.Helper()
	srv.query(t, fmt.Sprintf("%s WHERE time >= %d AND time < %d %s", c.selectInto, at.Add(-c.span).UnixNano(), at.UnixNano(), c.groupBy))
}

// rawPoint is one line of line protocol and the time it reaches the server.
type rawPoint struct {
	at      time.Time // timestamp
	arrives time.Time // when Telegraf delivers it
	line    string
}

// rollupData makes four hours of a small campus from base: three hosts every
// 10 s (with jitter), the VMs, services and processes of two of them.
// Host h-2's points from 1:00 to 1:40 arrive at 1:45 (Telegraf buffered
// them through an outage: within the 5-minute rollup's hour of resampling);
// h-1's first 10 minutes arrive at 1:30, too late for the 5-minute rollup
// (which recomputes the last hour) but not for the hourly one (the last
// two).
func rollupData(base time.Time) []rawPoint {
	rng := rand.New(rand.NewSource(23))
	var pts []rawPoint
	for h := 0; h < 3; h++ {
		host := fmt.Sprintf("h-%d", h)
		for at := base.Add(time.Duration(h) * 3 * time.Second); at.Before(base.Add(4 * time.Hour)); at = at.Add(10*time.Second + time.Duration(rng.Intn(400)-200)*time.Millisecond) {
			arrives := at
			switch off := at.Sub(base); {
			case h == 2 && off >= time.Hour && off < 100*time.Minute:
				arrives = base.Add(105 * time.Minute)
			case h == 1 && off < 10*time.Minute:
				arrives = base.Add(90 * time.Minute)
			}
			add := func(meas, tags string, w, cpu float64) {
				e := w * 10.0 * (1 + rng.Float64()*1e-3)
				f := fmt.Sprintf("power_watts=%.17g,energy_joules=%.17g,co2_grams=%.17g,led_bulbs=%.17g,smartphone_charges=%.17g", w, e, e/3.6e6*56, w/9, e/36000)
				if cpu > 0 {
					f += fmt.Sprintf(",cpu_seconds=%.17g", cpu)
				}
				if meas == "power_host" || meas == "power_vm" {
					f += ",interval_seconds=10"
				}
				pts = append(pts, rawPoint{at, arrives, fmt.Sprintf("%s,host=%s,%s %s %d", meas, host, tags, f, at.UnixNano())})
			}
			hw := 60 + 140*rng.Float64()
			add("power_host", "source=rapl", hw, 0)
			if h == 2 {
				continue
			}
			add("power_vm", "domain=greenit,source=rapl", hw*0.3, 6*rng.Float64())
			add("power_vm", "domain=web,source=rapl", hw*0.2, 4*rng.Float64())
			add("power_service", "kind=service,unit=nginx.service", hw*0.1, rng.Float64())
			add("power_service", "kind=other,unit=other", hw*0.05, rng.Float64())
			add("power_process", "kind=program,process=qemu-system-x86", hw*0.4, 8*rng.Float64())
			add("power_process", "kind=unused_capacity,process=unused_capacity", hw*0.2, 0)
		}
	}
	return pts
}

func writeLines(t *testing.T, srv *influxServer, lines []string) {
	t.Helper()
	for len(lines) > 0 {
		n := min(len(lines), 5000)
		resp, err := http.Post(srv.url()+"/write?db=metrics_from_pau&rp=forever", "text/plain", strings.NewReader(strings.Join(lines[:n], "\n")))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("write: %s: %s", resp.Status, body)
		}
		lines = lines[n:]
	}
}

// setUpInflux starts an influxd and runs the project's setup script on it.
func setUpInflux(t *testing.T) (*influxServer, string) {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	srv := newInflux(t)
	srv.start()
	runSetup(t, srv, repo)
	return srv, repo
}

func runSetup(t *testing.T, srv *influxServer, repo string, args ...string) string {
	t.Helper()
	out, err := setup(srv, repo, "", args...)
	if err != nil {
		t.Fatalf("setup-influxdb.sh %v: %v\n%s", args, err, out)
	}
	return out
}

// setup runs deploy/setup-influxdb.sh against srv, with one more
// environment variable where env is not "".
func setup(srv *influxServer, repo, env string, args ...string) (string, error) {
	cmd := exec.Command("sh", append([]string{filepath.Join(repo, "deploy", "setup-influxdb.sh")}, args...)...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("INFLUX_PORT=%d", srv.httpPort))
	if env != "" {
		cmd.Env = append(cmd.Env, env)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestRollups runs the continuous queries of setup-influxdb.sh on the
// schedule InfluxDB's CQ service would, with points arriving late, then
// compares every rollup bucket with the raw points it summarises.
//
// InfluxDB 1.x runs a CQ only when the wall clock crosses its EVERY
// boundary, and has no command to run one now; waiting for it would take
// five minutes to an hour. So the test reads each CQ back from the server
// (SHOW CONTINUOUS QUERIES) and, at every boundary of simulated time,
// executes that stored SELECT … INTO … GROUP BY with the time range the CQ
// service adds, [boundary − FOR, boundary), after writing the points that
// have reached the server by then. The writes, the INTO and the storage are
// InfluxDB's own; only the clock is the test's.
func TestRollups(t *testing.T) {
	srv, repo := setUpInflux(t)
	cqs := storedCQs(t, srv)
	if len(cqs) != 8 {
		t.Fatalf("got %d continuous queries, want 8 (2 rollups × 4 measurements)", len(cqs))
	}
	for _, c := range cqs {
		for _, k := range rollupContract {
			if want := fmt.Sprintf("%s(%s) AS %s", k.fn, k.raw, k.field); !strings.Contains(c.selectInto, want) {
				t.Errorf("%s lacks %q: %s", c.name, want, c.selectInto)
			}
		}
	}

	// A day ago, so that everything is inside the retention policies.
	base := time.Now().Add(-24 * time.Hour).Truncate(time.Hour)
	pts := rollupData(base)
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].arrives.Before(pts[j].arrives) })
	end := base.Add(6 * time.Hour) // past the last point plus the longest FOR
	sent := 0
	for tick := base.Add(5 * time.Minute); !tick.After(end); tick = tick.Add(5 * time.Minute) {
		var lines []string
		for ; sent < len(pts) && pts[sent].arrives.Before(tick); sent++ {
			lines = append(lines, pts[sent].line)
		}
		writeLines(t, srv, lines)
		for _, c := range cqs {
			if tick.Sub(base)%c.every == 0 {
				c.run(t, srv, tick)
			}
		}
	}
	if sent != len(pts) {
		t.Fatalf("only %d of %d points were written", sent, len(pts))
	}

	span := fmt.Sprintf("time >= %d AND time < %d", base.UnixNano(), base.Add(4*time.Hour).UnixNano())
	late := fmt.Sprintf("time >= %d AND time < %d", base.UnixNano(), base.Add(10*time.Minute).UnixNano())
	afterLate := fmt.Sprintf("time >= %d AND time < %d", base.Add(10*time.Minute).UnixNano(), base.Add(4*time.Hour).UnixNano())
	for _, m := range rollupMeasurements {
		compareBuckets(t, srv, "rollup_1h", "1h", m, span)
		compareBuckets(t, srv, "rollup_5m", "5m", m, afterLate)
		// h-1's first ten minutes came after the 5-minute rollup's hour of
		// resampling: they are missing there until a backfill.
		if m == "power_host" {
			raw, r5 := totalEnergy(t, srv, "forever", m, late), totalEnergy(t, srv, "rollup_5m", m, late)
			if !(r5 < raw*0.9) {
				t.Errorf("%s: rollup_5m holds %.6g J of the first 10 minutes before the backfill, raw %.6g J: the points that came 1.5 h late should be missing", m, r5, raw)
			}
		}
	}
	out := runSetup(t, srv, repo, "backfill", base.Format(time.RFC3339), base.Add(4*time.Hour).Format(time.RFC3339))
	if want := fmt.Sprintf("backfill %s to %s: done\n", base.UTC().Format(time.RFC3339), base.Add(4*time.Hour).UTC().Format(time.RFC3339)); out != want {
		t.Errorf("backfill says %q, want %q", out, want)
	}
	for _, m := range rollupMeasurements {
		for _, r := range []struct{ rp, bucket string }{{"rollup_5m", "5m"}, {"rollup_1h", "1h"}} {
			compareBuckets(t, srv, r.rp, r.bucket, m, span)
			raw, rolled := totalEnergy(t, srv, "forever", m, span), totalEnergy(t, srv, r.rp, m, span)
			if !near(rolled, raw, 1e-9) {
				t.Errorf("%s.%s: sum(energy_joules) over 4 h = %.17g J, raw %.17g J", r.rp, m, rolled, raw)
			}
		}
	}
}

// TestRollupsChange: the script replaces the continuous queries whose
// fields changed (a metaphor of one's own) and says so, and keeps the
// rollup policies.
func TestRollupsChange(t *testing.T) {
	srv, repo := setUpInflux(t)
	for _, tc := range []struct {
		env, want, field string
	}{
		{"INFLUX_ROLLUP_MEAN=power_watts kettles", "0 created, 8 updated, 0 unchanged", "mean(kettles) AS kettles"},
		{"INFLUX_ROLLUP_MEAN=power_watts kettles", "0 created, 0 updated, 8 unchanged", "mean(kettles) AS kettles"},
		{"", "0 created, 8 updated, 0 unchanged", "mean(tvs_19in) AS tvs_19in"},
	} {
		out, err := setup(srv, repo, tc.env)
		if err != nil {
			t.Fatalf("%s setup-influxdb.sh: %v\n%s", tc.env, err, out)
		}
		if want := "continuous queries on metrics_from_pau: " + tc.want + "\n"; !strings.HasSuffix(out, want) {
			t.Errorf("%s setup-influxdb.sh says %q, want it to end with %q", tc.env, out, want)
		}
		cqs := storedCQs(t, srv)
		for _, c := range cqs {
			if !strings.Contains(c.selectInto, tc.field) {
				t.Errorf("after %q, %s lacks %s", tc.env, c.name, tc.field)
			}
		}
		if len(cqs) != 8 {
			t.Errorf("after %q, %d continuous queries, want 8", tc.env, len(cqs))
		}
	}
	// A duration someone chose survives a re-run with the defaults (which
	// would otherwise shorten it, and lose data); its variable changes it.
	for _, tc := range []struct{ env, want string }{
		{"INFLUX_RP_DURATION=INF", "retention policy forever on metrics_from_pau: updated (INF, default)\n"},
		{"", "retention policy forever on metrics_from_pau: kept at 0s (set INFLUX_RP_DURATION to change it)\n"},
		{"INFLUX_RP_DURATION=52w", "retention policy forever on metrics_from_pau: updated (52w, default)\n"},
		{"", "retention policy forever on metrics_from_pau: unchanged (52w, default)\n"},
	} {
		out, err := setup(srv, repo, tc.env)
		if err != nil || !strings.HasPrefix(out, tc.want) {
			t.Errorf("%q setup-influxdb.sh: %v, says %q, want it to begin with %q", tc.env, err, out, tc.want)
		}
	}
	if out, err := setup(srv, repo, "", "backfill", "yesterday-ish"); err == nil || !strings.Contains(out, "backfill: FROM is not a time: yesterday-ish") {
		t.Errorf("backfill with a bad time: %v, %q; want exit 2 naming FROM", err, out)
	}
}

func near(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Max(math.Abs(want), 1e-300)
}

func totalEnergy(t *testing.T, srv *influxServer, rp, m, where string) float64 {
	t.Helper()
	res := srv.query(t, fmt.Sprintf(`SELECT sum("energy_joules") FROM "metrics_from_pau"."%s"."%s" WHERE %s`, rp, m, where))
	if len(res) != 1 {
		return 0
	}
	return floats(t, column(t, res[0], "sum"))[0]
}

// compareBuckets checks each bucket of rollup rp for measurement m against
// the raw points' aggregates over the same bucket and tags.
func compareBuckets(t *testing.T, srv *influxServer, rp, bucket, m, where string) {
	t.Helper()
	var sel []string
	for _, k := range rollupContract {
		sel = append(sel, fmt.Sprintf(`%s("%s") AS "%s"`, k.fn, k.raw, k.field))
	}
	raw := keyed(t, srv.query(t, fmt.Sprintf(`SELECT %s FROM "metrics_from_pau"."forever"."%s" WHERE %s GROUP BY time(%s), * fill(none)`, strings.Join(sel, ", "), m, where, bucket)))
	rolled := keyed(t, srv.query(t, fmt.Sprintf(`SELECT * FROM "metrics_from_pau"."%s"."%s" WHERE %s GROUP BY *`, rp, m, where)))
	if len(raw) == 0 || len(rolled) != len(raw) {
		t.Errorf("%s.%s: %d buckets, raw points fill %d", rp, m, len(rolled), len(raw))
	}
	for key, want := range raw {
		got, ok := rolled[key]
		if !ok {
			t.Errorf("%s.%s: no bucket %s", rp, m, key)
			continue
		}
		for _, k := range rollupContract {
			w, wok := want[k.field]
			g, gok := got[k.field]
			if wok != gok || !near(g, w, 1e-9) {
				t.Errorf("%s.%s %s: %s = %v (%v), raw %s(%s) = %v (%v)", rp, m, key, k.field, g, gok, k.fn, k.raw, w, wok)
			}
		}
	}
}

// keyed maps "tags @ time" to the row's numeric fields.
func keyed(t *testing.T, res []series) map[string]map[string]float64 {
	t.Helper()
	out := map[string]map[string]float64{}
	for _, s := range res {
		var tags []string
		for k, v := range s.Tags {
			if v != "" {
				tags = append(tags, k+"="+v)
			}
		}
		sort.Strings(tags)
		for _, row := range s.Values {
			fields := map[string]float64{}
			var at string
			for i, c := range s.Columns {
				switch {
				case c == "time":
					at = fmt.Sprint(row[i])
				case row[i] != nil:
					if f := floats(t, []interface{}{row[i]}); len(f) == 1 {
						fields[c] = f[0]
					}
				}
			}
			out[strings.Join(tags, ",")+" @ "+at] = fields
		}
	}
	return out
}
