// Package digest makes the numbers of a Green Campus digest from InfluxDB:
// each host's energy over a period on power_host's metaphor basis, its CO₂
// and everyday equivalents, the change against earlier periods, the top VMs
// and services of each hypervisor, and how much of the period was measured.
// It asks a fixed number of GROUP BY queries, however many hosts there are.
package digest

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/influx"
	"github.com/greencampus/powerinput/internal/metaphor"
)

// Querier runs InfluxQL; *influx.Client is one.
type Querier interface {
	Query(ctx context.Context, db, q string) ([]influx.Series, error)
}

// Request says which digest to make.
type Request struct {
	// Start and End bound the period: local midnights of Loc.
	Start, End time.Time
	Loc        *time.Location
	Weekly     bool
	// Hosts limits the digest to these hosts; empty: every host found.
	Hosts               []string
	Database, Retention string
	// Rollup names a retention policy of hourly sums (rollup_1h: the same
	// measurements and tags, energies, CO₂ and seconds summed per hour)
	// that a digest reads instead of Retention where it exists and the
	// zone's days are whole hours: a daily digest too reads four weeks of
	// power_host for its comparisons. Empty: never.
	Rollup              string
	TopVMs, TopServices int
	Table               []metaphor.Metaphor
}

// Comparisons: the period k weeks earlier (the same weekday for a daily
// digest), k = 1 … Lookback, where data covers at least minCovered of it.
const (
	Lookback   = 4
	minCovered = 0.9
)

// Digest is what one digest says.
type Digest struct {
	Start, End time.Time
	Loc        *time.Location
	Weekly     bool
	// Rollup names the retention policy of hourly sums read instead of
	// the raw points; "" where the raw points were read.
	Rollup string
	Hosts  []Host // most energy first
	Total  Amount
	// Days is the chart: the 7 local days ending at End, with the 7
	// before them.
	Days []Day
	// Measured is the part of the period (over all hosts) covered by
	// measurements, Estimated the part covered by the model (source=model).
	Measured, Estimated float64
	Reporting           int // hosts counted in Measured and Estimated
	// Counted is how many hosts the Total adds up: every host but the
	// guests, whose energy is already in their hypervisor's.
	Counted int
}

// Amount is an energy with what goes with it.
type Amount struct {
	Joules float64
	// CO2Grams is the sum of co2_grams (carbon intensity as configured in
	// powerinput); HasCO2 is false where no point carried it.
	CO2Grams float64
	HasCO2   bool
	// CO2Joules is the part of Joules that carried co2_grams: the energy
	// the CO₂ was counted on (less than Joules where a machine has no
	// carbon intensity set, or had none for part of the period).
	CO2Joules float64
	// Prev is the period one week before; Mean the mean of the Lookback
	// periods before (those with data: MeanOf of them).
	Prev    float64
	HasPrev bool
	Mean    float64
	MeanOf  int
	// Seconds, PrevSeconds and MeanSeconds are the lengths of the period,
	// of the one before and the mean length of those in Mean: a day or a
	// week with a clock change is an hour shorter or longer, so a change
	// is judged on energy per hour (0: not known, energies compared as
	// they are).
	Seconds, PrevSeconds, MeanSeconds float64
	// EstimatedJoules is the part of Joules that a model estimated
	// (source=model): never shown as a measurement.
	EstimatedJoules float64
	// Equivalents are the metaphors that fit the size, best first.
	Equivalents []Equivalent
}

// KWh is the amount in kilowatt-hours.
func (a Amount) KWh() float64 { return a.Joules / 3.6e6 }

// Host is one host's period.
type Host struct {
	Name string
	Amount
	// Wall is true when the whole period's energy was counted at the wall
	// (power_host basis=wall), PartWall when only some of it.
	Wall, PartWall bool
	// Guest is a VM that reads its energy from its hypervisor's counter
	// (source=vm): that energy is a share of the hypervisor's, so the
	// campus total leaves it out rather than count it twice.
	Guest bool
	// Measured, Estimated and Missing are parts of the period: covered
	// by measurements, by the model, by nothing (the host was silent).
	Measured, Estimated, Missing float64
	// VMs and Services are the top ones (share of the host's attributed
	// energy); Unused is the energy of CPU capacity nobody used.
	VMs, Services []Part
	OtherVMs      Part
	Unused        Part
	HasVMs        bool
	HasServices   bool
}

