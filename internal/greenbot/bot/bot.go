// Package bot runs the Green Campus Bot's digests: when each is due, it
// makes the numbers, renders them and hands the message to the senders.
// A digest whose queries fail is tried again with a backoff and sent late,
// marked late; it is never skipped without a word.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/atomicfile"
	"github.com/greencampus/powerinput/internal/greenbot/config"
	"github.com/greencampus/powerinput/internal/greenbot/deliver"
	"github.com/greencampus/powerinput/internal/greenbot/digest"
	"github.com/greencampus/powerinput/internal/greenbot/message"
	"github.com/greencampus/powerinput/internal/greenbot/render"
)

// Sender hands a message to the named destinations (deliver's outbox).
type Sender interface {
	Send(ctx context.Context, m message.Message, to ...string) error
}

// flusher is an outbox: Flush tries again what waits in it.
type flusher interface {
	Flush(ctx context.Context) error
}

// flushEvery is how often the daemon tries the messages kept undelivered.
const flushEvery = time.Minute

func (b *Bot) flush(ctx context.Context) {
	if f, ok := b.Out.(flusher); ok {
		if err := f.Flush(ctx); err != nil {
			b.Log.Error("kept messages not delivered", "err", err)
		}
	}
}

// Evaluator is one set of alert rules (alert.Runner): it reads the
// database at a time and queues the messages of alerts that start or end.
type Evaluator interface {
	Evaluate(ctx context.Context, at time.Time) error
}

// evaluate runs every alert set once, then sends what they queued. Its
// error says which sets could not be evaluated (they are logged too).
func (b *Bot) evaluate(ctx context.Context) error {
	if len(b.Alerts) == 0 {
		return nil
	}
	now := b.Now()
	var errs []error
	for i, a := range b.Alerts {
		if err := a.Evaluate(ctx, now); err != nil {
			b.Log.Error("alerts not evaluated; they wait for the next evaluation", "set", i+1, "err", err)
			errs = append(errs, fmt.Errorf("alert set %d not evaluated: %w", i+1, err))
		}
	}
	b.flush(ctx)
	return errors.Join(errs...)
}

// alertEvery is how often the daemon evaluates the alerts.
const alertEvery = time.Minute

// Bot makes and sends the configured digests and evaluates the alerts.
type Bot struct {
	Cfg *config.Config
	DB  digest.Querier
	Out Sender
	Log *slog.Logger
	Now func() time.Time
	// Retry is the first wait after a digest's queries failed, doubled
	// each time up to an hour; a digest is tried until its next one is
	// due, then given up with an error in the log.
	Retry time.Duration
	// Alerts are evaluated every minute by Run, once by Once.
	Alerts []Evaluator
}

// Make computes and renders one digest due at due. late, when not zero,
// is the due time of a digest that comes late.
func (b *Bot) Make(ctx context.Context, d config.Digest, due time.Time, late bool) (message.Message, error) {
	start, end := d.When.Covers(due)
	req := digest.Request{
		Start: start, End: end, Loc: b.Cfg.Location, Weekly: d.When.Period == config.Weekly,
		Database: b.Cfg.InfluxDB.Database, Retention: b.Cfg.InfluxDB.RetentionPolicy, Rollup: b.Cfg.InfluxDB.Rollup,
		TopVMs: d.TopVMs, TopServices: d.TopServices, Table: b.Cfg.Table,
	}
	if !d.AllHosts() {
		req.Hosts = d.Hosts
	}
	if b.Now().Sub(end) < digest.RollupSettled {
		// Its last hours are not all in the rollup yet.
		req.Rollup = ""
	}
	dg, err := digest.Make(ctx, b.DB, req)
	if err != nil {
		return message.Message{}, err
	}
	o := render.Options{Lang: d.Lang, ID: ID(d, due)}
	if late {
		o.Late = due
	}
	return render.Digest(dg, o)
}

// ID names a digest's message: its name and its due time, so that a
// retry or a restart never sends it twice.
func ID(d config.Digest, due time.Time) string {
	return "digest-" + d.Name + "-" + due.UTC().Format("20060102T1504Z")
}

// lateAfter: a digest sent this long after it was due says it is late.
const lateAfter = 10 * time.Minute

