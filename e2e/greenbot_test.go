//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/bot"
	"github.com/greencampus/powerinput/internal/greenbot/config"
	"github.com/greencampus/powerinput/internal/greenbot/digest"
	"github.com/greencampus/powerinput/internal/greenbot/influx"
	"github.com/greencampus/powerinput/internal/greenbot/message"
	botrender "github.com/greencampus/powerinput/internal/greenbot/render"
	"github.com/greencampus/powerinput/internal/metaphor"
)

// TestGreenbotDigest: real Telegraf and powerinput fill a real InfluxDB
// (a hypervisor with VMs, services and a wall meter; a plain server; a
// guest estimated by the model), then the bot's daily and weekly digests
// must say what InfluxQL sums over the same range say, asked here
// independently, one host at a time; and greenbot -once prints them.
func TestGreenbotDigest(t *testing.T) {
	if *telegrafBin == "" || *powerinputBin == "" {
		t.Skip("needs -telegraf and -powerinput (run make e2e)")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	srv := newInflux(t)
	srv.start()
	setup := exec.Command("sh", filepath.Join(repo, "deploy", "setup-influxdb.sh"))
	setup.Env = append(os.Environ(), fmt.Sprintf("INFLUX_PORT=%d", srv.httpPort))
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf("setup-influxdb.sh: %v\n%s", err, out)
	}
	fixtures := map[string]*fixture{
		"kvm-0": newFixture(t, hostPlan["kvm-0"].pkg, hostPlan["kvm-0"].dram).withWallAndGPU(t, kvm0Wall, kvm0GPU),
		"kvm-1": newFixture(t, hostPlan["kvm-1"].pkg, hostPlan["kvm-1"].dram),
		"vm-2":  newGuestFixture(t, 0),
	}
	addHypervisor(t, fixtures["kvm-0"])
	fixtures["kvm-0"].apps = newAppsFixture(t, fixtures["kvm-0"])
	var agents []*agent
	for name, f := range fixtures {
		f.run()
		agents = append(agents, startAgent(t, name, *telegrafBin, *powerinputBin, repo, srv.url(), f))
	}
	time.Sleep(15 * time.Second)
	for _, a := range agents {
		a.stop()
	}
	for _, f := range fixtures {
		f.halt()
	}
	if res := srv.query(t, `SELECT count("energy_joules") FROM "metrics_from_pau"."forever"."power_host" GROUP BY "host"`); len(res) != len(fixtures) {
		for _, a := range agents {
			t.Logf("%s's Telegraf log:\n%s", a.name, a.logText())
		}
		t.Fatalf("power_host holds %d hosts, want %d", len(res), len(fixtures))
	}

	// A zone where today is not about to end, so the run's points are in
	// today's digest.
	var loc *time.Location
	for _, z := range []string{"Europe/Paris", "America/New_York", "Asia/Tokyo"} {
		l, err := time.LoadLocation(z)
		if err != nil {
			t.Skipf("no time zone data: %v", err)
		}
		if h := time.Now().In(l).Hour(); h >= 1 && h <= 22 {
			loc = l
			break
		}
	}
	now := time.Now()
	// A day of kvm-0 a week ago (one point covering the day), for the
	// comparisons.
	weekAgo := now.In(loc).AddDate(0, 0, -7)
	lp := fmt.Sprintf("power_host,host=kvm-0,basis=wall,source=rapl energy_joules=2000000,wall_joules=2500000,interval_seconds=86400,co2_grams=38.9 %d\n", weekAgo.UnixNano())
	if err := srv.write(lp); err != nil {
		t.Fatal(err)
	}

	client, err := influx.New(srv.url(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	l := now.In(loc)
	tomorrow := time.Date(l.Year(), l.Month(), l.Day()+1, 12, 0, 0, 0, loc)
	for _, kind := range []string{"daily", "weekly"} {
		sched, err := config.ParseSchedule(map[string]string{"daily": "daily 08:00", "weekly": "weekly " + strings.ToLower(tomorrow.Weekday().String()) + " 08:00"}[kind], loc)
		if err != nil {
			t.Fatal(err)
		}
		// The digest due tomorrow morning covers today (a weekly one:
		// the 7 days ending tonight).
		due := sched.Last(tomorrow)
		start, end := sched.Covers(due)
		r := digest.Request{Start: start, End: end, Loc: loc, Weekly: kind == "weekly", Database: "metrics_from_pau", Retention: "forever",
			TopVMs: 5, TopServices: 10, Table: metaphor.Defaults()}
		before := client.Queries()
		d, err := digest.Make(context.Background(), client, r)
		if err != nil {
			t.Fatal(err)
		}
		// per day, VMs, services, and the energy that carried co2_grams
		if n := client.Queries() - before; n != 4 {
			t.Errorf("%s: %d queries, want 4", kind, n)
		}
		t.Run(kind+" numbers equal InfluxQL sums", func(t *testing.T) {
			checkDigestSums(t, srv, d, start, end, weekAgo)
		})
		for _, lang := range []string{"en", "fr"} {
			m, err := botrender.Digest(d, botrender.Options{Lang: lang, ID: "e2e"})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range d.Hosts {
				want := h.Name + nameSep(lang) + whText(lang, h.Joules)
				if !strings.Contains(m.Text, want) {
					t.Errorf("%s %s: the text does not say %q:\n%s", kind, lang, want, m.Text)
				}
			}
			if !strings.Contains(m.Subject, whText(lang, d.Total.Joules)) {
				t.Errorf("%s %s: subject %q does not give the total %s", kind, lang, m.Subject, whText(lang, d.Total.Joules))
			}
		}
	}

	t.Run("InfluxDB stopped at a digest's time: sent once, late", func(t *testing.T) {
		checkLateDigest(t, srv, loc)
	})

	t.Run("greenbot -once prints a digest, once", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "greenbot")
		build := exec.Command("go", "build", "-o", bin, "./cmd/greenbot")
		build.Dir = repo
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/greenbot: %v\n%s", err, out)
		}
		state := t.TempDir()
		conf := filepath.Join(state, "greenbot.toml")
		text := fmt.Sprintf(`time_zone = %q
state_dir = %q
[influxdb]
url = %q
# The earlier weeks of this database are not backfilled into rollup_1h.
rollup = ""
[destinations.console.stdout]
format = "text"
[[digest]]
name = "daily-fr"
schedule = "daily 00:00"
lang = "fr"
to = ["console"]
`, loc.String(), state, srv.url())
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		for run, want := range []string{"Green Campus\u202F: l’énergie du", ""} {
			// The digest of yesterday, which holds no point of the run:
			// it says no machine sent anything, and names kvm-0, seen in
			// the look-back, as expected.
			out, err := exec.Command(bin, "-config", conf, "-once").CombinedOutput()
			if err != nil {
				t.Fatalf("greenbot -once (run %d): %v\n%s", run+1, err, out)
			}
			if want != "" && (!strings.Contains(string(out), want) || !strings.Contains(string(out), "Aucune machine n’a envoyé de mesure") || !strings.Contains(string(out), "Machine attendue\u202F: kvm-0.")) {
				t.Errorf("run %d printed:\n%s\nwant %q", run+1, out, want)
			}
			if want == "" && strings.Contains(string(out), "Green Campus") {
				t.Errorf("run %d sent again:\n%s", run+1, out)
			}
		}
	})
}