// NoData reports whether h sent nothing over the period (a host the
// digest names that never wrote): its zero is no measurement.
func (h Host) NoData() bool { return h.Measured == 0 && h.Estimated == 0 }

// WithData is how many hosts sent something over the period.
func (d *Digest) WithData() int {
	n := 0
	for _, h := range d.Hosts {
		if !h.NoData() && !h.Guest { // a guest is in its hypervisor's total
			n++
		}
	}
	return n
}

// Intensity is the carbon intensity the period's CO₂ was counted at, in
// grams per kWh: each powerinput multiplies its energy by its own
// carbon_intensity_g_per_kwh, so a host's co2_grams over its energy gives
// it back. lo and hi are the lowest and highest over the hosts the total
// counts (equal where every machine is set alike); ok is false where no
// host carried co2_grams.
func (d *Digest) Intensity() (lo, hi float64, ok bool) {
	for _, h := range d.Hosts {
		if h.Guest || !h.HasCO2 || h.CO2Joules <= 0 || h.CO2Grams <= 0 {
			continue
		}
		g := h.CO2Grams / (h.CO2Joules / 3.6e6)
		if !ok || g < lo {
			lo = g
		}
		if !ok || g > hi {
			hi = g
		}
		ok = true
	}
	return lo, hi, ok
}

// CO2Hosts is how many of the hosts the total counts carried co2_grams:
// fewer than WithData where some machine has no carbon intensity set.
func (d *Digest) CO2Hosts() int {
	n := 0
	for _, h := range d.Hosts {
		if !h.NoData() && !h.Guest && h.HasCO2 {
			n++
		}
	}
	return n
}

// Part is a share of a host.
type Part struct {
	Name string
	// Kind is a service's kind tag (service, user, container, pod, vm,
	// group); "" for a VM.
	Kind   string
	Joules float64
	Share  float64 // of the host's attributed energy, 0 … 1
	// Equivalent is one metaphor that fits the part's size.
	Equivalent *Equivalent
}

// Equivalent is one metaphor with its count for an amount.
type Equivalent struct {
	Metaphor metaphor.Metaphor
	Count    float64
}

// Day is one local day of the chart.
type Day struct {
	Date      time.Time // local midnight
	Joules    float64
	PrevDate  time.Time
	PrevJoule float64
	HasData   bool
	HasPrev   bool
}

