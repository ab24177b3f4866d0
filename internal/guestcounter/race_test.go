package guestcounter

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
)

// hammerFor is how long each writer/reader run lasts; POWERINPUT_HAMMER
// (a duration) makes it longer, for figures.
func hammerFor() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("POWERINPUT_HAMMER")); err == nil {
		return d
	}
	return 700 * time.Millisecond
}

// readStyle is one way a guest reads the counter.
type readStyle struct {
	name string
	// open returns a function that reads the whole file once.
	open func(path string) (read func(b []byte) (int, error), close func())
}

var styles = []readStyle{
	{"kept fd, pread at 0", func(path string) (func([]byte) (int, error), func()) {
		f, err := os.Open(path)
		if err != nil {
			panic(err)
		}
		return func(b []byte) (int, error) { return f.ReadAt(b, 0) }, func() { f.Close() }
	}},
	{"open, read, close each time", func(path string) (func([]byte) (int, error), func()) {
		return func(b []byte) (int, error) {
			f, err := os.Open(path)
			if err != nil {
				return 0, err
			}
			defer f.Close()
			return f.Read(b)
		}, func() {}
	}},
	{"os.ReadFile (stat, then read to EOF)", func(path string) (func([]byte) (int, error), func()) {
		return func(b []byte) (int, error) {
			c, err := os.ReadFile(path)
			return copy(b, c), err
		}, func() {}
	}},
}

// result of one reader.
type result struct {
	reads, torn, backwards, ahead int
	example                       string
}

// check reads path with style until stop, checking every value: exactly
// Width+1 bytes, digits then spaces then a newline, never below the one
// read before, never above what the writer had announced (upper).
func check(path string, style readStyle, upper *atomic.Uint64, stop <-chan struct{}) result {
	read, closeFn := style.open(path)
	defer closeFn()
	var r result
	var last uint64
	b := make([]byte, 64)
	for {
		select {
		case <-stop:
			return r
		default:
		}
		n, err := read(b)
		hi := upper.Load()
		r.reads++
		if err != nil && n == 0 {
			r.torn++
			r.example = err.Error()
			continue
		}
		v, ok := parseExact(b[:n])
		switch {
		case !ok:
			r.torn++
			r.example = fmt.Sprintf("%q", b[:n])
		case v < last:
			r.backwards++
			r.example = fmt.Sprintf("%d after %d", v, last)
		case v > hi:
			r.ahead++
			r.example = fmt.Sprintf("%d above the %d written", v, hi)
		default:
			last = v
		}
	}
}

func parseExact(b []byte) (uint64, bool) {
	if len(b) != Width+1 || b[Width] != '\n' {
		return 0, false
	}
	digits := bytes.TrimRight(b[:Width], " ")
	if len(digits) == 0 || bytes.IndexByte(digits, ' ') >= 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(digits), 10, 64)
	return v, err == nil
}

// hammer writes the counter as fast as it can, each add a different size
// so that digits carry, announcing each value in upper before writing it.
func hammer(w *Writer, upper *atomic.Uint64, stop <-chan struct{}) (writes int) {
	v, _ := w.Value("vm")
	batch := []Add{{"vm", 0}}
	for i := 1; ; i++ {
		select {
		case <-stop:
			return writes
		default:
		}
		add := energy.Energy(1 + (i*7919)%99991)
		upper.Store(uint64(v + add))
		batch[0].Energy = add
		if f := w.Apply(batch); len(f) > 0 {
			panic(f[0].Err)
		}
		v += add
		writes++
	}
}

// TestNoTornValues: a writer rewriting the counter as fast as it can (in
// this process, and in another process) and three readers, one for each
// read style, at once, on every file system at hand (tmpfs, and the one of
// the test's temporary folder). No reader may ever see a value that is
// malformed, lower than the one before, or not yet written.
func TestNoTornValues(t *testing.T) {
	dirs := map[string]string{"temp dir": t.TempDir()}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		shm, err := os.MkdirTemp("/dev/shm", "powerinput-test-")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(shm) })
			dirs["tmpfs (/dev/shm)"] = shm
		}
	}
	for fsName, dir := range dirs {
		for _, writer := range []string{"goroutine", "process"} {
			t.Run(fsName+", writer "+writer, func(t *testing.T) {
				w := New(dir)
				defer w.Close()
				if f := w.Apply([]Add{{"vm", 1}}); len(f) > 0 {
					t.Fatal(f[0].Err)
				}
				path := Path(dir, "vm")
				var upper atomic.Uint64
				v, _ := w.Value("vm") // the file's value went on from the run before
				upper.Store(uint64(v))
				stop := make(chan struct{})
				var wg sync.WaitGroup
				results := make([]result, len(styles))
				for i, s := range styles {
					wg.Add(1)
					go func() { defer wg.Done(); results[i] = check(path, s, &upper, stop) }()
				}
				writes := 0
				if writer == "goroutine" {
					done := make(chan int)
					go func() { done <- hammer(w, &upper, stop) }()
					time.Sleep(hammerFor())
					close(stop)
					writes = <-done
				} else {
					// The child writes; it cannot announce its values, so the
					// readers' upper bound is the largest value possible.
					upper.Store(uint64(Wrap))
					w.Close()
					cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
					cmd.Env = append(os.Environ(), "POWERINPUT_WRITER_DIR="+dir, "POWERINPUT_WRITER_FOR="+hammerFor().String())
					out, err := cmd.CombinedOutput()
					close(stop)
					if err != nil {
						t.Fatalf("writer process: %v\n%s", err, out)
					}
					fmt.Sscanf(string(bytes.TrimSpace(out[bytes.LastIndex(out, []byte("writes="))+7:])), "%d", &writes)
				}
				wg.Wait()
				for i, r := range results {
					t.Logf("%s: %d writes; %s: %d reads, %d torn, %d backwards, %d ahead of the writer", fsName, writes, styles[i].name, r.reads, r.torn, r.backwards, r.ahead)
					if r.torn+r.backwards+r.ahead > 0 || r.reads == 0 {
						t.Errorf("%s: %d torn, %d backwards, %d ahead; e.g. %s", styles[i].name, r.torn, r.backwards, r.ahead, r.example)
					}
				}
			})
		}
	}
}

// TestHelperWriter is the writer process of TestNoTornValues.
func TestHelperWriter(t *testing.T) {
	dir := os.Getenv("POWERINPUT_WRITER_DIR")
	if dir == "" {
		t.Skip("the writer process of TestNoTornValues")
	}
	d, _ := time.ParseDuration(os.Getenv("POWERINPUT_WRITER_FOR"))
	w := New(dir)
	defer w.Close()
	var upper atomic.Uint64
	stop := make(chan struct{})
	time.AfterFunc(d, func() { close(stop) })
	fmt.Printf("writes=%d\n", hammer(w, &upper, stop))
}
