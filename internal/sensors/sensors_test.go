package sensors

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/say"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time       { return c.now }
func (c *clock) tick(d time.Duration) { c.now = c.now.Add(d) }
func newClock() *clock                { return &clock{now: time.Unix(1_700_000_000, 0)} }
func put(t testing.TB, root, rel, text string) {
	t.Helper()
	path := filepath.Join(root, rel)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text+"\n"), 0o644))
}

// log records what the set says, as the plugin's sayer would: once per
// key and message.
type log struct {
	mu    sync.Mutex
	said  map[string]string
	lines []string
}

func (l *log) say(key string, _ say.Level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.said == nil {
		l.said = map[string]string{}
	}
	if l.said[key] == msg {
		return
	}
	if msg == "" {
		delete(l.said, key)
		return
	}
	l.said[key] = msg
	l.lines = append(l.lines, msg)
}

func (l *log) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func newSet(t testing.TB, root string, c *clock, l *log) *Set {
	t.Helper()
	s := New(Config{Roots: kfile.Roots{Sys: kfile.SysRoot(root)}, Hwmon: true, GPUs: true, WallSensor: "power_meter", Clock: c.Now, Open: kfile.OpenReader, LookEvery: 1}, l.say)
	t.Cleanup(s.Close)
	return s
}

func readings(r *Result) map[string]Reading {
	out := map[string]Reading{}
	for _, rd := range r.Readings {
		out[rd.Sensor.Name] = rd
	}
	return out
}

func TestNoneEnabled(t *testing.T) {
	require.Nil(t, New(Config{}, nil))
}

// A machine without sensors looks for devices every LookEvery gathers
// only; a device that comes is found at the next look.
func TestLookEvery(t *testing.T) {
	root, c, l := t.TempDir(), newClock(), &log{}
	s := New(Config{Roots: kfile.Roots{Sys: kfile.SysRoot(root)}, Hwmon: true, GPUs: true, Clock: c.Now, Open: kfile.OpenReader, LookEvery: 3}, l.say)
	defer s.Close()
	s.Sample(time.Time{}, 1)
	put(t, root, "class/hwmon/hwmon0/name", "power_meter")
	put(t, root, "class/hwmon/hwmon0/power1_average", "100000000")
	s.Sample(time.Time{}, 2)
	require.Empty(t, s.Sensors(), "no look at gather 2")
	s.Sample(time.Time{}, 3)
	require.Len(t, s.Sensors(), 1, "a look at gather 3")
}

// A power sensor is integrated with the trapezoid rule over the measured
// interval; each interval is numbered by the gathers that bound it.
func TestTrapezoid(t *testing.T) {
	root, c, l := t.TempDir(), newClock(), &log{}
	put(t, root, "class/hwmon/hwmon0/name", "power_meter")
	put(t, root, "class/hwmon/hwmon0/power1_average", "100000000")
	s := newSet(t, root, c, l)

	require.Empty(t, s.Sample(time.Time{}, 1).Readings, "the first reading is a baseline")
	put(t, root, "class/hwmon/hwmon0/power1_average", "200000000")
	c.tick(10 * time.Second)
	rd := readings(s.Sample(time.Time{}, 2))["power_meter"]
	require.Equal(t, 1500*energy.Joule, rd.Energy, "(100 W + 200 W) / 2 × 10 s")
	require.Equal(t, 10*time.Second, rd.Interval)
	require.Equal(t, int64(1), rd.From)
	require.Equal(t, Wall, rd.Sensor.Scope)
	require.Equal(t, Average, rd.Sensor.Method)
	require.Equal(t, energy.Power(150), rd.Power())

	c.tick(5 * time.Second)
	rd = readings(s.Sample(time.Time{}, 3))["power_meter"]
	require.Equal(t, 1000*energy.Joule, rd.Energy)
	require.Equal(t, int64(2), rd.From)

	// No time passed: no value, and the next interval covers this gather.
	require.Empty(t, s.Sample(time.Time{}, 4).Readings)
	c.tick(10 * time.Second)
	rd = readings(s.Sample(time.Time{}, 5))["power_meter"]
	require.Equal(t, 2000*energy.Joule, rd.Energy)
	require.Equal(t, int64(3), rd.From)
}