// recorder keeps the messages the bot sends.
type recorder struct {
	mu   sync.Mutex
	sent []message.Message
}

func (r *recorder) Send(_ context.Context, m message.Message, _ ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	return nil
}

func (r *recorder) messages() []message.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]message.Message(nil), r.sent...)
}

// checkLateDigest runs the daemon with InfluxDB stopped when a digest is
// due (missed while the bot was down: due two hours ago), starts InfluxDB
// again a few seconds later, and wants the digest once, marked late.
func checkLateDigest(t *testing.T, srv *influxServer, loc *time.Location) {
	due := time.Now().In(loc).Add(-2 * time.Hour)
	state := t.TempDir()
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf("time_zone = %q\nstate_dir = %q\n[influxdb]\nurl = %q\n[[digest]]\nname = \"d\"\nschedule = \"daily %02d:%02d\"\n",
		loc.String(), state, srv.url(), due.Hour(), due.Minute())))
	if err != nil {
		t.Fatal(err)
	}
	// The state of a bot that sent the day before's and then went down.
	prev := fmt.Sprintf(`{"d": %q}`, cfg.Digests[0].When.Last(time.Now()).AddDate(0, 0, -1).Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(state, "digests.json"), []byte(prev), 0o600); err != nil {
		t.Fatal(err)
	}
	client, err := influx.New(srv.url(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	client.Attempts, client.Timeout = 1, time.Second
	rec := &recorder{}
	b := &bot.Bot{Cfg: cfg, DB: client, Out: rec, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now, Retry: 300 * time.Millisecond}
	srv.stop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- b.Run(ctx) }()
	time.Sleep(3 * time.Second)
	failed := client.Queries()
	srv.start()
	for deadline := time.Now().Add(30 * time.Second); len(rec.messages()) == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // anything sent twice would be sent by now
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := rec.messages()
	t.Logf("%d queries failed while InfluxDB was down; %d message(s) after", failed, len(got))
	if failed < 2 || len(got) != 1 || !got[0].Late || !strings.Contains(got[0].Text, "comes late") {
		t.Fatalf("queries while down: %d; messages: %d (late: %v); want one, late", failed, len(got), len(got) == 1 && got[0].Late)
	}
}

func nameSep(lang string) string {
	if lang == "fr" {
		return "\u202F: "
	}
	return ": "
}

// whText writes joules as the digest does: Wh below 1 kWh, three
// significant digits, at most two decimals; French with a decimal comma.
func whText(lang string, j float64) string {
	v, unit := j/3600, "\u00a0Wh"
	if v >= 1000 {
		v, unit = v/1000, "\u00a0kWh"
	}
	dec := 2
	if v >= 100 {
		dec = 0
	} else if v >= 10 {
		dec = 1
	}
	s := fmt.Sprintf("%.*f", dec, v)
	if lang == "fr" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + unit
}

