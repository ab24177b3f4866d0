// Package config reads the Green Campus Bot's TOML file: where InfluxDB is,
// which digests to make when, in which language, for which hosts, and where
// to send them. Unknown keys are an error naming them, not ignored.
package config

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/greencampus/powerinput/internal/greenbot/alert"
	"github.com/greencampus/powerinput/internal/greenbot/deliver"
	"github.com/greencampus/powerinput/internal/metaphor"
)

// ErrConfig is wrapped by every error of a config's content.
var ErrConfig = errors.New("bad greenbot config")

// Duration is a TOML string such as "30s" or "2m".
type Duration time.Duration

// UnmarshalText reads a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Config is the whole file.
type Config struct {
	// TimeZone names the zone of the schedules and of the digests' days
	// (an IANA name such as "Europe/Paris"); Location is it, loaded.
	TimeZone string         `toml:"time_zone"`
	Location *time.Location `toml:"-"`
	// StateDir keeps which digests were sent, so that -once and a restart
	// send each once.
	StateDir string   `toml:"state_dir"`
	InfluxDB InfluxDB `toml:"influxdb"`
	Digests  []Digest `toml:"digest"`
	// Destinations are where messages go, by name ([destinations.NAME.mail]
	// and so on: package deliver's); Outbox keeps what could not go yet
	// (its dir defaults to state_dir/outbox).
	Destinations map[string]deliver.Destination `toml:"destinations"`
	Outbox       deliver.OutboxConfig           `toml:"outbox"`
	// Alerts are package alert's [[alert]] tables: thresholds, hosts,
	// language and destinations; the daemon evaluates them every minute.
	Alerts []alert.Config `toml:"alert"`
	// DefaultMetaphors keeps the lab's table (on unless false); Metaphors
	// replace or add entries, as in powerinput's config.
	DefaultMetaphors *bool               `toml:"default_metaphors"`
	Metaphors        []metaphor.Metaphor `toml:"metaphor"`
	// Table is the metaphor table to use, merged.
	Table []metaphor.Metaphor `toml:"-"`
}

// InfluxDB is where the measurements are.
type InfluxDB struct {
	URL             string   `toml:"url"`
	Database        string   `toml:"database"`
	RetentionPolicy string   `toml:"retention_policy"`
	Username        string   `toml:"username"`
	Password        string   `toml:"password"`
	Timeout         Duration `toml:"timeout"`
	Attempts        int      `toml:"attempts"`
	// Rollup is the retention policy of hourly sums a digest reads
	// where the database has it (setup-influxdb.sh makes rollup_1h);
	// "" reads the raw points always.
	Rollup string `toml:"rollup"`
}

// Digest is one digest: its schedule, language, hosts and destinations.
type Digest struct {
	Name     string   `toml:"name"`
	Schedule string   `toml:"schedule"`
	Lang     string   `toml:"lang"`
	Hosts    []string `toml:"hosts"`
	// To names destinations; none (and no destination configured): the
	// digest is printed on stdout.
	To []string `toml:"to"`
	// TopVMs and TopServices bound the lists per hypervisor.
	TopVMs      int      `toml:"top_vms"`
	TopServices int      `toml:"top_services"`
	When        Schedule `toml:"-"`
}

// AllHosts reports whether the digest covers every host it finds.
func (d Digest) AllHosts() bool {
	return len(d.Hosts) == 0 || len(d.Hosts) == 1 && d.Hosts[0] == "all"
}

