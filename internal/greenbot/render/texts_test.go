package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/digest"
	"github.com/greencampus/powerinput/internal/greenbot/influx"
	"github.com/greencampus/powerinput/internal/metaphor"
)

// TestGuestOnly: a digest limited to a guest VM (its hypervisor not in
// the list) gives the VM's own energy as its share of its host's; never
// "0 machines", never a zero total for a machine that did write.
func TestGuestOnly(t *testing.T) {
	d := dayDigest(t, oneDay("vm-a", "vm", 20, 56, 1, dayStart))
	for lang, bad := range map[string]string{"en": "Your 0 machines", "fr": "Vos 0 machines"} {
		m := digestText(t, d, lang)
		want := map[string]string{"en": "Your virtual machine used 480\u00a0Wh, its share of its host server's energy", "fr": "Votre machine virtuelle a consommé 480\u00a0Wh, sa part de l’énergie de son serveur hôte"}[lang]
		if !strings.Contains(m.Text, want) || !strings.HasSuffix(m.Subject, "480\u00a0Wh") {
			t.Errorf("%s: no %q, or a subject without it: %s\n%s", lang, want, m.Subject, firstPara(m.Text))
		}
		if strings.Contains(m.Text, bad) {
			t.Errorf("%s: says %q for a VM that wrote:\n%s", lang, bad, firstPara(m.Text))
		}
	}
}

// TestOneMachineWording: one machine is "the machine", never "across
// the 1 machine" / « sur l’ensemble des 1 machine » (the none digest's
// "Machine expected: kvm-1" is in TestDigestNoneSent).
func TestOneMachineWording(t *testing.T) {
	d := dayDigest(t, oneDay("a", "rapl", 100, 56, 1, dayStart))
	for lang, bad := range map[string]string{"en": "across the 1 machine", "fr": "des 1 machine"} {
		m := digestText(t, d, lang)
		want := map[string]string{"en": "Sensors measured 100% of the day on the machine", "fr": "Les capteurs ont mesuré 100\u202f% de la journée sur la machine"}[lang]
		if strings.Contains(m.Text, bad) || !strings.Contains(m.Text, want) {
			t.Errorf("%s: %q, or no %q:\n%s", lang, bad, want, m.Text)
		}
	}
}

// TestUserKindOnce: cgroup.Classify names a user's group by its unit,
// "user-1000.slice": a kind before it would say "user user-1000.slice".
func TestUserKindOnce(t *testing.T) {
	loc := time.UTC
	r := digest.Request{Start: dayStart, End: dayStart.AddDate(0, 0, 1), Loc: loc, TopServices: 5, Table: metaphor.Defaults()}
	svc := influx.Series{Tags: map[string]string{"host": "a", "unit": "user-1000.slice", "kind": "user"}, Columns: []string{"time", "e"},
		Values: [][]any{{json.Number("0"), json.Number("3000000")}}}
	d, err := digest.Compute(r, []influx.Series{oneDay("a", "rapl", 100, 56, 1, dayStart).row}, nil, []influx.Series{svc})
	if err != nil {
		t.Fatal(err)
	}
	m := digestText(t, d, "en")
	if strings.Contains(m.Text, "user user-1000.slice") || !strings.Contains(m.Text, "Services: user-1000.slice 833\u00a0Wh") {
		t.Errorf("not \"Services: user-1000.slice 833 Wh\":\n%s", m.Text)
	}
}

// TestNoneFromRollup: a digest that read the hourly rollup and found
// nothing hints that the rollup's continuous query may not be running;
// one that read the raw points does not.
func TestNoneFromRollup(t *testing.T) {
	d := dayDigest(t)
	for lang, want := range map[string]string{"en": "the continuous query that fills rollup_1h may not be running", "fr": "la requête continue qui remplit rollup_1h ne tourne peut-être pas"} {
		for _, rp := range []string{"", "rollup_1h"} {
			d.Rollup = rp
			m := digestText(t, d, lang)
			if strings.Contains(m.Text, want) != (rp != "") {
				t.Errorf("%s, rollup %q: says %q: %v\n%s", lang, rp, want, strings.Contains(m.Text, want), m.Text)
			}
		}
	}
}
