// Package alert watches the hosts' power and warns people once when
// something needs a look and once when it is over: a host drawing more
// than a threshold for a while (over when it is back under a lower one),
// a host that went silent, a host whose power fell back to an estimate,
// and optionally a VM taking more than a share of its host.
//
// The Engine is pure logic: each Step takes what the database says now
// (a Snapshot) and the alerts' State, and returns the messages to send.
// The Runner around it reads the snapshot from InfluxDB, keeps the State
// in a small file written atomically, and hands the messages to the
// outbox in a way that a restart at any moment sends no duplicate and
// loses no message.
package alert

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// Observation is what the database says about one host at an evaluation.
type Observation struct {
	Host string
	// LastSeen is the host's newest power_host point within the lookback;
	// zero when it has none.
	LastSeen time.Time
	// Source is that newest point's source tag (rapl, msr, vm, model);
	// Measured says whether any point within the lookback was measured
	// (not source=model): a host that was only ever estimated has not
	// fallen back.
	Source   string
	Measured bool
	// Watts is the mean power over the last step, where HasWatts: the
	// wall where a wall sensor measured it (Wall), else the parts.
	Watts    float64
	HasWatts bool
	Wall     bool
	// VMShares is each VM's share (0 to 1) of the host's energy over the
	// last step, where the host divides its energy over VMs.
	VMShares map[string]float64

	silentOnly bool // known only from State.Seen
}

// Snapshot is every host's observation at one time.
type Snapshot struct {
	At    time.Time
	Hosts []Observation
}

// Rules are the alerts' thresholds (from Config).
type Rules struct {
	// PowerAbove starts a power alert once a host has drawn at least that
	// many watts for PowerFor; it ends when the host is under PowerBelow.
	// Zero: no power alert.
	PowerAbove, PowerBelow float64
	PowerFor               time.Duration
	// SilentFor starts a silence alert when a host has sent no power
	// reading for that long. Zero: none.
	SilentFor time.Duration
	// ModelFallback warns when a host's power, measured before, is now
	// only estimated.
	ModelFallback bool
	// VMShareAbove (0 to 1) starts an alert once a VM has taken at least
	// that share of its host's energy for VMShareFor; it ends under
	// VMShareBelow. Zero: none.
	VMShareAbove, VMShareBelow float64
	VMShareFor                 time.Duration
}

// Validate checks the thresholds make sense together.
func (r Rules) Validate() error {
	var errs []error
	if r.PowerAbove < 0 || r.PowerBelow < 0 {
		errs = append(errs, errors.New("power thresholds must not be negative"))
	}
	if r.PowerAbove > 0 && r.PowerBelow >= r.PowerAbove {
		errs = append(errs, fmt.Errorf("power_below_watts (%g) must be under power_above_watts (%g), so an alert does not flap", r.PowerBelow, r.PowerAbove))
	}
	if r.VMShareAbove < 0 || r.VMShareAbove > 1 || r.VMShareBelow < 0 {
		errs = append(errs, errors.New("VM share thresholds are percentages between 0 and 100"))
	}
	if r.VMShareAbove > 0 && r.VMShareBelow >= r.VMShareAbove {
		errs = append(errs, fmt.Errorf("vm_share_below_percent must be under vm_share_above_percent"))
	}
	if r.PowerFor < 0 || r.SilentFor < 0 || r.VMShareFor < 0 {
		errs = append(errs, errors.New("durations must not be negative"))
	}
	return errors.Join(errs...)
}

// Kinds of alert, as they appear in the state file and message IDs.
const (
	Power   = "power"
	Silent  = "silent"
	Model   = "model"
	VMShare = "vm-share"
)

// Alert is one watched condition of one host (or VM): pending while the
// condition holds for less than its duration, active once its start
// message went out.
type Alert struct {
	Kind string `json:"kind"`
	Host string `json:"host"`
	VM   string `json:"vm,omitempty"`
	// Since is when the condition was first seen (for a silence, the
	// host's last reading): it names the episode in message IDs.
	Since  time.Time `json:"since"`
	Active bool      `json:"active"`
	// Started is when the start message was made; Peak the highest value
	// seen since Since (watts, or a share), for the end message.
	Started time.Time `json:"started,omitzero"`
	Peak    float64   `json:"peak,omitempty"`
}

func (a *Alert) key() string { return alertKey(a.Kind, a.Host, a.VM) }

func alertKey(kind, host, vm string) string {
	if vm == "" {
		return kind + "\x00" + host
	}
	return kind + "\x00" + host + "\x00" + vm
}

// Event is an alert's start or end, for Text to put in words.
type Event struct {
	Kind  message.Kind // AlertStart or AlertEnd
	Alert Alert
	At    time.Time
	// Value is the value now (watts, share), where it has one.
	Value float64
	Wall  bool
	// Estimated: the value is the model's estimate (source=model), never
	// to be called a measurement.
	Estimated bool
}

// ID is the message ID of the event: the same episode's start (or end)
// has the same ID however often it is made.
func (e Event) ID() string {
	id := "alert/" + e.Alert.Kind + "/" + e.Alert.Host
	if e.Alert.VM != "" {
		id += "/" + e.Alert.VM
	}
	end := "start"
	if e.Kind == message.AlertEnd {
		end = "end"
	}
	return fmt.Sprintf("%s/%d/%s", id, e.Alert.Since.Unix(), end)
}

