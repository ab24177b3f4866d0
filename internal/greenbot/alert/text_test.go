package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/message"
	"github.com/greencampus/powerinput/internal/metaphor"
)

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{watts(1250, "fr"), "1\u202F250\u00A0W"},
		{watts(1250, "en"), "1,250\u00A0W"},
		{watts(7.25, "fr"), "7,2\u00A0W"},
		{watts(452.4, "en"), "452\u00A0W"},
		{percent(0.625, "fr"), "62\u202F%"},
		{percent(0.055, "en"), "5.5%"},
		{duration(25*time.Minute, "fr"), "25 minutes"},
		{duration(125*time.Minute, "en"), "2\u00A0h\u00A005"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestTexts: every event in both languages names the host and the
// numbers in the language's way, and a name that tries markup or a
// mention stays text in every form.
func TestTexts(t *testing.T) {
	rules := Rules{PowerAbove: 1200, PowerBelow: 1000, PowerFor: 10 * time.Minute, SilentFor: 15 * time.Minute, ModelFallback: true, VMShareAbove: 0.6, VMShareBelow: 0.5}
	paris, _ := time.LoadLocation("Europe/Paris")
	at := time.Date(2026, 12, 5, 14, 35, 0, 0, time.UTC)
	since := at.Add(-25 * time.Minute)
	host := "kvm-0<b>@room"
	var evs []Event
	for _, kind := range []message.Kind{message.AlertStart, message.AlertEnd} {
		evs = append(evs,
			Event{Kind: kind, At: at, Value: 1254.6, Wall: true, Alert: Alert{Kind: Power, Host: host, Since: since, Peak: 1480}},
			Event{Kind: kind, At: at, Alert: Alert{Kind: Silent, Host: host, Since: since}},
			Event{Kind: kind, At: at, Alert: Alert{Kind: Model, Host: host, Since: since}},
			Event{Kind: kind, At: at, Value: 0.655, Alert: Alert{Kind: VMShare, Host: host, VM: "web_*1*", Since: since, Peak: 0.71}})
	}
	for _, lang := range []string{"en", "fr"} {
		for _, e := range evs {
			m := rules.Message(e, lang, paris, nil)
			if m.ID != e.ID() || m.Kind != e.Kind || m.Lang != lang {
				t.Errorf("%s: ID %q kind %q lang %q", e.ID(), m.ID, m.Kind, m.Lang)
			}
			for form, s := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML, "markdown": m.Markdown} {
				if strings.Contains(s, "@room") || form == "html" && strings.Contains(s, "<b>") || form == "markdown" && strings.ContainsAny(s, "<>") {
					t.Errorf("%s %s %s: the name's markup or mention survived: %q", lang, e.ID(), form, s)
				}
				if strings.Contains(s, "%!") {
					t.Errorf("%s %s %s: a format error: %q", lang, e.ID(), form, s)
				}
			}
			if !strings.Contains(m.Text, "kvm-0<b>@\u2060room") {
				t.Errorf("%s: text %q does not name the host", lang, m.Text)
			}
			if lang == "fr" && (strings.Contains(m.Text, " :") || strings.Contains(m.Text, " ;")) {
				t.Errorf("fr text %q has a plain space before : or ;", m.Text)
			}
		}
	}
	fr := rules.Message(evs[0], "fr", paris, nil)
	for _, want := range []string{"1\u202F200\u00A0W", "1\u202F255\u00A0W", "15\u202Fh\u202F10 CET", "mesurés à la prise", "autant que 139 ampoules LED", "\u202F:"} {
		if !strings.Contains(fr.Text, want) {
			t.Errorf("fr power start %q lacks %q", fr.Text, want)
		}
	}
	en := rules.Message(evs[4], "en", paris, nil)
	for _, want := range []string{"back under 1,000\u00A0W", "25 minutes", "1,480\u00A0W"} {
		if !strings.Contains(en.Text, want) {
			t.Errorf("en power end %q lacks %q", en.Text, want)
		}
	}
}

// A power alert on a host the model estimates says so, never "measured";
// a count of one of the power metaphor is said in the singular.
func TestPowerAlertOnAnEstimate(t *testing.T) {
	rules := Rules{PowerAbove: 5, PowerBelow: 4, PowerFor: time.Minute}
	at := time.Date(2026, 12, 5, 14, 35, 0, 0, time.UTC)
	st := &State{}
	var evs []Event
	for i := range 3 {
		evs = append(evs, rules.Step(st, Snapshot{At: at.Add(time.Duration(i) * time.Minute),
			Hosts: []Observation{{Host: "vm", Watts: 6.3, HasWatts: true, Source: "model", LastSeen: at}}})...)
	}
	if len(evs) != 1 || !evs[0].Estimated {
		t.Fatalf("events %+v, want one start of an estimate", evs)
	}
	for lang, want := range map[string]string{"en": "ESTIMATED from how busy it is, not measured", "fr": "ESTIMÉS d’après son activité, non mesurés"} {
		m := rules.Message(evs[0], lang, time.UTC, nil)
		if !strings.Contains(m.Text, want) || strings.Contains(m.Text, "measured on") || strings.Contains(m.Text, "mesurés sur") {
			t.Errorf("%s: %q does not say it is an estimate", lang, m.Text)
		}
		if strings.Contains(m.Text, " 1 LED bulbs") || strings.Contains(m.Text, " 1 ampoules") {
			t.Errorf("%s: %q counts one bulb in the plural", lang, m.Text)
		}
	}
}

// A power of about one metaphor's worth is said in the singular where the
// metaphor has a singular label, and not at all where it has none or
// where it rounds to 0.
func TestLikenessSingular(t *testing.T) {
	w := 2000.0
	kettle := metaphor.Metaphor{Field: "kettles", Label: "kettles boiling", LabelFR: "bouilloires en marche", Watts: &w}
	for _, tc := range []struct {
		name  string
		watts float64
		table []metaphor.Metaphor
		lang  string
		want  string
	}{
		{"one bulb", 9, nil, "en", ", as much as 1 LED bulb"},
		{"une ampoule", 9, nil, "fr", ", autant que 1 ampoule LED"},
		{"two bulbs", 18, nil, "en", ", as much as 2 LED bulbs"},
		{"nothing to compare", 3, nil, "en", ""},
		{"no singular label", 2000, []metaphor.Metaphor{kettle}, "en", ""},
		{"plural of one's own", 4000, []metaphor.Metaphor{kettle}, "fr", ", autant que 2 bouilloires en marche"},
	} {
		format := ", as much as %s %s"
		if tc.lang == "fr" {
			format = ", autant que %s %s"
		}
		if got := likeness(tc.watts, tc.table, format, tc.lang); got != tc.want {
			t.Errorf("%s: likeness(%g W) = %q, want %q", tc.name, tc.watts, got, tc.want)
		}
	}
}
