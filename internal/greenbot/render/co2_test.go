package render

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/digest"
	"github.com/greencampus/powerinput/internal/greenbot/influx"
	"github.com/greencampus/powerinput/internal/greenbot/message"
	"github.com/greencampus/powerinput/internal/metaphor"
)

// day is one day of power_host for host as the digest's queries answer
// it, summed as InfluxDB would from 8640 points of 10 s at watts, each
// with co2_grams = energy × rate (rate 0: no co2_grams; co2Frac: the part
// of the day that carried it): the per-day row, and the energy of the
// points with co2_grams.
type day struct{ row, rated influx.Series }

func oneDay(host, source string, watts, rate, co2Frac float64, start time.Time) day {
	var e, c, rated float64
	for i := 0; i < 8640; i++ {
		j := watts * 10
		e += j
		if rate > 0 && float64(i) < co2Frac*8640 {
			c += j / 3.6e6 * rate
			rated += j
		}
	}
	var co2 any
	if rate > 0 {
		co2 = json.Number(strconv.FormatFloat(c, 'g', -1, 64))
	}
	tags := map[string]string{"host": host, "basis": "", "source": source}
	d := day{row: influx.Series{Tags: tags, Columns: []string{"time", "e", "w", "co2", "s"},
		Values: [][]any{{json.Number(strconv.FormatInt(start.UnixNano(), 10)), json.Number(strconv.FormatFloat(e, 'g', -1, 64)), nil, co2, json.Number("86400")}}}}
	if rated > 0 {
		d.rated = influx.Series{Tags: map[string]string{"host": host, "basis": ""}, Columns: []string{"time", "e", "w"},
			Values: [][]any{{json.Number("0"), json.Number(strconv.FormatFloat(rated, 'g', -1, 64)), nil}}}
	}
	return d
}

func dayDigest(t *testing.T, days ...day) *digest.Digest {
	t.Helper()
	loc := time.UTC
	r := digest.Request{Start: time.Date(2026, 3, 24, 0, 0, 0, 0, loc), End: time.Date(2026, 3, 25, 0, 0, 0, 0, loc), Loc: loc, Table: metaphor.Defaults()}
	var rows, rated []influx.Series
	for _, d := range days {
		rows = append(rows, d.row)
		if d.rated.Tags != nil {
			rated = append(rated, d.rated)
		}
	}
	d, err := digest.Compute(r, rows, nil, nil, rated...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// digestText renders d in lang as text, without its chart.
func digestText(t *testing.T, d *digest.Digest, lang string) message.Message {
	t.Helper()
	m, err := Digest(d, Options{Lang: lang, ID: "x", NoChart: true})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var dayStart = time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC)

// TestRateSetAlike: two machines both set at 55.5 g/kWh; float noise
// puts one at 55.4999… and the other at 55.5000…, which once rounded
// apart into "55–56". One rate is quoted.
func TestRateSetAlike(t *testing.T) {
	d := dayDigest(t, oneDay("a", "rapl", 35, 55.5, 1, dayStart), oneDay("b", "rapl", 57.1, 55.5, 1, dayStart))
	m := digestText(t, d, "en")
	if strings.Contains(m.Text, "intensities set in each machine") || !strings.Contains(m.Text, "(at 55.5\u00a0g/kWh, the carbon intensity set in powerinput)") {
		t.Errorf("both machines are set at 55.5 g/kWh, the digest says they differ:\n%s", m.Text)
	}
}

// TestRateQuotedAsSet: a machine set at 55.6 g/kWh: "the carbon
// intensity set in powerinput" quotes a setting, and 56 is not it.
func TestRateQuotedAsSet(t *testing.T) {
	d := dayDigest(t, oneDay("a", "rapl", 100, 55.6, 1, dayStart))
	for lang, want := range map[string]string{"en": "55.6\u00a0g/kWh", "fr": "55,6\u00a0g/kWh"} {
		m := digestText(t, d, lang)
		if !strings.Contains(m.Text, want) {
			t.Errorf("%s: set at 55.6 g/kWh, the digest does not say %q:\n%s", lang, want, firstPara(m.Text))
		}
	}
}

// TestRateFromPartDay: carbon_intensity_g_per_kwh set at noon: half the
// day's points carry co2_grams. Over all the energy the rate would be 28
// g/kWh, which no machine was set at; over the points with CO₂ it is 56.
func TestRateFromPartDay(t *testing.T) {
	d := dayDigest(t, oneDay("a", "rapl", 100, 56, 0.5, dayStart))
	m := digestText(t, d, "en")
	if !strings.Contains(m.Text, "at 56\u00a0g/kWh, the carbon intensity set in powerinput") {
		t.Errorf("the machine was set at 56 g/kWh; the digest quotes 28 as its setting:\n%s", firstPara(m.Text))
	}
}

// TestRateWithHostWithoutCO2: one machine with an intensity, one
// without. "2 machines used 4.8 kWh, which emitted 134 g (at 56 g/kWh)"
// is wrong (4.8 kWh at 56 g/kWh is 269 g): say which the CO₂ counts.
func TestRateWithHostWithoutCO2(t *testing.T) {
	d := dayDigest(t, oneDay("a", "rapl", 100, 56, 1, dayStart), oneDay("b", "rapl", 100, 0, 0, dayStart))
	for lang, want := range map[string]string{
		"en": "Your 2 machines used 4.80\u00a0kWh in all; 1 of the 2 machines has a carbon intensity set, and emitted about 134\u00a0g of CO₂ (at 56\u00a0g/kWh",
		"fr": "Vos 2 machines ont consommé 4,80\u00a0kWh au total\u202f; 1 machine sur 2 a une intensité carbone réglée, et a émis environ 134\u00a0g de CO₂ (à 56\u00a0g/kWh",
	} {
		m := digestText(t, d, lang)
		if p := firstPara(m.Text); !strings.Contains(p, want) {
			t.Errorf("%s: no %q:\n%s", lang, want, p)
		}
	}
}

// TestPerKWh: a rate is written as a setting is: up to three
// significant digits, no trailing zeros.
func TestPerKWh(t *testing.T) {
	for _, c := range []struct {
		g      float64
		en, fr string
	}{{55.6, "55.6", "55,6"}, {55.49999999, "55.5", "55,5"}, {5, "5", "5"}, {0.004, "0.004", "0,004"}, {420, "420", "420"}, {1234, "1,234", "1\u202f234"}, {56.04, "56", "56"}} {
		if got := perKWh("en", c.g); got != c.en {
			t.Errorf("perKWh(en, %v) = %q, want %q", c.g, got, c.en)
		}
		if got := perKWh("fr", c.g); got != c.fr {
			t.Errorf("perKWh(fr, %v) = %q, want %q", c.g, got, c.fr)
		}
	}
}

func firstPara(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 6 {
		lines = lines[:6]
	}
	return strings.Join(lines, "\n")
}