// A wall that reads 0 W has no reading; a value above any machine's power
// is garbage. Both are said once, and the sensor starts again afresh.
func TestUnbelievableReadings(t *testing.T) {
	root, c, l := t.TempDir(), newClock(), &log{}
	put(t, root, "class/hwmon/hwmon0/name", "power_meter")
	put(t, root, "class/hwmon/hwmon0/power1_average", "0")
	put(t, root, "class/hwmon/hwmon1/name", "ina226")
	put(t, root, "class/hwmon/hwmon1/power1_input", "0")
	s := newSet(t, root, c, l)
	for g := int64(1); g <= 3; g++ {
		c.tick(10 * time.Second)
		r := readings(s.Sample(time.Time{}, g))
		require.NotContains(t, r, "power_meter")
		if g > 1 {
			require.Contains(t, r, "ina226", "0 W is a value for another sensor")
		}
	}
	require.Equal(t, 1, strings.Count(l.text(), "reads 0 W"), l.text())
	put(t, root, "class/hwmon/hwmon0/power1_average", "99999999999999999")
	c.tick(10 * time.Second)
	require.NotContains(t, readings(s.Sample(time.Time{}, 4)), "power_meter")
	require.Contains(t, l.text(), "reads more than 100000 W")
	require.NotContains(t, l.text(), "99999999999999999", "never the file's content")
}

// A device that comes (hwmon2) makes the set search again; the sensors it
// had keep their baselines. A GPU driver reloaded (hwmon3 gone, hwmon7
// there) is the same GPU, from a new baseline.
func TestSearchAgain(t *testing.T) {
	root, c, l := t.TempDir(), newClock(), &log{}
	put(t, root, "class/hwmon/hwmon0/name", "power_meter")
	put(t, root, "class/hwmon/hwmon0/power1_average", "100000000")
	put(t, root, "class/drm/card0/device/hwmon/hwmon3/name", "xe")
	put(t, root, "class/drm/card0/device/hwmon/hwmon3/energy1_input", "1000000")
	s := newSet(t, root, c, l)
	s.Sample(time.Time{}, 1)

	put(t, root, "class/hwmon/hwmon2/name", "ina226")
	put(t, root, "class/hwmon/hwmon2/power1_input", "5000000")
	put(t, root, "class/drm/card0/device/hwmon/hwmon3/energy1_input", "301000000")
	c.tick(10 * time.Second)
	r := s.Sample(time.Time{}, 2)
	got := readings(r)
	require.Contains(t, got, "power_meter", "kept its baseline through the search")
	require.Contains(t, got, "0")
	require.Equal(t, 300*energy.Joule, got["0"].Energy)
	require.NotContains(t, got, "ina226", "new: a baseline first")
	require.Len(t, s.Sensors(), 3)

	require.NoError(t, os.RemoveAll(filepath.Join(root, "class/drm/card0/device/hwmon/hwmon3")))
	put(t, root, "class/drm/card0/device/hwmon/hwmon7/name", "xe")
	put(t, root, "class/drm/card0/device/hwmon/hwmon7/energy1_input", "5")
	put(t, root, "class/hwmon/hwmon7/name", "xe") // the class listing changes too
	c.tick(10 * time.Second)
	r = s.Sample(time.Time{}, 3)
	got = readings(r)
	require.NotContains(t, got, "0", "a reloaded driver's counter starts a new baseline")
	require.Equal(t, []string{"0"}, r.GPUs, "still one GPU")
	put(t, root, "class/drm/card0/device/hwmon/hwmon7/energy1_input", "100000005")
	c.tick(10 * time.Second)
	got = readings(s.Sample(time.Time{}, 4))
	require.Equal(t, 100*energy.Joule, got["0"].Energy)
	require.Equal(t, int64(3), got["0"].From)
}

// hangingOpener returns files whose reads block until released.
type hangingOpener struct {
	mu      sync.Mutex
	hang    bool
	release chan struct{}
}

type hangingFile struct {
	kfile.Reader
	o *hangingOpener
}

func (f hangingFile) ReadAt(b []byte, off int64) (int, error) {
	f.o.mu.Lock()
	hang := f.o.hang
	f.o.mu.Unlock()
	if hang {
		<-f.o.release
	}
	return f.Reader.ReadAt(b, off)
}

func (o *hangingOpener) open(path string) (kfile.Reader, error) {
	r, err := kfile.OpenReader(path)
	if err != nil {
		return nil, err
	}
	return hangingFile{r, o}, nil
}

