package digest_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/digest"
	"github.com/greencampus/powerinput/internal/greenbot/digest/synth"
	"github.com/greencampus/powerinput/internal/greenbot/influx"
	"github.com/greencampus/powerinput/internal/metaphor"
)

func paris(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no zone data: %v", err)
	}
	return loc
}

// weekly is the week of 23 to 29 March 2026, whose Sunday is 23 hours long.
func weekly(loc *time.Location) digest.Request {
	return digest.Request{
		Start: time.Date(2026, 3, 23, 0, 0, 0, 0, loc), End: time.Date(2026, 3, 30, 0, 0, 0, 0, loc),
		Loc: loc, Weekly: true, Database: "metrics_from_pau", Retention: "forever",
		TopVMs: 2, TopServices: 5, Table: metaphor.Defaults(),
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

func TestComputeSums(t *testing.T) {
	loc := paris(t)
	r := weekly(loc)
	from := time.Date(2026, 2, 23, 0, 0, 0, 0, loc)
	sec := r.End.Sub(r.Start).Seconds()
	d, err := digest.Compute(r, synth.Days(3, from, r.End, loc), synth.Parts(3, sec), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sec != 7*86400-3600 {
		t.Fatalf("the week of the spring change: got %v s", sec)
	}
	if len(d.Hosts) != 3 {
		t.Fatalf("got %d hosts, want 3", len(d.Hosts))
	}
	var total float64
	for _, h := range d.Hosts {
		var i int
		for i = 0; synth.Host(i) != h.Name; i++ {
		}
		want := synth.Watts(i) * sec
		total += want
		if !near(h.Joules, want) || !near(h.Prev, synth.Watts(i)*7*86400) || h.MeanOf != 4 {
			t.Errorf("%s: got %v J, prev %v, mean of %d; want %v J, prev %v, mean of 4", h.Name, h.Joules, h.Prev, h.MeanOf, want, synth.Watts(i)*7*86400)
		}
		if h.Wall != (i == 0) {
			t.Errorf("%s: Wall = %v", h.Name, h.Wall)
		}
		if !near(h.CO2Grams, want/3.6e6*56) {
			t.Errorf("%s: CO2 got %v g, want %v", h.Name, h.CO2Grams, want/3.6e6*56)
		}
		if len(h.VMs) != 2 || !near(h.VMs[0].Share, synth.VMShare) || !near(h.OtherVMs.Share, synth.VMShare) || !near(h.Unused.Share, 1-3*synth.VMShare) {
			t.Errorf("%s: VMs %+v, other %+v, unused %+v", h.Name, h.VMs, h.OtherVMs, h.Unused)
		}
		if h.Measured != 1 || h.Missing != 0 || h.Estimated != 0 {
			t.Errorf("%s: measured %v, missing %v, estimated %v", h.Name, h.Measured, h.Missing, h.Estimated)
		}
	}
	if d.Total.Seconds != sec || d.Total.PrevSeconds != 7*86400 || d.Total.MeanSeconds != 7*86400 {
		t.Errorf("the periods' lengths: got %v, %v, %v s; want %v, then a whole week", d.Total.Seconds, d.Total.PrevSeconds, d.Total.MeanSeconds, sec)
	}
	if !near(d.Total.Joules, total) || !d.Total.HasPrev || d.Total.MeanOf != 4 || d.Measured != 1 {
		t.Errorf("total: got %+v, measured %v; want %v J", d.Total, d.Measured, total)
	}
	if len(d.Days) != 7 || d.Days[6].Date.Day() != 29 || d.Days[0].PrevDate.Day() != 16 {
		t.Errorf("chart days: got %+v", d.Days)
	}
	if !near(d.Days[6].Joules, total/sec*23*3600) {
		t.Errorf("chart: Sunday 29 March got %v J, want 23 h of power", d.Days[6].Joules)
	}
}

// TestComputeQuality: a host silent for part of the period, one estimated
// by the model, one listed that never wrote.
func TestComputeQuality(t *testing.T) {
	loc := paris(t)
	r := weekly(loc)
	r.Weekly = false
	r.Start, r.End = time.Date(2026, 3, 24, 0, 0, 0, 0, loc), time.Date(2026, 3, 25, 0, 0, 0, 0, loc)
	r.Hosts = []string{"a", "b", "ghost"}
	ts := json.Number("1774306800000000000") // 24 March 00:00 in Paris
	days := []influx.Series{
		{Tags: map[string]string{"host": "a", "basis": "", "source": "rapl"}, Columns: []string{"time", "e", "w", "co2", "s"},
			Values: [][]any{{ts, json.Number("3600000"), nil, nil, json.Number("64800")}}},
		{Tags: map[string]string{"host": "b", "basis": "", "source": "model"}, Columns: []string{"time", "e", "w", "co2", "s"},
			Values: [][]any{{ts, json.Number("1000"), nil, nil, json.Number("86400")}}},
	}
	d, err := digest.Compute(r, days, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]digest.Host{}
	for _, h := range d.Hosts {
		got[h.Name] = h
	}
	for _, tc := range []struct {
		host                         string
		measured, estimated, missing float64
	}{{"a", 0.75, 0, 0.25}, {"b", 0, 1, 0}, {"ghost", 0, 0, 1}} {
		h := got[tc.host]
		if !near(h.Measured, tc.measured) || !near(h.Estimated, tc.estimated) || !near(h.Missing, tc.missing) {
			t.Errorf("%s: got measured %v estimated %v missing %v, want %v %v %v", tc.host, h.Measured, h.Estimated, h.Missing, tc.measured, tc.estimated, tc.missing)
		}
	}
	if !near(d.Measured, 0.75/3) || !near(d.Estimated, 1.0/3) || d.Total.HasCO2 || d.Total.HasPrev {
		t.Errorf("campus: measured %v estimated %v, total %+v", d.Measured, d.Estimated, d.Total)
	}
	if len(d.Hosts[0].Equivalents) == 0 || d.Hosts[0].Name != "a" {
		t.Errorf("host a (1 kWh) first, with equivalents: got %+v", d.Hosts[0])
	}
}

func TestQueriesQuoteNames(t *testing.T) {
	loc := paris(t)
	r := weekly(loc)
	r.Hosts = []string{`o'brien`, `back\slash`}
	q := r.Queries()
	if len(q) != 4 {
		t.Fatalf("got %d queries, want 4", len(q))
	}
	if !strings.Contains(q[3], `"host" = 'o\'brien'`) || !strings.Contains(q[3], `"co2_grams" > 0`) {
		t.Errorf("the rated query reads other hosts, or the points without CO₂: %s", q[3])
	}
	if !strings.Contains(q[0], `"host" = 'o\'brien' OR "host" = 'back\\slash'`) || !strings.Contains(q[0], "tz('Europe/Paris')") {
		t.Errorf("query: %s", q[0])
	}
}

// campus is a local server answering the digest's queries for n hosts as
// InfluxDB would; it counts the requests.
func campus(t testing.TB, n int, r digest.Request) (*httptest.Server, *atomic.Int64) {
	var count atomic.Int64
	from := time.Date(r.Start.Year(), r.Start.Month(), r.Start.Day()-7*digest.Lookback, 0, 0, 0, 0, r.Loc)
	days := synth.Days(n, from, r.End, r.Loc)
	vms := synth.Parts(n, r.End.Sub(r.Start).Seconds())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		count.Add(1)
		q := req.FormValue("q")
		var s []influx.Series
		switch {
		case strings.Contains(q, `"power_host"`):
			s = days
		case strings.Contains(q, `"power_vm"`):
			s = vms
		}
		json.NewEncoder(w).Encode(map[string]any{"results": []any{map[string]any{"statement_id": 0, "series": s}}})
	}))
	t.Cleanup(srv.Close)
	return srv, &count
}

