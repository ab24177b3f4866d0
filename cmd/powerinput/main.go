// Command powerinput is a Telegraf execd input: it writes power, CPU and
// network metrics as line protocol on stdout, one gather per line read on
// stdin (signal = "STDIN"), per signal, or per poll interval.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/plugins/common/gatherloop"
	"github.com/greencampus/powerinput/plugins/inputs/powerinput"
)

// powerinput's own loop starts the plugin and waits out its first interval,
// and commits a gather (the guests' counters) once its points are written.
var (
	_ gatherloop.Readier   = (*powerinput.PowerInput)(nil)
	_ gatherloop.Committer = (*powerinput.PowerInput)(nil)
)

// options are the command line.
type options struct {
	config       string
	poll         time.Duration
	pollDisabled bool
	debug        bool
	summary      bool
	summaryFor   time.Duration
	lang         string
	doctor       bool
	version      bool
}

// exitConfig is the exit status when the command line or the configuration
// is wrong (an unknown option, a missing or unreadable config file, a value
// Init refuses): distinct from -doctor's 0, 1 and 2 (measured, estimate
// only, nothing works), so `make run` and scripts do not read a typo as
// "only the estimate works here".
const exitConfig = 3

func main() {
	o, err := parseOptions(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		os.Exit(exitConfig) // the flag package has said what was wrong
	}
	code := run(o, os.Stdin, os.Stdout, os.Stderr)
	if !o.version && !o.doctor && !o.summary {
		settle(os.Stdout, os.Stderr)
	}
	os.Exit(code)
}

// parseOptions reads the command line; errors (printed to stderr with the
// usage) are flag.ErrHelp for -h or an unknown or malformed option.
func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("powerinput", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "path to the plugin's configuration (sample.conf); none: defaults")
	fs.DurationVar(&o.poll, "poll_interval", 10*time.Second, "how often to gather without a prompt on stdin")
	fs.BoolVar(&o.pollDisabled, "poll_interval_disabled", false, "gather only when prompted on stdin or by a signal (use with execd's signal = \"STDIN\")")
	fs.BoolVar(&o.debug, "debug", false, "log debug messages")
	fs.BoolVar(&o.summary, "summary", false, "measure for a few seconds and print what this machine draws in everyday terms")
	fs.DurationVar(&o.summaryFor, "summary_duration", 3*time.Second, "how long -summary measures")
	fs.StringVar(&o.lang, "lang", "en", "language of -summary: en or fr")
	fs.BoolVar(&o.doctor, "doctor", false, "say which power sources work here, and how to fix the others")
	fs.BoolVar(&o.version, "version", false, "print which build this is (module version, VCS revision) and exit")
	return o, fs.Parse(args)
}

// settleTime is how long an ending process waits after closing its output.
const settleTime = 100 * time.Millisecond

// settle closes stdout and stderr, then waits a moment before the process
// exits. Telegraf's execd reads both pipes in goroutines of its own and
// closes its ends as soon as the process has exited: a read still under
// way then fails ("read |0: file already closed"), an error of the plugin
// that makes `telegraf --test` exit with status 1. Closed first, the pipes
// give those reads their end of file while the process still runs.
func settle(out ...*os.File) {
	for _, f := range out {
		f.Close()
	}
	time.Sleep(settleTime)
}

func run(o options, stdin io.Reader, stdout, stderr io.Writer) int {
	failWith := func(code int, err error) int {
		fmt.Fprintf(stderr, "E! %v\n", err)
		return code
	}
	fail := func(err error) int { return failWith(1, err) }
	misconfigured := func(err error) int { return failWith(exitConfig, err) }
	if o.version {
		fmt.Fprintln(stdout, version())
		return 0
	}
	if !o.pollDisabled && o.poll <= 0 {
		return misconfigured(fmt.Errorf("-poll_interval %s: want a positive duration, or -poll_interval_disabled", o.poll))
	}
	level := telegraf.Info
	switch {
	case o.debug:
		level = telegraf.Debug
	case o.doctor, o.summary:
		// The report itself says what does not work, in the reader's
		// language; English W! lines before a French summary do not.
		level = telegraf.Error
	}
	log := powerinput.NewLineLogger(stderr, level)
	if !o.doctor && !o.summary {
		// Under Telegraf: its log says which build runs.
		log.Info(version())
	}
	p, err := powerinput.LoadConfig(o.config)
	if err != nil {
		return misconfigured(err)
	}
	p.Log = log
	if err := p.Init(); errors.Is(err, powerinput.ErrConfig) {
		return misconfigured(err)
	} else if err != nil {
		return fail(err)
	}
	switch {
	case o.doctor:
		return p.Doctor(stdout)
	case o.summary:
		if err := p.Summary(stdout, o.summaryFor, o.lang); err != nil {
			return fail(err)
		}
		return 0
	}
	poll := o.poll
	if o.pollDisabled {
		poll = 0
	}
	err = gatherloop.Run(context.Background(), gatherloop.Config{
		Input: p, Stdin: stdin, Stdout: stdout, Log: p.Log, PollInterval: poll,
	})
	if err != nil {
		return fail(err)
	}
	return 0
}
