package bot

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/config"
	"github.com/greencampus/powerinput/internal/greenbot/digest/synth"
	"github.com/greencampus/powerinput/internal/greenbot/influx"
	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// recorder keeps what was sent.
type recorder struct {
	mu   sync.Mutex
	sent []message.Message
	to   [][]string
}

func (r *recorder) Send(_ context.Context, m message.Message, to ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	r.to = append(r.to, to)
	return nil
}

// flaky answers 503 to the first fails queries, then a campus of 2 hosts.
func flaky(t *testing.T, fails int64, loc *time.Location) (*influx.Client, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	days := synth.Days(2, time.Date(2026, 10, 1, 0, 0, 0, 0, loc), time.Date(2026, 12, 31, 0, 0, 0, 0, loc), loc)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= fails {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var s []influx.Series
		if strings.Contains(r.FormValue("q"), `"power_host"`) {
			s = days
		}
		json.NewEncoder(w).Encode(map[string]any{"results": []any{map[string]any{"series": s}}})
	}))
	t.Cleanup(srv.Close)
	c, err := influx.New(srv.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	c.Attempts, c.Backoff = 1, time.Millisecond
	return c, &n
}

func testBot(t *testing.T, db *influx.Client, now time.Time, stateDir string) (*Bot, *recorder) {
	t.Helper()
	cfg, err := config.Parse(strings.NewReader(`
time_zone = "Europe/Paris"
state_dir = "` + stateDir + `"
[[digest]]
name = "daily"
schedule = "daily 08:00"
[[digest]]
name = "weekly"
schedule = "weekly monday 08:00"
lang = "fr"
`))
	if err != nil {
		t.Skipf("config (time zone data?): %v", err)
	}
	rec := &recorder{}
	return &Bot{Cfg: cfg, DB: db, Out: rec, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return now }, Retry: time.Millisecond}, rec
}

