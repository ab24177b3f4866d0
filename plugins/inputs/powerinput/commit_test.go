package powerinput

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/internal/guestcounter"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/plugins/common/gatherloop"
)

// counterValue is a guest counter as its guest reads it: 0 before the
// host made it.
func counterValue(t testing.TB, dir, domain string) energy.Energy {
	t.Helper()
	b, err := os.ReadFile(guestcounter.Path(dir, domain))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatalf("guest counter of %s: %v", domain, err)
	}
	v, err := kfile.ParseUint([]byte(strings.TrimSpace(string(b))))
	if err != nil {
		t.Fatalf("guest counter of %s: %v", domain, err)
	}
	return energy.Energy(v)
}

// microjoules turns a written energy_joules back into the µJ it was
// written from (floats carry the exact µJ of any realistic counter).
func microjoules(j float64) energy.Energy { return energy.Energy(math.Round(j * 1e6)) }

// vmEnergy adds up the written power_vm rows' energy by domain, in µJ.
func vmEnergy(t testing.TB, written []byte, into map[string]energy.Energy) {
	t.Helper()
	pts, err := fixtures.ParsePoints(written)
	if err != nil {
		t.Fatalf("parsing what was written: %v", err)
	}
	for _, p := range pts {
		if p.Name == measurementVMs {
			into[p.Tags["domain"]] += microjoules(p.Fields[fieldEnergy])
		}
	}
}

// hooked runs hook(i) before the i-th collector of a gather: a place to
// stop the process at.
type hooked struct {
	collector
	i    int
	hook func(i int)
}

func (h hooked) gather(acc telegraf.Accumulator, t *tick) {
	h.hook(h.i)
	h.collector.gather(acc, t)
}

// watched is the plugin as the loop sees it, saying when its Start and
// each Gather have returned and counting commits.
type watched struct {
	*PowerInput
	started  chan struct{}
	gathered chan struct{}
	mu       sync.Mutex
	commits  int
}

func (w *watched) Start(acc telegraf.Accumulator) error {
	defer close(w.started)
	return w.PowerInput.Start(acc)
}

func (w *watched) Gather(acc telegraf.Accumulator) error {
	defer func() { w.gathered <- struct{}{} }()
	return w.PowerInput.Gather(acc)
}

func (w *watched) Committed() {
	w.PowerInput.Committed()
	w.mu.Lock()
	w.commits++
	w.mu.Unlock()
}

// stdout is the loop's stdout: it keeps what was written and, at the
// gather the test stops, does what the stop point says.
type stdout struct {
	mu      sync.Mutex
	text    []byte
	writes  int
	onWrite func() error // nil: write
}

