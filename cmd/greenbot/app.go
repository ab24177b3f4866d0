package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/atomicfile"
	"github.com/greencampus/powerinput/internal/greenbot/bot"
	"github.com/greencampus/powerinput/internal/greenbot/config"
	"github.com/greencampus/powerinput/internal/greenbot/influx"
	"github.com/greencampus/powerinput/internal/greenbot/message"
)

type app struct {
	o      options
	cfg    *config.Config
	db     *influx.Client
	bot    *bot.Bot
	log    *slog.Logger
	stdout io.Writer
	lock   *atomicfile.Lock // the state directory's, while the app sends
}

func newApp(o options, stdout, stderr io.Writer) (*app, error) {
	switch o.format {
	case "text", "html", "markdown":
	default:
		return nil, fmt.Errorf("-format %q: want text, html or markdown", o.format)
	}
	cfg, err := config.Load(o.config)
	if err != nil {
		return nil, err
	}
	if o.digest != "" {
		var keep []config.Digest
		for _, d := range cfg.Digests {
			if d.Name == o.digest {
				keep = append(keep, d)
			}
		}
		if keep == nil {
			return nil, fmt.Errorf("-digest %q: no [[digest]] of that name in %s", o.digest, o.config)
		}
		cfg.Digests = keep
	}
	in := cfg.InfluxDB
	db, err := influx.New(in.URL, in.Username, in.Password)
	if err != nil {
		return nil, err
	}
	db.Timeout, db.Attempts = time.Duration(in.Timeout), in.Attempts
	log := slog.New(slog.NewTextHandler(stderr, nil))
	a := &app{o: o, cfg: cfg, db: db, log: log, stdout: stdout}
	a.bot = &bot.Bot{Cfg: cfg, DB: db, Log: log, Now: time.Now}
	if !o.preview && !o.check {
		if cfg.StateDir != "" {
			// The daemon and the timer's -once would each send what the
			// other already sent, and race on the alerts' state.
			if a.lock, err = atomicfile.TakeLock(cfg.StateDir, "greenbot.lock"); err != nil {
				if errors.Is(err, atomicfile.ErrLocked) {
					return nil, fmt.Errorf("another greenbot already sends from state_dir %s (%w); run either greenbot.service or greenbot.timer, not both", cfg.StateDir, err)
				}
				return nil, err
			}
		}
		// Only what sends makes the outbox (and its directory).
		out, err := sender(cfg, stdout, log)
		if err != nil {
			a.lock.Release()
			return nil, err
		}
		a.bot.Out = out
		if a.bot.Alerts, err = alertRunners(cfg, db, out, log); err != nil {
			a.lock.Release()
			return nil, err
		}
	}
	return a, nil
}

// preview makes each digest for its latest due time and prints it.
func (a *app) preview(ctx context.Context) error {
	now := time.Now()
	for _, d := range a.cfg.Digests {
		m, err := a.bot.Make(ctx, d, d.When.Last(now), false)
		if err != nil {
			return fmt.Errorf("digest %s: %w", d.Name, err)
		}
		switch a.o.format {
		case "html":
			fmt.Fprint(a.stdout, inlineImages(m))
		case "markdown":
			fmt.Fprintln(a.stdout, m.Markdown)
		default:
			fmt.Fprintf(a.stdout, "Subject: %s\n\n%s\n", m.Subject, m.Text)
		}
	}
	return nil
}

// inlineImages puts the pictures of m's HTML in the page itself (data:
// URIs), so that a browser shows it alone.
func inlineImages(m message.Message) string {
	h := m.HTML
	for _, img := range m.Images {
		h = strings.ReplaceAll(h, `"cid:`+img.CID+`"`, `"data:`+img.ContentType+`;base64,`+base64.StdEncoding.EncodeToString(img.Data)+`"`)
	}
	return h
}

// check asks InfluxDB which hosts it holds, then tries each destination.
func (a *app) check(ctx context.Context) error {
	if err := a.db.Ping(ctx); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "influxdb: %s answers\n", a.db.URL())
	q := fmt.Sprintf(`SHOW TAG VALUES FROM "power_host" WITH KEY = "host" WHERE time > now() - 1d`)
	series, err := a.db.Query(ctx, a.cfg.InfluxDB.Database, q)
	if err != nil {
		return err
	}
	var hosts []string
	for _, s := range series {
		for i := range s.Values {
			if v, ok := s.String(i, "value"); ok {
				hosts = append(hosts, v)
			}
		}
	}
	fmt.Fprintln(a.stdout, hostsWrote(hosts, a.cfg.InfluxDB.Database))
	return a.checkDestinations(ctx)
}

// hostsWrote is -check's line on the hosts that wrote in the last day.
func hostsWrote(hosts []string, db string) string {
	switch len(hosts) {
	case 0:
		return fmt.Sprintf("influxdb: no host wrote power_host in the last day in %s (powerinput -doctor on a machine says what it can measure)", db)
	case 1:
		return fmt.Sprintf("influxdb: 1 host wrote power_host in the last day in %s: %s", db, hosts[0])
	}
	return fmt.Sprintf("influxdb: %d hosts wrote power_host in the last day in %s: %s", len(hosts), db, strings.Join(hosts, ", "))
}
