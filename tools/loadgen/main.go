// Command loadgen writes the points of N simulated powerinput hosts into
// an InfluxDB 1.x server through its HTTP write API, in batches of 5,000
// points as Telegraf's outputs.influxdb sends them, with past timestamps:
// an hour of a thousand hosts, or a year of twenty, in minutes. Each host
// writes the series set of a powerinput host measured by RAPL (per-CPU cpu
// and the total, net, powerstat_package, power_host with CO2 and the
// default metaphors) and, by flag, its VMs, services and processes; the
// shape is that of a real run (testdata/real-gather.lp, checked by the
// tests). It measures how InfluxDB copes (docs/scale.md); its own cost is
// BenchmarkGather's.
//
//	go run ./tools/loadgen -url http://127.0.0.1:8086 -hosts 1000 -duration 1h
//	go run ./tools/loadgen -hosts 1000 -duration 1h -per-host -writers 8
//	go run ./tools/loadgen -hosts 20 -duration 8760h -interval 10s -vms 4 -services 10 -processes 10
//
// It prints the points written, the time taken and the rate.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"time"
)

func main() {
	var f Features
	u := flag.String("url", "http://127.0.0.1:8086", "InfluxDB's HTTP address")
	db := flag.String("db", "metrics_from_pau", "database")
	rp := flag.String("rp", "forever", "retention policy")
	hosts := flag.Int("hosts", 10, "simulated hosts")
	prefix := flag.String("prefix", "sim", "host names: PREFIX-0, PREFIX-1, …")
	interval := flag.Duration("interval", 10*time.Second, "each host's gather interval (Telegraf's agent interval)")
	duration := flag.Duration("duration", time.Hour, "how much time the points span")
	end := flag.String("end", "", "the time of the last gather, RFC 3339 (default: now)")
	flag.IntVar(&f.CPUs, "cpus", 16, "CPUs per host (one cpu series each, plus cpu-total)")
	flag.IntVar(&f.Interfaces, "interfaces", 1, "network interfaces per host")
	flag.IntVar(&f.Packages, "packages", 2, "CPU packages per host")
	flag.IntVar(&f.VMs, "vms", 0, "VMs per host (power_vm; 0: off)")
	flag.IntVar(&f.Services, "services", 0, "named services per host (power_service; 0: off)")
	flag.IntVar(&f.Processes, "processes", 0, "named programs per host (power_process; 0: off)")
	flag.BoolVar(&f.Rollup, "rollup", false, "write what the rollups hold (power_* with power_watts_max, no cpu, net, powerstat_package): use with -rp rollup_5m -interval 5m or -rp rollup_1h -interval 1h")
	batch := flag.Int("batch", 5000, "points per write request (Telegraf's metric_batch_size)")
	perHost := flag.Bool("per-host", false, "one write request per host and gather, as each host's Telegraf flushes its own points (flush_interval = interval); -batch is then ignored")
	writers := flag.Int("writers", 4, "write requests in flight at once")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()

	last := time.Now()
	if *end != "" {
		var err error
		if last, err = time.Parse(time.RFC3339, *end); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: -end: %v\n", err)
			os.Exit(2)
		}
	}
	if *hosts < 1 || *interval <= 0 || *batch < 1 || *writers < 1 || *duration < 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -hosts, -interval, -batch and -writers must be positive, -duration not negative")
		os.Exit(2)
	}
	w := &writer{url: fmt.Sprintf("%s/write?db=%s&rp=%s&precision=ns", *u, url.QueryEscape(*db), url.QueryEscape(*rp)), client: &http.Client{Timeout: time.Minute}}
	g := NewGenerator(*hosts, *prefix, f, *interval, *seed)
	began := time.Now()
	if *perHost {
		*batch = 1
	}
	// Interrupted (Ctrl-C, timeout -s INT), it stops generating, lets the
	// requests under way finish and reports what was written.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	points, err := run(ctx, g, last.Add(-*duration), last, *interval, *batch, *writers, w.post)
	took := time.Since(began)
	fmt.Printf("%d hosts × %d points per gather, %s every %s: %d points in %s, %.0f points/s\n",
		*hosts, f.PointsPerGather(), *duration, *interval, points, took.Round(time.Millisecond), float64(points)/took.Seconds())
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(1)
	}
}

// run generates every host's gathers from start to end, time after time
// (as a campus writes them), in batches of batch points handed to post by
// writers goroutines. A gather is never split: a batch of 1 is one request
// per host and gather, what each host's own Telegraf sends. It returns the
// points written; the first error, or ctx's end, stops it.
func run(ctx context.Context, g *Generator, start, end time.Time, interval time.Duration, batch, writers int, post func([]byte) error) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []byte, writers)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if err := post(b); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
	points, lines := 0, 0
	per := g.f.PointsPerGather()
	var buf []byte
	send := func() bool {
		select {
		case batches <- buf:
		case <-ctx.Done():
			return false
		}
		points += lines
		buf, lines = nil, 0
		return true
	}
	// Hosts do not gather in step: each is offset within the interval.
	stagger := interval / time.Duration(g.Hosts())
loop:
	for at := start; !at.After(end); at = at.Add(interval) {
		for h := range g.Hosts() {
			if buf == nil {
				buf = make([]byte, 0, batch*400)
			}
			buf = g.AppendGather(buf, h, at.Add(-time.Duration(h)*stagger))
			lines += per
			if lines >= batch && !send() {
				break loop
			}
		}
	}
	if lines > 0 && ctx.Err() == nil {
		send()
	}
	close(batches)
	wg.Wait()
	return points, first
}

type writer struct {
	url    string
	client *http.Client
}

// post sends one batch, again after 1, 2, 4 … s while the server is away
// or answers 5xx (a write timeout under load), as Telegraf keeps a batch in
// its buffer until the next flush: up to 6 tries.
func (w *writer) post(b []byte) error {
	var err error
	for try := range 6 {
		if try > 0 {
			time.Sleep(time.Second << (try - 1))
		}
		var retry bool
		if retry, err = w.send(b); !retry {
			return err
		}
	}
	return err
}

// send sends one batch once; InfluxDB answers 204 when every point is
// stored. It says whether to try again.
func (w *writer) send(b []byte) (bool, error) {
	resp, err := w.client.Post(w.url, "text/plain; charset=utf-8", bytes.NewReader(b))
	if err != nil {
		return true, fmt.Errorf("write: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		return resp.StatusCode >= 500, errors.New("write: InfluxDB answered " + resp.Status)
	}
	return false, nil
}