// runOne makes the digest due at due and sends it, trying again while the
// database fails, until ctx ends or giveUp passes.
func (b *Bot) runOne(ctx context.Context, d config.Digest, due, giveUp time.Time) error {
	wait := b.Retry
	if wait <= 0 {
		wait = time.Minute
	}
	for attempt := 1; ; attempt++ {
		late := b.Now().Sub(due) > lateAfter
		m, err := b.Make(ctx, d, due, late)
		if err == nil {
			if late {
				b.Log.Warn("digest sent late", "digest", d.Name, "due", due, "attempts", attempt)
			}
			if err := b.Out.Send(ctx, m, d.To...); err != nil {
				return fmt.Errorf("digest %s due %s: %w", d.Name, due.Format(time.RFC3339), err)
			}
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		next := b.Now().Add(wait)
		if !next.Before(giveUp) {
			return fmt.Errorf("digest %s due %s given up after %d attempts, the next one is due: %w", d.Name, due.Format(time.RFC3339), attempt, err)
		}
		b.Log.Error("digest not made, will try again", "digest", d.Name, "due", due, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Hour)
	}
}

// Once evaluates the alerts, then sends each digest due since the last
// one sent (by the state file), oldest first, as a systemd timer calls
// it; without a state file, each digest's latest. Its error says what
// failed, alerts included. A digest that fails stops its own catch-up: the
// next run tries it again, late.
func (b *Bot) Once(ctx context.Context) error {
	st, err := b.loadState()
	if err != nil {
		return err
	}
	b.flush(ctx) // what an earlier run kept
	var errs []error
	if err := b.evaluate(ctx); err != nil {
		errs = append(errs, err) // the timer's run must not look fine
	}
	now := b.Now()
	for _, d := range b.Cfg.Digests {
		sent, ok := st[d.Name]
		for _, due := range b.missed(d, sent, ok, now) {
			// One attempt here (the client retries its queries). A first
			// run is not late.
			m, err := b.Make(ctx, d, due, ok && now.Sub(due) > lateAfter)
			if err == nil {
				err = b.Out.Send(ctx, m, d.To...)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("digest %s: %w", d.Name, err))
				break
			}
			st[d.Name] = due
			if err := b.saveState(st); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// missed are the due times of d not sent yet, oldest first: every one
// after sent up to now (or only the latest, on a first run without a
// state), but none older than the outbox keeps a message; those are
// given up, with a word in the log.
func (b *Bot) missed(d config.Digest, sent time.Time, ok bool, now time.Time) []time.Time {
	last := d.When.Last(now)
	if !ok {
		return []time.Time{last}
	}
	keep := b.Cfg.Outbox.Keep
	if keep <= 0 {
		keep = deliver.DefaultKeep
	}
	var dues, lost []time.Time
	for due := d.When.Next(sent); !due.After(now); due = d.When.Next(due) {
		if now.Sub(due) > keep {
			lost = append(lost, due)
			continue
		}
		dues = append(dues, due)
	}
	if len(lost) > 0 {
		b.Log.Error("digests missed while the bot was down are given up: older than the outbox keeps a message",
			"digest", d.Name, "count", len(lost), "first", lost[0], "last", lost[len(lost)-1], "keep", keep)
	}
	return dues
}

// Run is the daemon: it sends each digest when due, and catches up at
// start with every due time not sent (sent late, within the outbox's
// keep).
func (b *Bot) Run(ctx context.Context) error {
	st, err := b.loadState()
	if err != nil {
		return err
	}
	type job struct {
		d   config.Digest
		due time.Time
	}
	results := make(chan job)
	pending := map[string]time.Time{}
	now := b.Now()
	for _, d := range b.Cfg.Digests {
		pending[d.Name] = d.When.Next(now)
		if sent, ok := st[d.Name]; ok {
			// Missed while down: the oldest first; once it is done, the
			// next due time is in the past too, and so on up to now.
			if dues := b.missed(d, sent, ok, now); len(dues) > 0 {
				pending[d.Name] = dues[0]
			}
		}
	}
	busy := map[string]bool{}
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	b.flush(ctx)
	// The alerts in a loop of their own: a slow database holds them up,
	// not the digests.
	alertsDone := make(chan struct{})
	go func() {
		defer close(alertsDone)
		t := time.NewTicker(alertEvery)
		defer t.Stop()
		for {
			b.evaluate(ctx) // logged; the next minute tries again
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	defer func() { <-alertsDone }()
	for {
		var first time.Time
		for _, d := range b.Cfg.Digests {
			if t := pending[d.Name]; !busy[d.Name] && (first.IsZero() || t.Before(first)) {
				first = t
			}
		}
		var timer <-chan time.Time
		if !first.IsZero() {
			timer = time.After(max(0, first.Sub(b.Now())))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			b.flush(ctx)
		case j := <-results:
			busy[j.d.Name] = false
			st[j.d.Name] = j.due
			if err := b.saveState(st); err != nil {
				b.Log.Error("state not saved", "err", err)
			}
		case <-timer:
			now := b.Now()
			for _, d := range b.Cfg.Digests {
				due := pending[d.Name]
				if busy[d.Name] || due.After(now) {
					continue
				}
				busy[d.Name] = true
				pending[d.Name] = d.When.Next(due)
				go func(d config.Digest, due, giveUp time.Time) {
					if err := b.runOne(ctx, d, due, giveUp); err != nil {
						b.Log.Error("digest not sent", "digest", d.Name, "due", due, "err", err)
					} else {
						b.Log.Info("digest sent", "digest", d.Name, "due", due)
					}
					select {
					case results <- job{d, due}:
					case <-ctx.Done():
					}
				}(d, due, pending[d.Name])
			}
		}
	}
}

type state map[string]time.Time

func (b *Bot) statePath() string {
	if b.Cfg.StateDir == "" {
		return ""
	}
	return filepath.Join(b.Cfg.StateDir, "digests.json")
}

func (b *Bot) loadState() (state, error) {
	st := state{}
	p := b.statePath()
	if p == "" {
		return st, nil
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("digest state: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("digest state %s is not what greenbot writes (remove it to start afresh): %w", p, err)
	}
	return st, nil
}

func (b *Bot) saveState(st state) error {
	p := b.statePath()
	if p == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("digest state: %w", err)
	}
	data, _ := json.MarshalIndent(st, "", "  ")
	return atomicfile.Write(p, data, 0o640)
}
