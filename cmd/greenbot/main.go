// Command greenbot is the Green Campus Bot: it reads powerinput's
// measurements from InfluxDB and sends digests in everyday terms, in
// English or French, by mail, Matrix, chat webhooks or to stdout.
//
//	greenbot -config greenbot.toml            daemon: each digest when due
//	greenbot -config greenbot.toml -once      the digests due and not yet sent
//	greenbot -config greenbot.toml -preview   each digest, now, on stdout
//	greenbot -config greenbot.toml -check     InfluxDB, its hosts, each destination
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

type options struct {
	config  string
	once    bool
	preview bool
	format  string
	digest  string
	check   bool
	version bool
}

func main() {
	var o options
	flag.StringVar(&o.config, "config", "/etc/greenbot/greenbot.toml", "path to the bot's TOML configuration")
	flag.BoolVar(&o.once, "once", false, "send the digests that are due and not sent yet, then exit (for a systemd timer)")
	flag.BoolVar(&o.preview, "preview", false, "make each digest for its latest period and print it on stdout; send nothing")
	flag.StringVar(&o.format, "format", "text", "what -preview prints: text, html (the chart inlined) or markdown")
	flag.StringVar(&o.digest, "digest", "", "with -preview or -once: only the digest of this name")
	flag.BoolVar(&o.check, "check", false, "query InfluxDB, list the hosts it holds, and send a test message to each destination")
	flag.BoolVar(&o.version, "version", false, "print which build this is and exit")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, o, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) int {
	if o.version {
		fmt.Fprintln(stdout, version())
		return 0
	}
	a, err := newApp(o, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "greenbot: %v\n", err)
		return 2
	}
	defer a.lock.Release()
	switch {
	case o.check:
		err = a.check(ctx)
	case o.preview:
		err = a.preview(ctx)
	case o.once:
		err = a.bot.Once(ctx)
	default:
		a.log.Info("greenbot started", "version", version(), "digests", len(a.cfg.Digests))
		err = a.bot.Run(ctx)
	}
	if err != nil {
		fmt.Fprintf(stderr, "greenbot: %v\n", err)
		return 1
	}
	return 0
}