// quote makes s an InfluxQL string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// ident makes s an InfluxQL identifier.
func ident(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func (r Request) from(m string) string {
	if r.Retention == "" {
		return ident(r.Database) + ".." + ident(m)
	}
	return ident(r.Database) + "." + ident(r.Retention) + "." + ident(m)
}

func (r Request) where(start, end time.Time) string {
	w := fmt.Sprintf("time >= %d AND time < %d", start.UnixNano(), end.UnixNano())
	if len(r.Hosts) > 0 {
		or := make([]string, len(r.Hosts))
		for i, h := range r.Hosts {
			or[i] = `"host" = ` + quote(h)
		}
		w += " AND (" + strings.Join(or, " OR ") + ")"
	}
	return w
}

// lookbackStart is the first local midnight the digest reads: Lookback
// weeks before the period.
func (r Request) lookbackStart() time.Time {
	s := r.Start.In(r.Loc)
	return time.Date(s.Year(), s.Month(), s.Day()-7*Lookback, 0, 0, 0, 0, r.Loc)
}

// Queries returns the InfluxQL the digest asks, in order: power_host per
// local day over the look-back, power_vm and power_service over the period.
func (r Request) Queries() []string {
	days := fmt.Sprintf(`SELECT sum("energy_joules") AS e, sum("wall_joules") AS w, sum("co2_grams") AS co2, sum("interval_seconds") AS s FROM %s WHERE %s GROUP BY time(1d), "host", "basis", "source" fill(none) tz(%s)`,
		r.from("power_host"), r.where(r.lookbackStart(), r.End), quote(r.Loc.String()))
	vms := fmt.Sprintf(`SELECT sum("energy_joules") AS e FROM %s WHERE %s GROUP BY "host", "domain"`,
		r.from("power_vm"), r.where(r.Start, r.End))
	svc := fmt.Sprintf(`SELECT sum("energy_joules") AS e FROM %s WHERE %s GROUP BY "host", "unit", "kind"`,
		r.from("power_service"), r.where(r.Start, r.End))
	// The energy the CO₂ was counted on: only points with co2_grams, so
	// that a machine, or part of a day, without a carbon intensity does
	// not lower the rate the digest quotes.
	rated := fmt.Sprintf(`SELECT sum("energy_joules") AS e, sum("wall_joules") AS w FROM %s WHERE %s AND "co2_grams" > 0 GROUP BY "host", "basis"`,
		r.from("power_host"), r.where(r.Start, r.End))
	return []string{days, vms, svc, rated}
}

// RollupSettled is how long after an hour its rollup_1h bucket is final:
// setup-influxdb.sh's continuous query runs at the end of each hour over
// the two hours before (RESAMPLE EVERY 1h FOR 2h), so points of an hour
// that come late are in its sum two hours after it ends, plus a moment for
// the query to run. A digest whose period ended more recently reads the
// raw points.
const RollupSettled = 2*time.Hour + 5*time.Minute

// Make asks InfluxDB and computes the digest.
func Make(ctx context.Context, q Querier, r Request) (*Digest, error) {
	fail := func(err error) error {
		days := 1
		if r.Weekly {
			days = 7
		}
		return fmt.Errorf("the %d day(s) from %s: %w", days, r.Start.In(r.Loc).Format("2006-01-02"), err)
	}
	if r.Rollup != "" && r.calendar().wholeHours() {
		ok, err := hasPolicy(ctx, q, r.Database, r.Rollup)
		if err != nil {
			return nil, fail(err)
		}
		if ok {
			r.Retention = r.Rollup
		}
	}
	var answers [4][]influx.Series
	for i, text := range r.Queries() {
		s, err := q.Query(ctx, r.Database, text)
		if err != nil {
			return nil, fail(err)
		}
		answers[i] = s
	}
	d, err := Compute(r, answers[0], answers[1], answers[2], answers[3]...)
	if err == nil && r.Rollup != "" && r.Retention == r.Rollup {
		d.Rollup = r.Rollup
	}
	return d, err
}

// hasPolicy asks whether database db has the retention policy rp.
func hasPolicy(ctx context.Context, q Querier, db, rp string) (bool, error) {
	series, err := q.Query(ctx, db, "SHOW RETENTION POLICIES ON "+ident(db))
	if err != nil {
		return false, err
	}
	for _, s := range series {
		for i := range s.Values {
			if name, _ := s.String(i, "name"); name == rp {
				return true, nil
			}
		}
	}
	return false, nil
}

// wholeHours reports whether every day starts on a whole hour of UTC, as
// hourly rollup buckets do (not in zones such as Asia/Kolkata).
func (c calendar) wholeHours() bool {
	for _, m := range c.midnights {
		if m.Unix()%3600 != 0 {
			return false
		}
	}
	return true
}

// calendar is the local days the digest reads, from the look-back's
// first to the period's last: midnights[i] starts day i.
type calendar struct {
	midnights []time.Time
	days      int // of the period: 1 or 7
}

func (r Request) calendar() calendar {
	c := calendar{days: 1}
	if r.Weekly {
		c.days = 7
	}
	s := r.lookbackStart()
	for d := s; d.Before(r.End); d = time.Date(s.Year(), s.Month(), s.Day()+len(c.midnights), 0, 0, 0, 0, r.Loc) {
		c.midnights = append(c.midnights, d)
	}
	return c
}

// day is the index of the day holding t, or -1 outside.
func (c calendar) day(t time.Time) int {
	i := sort.Search(len(c.midnights), func(i int) bool { return c.midnights[i].After(t) }) - 1
	if i < 0 {
		return -1
	}
	return i
}

// period returns the first day and the end (excluded) of the period k
// weeks before the digest's.
func (c calendar) period(k int) (int, int) {
	first := len(c.midnights) - c.days - 7*k
	return first, first + c.days
}

// seconds is the length of the period k weeks before the digest's, which
// ends at end.
func (c calendar) seconds(k int, end time.Time) float64 {
	first, last := c.period(k)
	if last < len(c.midnights) {
		end = c.midnights[last]
	}
	return end.Sub(c.midnights[first]).Seconds()
}

type hostDays struct {
	joules, co2, measured, estimated []float64
	co2Joules                        []float64 // the part of joules that carried co2_grams
	rated                            float64   // the same over the period, from the rated query
	hasRated                         bool
	estJoules                        []float64 // the part of joules from source=model
	has                              []bool
	hasCO2                           bool
	guest                            bool // some of its points came from a hypervisor (source=vm)
	wallDays, partsDays              int
}

func newHostDays(n int) *hostDays {
	return &hostDays{joules: make([]float64, n), co2: make([]float64, n), co2Joules: make([]float64, n), measured: make([]float64, n),
		estimated: make([]float64, n), estJoules: make([]float64, n), has: make([]bool, n)}
}

// Compute makes the digest from the answers of r.Queries(). rated, the
// fourth answer, is the period's energy of the points that carry
// co2_grams; without it, the days that carry co2_grams stand for it.
func Compute(r Request, days, vms, services []influx.Series, rated ...influx.Series) (*Digest, error) {
	d := &Digest{Start: r.Start, End: r.End, Loc: r.Loc, Weekly: r.Weekly}
	cal := r.calendar()
	n := len(cal.midnights)
	hosts := map[string]*hostDays{}
	for _, h := range r.Hosts {
		hosts[h] = newHostDays(n)
	}
	pFirst, pEnd := cal.period(0)
	for _, s := range days {
		name := s.Tags["host"]
		if name == "" {
			continue
		}
		h := hosts[name]
		if h == nil {
			h = newHostDays(n)
			hosts[name] = h
		}
		wall := s.Tags["basis"] == "wall"
		model := s.Tags["source"] == "model"
		if s.Tags["source"] == "vm" && len(s.Values) > 0 {
			h.guest = true
		}
		for i := range s.Values {
			t, ok := s.Time(i)
			if !ok {
				return nil, fmt.Errorf("power_host per day: row %d has no time", i+1)
			}
			k := cal.day(t)
			if k < 0 {
				continue
			}
			col := "e"
			if wall {
				col = "w"
			}
			j, _ := s.Float(i, col)
			h.joules[k] += j
			h.has[k] = true
			if c, ok := s.Float(i, "co2"); ok {
				h.co2[k] += c
				h.hasCO2 = true
				if c > 0 {
					h.co2Joules[k] += j
				}
			}
			sec, _ := s.Float(i, "s")
			if model {
				h.estimated[k] += sec
				h.estJoules[k] += j
			} else {
				h.measured[k] += sec
			}
			if k >= pFirst && k < pEnd {
				if wall {
					h.wallDays++
				} else {
					h.partsDays++
				}
			}
		}
	}
	for _, s := range rated {
		h := hosts[s.Tags["host"]]
		if h == nil {
			continue
		}
		col := "e"
		if s.Tags["basis"] == "wall" {
			col = "w"
		}
		for i := range s.Values {
			j, _ := s.Float(i, col)
			h.rated += j
			h.hasRated = true
		}
	}
	periodSec := r.End.Sub(r.Start).Seconds()
	var measured, estimated float64
	totals := make([]float64, Lookback+1)
	covered := make([]float64, Lookback+1) // seconds with data, over hosts with data
	reporting := make([]int, Lookback+1)
	for name, hd := range hosts {
		h := Host{Name: name}
		h.Seconds = cal.seconds(0, r.End)
		for k := 0; k <= Lookback; k++ {
			var j, sec float64
			var any bool
			first, end := cal.period(k)
			for day := first; day < end; day++ {
				if hd.has[day] {
					j += hd.joules[day]
					any = true
				}
				sec += hd.measured[day] + hd.estimated[day]
				if k == 0 {
					h.CO2Grams += hd.co2[day]
					h.CO2Joules += hd.co2Joules[day]
					h.Measured += hd.measured[day]
					h.Estimated += hd.estimated[day]
					h.EstimatedJoules += hd.estJoules[day]
				}
			}
			if any && !hd.guest {
				totals[k] += j
				covered[k] += math.Min(sec, periodSec)
				reporting[k]++
			}
			// An earlier period is compared with only where the host
			// sent data for most of it: a part week is no baseline.
			switch {
			case k == 0:
				h.Joules = j
			case any && sec >= minCovered*periodSec:
				if k == 1 {
					h.Prev, h.HasPrev, h.PrevSeconds = j, true, cal.seconds(k, r.End)
				}
				h.Mean += j
				h.MeanSeconds += cal.seconds(k, r.End)
				h.MeanOf++
			}
		}
		if h.MeanOf > 0 {
			h.Mean /= float64(h.MeanOf)
			h.MeanSeconds /= float64(h.MeanOf)
		}
		h.HasCO2 = hd.hasCO2
		if hd.hasRated {
			h.CO2Joules = hd.rated
		}
		h.Wall = hd.wallDays > 0 && hd.partsDays == 0
		h.PartWall = hd.wallDays > 0 && hd.partsDays > 0
		measured += math.Min(h.Measured, periodSec)
		estimated += math.Min(h.Estimated, periodSec)
		h.Measured = clamp01(h.Measured / periodSec)
		h.Estimated = clamp01(h.Estimated / periodSec)
		h.Missing = clamp01(1 - h.Measured - h.Estimated)
		h.Equivalents = Fit(r.Table, h.Joules, periodSec, 3)
		h.Guest = hd.guest
		if !h.Guest {
			d.Counted++
			d.Total.EstimatedJoules += h.EstimatedJoules
		}
		if h.HasCO2 && !h.Guest {
			d.Total.HasCO2 = true
			d.Total.CO2Grams += h.CO2Grams
			d.Total.CO2Joules += h.CO2Joules
		}
		d.Hosts = append(d.Hosts, h)
	}
	d.Total.Joules, d.Total.Seconds = totals[0], cal.seconds(0, r.End)
	for k := 1; k <= Lookback; k++ {
		if reporting[k] == 0 || covered[k] < minCovered*periodSec*float64(reporting[k]) {
			continue
		}
		if k == 1 {
			d.Total.Prev, d.Total.HasPrev, d.Total.PrevSeconds = totals[k], true, cal.seconds(k, r.End)
		}
		d.Total.Mean += totals[k]
		d.Total.MeanSeconds += cal.seconds(k, r.End)
		d.Total.MeanOf++
	}
	if d.Total.MeanOf > 0 {
		d.Total.Mean /= float64(d.Total.MeanOf)
		d.Total.MeanSeconds /= float64(d.Total.MeanOf)
	}
	d.Total.Equivalents = Fit(r.Table, d.Total.Joules, periodSec, 3)
	d.Reporting = len(d.Hosts)
	if d.Reporting > 0 {
		d.Measured = clamp01(measured / (periodSec * float64(d.Reporting)))
		d.Estimated = clamp01(estimated / (periodSec * float64(d.Reporting)))
	}
	sort.Slice(d.Hosts, func(i, j int) bool {
		if d.Hosts[i].Joules != d.Hosts[j].Joules {
			return d.Hosts[i].Joules > d.Hosts[j].Joules
		}
		return d.Hosts[i].Name < d.Hosts[j].Name
	})
	at := make(map[string]int, len(d.Hosts))
	for i, h := range d.Hosts {
		at[h.Name] = i
	}
	d.parts(r, at, vms, "domain", true)
	d.parts(r, at, services, "unit", false)
	d.chart(cal, hosts)
	return d, nil
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// VM domains and service kinds that are no workload of their own.
const (
	domainUnused      = "_unused"
	kindUnused        = "unused_capacity"
	kindOther         = "other"
	kindUnattributed  = "unattributed"
	domainHypervisor  = "_hypervisor"
	domainUnattribute = "_unattributed"
)

func (d *Digest) parts(r Request, at map[string]int, series []influx.Series, tag string, vm bool) {
	type acc struct {
		total  float64
		parts  []Part
		unused float64
	}
	per := map[string]*acc{}
	for _, s := range series {
		i, ok := at[s.Tags["host"]]
		if !ok {
			continue
		}
		e, _ := s.Float(0, "e")
		a := per[d.Hosts[i].Name]
		if a == nil {
			a = &acc{}
			per[d.Hosts[i].Name] = a
		}
		a.total += e
		name := s.Tags[tag]
		isVM := true
		if vm {
			name, isVM = influx.VMName(name)
		}
		switch {
		case vm && s.Tags[tag] == domainUnused, !vm && s.Tags["kind"] == kindUnused:
			a.unused += e
		case !isVM, !vm && (s.Tags["kind"] == kindOther || s.Tags["kind"] == kindUnattributed):
			// the host's own work, unattributed time, the rest: in the total only
		default:
			p := Part{Name: name, Joules: e}
			if !vm {
				p.Kind = s.Tags["kind"]
			}
			a.parts = append(a.parts, p)
		}
	}
	top := r.TopServices
	if vm {
		top = r.TopVMs
	}
	periodSec := r.End.Sub(r.Start).Seconds()
	for name, a := range per {
		h := &d.Hosts[at[name]]
		if a.total <= 0 {
			continue
		}
		sort.Slice(a.parts, func(i, j int) bool {
			if a.parts[i].Joules != a.parts[j].Joules {
				return a.parts[i].Joules > a.parts[j].Joules
			}
			return a.parts[i].Name < a.parts[j].Name
		})
		for i := range a.parts {
			a.parts[i].Share = a.parts[i].Joules / a.total
		}
		var rest Part
		if len(a.parts) > top {
			for _, p := range a.parts[top:] {
				rest.Joules += p.Joules
				rest.Share += p.Share
			}
			a.parts = a.parts[:top]
		}
		for i := range a.parts {
			if eq := Fit(r.Table, a.parts[i].Joules, periodSec, 1); len(eq) > 0 {
				a.parts[i].Equivalent = &eq[0]
			}
		}
		unused := Part{Joules: a.unused, Share: a.unused / a.total}
		if vm {
			h.VMs, h.OtherVMs, h.HasVMs = a.parts, rest, true
			h.Unused = unused
		} else {
			h.Services, h.HasServices = a.parts, true
			if !h.HasVMs {
				h.Unused = unused
			}
		}
	}
}

// chart fills Days: the 7 local days ending at End and the 7 before.
func (d *Digest) chart(cal calendar, hosts map[string]*hostDays) {
	n := len(cal.midnights)
	for i := n - 7; i < n; i++ {
		dd := Day{Date: cal.midnights[i], PrevDate: cal.midnights[i-7]}
		for _, h := range hosts {
			if h.guest {
				continue // in its hypervisor's energy already
			}
			if h.has[i] {
				dd.Joules += h.joules[i]
				dd.HasData = true
			}
			if h.has[i-7] {
				dd.PrevJoule += h.joules[i-7]
				dd.HasPrev = true
			}
		}
		d.Days = append(d.Days, dd)
	}
}

// Fit returns up to n metaphors whose counts for joules over seconds read
// best: energy metaphors count the energy (phone charges, e-bike km),
// power metaphors the average power (LED bulbs lit all along). Counts
// from 1 to 10,000 are kept, those nearest 20 first, but the best energy
// metaphor before all.
func Fit(table []metaphor.Metaphor, joules, seconds float64, n int) []Equivalent {
	if joules <= 0 || seconds <= 0 {
		return nil
	}
	var out []Equivalent
	for _, m := range table {
		var c float64
		switch {
		case m.WattHours != nil && *m.WattHours > 0:
			c = joules / 3600 / *m.WattHours
		case m.Watts != nil && *m.Watts > 0:
			c = joules / seconds / *m.Watts
		default:
			continue
		}
		if c >= 1 && c <= 10000 {
			out = append(out, Equivalent{Metaphor: m, Count: c})
		}
	}
	score := func(e Equivalent) float64 { return math.Abs(math.Log10(e.Count) - math.Log10(20)) }
	sort.SliceStable(out, func(i, j int) bool { return score(out[i]) < score(out[j]) })
	// The best energy metaphor first (a count of things done: charges,
	// kilometres), then the best of the rest.
	for i, e := range out {
		if e.Metaphor.WattHours != nil {
			copy(out[1:i+1], out[:i])
			out[0] = e
			break
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	return out
}
