package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/config"
	"github.com/greencampus/powerinput/internal/greenbot/deliver"
	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// printer prints every message on stdout: the bot's sender when no
// destination is configured.
type printer struct{ w io.Writer }

func (p printer) Send(_ context.Context, m message.Message, _ ...string) error {
	_, err := fmt.Fprintf(p.w, "Subject: %s\n\n%s\n", m.Subject, m.Text)
	return err
}

// Enqueue prints m (an alert's message) at once.
func (p printer) Enqueue(m message.Message, to ...string) error {
	return p.Send(context.Background(), m, to...)
}

// outbox is what the bot and the alerts send through.
type outbox interface {
	Send(context.Context, message.Message, ...string) error
	Enqueue(message.Message, ...string) error
}

// destinations makes a sender per configured destination.
func destinations(cfg *config.Config, stdout io.Writer) (map[string]deliver.Sender, error) {
	out := map[string]deliver.Sender{}
	for name, d := range cfg.Destinations {
		s, err := d.Sender(stdout)
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", name, err)
		}
		out[name] = s
	}
	return out, nil
}

// sender is the outbox over the configured destinations, or the printer
// where there are none.
func sender(cfg *config.Config, stdout io.Writer, log *slog.Logger) (outbox, error) {
	if len(cfg.Destinations) == 0 {
		return printer{stdout}, nil
	}
	dests, err := destinations(cfg, stdout)
	if err != nil {
		return nil, err
	}
	return deliver.NewOutbox(cfg.Outbox, dests, log)
}

// checkDestinations sends a short test message to each destination,
// directly (not kept in the outbox), and says how each went.
func (a *app) checkDestinations(ctx context.Context) error {
	if len(a.cfg.Destinations) == 0 {
		fmt.Fprintln(a.stdout, "destinations: none configured; digests are printed on stdout")
		return nil
	}
	dests, err := destinations(a.cfg, a.stdout)
	if err != nil {
		return err
	}
	now := time.Now()
	m := message.Message{
		ID: "check-" + now.UTC().Format("20060102T150405Z"), Kind: message.Digest, Lang: "en",
		Subject:  "Green Campus Bot: test message",
		Text:     "This is a test from greenbot -check: this destination works. / Ceci est un essai de greenbot -check : cette destination fonctionne.",
		HTML:     "<p>This is a test from <code>greenbot -check</code>: this destination works.</p><p>Ceci est un essai de <code>greenbot -check</code>&#8239;: cette destination fonctionne.</p>",
		Markdown: "This is a test from `greenbot -check`: this destination works.\nCeci est un essai de `greenbot -check` : cette destination fonctionne.",
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(dests)) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := dests[name].Send(ctx, m)
		cancel()
		if err != nil {
			fmt.Fprintf(a.stdout, "destination %s: FAILED: %v\n", name, err)
			errs = append(errs, fmt.Errorf("destination %s: %w", name, err))
			continue
		}
		fmt.Fprintf(a.stdout, "destination %s: test message sent\n", name)
	}
	return errors.Join(errs...)
}