// A digest whose queries fail is tried again and goes out marked late.
func TestRunOneLate(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	db, n := flaky(t, 4, loc)
	due := time.Date(2026, 12, 7, 8, 0, 0, 0, loc)
	b, rec := testBot(t, db, due.Add(time.Hour), t.TempDir())
	if err := b.runOne(context.Background(), b.Cfg.Digests[0], due, due.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if len(rec.sent) != 1 || !rec.sent[0].Late || !strings.Contains(rec.sent[0].Text, "late") {
		t.Fatalf("got %d messages (late: %v), want one marked late", len(rec.sent), len(rec.sent) > 0 && rec.sent[0].Late)
	}
	if n.Load() < 5 {
		t.Errorf("got %d queries, want the 4 refused and more", n.Load())
	}
	if rec.sent[0].ID != "digest-daily-20261207T0700Z" {
		t.Errorf("ID: got %q", rec.sent[0].ID)
	}
}

// A digest that cannot be made before the next is due is given up with
// an error, not skipped without a word.
func TestRunOneGivesUp(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	db, _ := flaky(t, 1<<30, loc)
	due := time.Date(2026, 12, 7, 8, 0, 0, 0, loc)
	b, rec := testBot(t, db, due, t.TempDir())
	err := b.runOne(context.Background(), b.Cfg.Digests[0], due, due.Add(time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "given up") || len(rec.sent) != 0 {
		t.Fatalf("got %v and %d messages, want an error saying it was given up", err, len(rec.sent))
	}
}

// Once sends each digest once: a second run, or a run later the same day,
// sends nothing; the next day, the daily only; the next Monday, both.
func TestOnceState(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	db, _ := flaky(t, 0, loc)
	dir := t.TempDir()
	for _, tc := range []struct {
		now  time.Time
		want []string
		late bool // a run an hour after the due time, not the first
	}{
		{time.Date(2026, 12, 7, 8, 5, 0, 0, loc), []string{"digest-daily-20261207T0700Z", "digest-weekly-20261207T0700Z"}, false},
		{time.Date(2026, 12, 7, 8, 6, 0, 0, loc), nil, false},
		{time.Date(2026, 12, 7, 23, 0, 0, 0, loc), nil, false},
		{time.Date(2026, 12, 8, 8, 5, 0, 0, loc), []string{"digest-daily-20261208T0700Z"}, false},
		{time.Date(2026, 12, 14, 9, 0, 0, 0, loc), []string{"digest-daily-20261214T0700Z", "digest-weekly-20261214T0700Z"}, true},
	} {
		b, rec := testBot(t, db, tc.now, dir)
		if err := b.Once(context.Background()); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range rec.sent {
			got = append(got, m.ID)
			if m.Late != tc.late {
				t.Errorf("at %s: %s late = %v, want %v", tc.now, m.ID, m.Late, tc.late)
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("at %s: sent %v, want %v", tc.now, got, tc.want)
		}
	}
}

// A first run long after a due time is no late digest: nothing failed.
func TestOnceFirstRunNotLate(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	db, _ := flaky(t, 0, loc)
	b, rec := testBot(t, db, time.Date(2026, 12, 10, 15, 0, 0, 0, loc), t.TempDir())
	if err := b.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(rec.sent) != 2 || rec.sent[0].Late || rec.sent[1].Late {
		t.Errorf("got %d messages, late: %v", len(rec.sent), len(rec.sent) > 0 && rec.sent[0].Late)
	}
}

// Run catches up at start with a digest missed while the bot was down.
func TestRunCatchesUp(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	db, _ := flaky(t, 0, loc)
	dir := t.TempDir()
	b, _ := testBot(t, db, time.Date(2026, 12, 6, 9, 0, 0, 0, loc), dir)
	if err := b.saveState(state{"daily": time.Date(2026, 12, 6, 8, 0, 0, 0, loc), "weekly": time.Date(2026, 11, 30, 8, 0, 0, 0, loc)}); err != nil {
		t.Fatal(err)
	}
	b, rec := testBot(t, db, time.Date(2026, 12, 7, 12, 0, 0, 0, loc), dir)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- b.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec.mu.Lock()
		n := len(rec.sent)
		rec.mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if len(rec.sent) != 2 || !rec.sent[0].Late || !rec.sent[1].Late {
		t.Fatalf("got %d messages, want the daily and weekly of 7 December, both late", len(rec.sent))
	}
}

// counting is an alert set that counts its evaluations.
type counting struct{ n atomic.Int32 }

func (c *counting) Evaluate(context.Context, time.Time) error { c.n.Add(1); return nil }

// Once evaluates the alerts once; Run at once and then every minute.
func TestAlertsEvaluated(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	db, _ := flaky(t, 0, loc)
	b, _ := testBot(t, db, time.Date(2026, 12, 7, 12, 0, 0, 0, loc), t.TempDir())
	c := &counting{}
	b.Alerts = []Evaluator{c}
	if err := b.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.n.Load() != 1 {
		t.Errorf("Once: %d evaluations, want 1", c.n.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- b.Run(ctx) }()
	for deadline := time.Now().Add(5 * time.Second); c.n.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if c.n.Load() != 2 {
		t.Errorf("Run: %d evaluations in all, want 2 (Once's and Run's first)", c.n.Load())
	}
}

// Every due time missed while the bot was down goes out, oldest first and
// late, by Once as by Run; those older than the outbox keeps a message
// are given up with a word in the log.
func TestCatchUpEveryMissed(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	db, _ := flaky(t, 0, loc)
	want := []string{"digest-daily-20261205T0700Z", "digest-daily-20261206T0700Z"}
	for _, run := range []string{"once", "run"} {
		dir := t.TempDir()
		b, _ := testBot(t, db, time.Time{}, dir)
		if err := b.saveState(state{"daily": time.Date(2026, 12, 3, 8, 0, 0, 0, loc), "weekly": time.Date(2026, 11, 30, 8, 0, 0, 0, loc)}); err != nil {
			t.Fatal(err)
		}
		b, rec := testBot(t, db, time.Date(2026, 12, 6, 9, 0, 0, 0, loc), dir)
		b.Cfg.Outbox.Keep = 48 * time.Hour
		var logs strings.Builder
		b.Log = slog.New(slog.NewTextHandler(&logs, nil))
		if run == "once" {
			if err := b.Once(context.Background()); err != nil {
				t.Fatal(err)
			}
		} else {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- b.Run(ctx) }()
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if st, _ := b.loadState(); st["daily"].Equal(time.Date(2026, 12, 6, 8, 0, 0, 0, loc)) {
					break
				}
			}
			cancel()
			<-done
		}
		rec.mu.Lock()
		var got []string
		for _, m := range rec.sent {
			got = append(got, m.ID)
			if !m.Late {
				t.Errorf("%s: %s is not marked late", run, m.ID)
			}
		}
		rec.mu.Unlock()
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: sent %v, want %v", run, got, want)
		}
		if !strings.Contains(logs.String(), "given up") || !strings.Contains(logs.String(), "count=1") {
			t.Errorf("%s: the log does not say the digest of 4 December was given up:\n%s", run, logs.String())
		}
	}
}

// failing is an alert set whose database does not answer.
type failing struct{}

func (failing) Evaluate(context.Context, time.Time) error {
	return errors.New("influxdb: connection refused")
}

// Once still sends the digests when the alerts cannot be evaluated, but
// says so with an error (the timer's exit status).
func TestOnceAlertsFail(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	db, _ := flaky(t, 0, loc)
	b, rec := testBot(t, db, time.Date(2026, 12, 7, 12, 0, 0, 0, loc), t.TempDir())
	b.Alerts = []Evaluator{failing{}}
	err := b.Once(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not evaluated") {
		t.Errorf("Once: %v, want an error saying the alerts were not evaluated", err)
	}
	if len(rec.sent) != 2 {
		t.Errorf("%d digests sent, want 2 all the same", len(rec.sent))
	}
}

// TestDigestReadsRollupOnlyOnceSettled: a digest made less than two hours
// (and a moment) after its period ended would miss the last hour's late
// points in rollup_1h: it reads the raw points; later it reads the rollup.
func TestDigestReadsRollupOnlyOnceSettled(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no zone data: %v", err)
	}
	var mu sync.Mutex
	var froms []string
	days := synth.Days(2, time.Date(2026, 10, 1, 0, 0, 0, 0, loc), time.Date(2026, 12, 31, 0, 0, 0, 0, loc), loc)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.FormValue("q")
		var s []influx.Series
		switch {
		case strings.HasPrefix(q, "SHOW RETENTION POLICIES"):
			s = []influx.Series{{Columns: []string{"name"}, Values: [][]any{{"forever"}, {"rollup_1h"}}}}
		case strings.Contains(q, `"power_host"`):
			mu.Lock()
			froms = append(froms, q)
			mu.Unlock()
			s = days
		}
		json.NewEncoder(w).Encode(map[string]any{"results": []any{map[string]any{"series": s}}})
	}))
	t.Cleanup(srv.Close)
	db, err := influx.New(srv.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	midnight := time.Date(2026, 12, 5, 0, 0, 0, 0, loc)
	for _, tc := range []struct {
		after  time.Duration
		rollup bool
	}{{10 * time.Minute, false}, {2 * time.Hour, false}, {2*time.Hour + 10*time.Minute, true}, {8 * time.Hour, true}} {
		b, _ := testBot(t, db, midnight.Add(tc.after), t.TempDir())
		b.Cfg.InfluxDB.Rollup = "rollup_1h"
		froms = nil
		if _, err := b.Make(context.Background(), b.Cfg.Digests[0], midnight, false); err != nil {
			t.Fatal(err)
		}
		// power_host per day, then the energy that carried co2_grams
		if len(froms) != 2 || strings.Contains(froms[0], `"rollup_1h"`) != tc.rollup || strings.Contains(froms[1], `"rollup_1h"`) != tc.rollup {
			t.Errorf("%v after the day ended: queries %q; want rollup_1h read: %v", tc.after, froms, tc.rollup)
		}
	}
}

