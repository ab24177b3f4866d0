package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/greencampus/powerinput/internal/greenbot/config"
	"github.com/greencampus/powerinput/internal/greenbot/message"
)

// printer prints every message on stdout, whatever its destinations: the
// bot's sender while no destination is configured.
type printer struct{ w io.Writer }

func (p printer) Send(_ context.Context, m message.Message, _ ...string) error {
	_, err := fmt.Fprintf(p.w, "Subject: %s\n\n%s\n", m.Subject, m.Text)
	return err
}

func senders(cfg *config.Config, stdout io.Writer, log *slog.Logger) (printer, error) {
	return printer{stdout}, nil
}

func (a *app) checkDestinations(ctx context.Context) error {
	fmt.Fprintln(a.stdout, "destinations: none configured; digests are printed on stdout")
	return nil
}
