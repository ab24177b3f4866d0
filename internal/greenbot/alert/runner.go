package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/message"
	"github.com/greencampus/powerinput/internal/metaphor"
)

// Config is one set of alerts as the bot's configuration writes it
// ([[alert]]): thresholds, the hosts watched, the language, and the
// destinations (names of [destinations.NAME]).
type Config struct {
	Name  string   `toml:"name"`
	Hosts []string `toml:"hosts"` // empty or ["all"]: every host
	Lang  string   `toml:"lang"`
	To    []string `toml:"to"`

	PowerAboveWatts float64       `toml:"power_above_watts"`
	PowerBelowWatts float64       `toml:"power_below_watts"`
	PowerFor        time.Duration `toml:"power_for"`
	SilentFor       time.Duration `toml:"silent_for"`
	ModelFallback   bool          `toml:"model_fallback"`
	VMShareAbove    float64       `toml:"vm_share_above_percent"`
	VMShareBelow    float64       `toml:"vm_share_below_percent"`
	VMShareFor      time.Duration `toml:"vm_share_for"`
}

// Rules are c's thresholds, checked.
func (c Config) Rules() (Rules, error) {
	r := Rules{
		PowerAbove: c.PowerAboveWatts, PowerBelow: c.PowerBelowWatts, PowerFor: c.PowerFor,
		SilentFor: c.SilentFor, ModelFallback: c.ModelFallback,
		VMShareAbove: c.VMShareAbove / 100, VMShareBelow: c.VMShareBelow / 100, VMShareFor: c.VMShareFor,
	}
	if c.Lang != "" && c.Lang != "en" && c.Lang != "fr" {
		return r, fmt.Errorf("alert %q: lang %q: want en or fr", c.Name, c.Lang)
	}
	if r.PowerAbove == 0 && r.SilentFor == 0 && !r.ModelFallback && r.VMShareAbove == 0 {
		return r, fmt.Errorf("alert %q: nothing to watch: set power_above_watts, silent_for, model_fallback or vm_share_above_percent", c.Name)
	}
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("alert %q: %w", c.Name, err)
	}
	return r, nil
}

// Observer reads a Snapshot for time at (InfluxDB, in the bot).
type Observer interface {
	Observe(ctx context.Context, at time.Time) (Snapshot, error)
}

// Queue takes messages for destinations, durably (deliver.Outbox).
type Queue interface {
	Enqueue(m message.Message, to ...string) error
}

// Runner evaluates one Config's rules, keeping their state in a file.
type Runner struct {
	Rules     Rules
	Hosts     []string // empty: all
	Lang      string
	Location  *time.Location
	To        []string
	StatePath string
	// Metaphors is the table a power alert's everyday comparison comes
	// from (nil: the plugin's defaults).
	Metaphors []metaphor.Metaphor
	Observer  Observer
	Queue     Queue
	Log       *slog.Logger
}

// Evaluate reads the snapshot at at, steps the rules, and hands their
// messages to the queue. The order makes a crash at any point harmless:
// the new state and its messages are saved together, then queued (the
// queue ignores an ID it already has), then the state is saved without
// them. A database that does not answer changes nothing: the alerts wait
// for the next evaluation, and a silence is only judged on an answer.
func (r *Runner) Evaluate(ctx context.Context, at time.Time) error {
	st, err := r.loadState(at)
	if err != nil {
		return err
	}
	if err := r.handOff(&st); err != nil {
		return err
	}
	snap, err := r.Observer.Observe(ctx, at)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	snap.Hosts = r.watched(snap.Hosts)
	r.neverSeen(&st, snap)
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	for _, e := range r.Rules.Step(&st, snap) {
		m := r.Rules.Message(e, r.lang(), loc, r.Metaphors)
		r.Log.Info("alert", "kind", e.Alert.Kind, "event", string(e.Kind), "host", e.Alert.Host, "vm", e.Alert.VM, "id", m.ID)
		st.Outgoing = append(st.Outgoing, m)
	}
	if err := SaveState(r.StatePath, st); err != nil {
		return err
	}
	return r.handOff(&st)
}

