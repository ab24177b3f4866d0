// Command powerinput is a Telegraf execd input: it writes power, CPU and
// network metrics as line protocol on stdout, one gather per line read on
// stdin (signal = "STDIN") or per poll interval.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/common/shim"

	"github.com/greencampus/powerinput/plugins/inputs/powerinput"
)

func main() {
	configFile := flag.String("config", "", "path to the plugin's configuration (sample.conf); none: defaults")
	pollInterval := flag.Duration("poll_interval", 10*time.Second, "how often to gather without a prompt on stdin")
	pollDisabled := flag.Bool("poll_interval_disabled", false, "gather only when prompted on stdin (use with execd's signal = \"STDIN\")")
	debug := flag.Bool("debug", false, "log debug messages")
	summary := flag.Bool("summary", false, "measure for a few seconds and print what this machine draws in everyday terms")
	seconds := flag.Duration("summary_duration", 3*time.Second, "how long -summary measures")
	lang := flag.String("lang", "en", "language of -summary: en or fr")
	doctor := flag.Bool("doctor", false, "say which power sources work here, and how to fix the others")
	flag.Parse()
	os.Exit(run(*configFile, *pollInterval, *pollDisabled, *debug, *summary, *seconds, *lang, *doctor))
}

func run(configFile string, poll time.Duration, pollDisabled, debug, summary bool, seconds time.Duration, lang string, doctor bool) int {
	p, err := powerinput.LoadConfig(configFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "E! %v\n", err)
		return 1
	}
	level := telegraf.Info
	switch {
	case debug:
		level = telegraf.Debug
	case doctor:
		level = telegraf.Error // the report itself says what does not work
	}
	p.Log = powerinput.NewLineLogger(os.Stderr, level)
	if err := p.Init(); err != nil {
		fmt.Fprintf(os.Stderr, "E! %v\n", err)
		return 1
	}
	switch {
	case doctor:
		return p.Doctor(os.Stdout)
	case summary:
		if err := p.Summary(os.Stdout, seconds, lang); err != nil {
			fmt.Fprintf(os.Stderr, "E! %v\n", err)
			return 1
		}
		return 0
	}
	if pollDisabled {
		poll = shim.PollIntervalDisabled
	}
	s := shim.New()
	// Set the input directly rather than through AddInput, which would
	// replace our line logger with the shim's (whose lines execd misreads).
	s.Input = p
	if err := s.Run(poll); err != nil {
		fmt.Fprintf(os.Stderr, "E! %v\n", err)
		return 1
	}
	return 0
}