// TestQueryCountFlat: the number of queries of a digest does not grow
// with the number of hosts.
func TestQueryCountFlat(t *testing.T) {
	loc := paris(t)
	r := weekly(loc)
	counts := map[int]int64{}
	for _, n := range []int{1, 10, 1000} {
		srv, requests := campus(t, n, r)
		c, err := influx.New(srv.URL, "", "")
		if err != nil {
			t.Fatal(err)
		}
		d, err := digest.Make(context.Background(), c, r)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Hosts) != n {
			t.Fatalf("%d hosts: digest has %d", n, len(d.Hosts))
		}
		counts[n] = c.Queries()
		if requests.Load() != c.Queries() {
			t.Errorf("%d hosts: %d requests for %d queries", n, requests.Load(), c.Queries())
		}
	}
	if counts[1] != counts[1000] || counts[10] != counts[1000] || counts[1] != 4 {
		t.Errorf("queries per digest by host count: got %v, want 4 for each", counts)
	}
}

func TestFit(t *testing.T) {
	table := metaphor.Defaults()
	day := 86400.0
	for _, tc := range []struct {
		name   string
		joules float64
		n      int
		first  string
	}{
		{"a server's day, 5 kWh", 5 * 3.6e6, 3, "smartphone_charges"},
		{"a VM's day, 50 Wh: 69 km nearer 20 than 5 charges", 50 * 3600, 1, "ebike_km"},
		{"nothing", 0, 3, ""},
	} {
		eq := digest.Fit(table, tc.joules, day, tc.n)
		if tc.first == "" {
			if len(eq) != 0 {
				t.Errorf("%s: got %v, want none", tc.name, eq)
			}
			continue
		}
		if len(eq) == 0 || len(eq) > tc.n || eq[0].Metaphor.Field != tc.first {
			t.Errorf("%s: got %+v, want %s first, at most %d", tc.name, eq, tc.first, tc.n)
		}
		for _, e := range eq {
			if e.Count < 1 || e.Count > 10000 {
				t.Errorf("%s: %s count %v out of a readable range", tc.name, e.Metaphor.Field, e.Count)
			}
		}
	}
}