// loadState reads the state; a damaged file is set aside (renamed
// NAME.bad-TIME, for a person to look at) and the alerts start afresh,
// rather than stopping for good.
func (r *Runner) loadState(at time.Time) (State, error) {
	st, err := LoadState(r.StatePath)
	if !errors.Is(err, ErrDamaged) {
		return st, err
	}
	bad := r.StatePath + ".bad-" + at.UTC().Format("20060102T150405Z")
	if rerr := os.Rename(r.StatePath, bad); rerr != nil {
		return State{}, fmt.Errorf("%w; setting it aside: %w", err, rerr)
	}
	r.Log.Error("alert state damaged: set aside, the alerts start afresh (an alert already announced may be announced again)",
		"set_aside_as", bad, "err", err)
	return State{Alerts: map[string]*Alert{}}, nil
}

// handOff queues the state's outgoing messages, then saves it without.
func (r *Runner) handOff(st *State) error {
	if len(st.Outgoing) == 0 {
		return nil
	}
	var errs []error
	var kept []message.Message
	for _, m := range st.Outgoing {
		if err := r.Queue.Enqueue(m, r.To...); err != nil {
			errs = append(errs, err)
			kept = append(kept, m)
		}
	}
	st.Outgoing = kept
	return errors.Join(append(errs, SaveState(r.StatePath, *st))...)
}

func (r *Runner) lang() string {
	if r.Lang == "" {
		return "en"
	}
	return r.Lang
}

// watched keeps the hosts the config names (all where it names none).
func (r *Runner) watched(obs []Observation) []Observation {
	if len(r.Hosts) == 0 || len(r.Hosts) == 1 && r.Hosts[0] == "all" {
		return obs
	}
	keep := map[string]bool{}
	for _, h := range r.Hosts {
		keep[h] = true
	}
	var out []Observation
	for _, o := range obs {
		if keep[o.Host] {
			out = append(out, o)
		}
	}
	return out
}

// neverSeen starts the silence of each host the config names that has no
// reading in the look-back and none remembered: it has been silent at
// least since the look-back's start. A host the config no longer names is
// forgotten.
func (r *Runner) neverSeen(st *State, snap Snapshot) {
	if r.Rules.SilentFor <= 0 || len(r.Hosts) == 0 || len(r.Hosts) == 1 && r.Hosts[0] == "all" {
		return
	}
	if st.Seen == nil {
		st.Seen = map[string]time.Time{}
	}
	for h := range st.Seen {
		if !slices.Contains(r.Hosts, h) {
			delete(st.Seen, h) // no longer watched: its silence is no one's concern
		}
	}
	for _, h := range r.Hosts {
		if !st.Seen[h].IsZero() || slices.ContainsFunc(snap.Hosts, func(o Observation) bool { return o.Host == h && !o.LastSeen.IsZero() }) {
			continue
		}
		st.Seen[h] = snap.At.Add(-lookback(r.Rules))
	}
}

// lookback is how far back the database is asked for a host's readings.
func lookback(r Rules) time.Duration { return max(time.Hour, 2*r.SilentFor) }

// NewRunner makes the Runner of c, reading the database through q (an
// influx.Client), its state in stateDir/alert-<name>.json, messages to
// queue, times told in loc.
func NewRunner(c Config, q Querier, database, retentionPolicy, stateDir string, queue Queue, loc *time.Location, log *slog.Logger) (*Runner, error) {
	rules, err := c.Rules()
	if err != nil {
		return nil, err
	}
	if c.Name == "" || strings.ContainsAny(c.Name, `/\`) || c.Name == "." || c.Name == ".." {
		return nil, fmt.Errorf("alert %q: a name that can name a file is needed", c.Name)
	}
	obs := &InfluxObserver{Client: q, Database: database, RetentionPolicy: retentionPolicy,
		VMShares: rules.VMShareAbove > 0, Lookback: lookback(rules)}
	return &Runner{
		Rules: rules, Hosts: c.Hosts, Lang: c.Lang, Location: loc, To: c.To,
		StatePath: filepath.Join(stateDir, "alert-"+c.Name+".json"),
		Observer:  obs, Queue: queue, Log: log,
	}, nil
}
