package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const good = `
time_zone = "Europe/Paris"
state_dir = "/var/lib/greenbot"

[influxdb]
url = "http://127.0.0.1:8086"
database = "metrics_from_pau"
retention_policy = "forever"
timeout = "10s"

[destinations.lab-mail.mail]
host = "smtp.example.org"
from = "Green Campus Bot <bot@example.org>"
to = ["it@example.org"]

[destinations.chat.webhook]
url = "https://chat.example.org/hooks/abc"

[[digest]]
name = "daily-fr"
schedule = "daily 08:00"
lang = "fr"
hosts = ["all"]
to = ["lab-mail", "chat"]

[[digest]]
name = "weekly-en"
schedule = "weekly monday 08:00"
hosts = ["kvm-0", "pc-1"]
top_vms = 3
to = ["chat"]

[[alert]]
name = "hot"
power_above_watts = 300.0
power_below_watts = 250.0
power_for = "5m"
silent_for = "10m"
to = ["chat"]

[[metaphor]]
field = "kettles"
label = "kettles boiled"
label_fr = "bouilloires"
watt_hours = 100.0
source = "a 1 l kettle"
`

func TestParseGood(t *testing.T) {
	c, err := Parse(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Location.String() != "Europe/Paris" || time.Duration(c.InfluxDB.Timeout) != 10*time.Second || c.InfluxDB.Attempts != 4 {
		t.Errorf("got zone %v, timeout %v, attempts %d", c.Location, c.InfluxDB.Timeout, c.InfluxDB.Attempts)
	}
	if len(c.Digests) != 2 || c.Digests[0].When.Period != Daily || c.Digests[1].When.Weekday != time.Monday {
		t.Fatalf("digests: got %+v", c.Digests)
	}
	if !c.Digests[0].AllHosts() || c.Digests[1].AllHosts() || c.Digests[1].Lang != "en" || c.Digests[1].TopVMs != 3 || c.Digests[0].TopVMs != 5 {
		t.Errorf("digest options: got %+v", c.Digests)
	}
	if len(c.Destinations) != 2 || c.Destinations["lab-mail"].Mail == nil || c.Outbox.Dir != "/var/lib/greenbot/outbox" {
		t.Errorf("destinations: got %+v, outbox %+v", c.Destinations, c.Outbox)
	}
	if len(c.Alerts) != 1 || c.Alerts[0].PowerFor != 5*time.Minute {
		t.Errorf("alerts: got %+v", c.Alerts)
	}
	if n := len(c.Table); n != 8 || c.Table[7].Field != "kettles" {
		t.Errorf("metaphor table: got %d entries", n)
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		name, text, says string
	}{
		{"unknown top key", "time_zon = \"UTC\"", "time_zon"},
		{"unknown digest key", "[[digest]]\nschedule = \"daily 08:00\"\nlanguage = \"fr\"", "digest.language"},
		{"unknown influx key", "[influxdb]\nurl = \"http://x:8086\"\npasword = \"x\"", "influxdb.pasword"},
		{"bad zone", "time_zone = \"Europe/Pariss\"", "Europe/Pariss"},
		{"local zone", "time_zone = \"Local\"", "Local"},
		{"bad schedule", "[[digest]]\nschedule = \"daily 8h\"", "daily 8h"},
		{"bad weekday", "[[digest]]\nname = \"w\"\nschedule = \"weekly lundi 08:00\"", "lundi"},
		{"bad lang", "[[digest]]\nschedule = \"daily 08:00\"\nlang = \"de\"", "de"},
		{"same name", "[[digest]]\nname = \"a\"\nschedule = \"daily 08:00\"\n[[digest]]\nname = \"a\"\nschedule = \"daily 09:00\"", "same name"},
		{"all and names", "[[digest]]\nschedule = \"daily 08:00\"\nhosts = [\"all\", \"x\"]", "all"},
		{"bad url", "[influxdb]\nurl = \"localhost:8086\"", "localhost:8086"},
		{"bad duration", "[influxdb]\ntimeout = \"ten\"", "ten"},
		{"bad metaphor", "[[metaphor]]\nfield = \"x\"\nlabel = \"x\"", "watts"},
		{"not toml", "time_zone = ", "toml"},
		{"alert of nothing", "[[alert]]\nname = \"a\"", "nothing to watch"},
		{"alert to nowhere", "[[alert]]\nsilent_for = \"5m\"\nto = [\"x\"]", "[[alert]] #1: to = \"x\""},
		{"alert name", "[[alert]]\nname = \"../x\"\nsilent_for = \"5m\"", "../x"},
		{"unknown alert key", "[[alert]]\nsilent_for = \"5m\"\npower_abve_watts = 3.0", "alert.power_abve_watts"},
		{"unknown destination", "[[digest]]\nschedule = \"daily 08:00\"\nto = [\"nowhere\"]", "nowhere"},
		{"destination of no kind", "[destinations.x]\n", "destinations.x"},
		{"unknown destination key", "[destinations.x.mail]\nhots = \"a\"", "destinations.x.mail.hots"},
		{"bare number for minutes", "[[alert]]\nsilent_for = 15", "alert.silent_for is a duration"},
		{"bare number for a timeout", "[influxdb]\ntimeout = 30", "influxdb.timeout"},
	} {
		_, err := Parse(strings.NewReader(tc.text))
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: got %v, want ErrConfig saying %q", tc.name, err, tc.says)
		}
	}
}

func TestLoadNamesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "greenbot.toml")
	if err := os.WriteFile(p, []byte("nosuch = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("got %v, want the file and the key named", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(good)
	f.Add("[[digest]]\nschedule = \"weekly sunday 23:59\"\nlang = \"fr\"")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Parse(strings.NewReader(text))
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("an error that is not ErrConfig: %v", err)
			}
			return
		}
		for _, d := range c.Digests {
			now := time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)
			if n := d.When.Next(now); !n.After(now) {
				t.Fatalf("%s: Next(%v) = %v", d.Schedule, now, n)
			}
		}
	})
}

// The sample the docs point to parses as it is.
func TestSample(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "..", "deploy", "greenbot.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Digests) != 2 || c.Digests[1].When.Period != Weekly || c.Destinations["console"].Stdout == nil || len(c.Alerts) != 1 || !c.Alerts[0].ModelFallback {
		t.Errorf("sample: got %+v", c)
	}
}