// A digest, weekly or daily, reads the hourly rollup where the database
// has it; one in a zone whose days do not start on whole hours reads the
// raw points.
func TestRollup(t *testing.T) {
	loc := paris(t)
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		name     string
		weekly   bool
		loc      *time.Location
		policies []string
		want     string // the retention policy read
		queries  int64
	}{
		{"weekly, rollup there", true, loc, []string{"forever", "rollup_1h"}, "rollup_1h", 5},
		{"weekly, no rollup", true, loc, []string{"forever"}, "forever", 5},
		{"daily", false, loc, []string{"forever", "rollup_1h"}, "rollup_1h", 5},
		{"daily, no rollup", false, loc, []string{"forever"}, "forever", 5},
		{"weekly in Kolkata", true, kolkata, []string{"forever", "rollup_1h"}, "forever", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var read []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				q := req.FormValue("q")
				var s []influx.Series
				if strings.HasPrefix(q, "SHOW RETENTION POLICIES") {
					rp := influx.Series{Columns: []string{"name", "duration"}}
					for _, p := range tc.policies {
						rp.Values = append(rp.Values, []any{p, "0s"})
					}
					s = []influx.Series{rp}
				} else {
					read = append(read, q)
				}
				json.NewEncoder(w).Encode(map[string]any{"results": []any{map[string]any{"series": s}}})
			}))
			defer srv.Close()
			c, err := influx.New(srv.URL, "", "")
			if err != nil {
				t.Fatal(err)
			}
			r := weekly(tc.loc)
			r.Start, r.End = time.Date(2026, 3, 23, 0, 0, 0, 0, tc.loc), time.Date(2026, 3, 30, 0, 0, 0, 0, tc.loc)
			r.Weekly, r.Rollup = tc.weekly, "rollup_1h"
			if !tc.weekly {
				r.Start = time.Date(2026, 3, 29, 0, 0, 0, 0, tc.loc)
			}
			d, err := digest.Make(context.Background(), c, r)
			if err != nil {
				t.Fatal(err)
			}
			if (d.Rollup == "rollup_1h") != (tc.want == "rollup_1h") {
				t.Errorf("digest says it read rollup %q, reads %s", d.Rollup, tc.want)
			}
			if c.Queries() != tc.queries || len(read) != 4 {
				t.Fatalf("got %d queries, %d reads", c.Queries(), len(read))
			}
			for _, q := range read {
				if !strings.Contains(q, `"metrics_from_pau"."`+tc.want+`".`) {
					t.Errorf("reads %s, want policy %s", q, tc.want)
				}
			}
		})
	}
}

// TestVMUnderscore: a VM whose own name starts with '_' (tagged "__build")
// is a VM like the others, shown by its name; the reserved parts are not.
func TestVMUnderscore(t *testing.T) {
	loc := paris(t)
	r := weekly(loc)
	sec := r.End.Sub(r.Start).Seconds()
	parts := synth.Parts(1, sec)
	big := synth.Watts(0) * sec
	for _, tag := range []string{"__build", "_hypervisor", "_unattributed"} {
		parts = append(parts, influx.Series{Name: "power_vm", Tags: map[string]string{"host": synth.Host(0), "domain": tag},
			Columns: []string{"time", "e"}, Values: [][]any{{json.Number("0"), json.Number(strconv.FormatFloat(big, 'f', -1, 64))}}})
	}
	d, err := digest.Compute(r, synth.Days(1, time.Date(2026, 2, 23, 0, 0, 0, 0, loc), r.End, loc), parts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Hosts) != 1 || len(d.Hosts[0].VMs) == 0 || d.Hosts[0].VMs[0].Name != "_build" {
		t.Fatalf("top VMs %+v, want _build first", d.Hosts[0].VMs)
	}
	for _, p := range d.Hosts[0].VMs {
		if strings.HasPrefix(p.Name, "_h") || strings.HasPrefix(p.Name, "_u") {
			t.Errorf("a reserved part shown as a VM: %q", p.Name)
		}
	}
}
