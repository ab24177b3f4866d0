package render

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/digest"
	"github.com/greencampus/powerinput/internal/greenbot/digest/synth"
	"github.com/greencampus/powerinput/internal/greenbot/influx"
	"github.com/greencampus/powerinput/internal/metaphor"
)

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		lang string
		got  string
		want string
	}{
		{"en", num("en", 1234567.891, 2), "1,234,567.89"},
		{"fr", num("fr", 1234567.891, 2), "1\u202F234\u202F567,89"},
		{"fr", num("fr", 999, 0), "999"},
		{"en", num("en", -1500, 0), "−1,500"},
		{"en", kwh("en", 3.6e6*12.345), "12.3\u00a0kWh"},
		{"fr", kwh("fr", 3.6e6*1234.6), "1\u202F235\u00a0kWh"},
		{"en", kwh("en", 3600*432.1), "432\u00a0Wh"},
		{"fr", grams("fr", 4340), "4,34\u00a0kg"},
		{"en", grams("en", 40.3), "40.3\u00a0g"},
		{"fr", percent("fr", 0.27), "27\u202F%"},
		{"en", percent("en", 0.001), "<1%"},
		{"en", count("en", 1040.4), "1,040"},
		{"fr", count("fr", 9.25), "9,2"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.lang, tc.got, tc.want)
		}
	}
}

