package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/deliver"
	"github.com/greencampus/powerinput/internal/greenbot/message"
)

var t0 = time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)

func minute(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

// script is a scenario's database: kvm-0's power minute by minute (a
// negative value: silent that minute), kvm-1 estimated from minute 10 to
// 19.
type script struct{ kvm0 []float64 }

func (s script) Observe(_ context.Context, at time.Time) (Snapshot, error) {
	i := int(at.Sub(t0) / time.Minute)
	snap := Snapshot{At: at}
	o := Observation{Host: "kvm-0", Source: "rapl", Measured: true}
	for j := min(i, len(s.kvm0)-1); j >= 0; j-- {
		if s.kvm0[j] >= 0 {
			o.LastSeen = minute(j)
			break
		}
	}
	if i < len(s.kvm0) && s.kvm0[i] >= 0 {
		o.Watts, o.HasWatts = s.kvm0[i], true
	}
	src := "rapl"
	if i >= 10 && i < 20 {
		src = "model"
	}
	snap.Hosts = append(snap.Hosts, o, Observation{Host: "kvm-1", LastSeen: at, Source: src, Measured: true, Watts: 80, HasWatts: true})
	return snap, nil
}

// recorder is a destination that keeps what it receives.
type recorder struct {
	mu  sync.Mutex
	got []message.Message
}

func (r *recorder) Send(_ context.Context, m message.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, m)
	return nil
}

// ids are the IDs of the messages received, sorted.
func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, m := range r.got {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	return ids
}

// flaky is a Queue that fails the n first times (after queueing, when
// after is set: a crash between the queue and the state's save).
type flaky struct {
	q     Queue
	fails int
	after bool
}

func (f *flaky) Enqueue(m message.Message, to ...string) error {
	if f.fails > 0 {
		f.fails--
		if f.after {
			f.q.Enqueue(m, to...)
		}
		return errors.New("queue: disk full")
	}
	return f.q.Enqueue(m, to...)
}

func kvm0Power() []float64 {
	var p []float64
	add := func(n int, w float64) {
		for range n {
			p = append(p, w)
		}
	}
	add(3, 200)  // 0-2: normal
	add(10, 450) // 3-12: above; the alert starts at 8 (5 minutes)
	add(1, 350)  // 13: between the thresholds: still on
	add(1, 250)  // 14: under 300: over
	add(2, 450)  // 15-16: a blip shorter than 5 minutes: nothing
	add(4, 200)  // 17-20
	add(15, -1)  // 21-35: silent; the alert starts at 30 (10 minutes after 20)
	add(5, 200)  // 36-40: back
	return p
}