// A read that hangs (an ACPI method that never returns) costs the gather
// its sensor values, never its time; afterwards every sensor starts from
// a new baseline, since the hung read's time is unknown.
func TestHungRead(t *testing.T) {
	root, c, l := t.TempDir(), newClock(), &log{}
	put(t, root, "class/hwmon/hwmon0/name", "power_meter")
	put(t, root, "class/hwmon/hwmon0/power1_average", "100000000")
	o := &hangingOpener{release: make(chan struct{})}
	s := New(Config{Roots: kfile.Roots{Sys: kfile.SysRoot(root)}, Hwmon: true, WallSensor: "power_meter", Clock: c.Now, Open: o.open, LookEvery: 1}, l.say)
	s.Sample(time.Time{}, 1)

	o.mu.Lock()
	o.hang = true
	o.mu.Unlock()
	c.tick(10 * time.Second)
	start := time.Now()
	r := s.Sample(time.Now().Add(50*time.Millisecond), 2)
	require.Empty(t, r.Readings)
	require.Less(t, time.Since(start), time.Second)
	require.Contains(t, l.text(), "did not return in time")
	r = s.Sample(time.Now().Add(50*time.Millisecond), 3)
	require.Empty(t, r.Readings, "still busy")

	o.mu.Lock()
	o.hang = false
	o.mu.Unlock()
	close(o.release)
	require.Eventually(t, func() bool { return !s.g.Busy() }, time.Second, time.Millisecond)
	c.tick(10 * time.Second)
	require.Empty(t, s.Sample(time.Time{}, 4).Readings, "a new baseline after the hang")
	c.tick(10 * time.Second)
	rd := readings(s.Sample(time.Time{}, 5))["power_meter"]
	require.Equal(t, int64(4), rd.From)
	require.Equal(t, 1000*energy.Joule, rd.Energy)
	s.Close()
}

// benchTree: a server with a wall meter, an amdgpu (power) and an xe card
// (counter), as the hot path reads them at each gather.
func BenchmarkSample(b *testing.B) {
	root, c, l := b.TempDir(), newClock(), &log{}
	put(b, root, "class/hwmon/hwmon0/name", "power_meter")
	put(b, root, "class/hwmon/hwmon0/power1_average", "151000000")
	put(b, root, "class/drm/card0/device/hwmon/hwmon3/name", "amdgpu")
	put(b, root, "class/drm/card0/device/hwmon/hwmon3/power1_average", "45000000")
	put(b, root, "class/drm/card0/device/power/runtime_status", "active")
	put(b, root, "class/drm/card1/device/hwmon/hwmon5/name", "xe")
	put(b, root, "class/drm/card1/device/hwmon/hwmon5/energy1_input", fmt.Sprintf("%020d", 0))
	put(b, root, "class/drm/card1/device/power/runtime_status", "active")
	f, err := os.OpenFile(filepath.Join(root, "class/drm/card1/device/hwmon/hwmon5/energy1_input"), os.O_WRONLY, 0)
	require.NoError(b, err)
	defer f.Close()
	s := newSet(b, root, c, l)
	var buf [21]byte
	counter := uint64(0)
	advance := func() {
		counter += 300_000_000
		v := counter
		buf[20] = '\n'
		for i := 19; i >= 0; i-- {
			buf[i] = byte('0' + v%10)
			v /= 10
		}
		f.WriteAt(buf[:], 0)
		c.tick(10 * time.Second)
	}
	g := int64(1)
	s.Sample(time.Time{}, g)
	b.ReportAllocs()
	for b.Loop() {
		advance()
		g++
		if r := s.Sample(time.Time{}, g); len(r.Readings) != 3 {
			b.Fatalf("gather %d: %d readings: %s", g, len(r.Readings), l.text())
		}
	}
}

// wall_sensor names the wall: here a power supply's input channel, while
// the ACPI power meter becomes a sensor of unknown scope. Two devices of
// one name are told apart.
func TestWallSensorChoice(t *testing.T) {
	root, c, l := t.TempDir(), newClock(), &log{}
	put(t, root, "class/hwmon/hwmon0/name", "power_meter")
	put(t, root, "class/hwmon/hwmon0/power1_average", "100000000")
	put(t, root, "class/hwmon/hwmon1/name", "corsair-psu")
	put(t, root, "class/hwmon/hwmon1/power1_input", "120000000")
	put(t, root, "class/hwmon/hwmon1/power2_input", "50000000")
	put(t, root, "class/hwmon/hwmon2/name", "ina226")
	put(t, root, "class/hwmon/hwmon2/power1_input", "1000000")
	put(t, root, "class/hwmon/hwmon3/name", "ina226")
	put(t, root, "class/hwmon/hwmon3/power1_input", "2000000")
	s := New(Config{Roots: kfile.Roots{Sys: kfile.SysRoot(root)}, Hwmon: true, WallSensor: "corsair_psu/power1", Clock: c.Now, Open: kfile.OpenReader}, l.say)
	defer s.Close()
	s.Sample(time.Time{}, 1)
	scopes := map[string]string{}
	for _, sn := range s.Sensors() {
		scopes[sn.Name] = sn.Scope
	}
	require.Equal(t, map[string]string{"power_meter": Other, "corsair_psu/power1": Wall, "corsair_psu/power2": Other,
		"ina226": Other, "ina226_2": Other}, scopes)
	require.Contains(t, l.text(), "wall corsair_psu/power1 (hwmon, sample)")
}