func (s *influxServer) write(lp string) error {
	resp, err := http.Post(s.url()+"/write?db=metrics_from_pau&rp=forever", "text/plain", strings.NewReader(lp))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("write: %s", resp.Status)
	}
	return nil
}

// sum is one InfluxQL sum; zero where there is no point.
func sum(t *testing.T, srv *influxServer, q string) float64 {
	t.Helper()
	res := srv.query(t, q)
	if len(res) == 0 {
		return 0
	}
	return floats(t, res[0].Values[0][1:])[0]
}

func checkDigestSums(t *testing.T, srv *influxServer, d *digest.Digest, start, end, weekAgo time.Time) {
	rng := fmt.Sprintf("time >= %d AND time < %d", start.UnixNano(), end.UnixNano())
	from := `FROM "metrics_from_pau"."forever"."power_host"`
	seen := map[string]bool{}
	var total, co2 float64
	for _, h := range d.Hosts {
		seen[h.Name] = true
		where := fmt.Sprintf(`"host" = '%s' AND %s`, h.Name, rng)
		// The metaphor basis: the wall where the point says so, else the parts.
		want := sum(t, srv, `SELECT sum("wall_joules") `+from+` WHERE "basis" = 'wall' AND `+where) +
			sum(t, srv, `SELECT sum("energy_joules") `+from+` WHERE "basis" != 'wall' AND `+where)
		wantCO2 := sum(t, srv, `SELECT sum("co2_grams") `+from+` WHERE `+where)
		total += want
		co2 += wantCO2
		t.Logf("%s: digest %.3f J, %.4f g CO₂; InfluxQL %.3f J, %.4f g; measured %.3g, estimated %.3g", h.Name, h.Joules, h.CO2Grams, want, wantCO2, h.Measured, h.Estimated)
		if want == 0 || !same(h.Joules, want) || !same(h.CO2Grams, wantCO2) {
			t.Errorf("%s: digest %v J and %v g, InfluxQL %v J and %v g", h.Name, h.Joules, h.CO2Grams, want, wantCO2)
		}
		if src := fixturesSource(h.Name); src == "model" && (h.Estimated == 0 || h.Measured != 0) || src != "model" && (h.Measured == 0 || h.Estimated != 0) {
			t.Errorf("%s: measured %v, estimated %v; its source is %s", h.Name, h.Measured, h.Estimated, src)
		}
		for _, part := range []struct {
			measurement, tag string
			parts            []digest.Part
		}{{"power_vm", "domain", h.VMs}, {"power_service", "unit", h.Services}} {
			all := sum(t, srv, fmt.Sprintf(`SELECT sum("energy_joules") FROM "metrics_from_pau"."forever".%q WHERE %s`, part.measurement, where))
			for _, p := range part.parts {
				pj := sum(t, srv, fmt.Sprintf(`SELECT sum("energy_joules") FROM "metrics_from_pau"."forever".%q WHERE %q = '%s' AND %s`, part.measurement, part.tag, p.Name, where))
				if !same(p.Joules, pj) || !same(p.Share, pj/all) {
					t.Errorf("%s %s %s: digest %v J (%.4f), InfluxQL %v J of %v (%.4f)", h.Name, part.measurement, p.Name, p.Joules, p.Share, pj, all, pj/all)
				}
			}
		}
	}
	for _, want := range []string{"kvm-0", "kvm-1", "vm-2"} {
		if !seen[want] {
			t.Errorf("no %s in the digest (hosts %v)", want, seen)
		}
	}
	if !same(d.Total.Joules, total) || !same(d.Total.CO2Grams, co2) {
		t.Errorf("campus: digest %v J %v g, InfluxQL %v J %v g", d.Total.Joules, d.Total.CO2Grams, total, co2)
	}
	for _, h := range d.Hosts {
		switch h.Name {
		case "kvm-0":
			if len(h.VMs) != 2 || len(h.Services) == 0 || h.Unused.Joules <= 0 || !h.Wall {
				t.Errorf("kvm-0: VMs %v, services %v, unused %v, wall %v", h.VMs, h.Services, h.Unused, h.Wall)
			}
			// The point of a week ago: the same weekday for the daily
			// digest, inside the week before for the weekly one.
			// A weekly digest compares only with a week mostly covered.
			if d.Weekly && h.HasPrev {
				t.Errorf("kvm-0: a weekly previous of %v from one day's point", h.Prev)
			}
			if !d.Weekly && (!h.HasPrev || h.Prev != 2500000 || h.MeanOf != 1) {
				t.Errorf("kvm-0: previous %v (%v), mean of %d; want the wall's 2,500,000 J of %s", h.Prev, h.HasPrev, h.MeanOf, weekAgo)
			}
		case "vm-2":
			if h.HasPrev {
				t.Errorf("vm-2 has a previous period: %v", h.Prev)
			}
		}
	}
}

func fixturesSource(host string) string {
	if host == "vm-2" {
		return "model"
	}
	return "rapl"
}

func same(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))+1e-9 }
