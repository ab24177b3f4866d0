package gatherloop

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/metric"
	"github.com/influxdata/telegraf/plugins/parsers/influx"
	influxser "github.com/influxdata/telegraf/plugins/serializers/influx"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"
)

// input adds three points per gather, or blocks while hang is set.
type input struct {
	mu   sync.Mutex
	n    int
	hang chan struct{}
}

func (*input) SampleConfig() string { return "" }

func (in *input) Gather(acc telegraf.Accumulator) error {
	if in.hang != nil {
		<-in.hang
	}
	in.mu.Lock()
	in.n++
	n := in.n
	in.mu.Unlock()
	ts := time.Unix(1_700_000_000, int64(n))
	acc.AddGauge("power_host", map[string]any{"power_watts": 84.5, "energy_joules": float64(n)}, map[string]string{"source": "rapl"}, ts)
	acc.AddCounter("net", map[string]any{"bytes_recv": uint64(math.MaxUint64), "speed": int64(-1)}, map[string]string{"interface": `we,ird"=x`}, ts)
	acc.AddGauge("cpu", map[string]any{"usage_idle": math.NaN(), "usage_user": 1.5}, map[string]string{"cpu": "cpu-total"}, ts)
	return nil
}

// writes counts Write calls.
type writes struct {
	mu    sync.Mutex
	calls int
	buf   bytes.Buffer
}

func (w *writes) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	return w.buf.Write(b)
}

func (w *writes) snapshot() (int, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls, w.buf.String()
}

// One gather per line on stdin, each gather one write, and the points as
// Telegraf's own serializer writes them (compared by meaning).
// stdins are the two ways a loop reads its prompts: an *os.File pipe,
// as execd's stdin, waited for in the runtime's poller; any other reader,
// in a goroutine of its own.
var stdins = []struct {
	name string
	make func(t *testing.T) (io.Reader, io.WriteCloser)
}{
	{"os.Pipe", func(t *testing.T) (io.Reader, io.WriteCloser) {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		t.Cleanup(func() { r.Close(); w.Close() })
		return r, w
	}},
	{"io.Pipe", func(*testing.T) (io.Reader, io.WriteCloser) { return io.Pipe() }},
}

func TestOneWritePerGatherAsTelegrafWritesIt(t *testing.T) {
	for _, stdin := range stdins {
		t.Run(stdin.name, func(t *testing.T) { oneWritePerGather(t, stdin.make) })
	}
}

func oneWritePerGather(t *testing.T, stdin func(*testing.T) (io.Reader, io.WriteCloser)) {
	stdinR, stdinW := stdin(t)
	out := &writes{}
	in := &input{}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Config{Input: in, Stdin: stdinR, Stdout: out, Log: testutil.Logger{}})
	}()
	for i := 0; i < 3; i++ {
		io.WriteString(stdinW, "\n")
		require.Eventually(t, func() bool { c, _ := out.snapshot(); return c == i+1 }, 5*time.Second, time.Millisecond)
	}
	stdinW.Close()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end when stdin closed")
	}
	calls, text := out.snapshot()
	require.Equal(t, 3, calls, "one write per gather")

	// What the execd shim would have written for the same gathers.
	var acc testutil.Accumulator
	ref := &input{}
	for i := 0; i < 3; i++ {
		require.NoError(t, ref.Gather(&acc))
	}
	ser := &influxser.Serializer{}
	require.NoError(t, ser.Init())
	var want []byte
	for _, m := range acc.GetTelegrafMetrics() {
		m := metric.New(m.Name(), m.Tags(), m.Fields(), m.Time())
		b, err := ser.Serialize(m)
		require.NoError(t, err)
		want = append(want, b...)
	}
	parser := &influx.Parser{}
	require.NoError(t, parser.Init())
	got, err := parser.Parse([]byte(text))
	require.NoError(t, err)
	wantM, err := parser.Parse(want)
	require.NoError(t, err)
	testutil.RequireMetricsEqual(t, wantM, got, testutil.SortMetrics())
	require.Len(t, got, 9)
}

// A gather that never returns does not keep the process: stdin closing
// ends Run within its grace.
func TestEndsWhileAGatherHangs(t *testing.T) {
	for _, stdin := range stdins {
		t.Run(stdin.name, func(t *testing.T) { endsWhileAGatherHangs(t, stdin.make) })
	}
}

func endsWhileAGatherHangs(t *testing.T, stdin func(*testing.T) (io.Reader, io.WriteCloser)) {
	stdinR, stdinW := stdin(t)
	in := &input{hang: make(chan struct{})}
	defer close(in.hang)
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Config{Input: in, Stdin: stdinR, Stdout: io.Discard, Log: testutil.Logger{Quiet: true}, Grace: 100 * time.Millisecond})
	}()
	io.WriteString(stdinW, "\n")
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	stdinW.Close()
	select {
	case <-done:
		require.Less(t, time.Since(start), time.Second)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end while a gather hung")
	}
}

// A point whose tag cannot be line protocol is left out, the others go.
func TestInvalidPointIsLeftOut(t *testing.T) {
	a := NewAccumulator()
	a.AddGauge("net", map[string]any{"x": 1.0}, map[string]string{"interface": `e\`}, time.Unix(1, 0))
	a.AddGauge("net", map[string]any{"x": 2.0}, map[string]string{"interface": "e"}, time.Unix(1, 0))
	a.AddGauge("cpu", map[string]any{"x": math.Inf(1)}, nil, time.Unix(1, 0))
	require.Equal(t, "net,interface=e x=2 1000000000\n", string(a.Bytes()))
	require.Len(t, a.Dropped(), 2)
	require.True(t, strings.Contains(a.Dropped()[0].Error(), "invalid tag value"))
}

func BenchmarkAccumulator(b *testing.B) {
	a := NewAccumulator()
	fields := map[string]any{"power_watts": 84.5, "energy_joules": 845.0, "interval_seconds": 10.0, "led_bulbs": 9.4}
	tags := map[string]string{"source": "rapl", "package_id": "0"}
	ts := time.Unix(1_700_000_000, 0)
	b.ReportAllocs()
	for b.Loop() {
		a.Reset()
		for i := 0; i < 10; i++ {
			a.AddGauge("power_host", fields, tags, ts)
		}
	}
}

// A pipe is waited for in the poller; a reader that is no file, or a
// regular file, in a goroutine of its own.
func TestPromptsByKind(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	file, err := os.Open(os.Args[0])
	require.NoError(t, err)
	defer file.Close()
	for _, tc := range []struct {
		name   string
		stdin  io.Reader
		polled bool
	}{
		{"pipe", r, true},
		{"regular file", file, false},
		{"reader", strings.NewReader(""), false},
	} {
		_, polled := newPrompts(tc.stdin).(*fdPrompts)
		require.Equal(t, tc.polled, polled, tc.name)
	}
}