// Step evaluates the rules on snap, updates st, and returns the events,
// in a stable order. Hosts absent from snap keep their alerts as they are,
// but a host seen before (st.Seen) is judged silent from its last reading.
func (r Rules) Step(st *State, snap Snapshot) []Event {
	if st.Alerts == nil {
		st.Alerts = map[string]*Alert{}
	}
	if st.Seen == nil {
		st.Seen = map[string]time.Time{}
	}
	var evs []Event
	hosts := slices.Clone(snap.Hosts)
	present := map[string]bool{}
	for _, o := range hosts {
		present[o.Host] = true
		if o.LastSeen.After(st.Seen[o.Host]) {
			st.Seen[o.Host] = o.LastSeen
		}
	}
	for h := range st.Seen {
		if !present[h] {
			// Out of the look-back: only its silence can be judged.
			hosts = append(hosts, Observation{Host: h, silentOnly: true})
		}
	}
	slices.SortFunc(hosts, func(a, b Observation) int { return cmp.Compare(a.Host, b.Host) })
	for _, o := range hosts {
		if seen := st.Seen[o.Host]; r.SilentFor > 0 && !seen.IsZero() {
			silent := snap.At.Sub(seen) >= r.SilentFor
			evs = r.condition(st, evs, Alert{Kind: Silent, Host: o.Host, Since: seen}, snap.At, silent, !silent)
		}
		if o.silentOnly {
			continue
		}
		if r.PowerAbove > 0 && o.HasWatts {
			above, below := o.Watts >= r.PowerAbove, o.Watts < r.PowerBelow
			n := len(evs)
			evs = r.hysteresis(st, evs, Alert{Kind: Power, Host: o.Host}, snap.At, o.Watts, o.Wall, above, below, r.PowerFor)
			for i := n; i < len(evs); i++ {
				evs[i].Estimated = o.Source == "model"
			}
		}
		if r.ModelFallback && !o.LastSeen.IsZero() {
			// It starts where a host measured within the lookback is now
			// estimated, and ends only once it is measured again (not
			// when its measured points leave the lookback).
			fellBack := o.Source == "model" && o.Measured
			evs = r.condition(st, evs, Alert{Kind: Model, Host: o.Host, Since: snap.At}, snap.At, fellBack, o.Source != "model")
		}
		if r.VMShareAbove > 0 && o.HasWatts {
			evs = r.vmShares(st, evs, o, snap.At)
		}
	}
	return evs
}

// hysteresis: pending once above, active once above for d, over once
// below (between the two thresholds an active alert stays, a pending one
// is dropped).
func (r Rules) hysteresis(st *State, evs []Event, a Alert, at time.Time, v float64, wall, above, below bool, d time.Duration) []Event {
	k := a.key()
	cur := st.Alerts[k]
	switch {
	case cur == nil && above:
		a.Since, a.Peak = at, v
		st.Alerts[k] = &a
		cur = &a
	case cur == nil:
		return evs
	case cur.Active && below:
		delete(st.Alerts, k)
		return append(evs, Event{Kind: message.AlertEnd, Alert: *cur, At: at, Value: v, Wall: wall})
	case !cur.Active && !above:
		delete(st.Alerts, k)
		return evs
	}
	cur.Peak = max(cur.Peak, v)
	if !cur.Active && at.Sub(cur.Since) >= d {
		cur.Active, cur.Started = true, at
		evs = append(evs, Event{Kind: message.AlertStart, Alert: *cur, At: at, Value: v, Wall: wall})
	}
	return evs
}

// condition: active from the first evaluation where start holds (a.Since
// given by the caller), over at the first where end does.
func (r Rules) condition(st *State, evs []Event, a Alert, at time.Time, start, end bool) []Event {
	k := a.key()
	cur := st.Alerts[k]
	switch {
	case cur == nil && start:
		a.Active, a.Started = true, at
		st.Alerts[k] = &a
		return append(evs, Event{Kind: message.AlertStart, Alert: a, At: at})
	case cur != nil && end:
		delete(st.Alerts, k)
		return append(evs, Event{Kind: message.AlertEnd, Alert: *cur, At: at})
	}
	return evs
}

// vmShares: each VM seen now, and each VM with an alert (a VM gone from
// the host has a share of nothing).
func (r Rules) vmShares(st *State, evs []Event, o Observation, at time.Time) []Event {
	vms := map[string]float64{}
	for vm, s := range o.VMShares {
		vms[vm] = s
	}
	for _, a := range st.Alerts {
		if a.Kind == VMShare && a.Host == o.Host {
			if _, ok := vms[a.VM]; !ok {
				vms[a.VM] = 0
			}
		}
	}
	names := make([]string, 0, len(vms))
	for vm := range vms {
		names = append(names, vm)
	}
	slices.Sort(names)
	for _, vm := range names {
		s := vms[vm]
		evs = r.hysteresis(st, evs, Alert{Kind: VMShare, Host: o.Host, VM: vm}, at, s, false, s >= r.VMShareAbove, s < r.VMShareBelow, r.VMShareFor)
	}
	return evs
}

func sortAlerts(as []*Alert) {
	slices.SortFunc(as, func(a, b *Alert) int { return cmp.Compare(a.key(), b.key()) })
}