// TestScenarioRestarts runs the scenario minute by minute, restarting the
// bot (a new Runner, a new Outbox over the same folders) at minutes 6, 13
// and 32, and failing the hand-off to the outbox twice (once before, once
// after the message was queued): exactly one start and one end message
// per episode.
func TestScenarioRestarts(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{}
	rules := Rules{PowerAbove: 400, PowerBelow: 300, PowerFor: 5 * time.Minute, SilentFor: 10 * time.Minute, ModelFallback: true}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	newRunner := func() (*Runner, *deliver.Outbox) {
		ob, err := deliver.NewOutbox(deliver.OutboxConfig{Dir: filepath.Join(dir, "outbox")}, map[string]deliver.Sender{"it": rec}, log)
		if err != nil {
			t.Fatal(err)
		}
		return &Runner{Rules: rules, Lang: "en", To: []string{"it"}, StatePath: filepath.Join(dir, "alerts.json"),
			Observer: script{kvm0Power()}, Queue: ob, Log: log}, ob
	}
	r, ob := newRunner()
	for i := 0; i <= 40; i++ {
		switch i {
		case 6, 13, 32:
			r, ob = newRunner()
		case 8:
			r.Queue = &flaky{q: ob, fails: 1} // the power alert's start
		case 14:
			r.Queue = &flaky{q: ob, fails: 1, after: true} // its end
		}
		err := r.Evaluate(context.Background(), minute(i))
		if i != 8 && i != 14 && err != nil {
			t.Fatalf("minute %d: %v", i, err)
		}
		r.Queue = ob
		if err := ob.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	got := rec.ids()
	want := []string{
		fmt.Sprintf("alert/model/kvm-1/%d/end", minute(10).Unix()),
		fmt.Sprintf("alert/model/kvm-1/%d/start", minute(10).Unix()),
		fmt.Sprintf("alert/power/kvm-0/%d/end", minute(3).Unix()),
		fmt.Sprintf("alert/power/kvm-0/%d/start", minute(3).Unix()),
		fmt.Sprintf("alert/silent/kvm-0/%d/end", minute(20).Unix()),
		fmt.Sprintf("alert/silent/kvm-0/%d/start", minute(20).Unix()),
	}
	if !slices.Equal(got, want) {
		t.Errorf("delivered\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	st, err := LoadState(filepath.Join(dir, "alerts.json"))
	if err != nil || len(st.Alerts) != 0 || len(st.Outgoing) != 0 {
		t.Errorf("state at the end: %+v, %v; want nothing pending", st, err)
	}
	// The start of the power alert went out at minute 9, after the
	// failed hand-off at 8; the end at 14 once (queued, then again).
	for _, m := range rec.got {
		if m.ID == want[3] && !strings.Contains(m.Text, "more than 400\u00a0W") {
			t.Errorf("power start text %q", m.Text)
		}
	}
}

func TestStepHysteresis(t *testing.T) {
	rules := Rules{PowerAbove: 400, PowerBelow: 300, PowerFor: 2 * time.Minute}
	st := State{}
	var kinds []string
	for i, w := range []float64{450, 450, 380, 450, 450, 450, 380, 310, 299, 299} {
		for _, e := range rules.Step(&st, Snapshot{At: minute(i), Hosts: []Observation{{Host: "h", Watts: w, HasWatts: true, LastSeen: minute(i)}}}) {
			kinds = append(kinds, fmt.Sprintf("%d:%s", i, e.Kind))
		}
	}
	// 0-1 above, 2 between (a pending alert is dropped), 3-5 above
	// (starts at 5), 6-7 between (stays), 8 under: over.
	want := []string{"5:alert-start", "8:alert-end"}
	if !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
}

func TestVMShare(t *testing.T) {
	rules := Rules{VMShareAbove: 0.6, VMShareBelow: 0.5, VMShareFor: time.Minute}
	st := State{}
	var got []string
	shares := []map[string]float64{{"web": 0.7}, {"web": 0.7, "db": 0.1}, {"web": 0.55}, {"db": 0.2}}
	for i, s := range shares {
		for _, e := range rules.Step(&st, Snapshot{At: minute(i), Hosts: []Observation{{Host: "kvm-0", HasWatts: true, Watts: 100, VMShares: s, LastSeen: minute(i)}}}) {
			got = append(got, fmt.Sprintf("%d:%s:%s", i, e.Alert.VM, e.Kind))
		}
	}
	want := []string{"1:web:alert-start", "3:web:alert-end"} // web gone at 3: a share of nothing
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// TestModelFallbackEnds: a fallback ends when the host is measured again,
// not when its measured points leave the lookback (Measured turns false).
func TestModelFallbackEnds(t *testing.T) {
	rules := Rules{ModelFallback: true}
	st := State{}
	var got []string
	for i, o := range []Observation{
		{Source: "rapl", Measured: true},
		{Source: "model", Measured: true},  // falls back: starts
		{Source: "model", Measured: false}, // measured points out of the lookback: still on
		{Source: "model", Measured: false},
		{Source: "msr", Measured: true}, // measured again: ends
	} {
		o.Host, o.LastSeen = "pc-1", minute(i)
		for _, e := range rules.Step(&st, Snapshot{At: minute(i), Hosts: []Observation{o}}) {
			got = append(got, fmt.Sprintf("%d:%s", i, e.Kind))
		}
	}
	if want := []string{"1:alert-start", "4:alert-end"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// gone is a database where kvm-0 reports until minute 2 and then leaves
// the look-back (as with a look-back of 5 minutes), and ghost, which the
// alert names, never reports at all.
type gone struct{}

func (gone) Observe(_ context.Context, at time.Time) (Snapshot, error) {
	snap := Snapshot{At: at}
	if i := int(at.Sub(t0) / time.Minute); i <= 7 {
		snap.Hosts = append(snap.Hosts, Observation{Host: "kvm-0", LastSeen: minute(min(i, 2)), Source: "rapl", Measured: true})
	}
	return snap, nil
}

// TestSilentBeyondLookback: a host whose readings left the database's
// look-back is still silent (and alerts, once), and a host the alert
// names that never reported is silent too.
func TestSilentBeyondLookback(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{}
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	ob, err := deliver.NewOutbox(deliver.OutboxConfig{Dir: filepath.Join(dir, "outbox")}, map[string]deliver.Sender{"it": rec}, log)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= 30; i++ {
		// A new Runner each minute: what is remembered is in the file.
		r := &Runner{Rules: Rules{SilentFor: 10 * time.Minute}, Hosts: []string{"kvm-0", "ghost"}, Lang: "en", To: []string{"it"},
			StatePath: filepath.Join(dir, "alerts.json"), Observer: gone{}, Queue: ob, Log: log}
		if err := r.Evaluate(context.Background(), minute(i)); err != nil {
			t.Fatalf("minute %d: %v", i, err)
		}
		if err := ob.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	got := rec.ids()
	want := []string{
		fmt.Sprintf("alert/silent/ghost/%d/start", minute(0).Add(-time.Hour).Unix()),
		fmt.Sprintf("alert/silent/kvm-0/%d/start", minute(2).Unix()),
	}
	if !slices.Equal(got, want) {
		t.Errorf("delivered\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// kvm-0 taken off the list: forgotten, no end of its silence.
	r := &Runner{Rules: Rules{SilentFor: 10 * time.Minute}, Hosts: []string{"ghost"}, Lang: "en", To: []string{"it"},
		StatePath: filepath.Join(dir, "alerts.json"), Observer: gone{}, Queue: ob, Log: log}
	if err := r.Evaluate(context.Background(), minute(31)); err != nil {
		t.Fatal(err)
	}
	if st, err := LoadState(r.StatePath); err != nil || len(st.Seen) != 1 || st.Seen["ghost"].IsZero() {
		t.Errorf("hosts remembered: %v, %v; want ghost only", st.Seen, err)
	}
}

// TestDamagedState: a damaged state file is set aside with one error in
// the log, and the alerts go on from a fresh state.
func TestDamagedState(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "alert-it.json")
	if err := os.WriteFile(p, []byte(`{"version": 1, "alerts": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ob, err := deliver.NewOutbox(deliver.OutboxConfig{Dir: filepath.Join(dir, "outbox")}, map[string]deliver.Sender{"it": rec}, log)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Rules: Rules{SilentFor: 10 * time.Minute}, Lang: "en", To: []string{"it"}, StatePath: p, Observer: gone{}, Queue: ob, Log: log}
	for i := 0; i <= 15; i++ {
		if err := r.Evaluate(context.Background(), minute(i)); err != nil {
			t.Fatalf("minute %d: %v", i, err)
		}
	}
	ob.Flush(context.Background())
	if got := rec.ids(); len(got) != 1 || !strings.HasPrefix(got[0], "alert/silent/kvm-0/") {
		t.Errorf("delivered %v, want kvm-0's silence", got)
	}
	bad, _ := filepath.Glob(p + ".bad-*")
	if len(bad) != 1 || filepath.Base(bad[0]) != "alert-it.json.bad-20261205T130000Z" {
		t.Errorf("set aside: %v, want alert-it.json.bad-20261205T130000Z", bad)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 || !strings.Contains(logs.String(), "damaged") {
		t.Errorf("%d errors in the log, want 1 saying the state is damaged:\n%s", n, logs.String())
	}
}