// TestOnceNothingWritten: with no machine writing, -once still sends each
// digest, a short one that says so (a reader who gets nothing cannot tell
// a silent campus from a dead bot), and does not send it again.
func TestOnceNothingWritten(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"results": []any{map[string]any{}}})
	}))
	t.Cleanup(srv.Close)
	db, err := influx.New(srv.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	db.Attempts = 1
	dir := t.TempDir()
	now := time.Date(2026, 12, 7, 8, 5, 0, 0, loc)
	b, rec := testBot(t, db, now, dir)
	if err := b.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"digest-daily-20261207T0700Z": "No machine sent a measurement for this day.",
		"digest-weekly-20261207T0700Z": "Aucune machine n’a envoyé de mesure pour cette semaine."}
	if len(rec.sent) != len(want) {
		t.Fatalf("sent %d digests, want %d", len(rec.sent), len(want))
	}
	for _, m := range rec.sent {
		if !strings.Contains(m.Text, want[m.ID]) {
			t.Errorf("%s does not say %q:\n%s", m.ID, want[m.ID], m.Text)
		}
	}
	again, rec2 := testBot(t, db, now.Add(time.Minute), dir)
	if err := again.Once(context.Background()); err != nil || len(rec2.sent) != 0 {
		t.Errorf("a second run sent %d (err %v), want none", len(rec2.sent), err)
	}
}