// Load reads and checks the file at path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("greenbot config: %w", err)
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads a config from r, fills defaults and checks it.
func Parse(r io.Reader) (*Config, error) {
	c := &Config{
		TimeZone: "UTC",
		StateDir: "/var/lib/greenbot",
		InfluxDB: InfluxDB{URL: "http://127.0.0.1:8086", Database: "metrics_from_pau", RetentionPolicy: "forever",
			Timeout: Duration(30 * time.Second), Attempts: 4, Rollup: "rollup_1h"},
	}
	md, err := toml.NewDecoder(r).Decode(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("unknown key(s) %s (misspelt, or in the wrong section?): %w", strings.Join(keys, ", "), ErrConfig)
	}
	if err := durationsAreStrings(md); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// durationKeys are the keys that hold a duration. TOML would decode a
// bare number into one as nanoseconds, so that silent_for = 15, meant as
// minutes, would alert after 15 ns: a duration must be a string.
var durationKeys = map[string]bool{"timeout": true, "keep": true, "power_for": true, "silent_for": true, "vm_share_for": true}

func durationsAreStrings(md toml.MetaData) error {
	for _, k := range md.Keys() {
		if len(k) == 0 || !durationKeys[k[len(k)-1]] {
			continue
		}
		if t := md.Type(k...); t != "String" {
			return fmt.Errorf("%s is a duration: write it as a string with its unit, such as \"15m\" or \"30s\", not a bare %s: %w",
				k.String(), strings.ToLower(t), ErrConfig)
		}
	}
	return nil
}

var alertName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// destinations checks a digest's or an alert's to.
func (c *Config) destinations(where string, to []string) error {
	for _, name := range to {
		if _, ok := c.Destinations[name]; !ok {
			return fmt.Errorf("%s: to = %q: no [destinations.%s] in the config: %w", where, name, name, ErrConfig)
		}
	}
	if len(to) == 0 && len(c.Destinations) > 0 {
		return fmt.Errorf("%s: to is empty: name one or more of the destinations: %w", where, ErrConfig)
	}
	return nil
}

func (c *Config) check() error {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" || c.TimeZone == "Local" {
		return fmt.Errorf("time_zone = %q: not a time zone name such as \"Europe/Paris\" or \"UTC\": %w", c.TimeZone, ErrConfig)
	}
	c.Location = loc
	in := c.InfluxDB
	switch {
	case !strings.HasPrefix(in.URL, "http://") && !strings.HasPrefix(in.URL, "https://"):
		return fmt.Errorf("[influxdb] url = %q: want http://host:port: %w", in.URL, ErrConfig)
	case in.Database == "":
		return fmt.Errorf("[influxdb] database is empty: %w", ErrConfig)
	case in.Timeout <= 0 || in.Attempts < 1 || in.Attempts > 20:
		return fmt.Errorf("[influxdb] timeout must be positive and attempts from 1 to 20: %w", ErrConfig)
	}
	if err := metaphor.Validate(c.Metaphors, nil); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c.Table = metaphor.Merge(c.DefaultMetaphors == nil || *c.DefaultMetaphors, c.Metaphors)
	for _, name := range slices.Sorted(maps.Keys(c.Destinations)) {
		if err := c.Destinations[name].Validate(); err != nil {
			return fmt.Errorf("[destinations.%s]: %w: %w", name, err, ErrConfig)
		}
	}
	if c.Outbox.Dir == "" && c.StateDir != "" {
		c.Outbox.Dir = filepath.Join(c.StateDir, "outbox")
	}
	for i, a := range c.Alerts {
		where := fmt.Sprintf("[[alert]] #%d", i+1)
		if a.Name == "" {
			c.Alerts[i].Name = fmt.Sprintf("alert-%d", i+1)
		} else if !alertName.MatchString(a.Name) {
			return fmt.Errorf("%s: name %q: use letters, digits, '-' and '_' (it names the alert's state file): %w", where, a.Name, ErrConfig)
		}
		if _, err := c.Alerts[i].Rules(); err != nil {
			return fmt.Errorf("%s: %w: %w", where, err, ErrConfig)
		}
		if err := c.destinations(where, a.To); err != nil {
			return err
		}
	}
	names := map[string]bool{}
	for i := range c.Digests {
		d := &c.Digests[i]
		where := fmt.Sprintf("[[digest]] #%d", i+1)
		if d.Name != "" {
			where += fmt.Sprintf(" (%q)", d.Name)
		} else {
			d.Name = fmt.Sprintf("digest-%d", i+1)
		}
		if names[d.Name] {
			return fmt.Errorf("%s: another digest has the same name: %w", where, ErrConfig)
		}
		names[d.Name] = true
		if d.When, err = ParseSchedule(d.Schedule, loc); err != nil {
			return fmt.Errorf("%s: %w: %w", where, err, ErrConfig)
		}
		if d.Lang == "" {
			d.Lang = "en"
		}
		if d.Lang != "en" && d.Lang != "fr" {
			return fmt.Errorf("%s: lang = %q: want \"en\" or \"fr\": %w", where, d.Lang, ErrConfig)
		}
		if len(d.Hosts) > 1 && slices.Contains(d.Hosts, "all") {
			return fmt.Errorf("%s: hosts lists \"all\" beside names: %w", where, ErrConfig)
		}
		if slices.Contains(d.Hosts, "") {
			return fmt.Errorf("%s: hosts holds an empty name: %w", where, ErrConfig)
		}
		if err := c.destinations(where, d.To); err != nil {
			return err
		}
		if d.TopVMs == 0 {
			d.TopVMs = 5
		}
		if d.TopServices == 0 {
			d.TopServices = 5
		}
		if d.TopVMs < 0 || d.TopVMs > 50 || d.TopServices < 0 || d.TopServices > 50 {
			return fmt.Errorf("%s: top_vms and top_services go from 1 to 50: %w", where, ErrConfig)
		}
	}
	return nil
}