func sample(t testing.TB, hosts int, weekly bool) *digest.Digest {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no zone data: %v", err)
	}
	r := digest.Request{Start: time.Date(2026, 11, 30, 0, 0, 0, 0, loc), End: time.Date(2026, 12, 7, 0, 0, 0, 0, loc),
		Loc: loc, Weekly: weekly, TopVMs: 5, TopServices: 5, Table: metaphor.Defaults()}
	if !weekly {
		r.Start = time.Date(2026, 12, 6, 0, 0, 0, 0, loc)
	}
	days := synth.Days(hosts, time.Date(2026, 11, 1, 0, 0, 0, 0, loc), r.End, loc)
	vms := synth.Parts(hosts, r.End.Sub(r.Start).Seconds())
	// Names from the database that try markup and mentions.
	days[0].Tags["host"] = "<b>@room</b>"
	for i := range vms {
		if vms[i].Tags["host"] == synth.Host(0) {
			vms[i].Tags["host"] = "<b>@room</b>"
		}
	}
	vms[0].Tags["domain"] = "*evil* @channel <!here> [x](http://e)"
	d, err := digest.Compute(r, days, vms, []influx.Series{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// dailyWithSource computes the daily digest of 6 December 2026 for
// `hosts` synthetic hosts, where every point of host number `which`
// carries source=`source` and no basis (model: estimated; vm: a guest).
func dailyWithSource(t testing.TB, hosts, which int, source string) *digest.Digest {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no zone data: %v", err)
	}
	r := digest.Request{Start: time.Date(2026, 12, 6, 0, 0, 0, 0, loc), End: time.Date(2026, 12, 7, 0, 0, 0, 0, loc),
		Loc: loc, Table: metaphor.Defaults()}
	days := synth.Days(hosts, time.Date(2026, 11, 1, 0, 0, 0, 0, loc), r.End, loc)
	for i := range days {
		if days[i].Tags["host"] == synth.Host(which) {
			days[i].Tags["source"] = source
			days[i].Tags["basis"] = ""
		}
	}
	d, err := digest.Compute(r, days, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDigestForms(t *testing.T) {
	for _, tc := range []struct {
		lang   string
		weekly bool
		says   []string
	}{
		{"en", false, []string{"The VM that used the most, ", ", took about as much as ", "Sunday 6 December 2026", "Your 3 machines used", "Machine by machine", "About these numbers", "measured at the wall socket", "Virtual machines (shares of the processors"}},
		{"en", true, []string{"the week of 30 November – 6 December 2026", "the week before"}},
		{"fr", false, []string{"La plus gourmande, ", "du dimanche 6 décembre 2026", "Vos 3 machines ont consommé", "Green Campus\u202F: ", "mesuré à la prise", "Machines virtuelles (parts de l’énergie"}},
		{"fr", true, []string{"semaine du 30 novembre au 6 décembre 2026", "que la semaine précédente"}},
	} {
		d := sample(t, 3, tc.weekly)
		m, err := Digest(d, Options{Lang: tc.lang, ID: "x"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range tc.says {
			if !strings.Contains(m.Text, s) || !strings.Contains(m.HTML, strings.ReplaceAll(s, "'", "&#39;")) {
				t.Errorf("%s weekly=%v: text or HTML does not say %q:\n%s", tc.lang, tc.weekly, s, m.Text)
			}
		}
		if len(m.Images) != 1 || !strings.Contains(m.HTML, `src="cid:`+m.Images[0].CID+`"`) || len(m.Images[0].Data) < 1000 {
			t.Errorf("%s: the chart is not inlined", tc.lang)
		}
		// No name from the database becomes markup or a mention.
		for form, tc := range map[string]struct {
			text string
			bad  []string
		}{
			"html":     {m.HTML, []string{"<b>@", "@room", "@channel", "<!here>"}},
			"markdown": {m.Markdown, []string{"<b>", "@room", "@channel", "<!here>"}},
			"text":     {m.Text, []string{"@room", "@channel"}},
		} {
			for _, bad := range tc.bad {
				if strings.Contains(tc.text, bad) {
					t.Errorf("%s holds %q", form, bad)
				}
			}
		}
		if !strings.Contains(m.Markdown, "`*evil* @\u2060channel") {
			t.Errorf("%s: the VM name is not a code span in Markdown:\n%s", tc.lang, m.Markdown)
		}
		if !strings.Contains(m.HTML, "&lt;b&gt;@") {
			t.Errorf("%s: the host name is not shown escaped in HTML", tc.lang)
		}
		if tc.lang == "fr" && (strings.Contains(m.Text, " %") || strings.Contains(m.Text, "0.") && !strings.Contains(m.Text, "20.")) {
			t.Errorf("fr: an English number or a plain space before %%:\n%s", m.Text)
		}
	}
}

func TestDigestLate(t *testing.T) {
	d := sample(t, 2, false)
	due := time.Date(2026, 12, 7, 8, 0, 0, 0, d.Loc)
	for lang, says := range map[string]string{"en": "This digest comes late: it was due 2026-12-07 08:00.", "fr": "en retard"} {
		m, err := Digest(d, Options{Lang: lang, Late: due, NoChart: true})
		if err != nil {
			t.Fatal(err)
		}
		if !m.Late || !strings.Contains(m.Text, says) || !strings.Contains(m.Markdown, says) || len(m.Images) != 0 {
			t.Errorf("%s: late digest: Late=%v, images %d:\n%s", lang, m.Late, len(m.Images), m.Text)
		}
	}
}

// BenchmarkWeekly1000Hosts renders a weekly digest of 1,000 hosts with its
// chart, from the answers to the numbers to the three texts and the PNG.
func BenchmarkWeekly1000Hosts(b *testing.B) {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		b.Skip(err)
	}
	r := digest.Request{Start: time.Date(2026, 11, 30, 0, 0, 0, 0, loc), End: time.Date(2026, 12, 7, 0, 0, 0, 0, loc),
		Loc: loc, Weekly: true, TopVMs: 5, TopServices: 5, Table: metaphor.Defaults()}
	days := synth.Days(1000, time.Date(2026, 11, 2, 0, 0, 0, 0, loc), r.End, loc)
	vms := synth.Parts(1000, r.End.Sub(r.Start).Seconds())
	b.ReportAllocs()
	for b.Loop() {
		d, err := digest.Compute(r, days, vms, nil)
		if err != nil {
			b.Fatal(err)
		}
		m, err := Digest(d, Options{Lang: "fr", MaxHosts: 1000})
		if err != nil || len(m.Images) != 1 {
			b.Fatal(err)
		}
	}
}

// An estimate is never shown as a measurement: a host whose points all
// came from the model is called estimated on its line and in the total,
// and is not given a measured basis.
func TestDigestSaysEstimates(t *testing.T) {
	for _, tc := range []struct {
		lang                  string
		line, total, measured string
		subject               string
	}{
		{"en", "(ESTIMATED by a model, not measured)", "of which ", "processors, memory and graphics cards only", "kWh (partly estimated)"},
		{"fr", "(ESTIMÉ par un modèle, non mesuré)", "dont ", "processeurs, mémoire et cartes graphiques seulement", "kWh (en partie estimé)"},
	} {
		d := dailyWithSource(t, 2, 1, "model")
		var est, all float64
		for _, h := range d.Hosts {
			all += h.Joules
			if h.Name == synth.Host(1) {
				est = h.Joules
				if h.EstimatedJoules != h.Joules || h.Joules == 0 {
					t.Fatalf("%s: estimated %v J of %v J", h.Name, h.EstimatedJoules, h.Joules)
				}
			} else if h.EstimatedJoules != 0 {
				t.Fatalf("%s: a measured host has %v J estimated", h.Name, h.EstimatedJoules)
			}
		}
		if d.Total.EstimatedJoules != est || est == 0 || est == all {
			t.Fatalf("total estimated %v J, want %v J of %v J", d.Total.EstimatedJoules, est, all)
		}
		m, err := Digest(d, Options{Lang: tc.lang, ID: "x", NoChart: true})
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, line := range strings.Split(m.Text, "\n") {
			if !strings.Contains(line, synth.Host(1)+sep(tc.lang)) {
				continue
			}
			found++
			if !strings.Contains(line, tc.line) || strings.Contains(line, tc.measured) {
				t.Errorf("%s: the estimated host's line does not say so:\n%s", tc.lang, line)
			}
		}
		if found != 1 {
			t.Errorf("%s: %d lines for the estimated host:\n%s", tc.lang, found, m.Text)
		}
		if !strings.Contains(m.Subject, tc.subject) {
			t.Errorf("%s: the subject %q does not say %q", tc.lang, m.Subject, tc.subject)
		}
		first := strings.SplitN(m.Text, "\n", 4)
		if !strings.Contains(strings.Join(first, "\n"), tc.total) {
			t.Errorf("%s: the total does not say how much of it is estimated:\n%s", tc.lang, m.Text)
		}
	}
}

// TestDigestBounded: with many silent and estimated hosts, the quality
// notes name at most MaxHosts of each and say how many more; a very long
// name is cut.
func TestDigestBounded(t *testing.T) {
	loc := time.UTC
	long := strings.Repeat("é", 500)
	d := &digest.Digest{Start: time.Date(2026, 12, 6, 0, 0, 0, 0, loc), End: time.Date(2026, 12, 7, 0, 0, 0, 0, loc), Loc: loc, Days: make([]digest.Day, 14)}
	for i := range 200 {
		name := fmt.Sprintf("pc-%03d", i)
		if i == 0 {
			name = long
		}
		d.Hosts = append(d.Hosts, digest.Host{Name: name, Amount: digest.Amount{Joules: 3.6e6}, Estimated: 0.5, Missing: 0.5})
	}
	d.Reporting = len(d.Hosts)
	for _, tc := range []struct{ lang, more string }{{"en", "and 190 more"}, {"fr", "et 190 autres"}} {
		m, err := Digest(d, Options{Lang: tc.lang, ID: "x", MaxHosts: 10, NoChart: true})
		if err != nil {
			t.Fatal(err)
		}
		for form, text := range map[string]string{"text": m.Text, "html": m.HTML, "markdown": m.Markdown} {
			// The machines past the bound are summed in a line of their own.
			if n := strings.Count(text, tc.more) - strings.Count(text, tc.more+" machines"); n != 2 {
				t.Errorf("%s %s: %q %d times, want twice (silent, estimated)", tc.lang, form, tc.more, n)
			}
			if strings.Contains(text, "pc-150") || strings.Contains(text, strings.Repeat("é", 65)) {
				t.Errorf("%s %s: a host past the bound, or a name not cut", tc.lang, form)
			}
			if !strings.Contains(text, strings.Repeat("é", 63)+"…") {
				t.Errorf("%s %s: the long name is not shown cut with an ellipsis", tc.lang, form)
			}
		}
		if len(m.Text) > 20000 {
			t.Errorf("%s: %d bytes of text for 200 hosts shown 10 at a time", tc.lang, len(m.Text))
		}
	}
}

// TestDigestHostWithoutData: a host the digest names that sent nothing
// says "no data", not "0.00 Wh", and is not counted among the machines
// that used energy.
func TestDigestHostWithoutData(t *testing.T) {
	loc := time.UTC
	r := digest.Request{Start: time.Date(2026, 3, 24, 0, 0, 0, 0, loc), End: time.Date(2026, 3, 25, 0, 0, 0, 0, loc), Loc: loc,
		Hosts: []string{"a", "ghost"}, Table: metaphor.Defaults()}
	days := []influx.Series{{Tags: map[string]string{"host": "a", "basis": "", "source": "rapl"}, Columns: []string{"time", "e", "w", "co2", "s"},
		Values: [][]any{{json.Number(strconv.FormatInt(r.Start.UnixNano(), 10)), json.Number("3600000"), nil, nil, json.Number("86400")}}}}
	d, err := digest.Compute(r, days, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, count, ghost, all string }{
		{"en", "Your machine used 1.00\u00a0kWh", "ghost: no data", "across the 2 machines (machines that sent nothing included)."},
		{"fr", "Votre machine a consommé 1,00\u00a0kWh", "ghost\u202F: aucune donnée", "des 2 machines (machines muettes comprises)."},
	} {
		m, err := Digest(d, Options{Lang: tc.lang, ID: "x", NoChart: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, tc.count) || !strings.Contains(m.Text, tc.ghost) || !strings.Contains(m.Text, tc.all) {
			t.Errorf("%s: want %q, %q and %q:\n%s", tc.lang, tc.count, tc.ghost, tc.all, m.Text)
		}
		for _, line := range strings.Split(m.Text, "\n") {
			if strings.Contains(line, "ghost") && strings.Contains(line, "Wh") {
				t.Errorf("%s: the silent host has an energy: %q", tc.lang, line)
			}
		}
	}
}

// TestCompareOneWeek: a mean of one earlier week is not "the average of
// the 1 week before"; where that week is the week before, it is said once.
func TestCompareOneWeek(t *testing.T) {
	for _, tc := range []struct {
		lang string
		a    digest.Amount
		want []string
		not  []string
	}{
		{"en", digest.Amount{Joules: 2, Mean: 1, MeanOf: 1}, []string{"than the only earlier week with data"}, []string{"1 week", "weeks"}},
		{"fr", digest.Amount{Joules: 2, Mean: 1, MeanOf: 1}, []string{"que la seule semaine antérieure avec des données"}, []string{"1 semaine", "des 1"}},
		{"en", digest.Amount{Joules: 2, Prev: 1, HasPrev: true, Mean: 1, MeanOf: 1}, []string{"than the week before"}, []string{"average", "only earlier"}},
		{"fr", digest.Amount{Joules: 2, Prev: 1, HasPrev: true, Mean: 1, MeanOf: 1}, []string{"que la semaine précédente"}, []string{"moyenne", "seule"}},
		{"en", digest.Amount{Joules: 2, Mean: 1, MeanOf: 3}, []string{"than the average of the 3 weeks before"}, nil},
		{"fr", digest.Amount{Joules: 2, Mean: 1, MeanOf: 3}, []string{"que la moyenne des 3 semaines précédentes"}, nil},
	} {
		wd := wordsFor(tc.lang)
		got := compare(wd, tc.a, true) + "\n" + compact(wd, tc.a, true)
		for _, s := range tc.want {
			if !strings.Contains(got, s) {
				t.Errorf("%s %+v: %q does not say %q", tc.lang, tc.a, got, s)
			}
		}
		for _, s := range tc.not {
			if strings.Contains(got, s) {
				t.Errorf("%s %+v: %q says %q", tc.lang, tc.a, got, s)
			}
		}
	}
}

// TestCompareClockChange: the day the clocks go back has 25 hours; the
// same power all along is the same use, not 4 % more, in both the
// sentence and the compact line.
func TestCompareClockChange(t *testing.T) {
	const w = 1000.0 // watts, both days
	a := digest.Amount{Joules: w * 25 * 3600, Seconds: 25 * 3600, Prev: w * 24 * 3600, PrevSeconds: 24 * 3600, HasPrev: true}
	for _, lang := range []string{"en", "fr"} {
		wd := wordsFor(lang)
		got := compare(wd, a, false) + "\n" + compact(wd, a, false)
		if strings.Contains(got, "%") || !strings.Contains(got, wd.unchanged) {
			t.Errorf("%s: %q gives a change, or not %q", lang, got, wd.unchanged)
		}
	}
	// A real change on that day is still one: 10 % more power.
	a.Joules *= 1.1
	if got := compare(wordsFor("en"), a, false); !strings.Contains(got, "10") {
		t.Errorf("10 %% more power on a 25-hour day: %q", got)
	}
}

// TestSubjectMark: a subject's total says when a model estimated part or
// all of it, and says nothing when all was measured.
func TestSubjectMark(t *testing.T) {
	for _, tc := range []struct {
		lang string
		a    digest.Amount
		want string
	}{
		{"en", digest.Amount{Joules: 10}, ""},
		{"en", digest.Amount{Joules: 10, EstimatedJoules: 4}, " (partly estimated)"},
		{"en", digest.Amount{Joules: 10, EstimatedJoules: 10}, " (estimated, not measured)"},
		{"fr", digest.Amount{Joules: 10, EstimatedJoules: 4}, " (en partie estimé)"},
		{"fr", digest.Amount{Joules: 10, EstimatedJoules: 10}, " (estimé, non mesuré)"},
	} {
		if got := subjectMark(wordsFor(tc.lang), tc.a); got != tc.want {
			t.Errorf("%s %+v: %q, want %q", tc.lang, tc.a, got, tc.want)
		}
	}
}

// A guest reads its energy from its hypervisor (source=vm): that energy
// is a share of the hypervisor's, so the total, the machine count and the
// chart leave it out, and its line says why.
func TestDigestCountsGuestsOnce(t *testing.T) {
	d := dailyWithSource(t, 3, 2, "vm")
	var hosts, guest float64
	for _, h := range d.Hosts {
		if h.Guest != (h.Name == synth.Host(2)) {
			t.Fatalf("%s: guest %v", h.Name, h.Guest)
		}
		if h.Guest {
			guest = h.Joules
		} else {
			hosts += h.Joules
		}
	}
	if guest == 0 || d.Total.Joules != hosts || d.Counted != 2 {
		t.Fatalf("total %v J of %d hosts, want %v J of 2 (the guest's %v J left out)", d.Total.Joules, d.Counted, hosts, guest)
	}
	var chart float64
	for _, day := range d.Days {
		chart += day.Joules
	}
	if last := d.Days[len(d.Days)-1].Joules; math.Abs(last-hosts) > 1e-6*hosts {
		t.Errorf("the chart's last day holds %v J, want %v J (%v J over the week)", last, hosts, chart)
	}
	for lang, want := range map[string][3]string{
		"en": {"Your 2 machines used", "already counted in that server", "across the 3 machines (VMs included)."},
		"fr": {"Vos 2 machines ont consommé", "déjà comptée dans ce serveur", "des 3 machines (VM comprises)."},
	} {
		m, err := Digest(d, Options{Lang: lang, ID: "x", NoChart: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, want[0]) || !strings.Contains(m.Text, want[1]) || !strings.Contains(m.Text, want[2]) {
			t.Errorf("%s: the digest does not count the guest once, or its two counts disagree unexplained:\n%s", lang, m.Text)
		}
	}
}

// TestEquivalentsNumber: a digest's French equivalents are singular below
// 2 as written (0,78 ampoule LED, 1,5 recharge), plural from 2; English
// keeps its plural labels.
func TestEquivalentsNumber(t *testing.T) {
	table := metaphor.Defaults()
	bulbs, charges := table[0], table[1]
	for _, c := range []struct {
		wd    words
		m     metaphor.Metaphor
		count float64
		want  string
	}{
		{french, bulbs, 0.78, "0,8 ampoule LED pendant toute la journée"},
		{french, bulbs, 1.1, "1,1 ampoule LED pendant toute la journée"},
		{french, bulbs, 1.96, "2,0 ampoules LED pendant toute la journée"}, // written 2,0: plural
		{french, bulbs, 14, "14 ampoules LED pendant toute la journée"},
		{french, charges, 1.5, "1,5 recharge complète d’une batterie de Galaxy S4"},
		{french, charges, 3, "3,0 recharges complètes d’une batterie de Galaxy S4"},
		{english, charges, 1.5, "1.5 full charges of a Galaxy S4 battery"},
	} {
		got := equivalents(c.wd, []digest.Equivalent{{Metaphor: c.m, Count: c.count}}, false)
		if got != c.want {
			t.Errorf("%s %s %g: %q, want %q", c.wd.lang, c.m.Field, c.count, got, c.want)
		}
	}
}

// TestDigestNoneSent: a period no machine wrote in says so plainly, in
// the subject too, and points to -doctor; no zero total, no empty list,
// no chart of nothing.
func TestDigestNoneSent(t *testing.T) {
	loc := time.UTC
	for _, tc := range []struct {
		lang   string
		hosts  []string
		weekly bool
		says   []string
	}{
		{"en", nil, false, []string{"No machine sent a measurement for this day.", "powerinput -doctor", "— no measurement"}},
		{"fr", nil, false, []string{"Aucune machine n’a envoyé de mesure pour cette journée.", "powerinput -doctor", "réparer le reste\u202F; ici", "— aucune mesure"}},
		{"en", []string{"kvm-1", "kvm-2"}, true, []string{"No machine sent a measurement for this week.", "Machines expected: kvm-1, kvm-2."}},
		{"fr", []string{"kvm-1"}, false, []string{"Machine attendue\u202F: kvm-1."}},
		{"en", []string{"kvm-1"}, false, []string{"Machine expected: kvm-1."}},
	} {
		r := digest.Request{Start: time.Date(2026, 3, 24, 0, 0, 0, 0, loc), End: time.Date(2026, 3, 25, 0, 0, 0, 0, loc), Loc: loc,
			Hosts: tc.hosts, Weekly: tc.weekly, Table: metaphor.Defaults()}
		if tc.weekly {
			r.Start = r.End.AddDate(0, 0, -7)
		}
		d, err := digest.Compute(r, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Digest(d, Options{Lang: tc.lang, ID: "x"})
		if err != nil {
			t.Fatal(err)
		}
		all := m.Subject + "\n" + m.Text
		for _, s := range tc.says {
			inHTML := strings.HasPrefix(s, "—") || strings.Contains(m.HTML, strings.Split(s, "\u202F")[0])
			if !strings.Contains(all, s) || !inHTML {
				t.Errorf("%s %v: does not say %q:\n%s", tc.lang, tc.hosts, s, all)
			}
		}
		for _, bad := range []string{"Wh", "0 machines", "0 machine"} {
			if strings.Contains(all, bad) {
				t.Errorf("%s: says %q:\n%s", tc.lang, bad, all)
			}
		}
		if len(m.Images) != 0 {
			t.Errorf("%s: a chart of nothing", tc.lang)
		}
		if want := `<code style="white-space:nowrap">greenbot -check</code>`; !strings.Contains(m.HTML, want) {
			t.Errorf("%s: the HTML may break a command at its hyphen: no %s", tc.lang, want)
		}
	}
}

// TestUnitsStayWithNumbers: in every form, a number and its unit are
// joined by a no-break space (a narrow mail window broke "159 / Wh"), and
// so are grams and CO₂.
func TestUnitsStayWithNumbers(t *testing.T) {
	broken := regexp.MustCompile(`[0-9] (kWh|Wh|kg|g|t)([ .,;)/]|$)|(kg|g|t) CO₂`)
	joined := regexp.MustCompile("[0-9]\u00a0k?Wh")
	for _, lang := range []string{"en", "fr"} {
		m, err := Digest(sample(t, 3, false), Options{Lang: lang, ID: "x", NoChart: true})
		if err != nil {
			t.Fatal(err)
		}
		for form, s := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML, "markdown": m.Markdown} {
			if bad := broken.FindString(s); bad != "" {
				t.Errorf("%s %s: a breakable space in %q", lang, form, bad)
			}
			if !joined.MatchString(s) {
				t.Errorf("%s %s: no energy written at all:\n%s", lang, form, s)
			}
		}
		if !strings.Contains(m.Text, "56\u00a0g/kWh") {
			t.Errorf("%s: the carbon intensity is not joined to its unit:\n%s", lang, m.Text)
		}
		if !strings.Contains(m.Text, "\u00a0g\u00a0CO₂") && !strings.Contains(m.Text, "\u00a0kg\u00a0CO₂") {
			t.Errorf("%s: a host's CO₂ is not joined to its grams:\n%s", lang, m.Text)
		}
	}
}

// TestCO2SaysItsRate: the CO₂ total says the carbon intensity it was
// counted at, taken from the data (synth's machines are set at 56 g/kWh),
// or the lowest and highest where the machines are set apart.
func TestCO2SaysItsRate(t *testing.T) {
	for _, tc := range []struct {
		lang    string
		doubled bool // host 1 set at twice the rate
		want    string
	}{
		{"en", false, "of CO₂ (at 56\u00a0g/kWh, the carbon intensity set in powerinput)."},
		{"fr", false, "de CO₂ émis (à 56\u00a0g/kWh, l’intensité carbone réglée dans powerinput)."},
		{"en", true, "(at 56–112\u00a0g/kWh, the carbon intensities set in each machine's powerinput)."},
		{"fr", true, "(de 56 à 112\u00a0g/kWh, les intensités carbone réglées dans le powerinput de chaque machine)."},
	} {
		d := dailyWithSource(t, 3, -1, "") // no host changed
		if tc.doubled {
			for i := range d.Hosts {
				if d.Hosts[i].Name == synth.Host(1) {
					d.Hosts[i].CO2Grams *= 2
				}
			}
		}
		m, err := Digest(d, Options{Lang: tc.lang, ID: "x", NoChart: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, tc.want) {
			t.Errorf("%s doubled=%v: does not say %q:\n%s", tc.lang, tc.doubled, tc.want, m.Text)
		}
	}
}

// TestServiceKinds: a service whose name is a raw ID (a container's
// short ID, as powerinput writes it, a pod's UID) gets its kind before
// it; a systemd service and a user's slice keep their name alone. A name
// is shown whole: two containers never share one (a full 64-digit ID,
// which powerinput does not write, is not cut).
func TestServiceKinds(t *testing.T) {
	loc := time.UTC
	r := digest.Request{Start: time.Date(2026, 3, 24, 0, 0, 0, 0, loc), End: time.Date(2026, 3, 25, 0, 0, 0, 0, loc), Loc: loc,
		TopServices: 5, Table: metaphor.Defaults()}
	days := []influx.Series{{Tags: map[string]string{"host": "kvm-0", "basis": "", "source": "rapl"}, Columns: []string{"time", "e", "w", "co2", "s"},
		Values: [][]any{{json.Number(strconv.FormatInt(r.Start.UnixNano(), 10)), json.Number("36000000"), nil, nil, json.Number("86400")}}}}
	svc := func(unit, kind, joules string) influx.Series {
		return influx.Series{Tags: map[string]string{"host": "kvm-0", "unit": unit, "kind": kind}, Columns: []string{"time", "e"},
			Values: [][]any{{json.Number("0"), json.Number(joules)}}}
	}
	hash := "3f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f"
	services := []influx.Series{svc("3f4e5a6b7c8d", "container", "3000000"), svc("8f14e45f-ceea-467f-a0e6-4b3e7d9b2f6a", "pod", "2000000"), svc("nginx.service", "service", "1000000"),
		svc("user-1000.slice", "user", "900000"), svc(hash, "container", "800000")}
	d, err := digest.Compute(r, days, nil, services)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lang string
		says []string
	}{
		{"en", []string{"container 3f4e5a6b7c8d ", "pod 8f14e45f-ceea-467f-a0e6-4b3e7d9b2f6a ", ", nginx.service ", ", user-1000.slice ", "container " + hash + " "}},
		{"fr", []string{"conteneur 3f4e5a6b7c8d ", "pod 8f14e45f-ceea-467f-a0e6-4b3e7d9b2f6a ", ", nginx.service ", ", user-1000.slice ", "conteneur " + hash + " "}},
	} {
		m, err := Digest(d, Options{Lang: c.lang, ID: "x", NoChart: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range c.says {
			if !strings.Contains(m.Text, s) {
				t.Errorf("%s: does not say %q:\n%s", c.lang, s, m.Text)
			}
		}
		if strings.Contains(m.Text, "user user-1000") || strings.Contains(m.Text, "utilisateur user-1000") {
			t.Errorf("%s: a user's kind said before a name that says it:\n%s", c.lang, m.Text)
		}
	}
}
