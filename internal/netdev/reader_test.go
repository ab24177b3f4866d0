package netdev

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/greencampus/powerinput/internal/kfile"
)

// sysIf is an interface of a fake tree: its sysfs files ("" for none).
type sysIf struct {
	name              string
	flags, typ, speed string
	noDir             bool // no class/net/<name> at all
}

// tree is a fake host: root/proc/net/dev and root/sys/class/net.
type tree struct {
	root string
	ifs  []sysIf
}

func newTree(t testing.TB, ifs []sysIf) *tree {
	t.Helper()
	tr := &tree{root: t.TempDir(), ifs: ifs}
	if err := os.MkdirAll(filepath.Join(tr.root, "proc", "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		tr.writeSys(t, i)
	}
	tr.writeDev(t, 1)
	return tr
}

func (tr *tree) writeSys(t testing.TB, i sysIf) {
	t.Helper()
	dir := filepath.Join(tr.root, "sys", "class", "net", i.name)
	if i.noDir {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for file, v := range map[string]string{"flags": i.flags, "type": i.typ, "speed": i.speed} {
		if v != "" {
			if err := os.WriteFile(filepath.Join(dir, file), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// writeDev writes /proc/net/dev for the tree's interfaces, with counters
// that grow with k.
func (tr *tree) writeDev(t testing.TB, k uint64) {
	t.Helper()
	var sb strings.Builder
	sb.WriteString(head)
	for n, i := range tr.ifs {
		x := k * uint64(n+1)
		sb.WriteString(line(i.name, [16]uint64{1000 * x, 10 * x, 1, 2, 0, 0, 0, 0, 2000 * x, 20 * x, 3, 4}))
	}
	if err := os.WriteFile(filepath.Join(tr.root, "proc", "net", "dev"), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (tr *tree) reader(o Options) *Reader {
	return NewReader(kfile.ProcRoot(filepath.Join(tr.root, "proc")), kfile.SysRoot(filepath.Join(tr.root, "sys")), o)
}

func up(name, speed string) sysIf { return sysIf{name: name, flags: "0x1003", typ: "1", speed: speed} }

// The interfaces of TestReaderRules.
var ruleIfs = []sysIf{
	up("eth0", "1000"),
	{name: "lo", flags: "0x9", typ: "772"},
	{name: "eth1", flags: "0x1002", typ: "1"},             // down: no speed (EINVAL on a real system)
	{name: "ghost", noDir: true},                          // listed by /proc/net/dev, unknown to sysfs
	{name: "typeonly", typ: "1", speed: "100"},            // an older fixture: no flags file
	{name: "typelo", typ: "772"},                          //
	{name: "bare"},                                        // a directory and nothing in it
	up("br0", "-1"),                                       // the driver does not know the speed
	up("|x", "10"),                                        // '|' in a name
	up(`e\`, "10"),                                        // cannot be a tag
	up("e", "10"),                                         // must not collide with e\
	up("bad\xff", "10"),                                   // not UTF-8
	up("garbled", "fast"),                                 // a speed that is not a number
	{name: "lo2", flags: "0x49", typ: "772"},              //
	{name: "weird", flags: "nonsense", typ: "1"},          // unreadable flags: the type decides
	{name: "big", flags: "0x11111111111111111", typ: "1"}, // 17 digits
}

type want struct {
	skip                Skip
	speed               int64
	found, up, loopback bool
}

func TestReaderRules(t *testing.T) {
	tr := newTree(t, ruleIfs)
	checks := map[string]want{
		"eth0":     {Write, 1000, true, true, false},
		"lo":       {SkipLoopback, -1, true, true, true},
		"eth1":     {SkipDown, -1, true, false, false},
		"ghost":    {SkipNotFound, -1, false, false, false},
		"typeonly": {Write, 100, true, true, false},
		"typelo":   {SkipLoopback, -1, true, true, true},
		"bare":     {Write, -1, true, true, false},
		"br0":      {Write, -1, true, true, false},
		"|x":       {Write, 10, true, true, false},
		`e\`:       {SkipName, -1, false, false, false},
		"e":        {Write, 10, true, true, false},
		"bad\xff":  {SkipName, -1, false, false, false},
		"garbled":  {Write, -1, true, true, false},
		"lo2":      {SkipLoopback, -1, true, true, true},
		"weird":    {Write, -1, true, true, false},
		"big":      {Write, -1, true, true, false},
	}
	noChecks := map[string]want{}
	for name, w := range checks {
		if w.skip != SkipName {
			w = want{skip: Write, speed: w.speed}
		}
		noChecks[name] = w
	}
	noChecks["eth1"] = want{skip: Write, speed: -1}
	noChecks["lo"] = want{skip: Write, speed: -1}

	for _, tc := range []struct {
		name string
		o    Options
		want map[string]want
	}{
		{"checks", Options{Checks: true}, checks},
		{"no checks", Options{}, noChecks},
		{"match", Options{Match: func(n string) bool { return strings.HasPrefix(n, "eth") }, Checks: true},
			map[string]want{"eth0": checks["eth0"], "eth1": checks["eth1"]}},
		{"no files kept", Options{Checks: true, Files: -1}, checks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tr.reader(tc.o)
			defer r.Close()
			for k := 1; k <= 3; k++ {
				got, err := r.Read()
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("read %d: %d interfaces, want %d", k, len(got), len(tc.want))
				}
				for _, it := range got {
					w, ok := tc.want[it.Name]
					if !ok {
						t.Fatalf("read %d: unexpected %+q", k, it.Name)
					}
					g := want{it.Skip, it.Speed, it.Found, it.Up, it.Loopback}
					if g != w {
						t.Errorf("read %d: %+q = %+v, want %+v", k, it.Name, g, w)
					}
					if it.New != (k == 1) {
						t.Errorf("read %d: %+q New = %v", k, it.Name, it.New)
					}
					if (it.Skip == SkipName) != (it.TagErr != nil) {
						t.Errorf("%+q: skip %v with TagErr %v", it.Name, it.Skip, it.TagErr)
					}
				}
			}
		})
	}
}

// TestReaderCounters: the counters come through, and follow the file.
func TestReaderCounters(t *testing.T) {
	tr := newTree(t, []sysIf{up("eth0", "1000"), up("eth1", "10")})
	r := tr.reader(Options{Checks: true})
	defer r.Close()
	for k := uint64(1); k <= 3; k++ {
		tr.writeDev(t, k)
		got, err := r.Read()
		if err != nil || len(got) != 2 {
			t.Fatalf("%+v, %v", got, err)
		}
		w := Counters{Name: "eth1", RxBytes: 2000 * k, RxPackets: 20 * k, RxErrors: 1, RxDrops: 2, TxBytes: 4000 * k, TxPackets: 40 * k, TxErrors: 3, TxDrops: 4}
		if got[1].Counters != w {
			t.Fatalf("read %d: %+v, want %+v", k, got[1].Counters, w)
		}
	}
}

func TestReaderDevErrors(t *testing.T) {
	tr := newTree(t, []sysIf{up("eth0", "1000")})
	r := tr.reader(Options{})
	defer r.Close()
	dev := filepath.Join(tr.root, "proc", "net", "dev")
	if err := os.WriteFile(dev, []byte(head+"  eth0: 1 2 3\n"+line("eth1", [16]uint64{})), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := r.Read()
	if !errors.Is(err, ErrSyntax) || len(got) != 1 || got[0].Name != "eth1" {
		t.Fatalf("%+v, %v; want eth1 and a syntax error", got, err)
	}
	if err := os.Remove(dev); err != nil {
		t.Fatal(err)
	}
	// The kept file still reads; a reader opened afresh does not.
	r2 := tr.reader(Options{})
	if _, err := r2.Read(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not found", err)
	}
	if err := os.Mkdir(dev, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Read(); !errors.Is(err, kfile.ErrNotRegular) {
		t.Fatalf("err = %v, want ErrNotRegular", err)
	}
}

// opener counts the sysfs files opened and open, and can make a file
// fail as the kernel does.
type opener struct {
	opens    map[string]int // by path suffix "name/attr"
	open     int
	peak     int
	fail     map[string]error // by "name/attr": the error of every read
	peakFDs  int              // entries of /proc/self/fd, the most seen
	countFDs bool
}

func newOpener() *opener { return &opener{opens: map[string]int{}, fail: map[string]error{}} }

func (o *opener) Open(path string) (kfile.Reader, error) {
	key := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
	o.opens[key]++
	f, err := kfile.OpenReader(path)
	if err != nil {
		return nil, err
	}
	o.open++
	o.peak = max(o.peak, o.open)
	if o.countFDs {
		o.peakFDs = max(o.peakFDs, openFDs())
	}
	return &countedFile{Reader: f, o: o, err: o.fail[key]}, nil
}

type countedFile struct {
	kfile.Reader
	o   *opener
	err error
}

func (f *countedFile) ReadAt(b []byte, off int64) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	return f.Reader.ReadAt(b, off)
}

func (f *countedFile) Close() error {
	f.o.open--
	return f.Reader.Close()
}

func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// TestSpeedFailureRemembered: a speed file that fails is not opened at
// every read, and is read again at once when the flags change.
func TestSpeedFailureRemembered(t *testing.T) {
	tr := newTree(t, []sysIf{up("eth0", "1000"), up("veth0", "1")})
	for _, checks := range []bool{false, true} {
		o := newOpener()
		o.fail["veth0/speed"] = &os.PathError{Op: "read", Path: "veth0/speed", Err: syscall.EINVAL}
		r := tr.reader(Options{Checks: checks, Open: o.Open})
		for k := 0; k < 100; k++ {
			got, err := r.Read()
			if err != nil || got[1].Speed != -1 || got[0].Speed != 1000 {
				t.Fatalf("read %d: %+v, %v", k, got, err)
			}
		}
		t.Logf("checks %v: opens %v", checks, o.opens)
		// 2, 4, 8, 16 reads, then every 16: 4 + 84/16.
		if n := o.opens["veth0/speed"]; n > 12 {
			t.Errorf("checks %v: failing speed file opened %d times in 100 reads", checks, n)
		}
		if n := o.opens["eth0/speed"]; n != 1 {
			t.Errorf("checks %v: working speed file opened %d times, want once (kept open)", checks, n)
		}
		if checks {
			// Turn the interface down and up again: its flags change, and the
			// speed is read again at the next read that writes it.
			before := o.opens["veth0/speed"]
			tr.writeSys(t, sysIf{name: "veth0", flags: "0x1002", typ: "1"})
			mustRead(t, r)
			tr.writeSys(t, sysIf{name: "veth0", flags: "0x1043", typ: "1"})
			delete(o.fail, "veth0/speed")
			got := mustRead(t, r)
			if n := o.opens["veth0/speed"]; n != before+1 || got[1].Speed != 1 {
				t.Errorf("after the flags changed: %d opens (was %d), speed %d", n, before, got[1].Speed)
			}
		}
		r.Close()
		if o.open != 0 {
			t.Errorf("%d files left open after Close", o.open)
		}
	}
}

// TestSpeedRecovers: once the speed file reads again, the speed is back
// within the backoff, and it is then read at every read.
func TestSpeedRecovers(t *testing.T) {
	tr := newTree(t, []sysIf{up("eth0", "")}) // no speed file yet
	o := newOpener()
	r := tr.reader(Options{Open: o.Open})
	defer r.Close()
	for k := 0; k < 40; k++ {
		mustRead(t, r)
	}
	tr.writeSys(t, up("eth0", "2500"))
	for k := 1; ; k++ {
		if got := mustRead(t, r); got[0].Speed == 2500 {
			if k > maxSpeedBackoff {
				t.Fatalf("speed back after %d reads", k)
			}
			break
		}
	}
	tr.writeSys(t, up("eth0", "100"))
	if got := mustRead(t, r); got[0].Speed != 100 {
		t.Fatalf("speed %d, want 100 at once", got[0].Speed)
	}
}

// TestReplacedInterface: a kept file that fails (its interface was
// removed, and another took its name) is opened afresh in the same read.
func TestReplacedInterface(t *testing.T) {
	tr := newTree(t, []sysIf{up("eth0", "1000")})
	o := newOpener()
	r := tr.reader(Options{Checks: true, Open: o.Open})
	defer r.Close()
	mustRead(t, r)
	st := r.ifs["eth0"]
	st.flagsFile.(*countedFile).err = &os.PathError{Op: "read", Path: "flags", Err: syscall.ENODEV}
	st.speedFile.(*countedFile).err = &os.PathError{Op: "read", Path: "speed", Err: syscall.ENODEV}
	tr.writeSys(t, up("eth0", "10"))
	got := mustRead(t, r)
	if got[0].Skip != Write || got[0].Speed != 10 || o.opens["eth0/flags"] != 2 || o.opens["eth0/speed"] != 2 {
		t.Fatalf("%+v after the kept files failed; opens %v", got[0], o.opens)
	}
}

func mustRead(t testing.TB, r *Reader) []Interface {
	t.Helper()
	got, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func manyIfs(n int, prefix string) []sysIf {
	ifs := make([]sysIf, n)
	for i := range ifs {
		ifs[i] = up(fmt.Sprintf("%s%d", prefix, i), "10000")
	}
	return ifs
}

// newLinkedTree is a tree of n interfaces that are up at 10 Gbit/s. As in
// a real sysfs, class/net/<name> is a symbolic link to the device's
// directory; here they all lead to one, which is much quicker to make.
func newLinkedTree(t testing.TB, n int, prefix string) *tree {
	t.Helper()
	tr := newTree(t, nil)
	tr.addLinked(t, manyIfs(n, prefix))
	return tr
}

func (tr *tree) addLinked(t testing.TB, ifs []sysIf) {
	t.Helper()
	dev := filepath.Join(tr.root, "sys", "devices", "virtual", "net", "veth")
	if _, err := os.Stat(dev); err != nil {
		tr.writeSys(t, up("veth", "10000"))
		if err := os.MkdirAll(filepath.Dir(dev), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(tr.root, "sys", "class", "net", "veth"), dev); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range ifs {
		if err := os.Symlink("../../devices/virtual/net/veth", filepath.Join(tr.root, "sys", "class", "net", i.name)); err != nil {
			t.Fatal(err)
		}
	}
	tr.ifs = ifs
	tr.writeDev(t, 1)
}

// TestFDBudget: with 2,000 interfaces the Reader keeps DefaultFiles sysfs
// files and /proc/net/dev open, never has more than one more open during
// a read, and reads every speed under an fd limit far below 2,000.
func TestFDBudget(t *testing.T) {
	tr := newLinkedTree(t, 2000, "veth")
	o := newOpener()
	o.countFDs = true
	runtime.GC()
	before := openFDs()
	// With the old one fd per interface, such a limit turned speeds to -1.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = uint64(before + DefaultFiles + 16)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	r := tr.reader(Options{Checks: true, Open: o.Open})
	for k := 0; k < 3; k++ {
		got := mustRead(t, r)
		if len(got) != 2000 || got[1999].Speed != 10000 || got[1999].Skip != Write {
			t.Fatalf("read %d: %d interfaces, last %+v", k, len(got), got[len(got)-1])
		}
	}
	after := openFDs()
	t.Logf("fds: %d before, %d after, %d at most during reads; sysfs files: %d kept, %d at most", before, after, o.peakFDs, o.open, o.peak)
	if after-before > DefaultFiles+1 {
		t.Errorf("%d more fds open after reads, want at most %d", after-before, DefaultFiles+1)
	}
	if o.peakFDs-before > DefaultFiles+2 || o.peak > DefaultFiles+1 {
		t.Errorf("peak: %d more fds, %d sysfs files; want at most %d and %d", o.peakFDs-before, o.peak, DefaultFiles+2, DefaultFiles+1)
	}
	r.Close()
	if n := openFDs(); n != before {
		t.Errorf("%d fds after Close, %d before", n, before)
	}
}

// TestChurn: interfaces that come and go leave neither state nor files
// behind, a few reads after they leave.
func TestChurn(t *testing.T) {
	tr := newTree(t, nil)
	o := newOpener()
	r := tr.reader(Options{Checks: true, Open: o.Open})
	defer r.Close()
	for round := 0; round < 50; round++ {
		tr.addLinked(t, manyIfs(200, fmt.Sprintf("r%d.", round)))
		if got := mustRead(t, r); len(got) != 200 {
			t.Fatalf("round %d: %d interfaces", round, len(got))
		}
		if len(r.ifs) > (forgetAfter+1)*200+64 || r.parser.kept() > (forgetAfter+1)*200+64 {
			t.Fatalf("round %d: %d interfaces and %d names kept for 200 listed", round, len(r.ifs), r.parser.kept())
		}
		if r.files.Kept() > r.files.Max() || o.open != r.files.Kept() {
			t.Fatalf("round %d: %d files kept (%d open)", round, r.files.Kept(), o.open)
		}
	}
}

// TestReaderMemory10000 measures the heap a Reader holds for 10,000
// interfaces, and the fds it keeps.
func TestReaderMemory10000(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a tree of 10,000 interfaces")
	}
	tr := newLinkedTree(t, 10000, "veth")
	o := newOpener()
	o.countFDs = true
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	before := openFDs()
	r := tr.reader(Options{Checks: true, Open: o.Open})
	for k := 0; k < 3; k++ {
		if got := mustRead(t, r); len(got) != 10000 {
			t.Fatalf("%d interfaces", len(got))
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	held := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	t.Logf("10,000 interfaces: heap held %.1f MiB after GC; fds %d before, %d after, %d at most", float64(held)/(1<<20), before, openFDs(), o.peakFDs)
	if held > 16<<20 {
		t.Errorf("heap held %d bytes, want under 16 MiB", held)
	}
	if o.peakFDs-before > r.files.Max()+2 {
		t.Errorf("peak %d fds over %d", o.peakFDs-before, r.files.Max()+2)
	}
	runtime.KeepAlive(r)
	r.Close()
}

// TestRealSystem reads this machine's own /proc and /sys, where they are.
func TestRealSystem(t *testing.T) {
	if _, err := os.Stat("/sys/class/net/lo"); err != nil {
		t.Skip("no /sys/class/net/lo")
	}
	r := NewReader("/proc", "/sys", Options{Checks: true})
	defer r.Close()
	got, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range got {
		t.Logf("%+q: %v, speed %d", it.Name, it.Skip, it.Speed)
		if it.Name == "lo" && (it.Skip != SkipLoopback || !it.Found || !it.Loopback) {
			t.Errorf("lo: %+v", it)
		}
	}
}

func TestParseHexAndSpeed(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{{"0x1003\n", 0x1003, true}, {"0X9", 9, true}, {"1002", 0x1002, true}, {"0xffffffffffffffff", ^uint64(0), true},
		{"0x", 0, false}, {"", 0, false}, {"0x1g", 0, false}, {"0x11111111111111111", 0, false}, {"-0x1", 0, false}} {
		if v, ok := parseHex([]byte(tc.in)); v != tc.want || ok != tc.ok {
			t.Errorf("parseHex(%q) = %#x, %v; want %#x, %v", tc.in, v, ok, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"1000\n", 1000, true}, {"-1\n", -1, true}, {"0", 0, true}, {"4294967295", 4294967295, true},
		{"9223372036854775807", 9223372036854775807, true}, {"9223372036854775808", 0, false},
		{"", 0, false}, {"-", 0, false}, {"10 Mb", 0, false}, {"+5", 0, false}, {"--1", 0, false}} {
		if v, ok := parseSpeed([]byte(tc.in)); v != tc.want || ok != tc.ok {
			t.Errorf("parseSpeed(%q) = %d, %v; want %d, %v", tc.in, v, ok, tc.want, tc.ok)
		}
	}
}

func benchmarkRead(b *testing.B, n int) {
	tr := newLinkedTree(b, n, "veth")
	r := tr.reader(Options{Checks: true})
	defer r.Close()
	mustRead(b, r)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Read(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead4(b *testing.B)     { benchmarkRead(b, 4) }
func BenchmarkRead10000(b *testing.B) { benchmarkRead(b, 10000) }