func (s *stdout) Write(b []byte) (int, error) {
	s.mu.Lock()
	on := s.onWrite
	s.mu.Unlock()
	if on != nil {
		if err := on(); err != nil {
			return 0, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.text = append(s.text, b...)
	s.writes++
	return len(b), nil
}

// A stop point: where in a gather the process is told to stop, and what
// the step does then.
type stopPoint struct {
	name      string
	collector int  // stop while this collector runs (-1: elsewhere)
	hang      bool // the step outlasts the grace: the loop leaves without it
	write     string
	commit    bool // the guests' counters' write outlasts the grace
	written   bool // the gather's points go out
}

const (
	writeOK      = "ok"       // the stop comes during a write that goes out
	writeBlocked = "blocked"  // the write outlasts the grace, then fails
	writeBroken  = "broken"   // Telegraf has closed the pipe: EPIPE
	beforePrompt = "prompted" // the stop comes before the gather's prompt
)

// The README's promise, at every step of a gather: whatever step a stop
// (SIGTERM, stdin's end, a broken pipe) comes at, each guest's counter has
// advanced by exactly the energy of its VM's power_vm rows that were
// written, to the µJ. The plugin runs under powerinput's own loop on
// vms-start-stop's tree (with net, so that a collector runs after the
// VMs'); the stop comes at its second or fourth gather.
func TestStopAtEveryStepKeepsCountersWithWrittenRows(t *testing.T) {
	const grace = 60 * time.Millisecond
	names := []string{"cpu", "power", "vms", "net"}
	var points []stopPoint
	points = append(points, stopPoint{name: "before the prompt", collector: -1, write: beforePrompt})
	for i, n := range names {
		points = append(points,
			stopPoint{name: "during " + n, collector: i, write: writeOK, written: true},
			stopPoint{name: "during " + n + ", past the grace", collector: i, hang: true})
	}
	points = append(points,
		stopPoint{name: "during the write", collector: -1, write: writeOK, written: true},
		stopPoint{name: "during a write past the grace, that fails", collector: -1, write: writeBlocked},
		stopPoint{name: "at a broken pipe", collector: -1, write: writeBroken},
		stopPoint{name: "during the counters' write, past the grace", collector: -1, write: writeOK, commit: true, written: true},
	)
	for _, at := range []int{2, 4} {
		for _, sp := range points {
			t.Run(fmt.Sprintf("gather %d %s", at, sp.name), func(t *testing.T) {
				stopAt(t, at, sp, grace)
			})
		}
	}
}

func stopAt(t *testing.T, at int, sp stopPoint, grace time.Duration) {
	s := loadScenario(t, filepath.Join("testdata", "scenarios", "vms-start-stop.txtar"))
	defer func() {
		if t.Failed() {
			t.Logf("log:\n%s", s.log)
		}
	}()
	s.plugin.Net = true
	s.start(t)
	p := s.plugin
	if len(p.collectors) != 4 {
		t.Fatalf("%d collectors, want cpu, power, vms, net", len(p.collectors))
	}
	// The stop for this gather, armed before its prompt.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	var released sync.Once
	free := func() { released.Do(func() { close(release) }) }
	defer free()
	armed := false
	var mu sync.Mutex
	isArmed := func() bool { mu.Lock(); defer mu.Unlock(); return armed }
	stop := func() {
		cancel()
		if sp.hang {
			<-release
		}
	}
	for i, c := range p.collectors {
		p.collectors[i] = hooked{c, i, func(i int) {
			if isArmed() && i == sp.collector {
				stop()
			}
		}}
	}
	out := &stdout{}
	apply := p.vms.apply
	p.vms.apply = func() {
		if isArmed() && sp.commit {
			cancel()
			time.Sleep(grace * 3 / 2)
		}
		apply()
	}
	in := &watched{PowerInput: p, started: make(chan struct{}), gathered: make(chan struct{}, 1)}
	prompts := make(chan struct{})
	done := make(chan error, 1)
	s.clock.now = s.clock.now.Add(10 * time.Second)
	go func() {
		done <- gatherloop.Run(ctx, gatherloop.Config{Input: in, Stdin: blockingReader{}, Stdout: out, Log: p.Log, Prompts: prompts, Grace: grace})
	}()
	<-in.started
	chunks := strings.Split(s.steps, "gather\n")[1:] // the first is the start
	var runErr error
	ended := false
	for g := 1; g <= at; g++ {
		s.steps = chunks[g-1]
		s.run(t)
		s.clock.now = s.clock.now.Add(10 * time.Second)
		if g < at {
			prompts <- struct{}{}
			<-in.gathered
			continue
		}
		mu.Lock()
		armed = true
		mu.Unlock()
		switch sp.write {
		case beforePrompt:
			cancel()
		case writeBlocked:
			out.onWrite = func() error { cancel(); <-release; return &os.PathError{Op: "write", Path: "|1", Err: syscall.EPIPE} }
		case writeBroken:
			out.onWrite = func() error { return &os.PathError{Op: "write", Path: "|1", Err: syscall.EPIPE} }
		case writeOK:
			if sp.collector < 0 && !sp.commit {
				out.onWrite = func() error { cancel(); return nil }
			}
		}
		if sp.write != beforePrompt {
			prompts <- struct{}{}
		}
	}
	select {
	case runErr = <-done:
		ended = true
	case <-time.After(10 * time.Second):
		t.Fatal("the loop did not end after the stop")
	}
	free()
	if ended && sp.write != beforePrompt {
		select {
		case <-in.gathered:
		case <-time.After(5 * time.Second):
			t.Fatal("the stopped gather never returned")
		}
	}
	// Whatever the loop does after a gather (a write, its commit) is over
	// when the guard of the counters is idle and as many gathers were
	// committed as written.
	for deadline := time.Now().Add(5 * time.Second); ; {
		out.mu.Lock()
		writes := out.writes
		out.mu.Unlock()
		in.mu.Lock()
		commits := in.commits
		in.mu.Unlock()
		if writes == commits && !p.vms.wg.Busy() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d gathers written, %d committed", writes, commits)
		}
		time.Sleep(time.Millisecond)
	}
	if sp.write == writeBroken {
		if runErr == nil || !strings.Contains(runErr.Error(), "closed the pipe") {
			t.Errorf("Run: %v, want the broken pipe said", runErr)
		}
	} else if runErr != nil {
		t.Errorf("Run: %v", runErr)
	}

	written := map[string]energy.Energy{}
	vmEnergy(t, out.text, written)
	if want := at - 1; sp.written {
		want = at
		if out.writes != want {
			t.Errorf("%d gathers written, want %d (the stopped one too)", out.writes, want)
		}
	} else if out.writes != want {
		t.Errorf("%d gathers written, want %d (not the stopped one)", out.writes, want)
	}
	dir := filepath.Join(s.root, "counters")
	for _, d := range []string{"a", "b", "c"} {
		if got, want := counterValue(t, dir, d), written[d]; got != want {
			t.Errorf("VM %s: its guest's counter advanced by %d µJ, the written power_vm rows carry %d µJ", d, got, want)
		}
	}
}

// blockingReader is a stdin that never gives a line nor ends: the test
// prompts through the loop's Prompts.
type blockingReader struct{}

func (blockingReader) Read([]byte) (int, error) { select {} }
