package procstat

import (
	"errors"
	"strings"
	"testing"

	"github.com/greencampus/powerinput/internal/fixtures"
)

const sample = `cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0
cpu0 1393280 32966 572056 13343292 6130 0 17875 0 23933 0
cpu1 1335927 28808 506113 13466590 2917 0 3547 0 18006 0
intr 199292 0 0 0
ctxt 6094357
btime 1700000000
`

func TestParse(t *testing.T) {
	var s Stat
	if err := Parse(strings.NewReader(sample), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.CPUs) != 3 || s.Online() != 2 {
		t.Fatalf("got %d lines, %d online; want 3 and 2", len(s.CPUs), s.Online())
	}
	total, ok := s.Total()
	if !ok || total.User != 10132153 || total.Guest != 175628 || total.Steal != 0 {
		t.Fatalf("total = %+v", total)
	}
	c1, ok := s.Find(1)
	if !ok || c1.Idle != 13466590 {
		t.Fatalf("cpu1 = %+v, %v", c1, ok)
	}
}

func TestParseBadLines(t *testing.T) {
	text := "cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 1 2 x 4\ncpu1 5 6\ncpux 1 2 3 4\ncpu2 10 20 30 40 0 0 0 0 11 0\ncpu999999 1 1 1 1\ncpu3 1 1 1 1"
	var s Stat
	err := ParseBytes([]byte(text), &s)
	if !errors.Is(err, ErrSyntax) {
		t.Fatalf("err = %v, want ErrSyntax", err)
	}
	// Good lines survive: the total and cpu3 (a line cut after 4 values).
	// cpu0 (garbled), cpu1 (cut), cpux (name), cpu2 (guest > user) and
	// cpu999999 (no such CPU) go.
	var ids []int
	for _, c := range s.CPUs {
		ids = append(ids, c.ID)
	}
	if len(ids) != 2 || ids[0] != TotalID || ids[1] != 3 {
		t.Fatalf("kept %v, want [total 3]", ids)
	}
}

func TestCompute(t *testing.T) {
	prev := Times{User: 100, Nice: 10, System: 50, Idle: 800, Iowait: 10, Irq: 5, Softirq: 5, Steal: 20, Guest: 30, GuestNice: 2}
	cur := Times{User: 200, Nice: 20, System: 100, Idle: 1500, Iowait: 20, Irq: 10, Softirq: 10, Steal: 40, Guest: 80, GuestNice: 6}
	// Deltas: user 100, nice 10, system 50, idle 700, iowait 10, irq 5,
	// softirq 5, steal 20 (total 900); guest 50, guest_nice 4.
	u, ok := Compute(prev, cur)
	if !ok {
		t.Fatal("not ok")
	}
	want := Usage{User: 100 * 50.0 / 900, Nice: 100 * 6.0 / 900, System: 100 * 50.0 / 900, Idle: 100 * 700.0 / 900,
		Iowait: 100 * 10.0 / 900, Irq: 100 * 5.0 / 900, Softirq: 100 * 5.0 / 900, Steal: 100 * 20.0 / 900,
		Guest: 100 * 50.0 / 900, GuestNice: 100 * 4.0 / 900}
	if u != want {
		t.Fatalf("Compute = %+v, want %+v", u, want)
	}
	if b := u.Busy(); b < 0.1888 || b > 0.1890 { // (900-700-10-20)/900 = 0.18888…
		t.Fatalf("Busy = %v", b)
	}
	if _, ok := Compute(cur, prev); ok {
		t.Fatal("counters going backwards must give no usage")
	}
	if _, ok := Compute(cur, cur); ok {
		t.Fatal("no time passed must give no usage")
	}
}

func FuzzParse(f *testing.F) {
	for _, b := range fixtures.Files("stat", "stat.*") {
		f.Add(string(b))
	}
	f.Add(sample)
	f.Add("cpu 1 2 3 4\n")
	f.Add("cpu0 99999999999999999999 1 1 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		var s Stat
		err := ParseBytes([]byte(text), &s)
		if err != nil && !errors.Is(err, ErrSyntax) {
			t.Fatalf("error %v does not wrap ErrSyntax", err)
		}
		for _, c := range s.CPUs {
			if c.Guest > c.User || c.GuestNice > c.Nice {
				t.Fatalf("kept a line with guest above user: %+v", c)
			}
		}
		if len(s.CPUs) >= 1 {
			var s2 Stat
			_ = ParseBytes([]byte(text), &s2)
			// Usage between a reading and itself is never reported.
			if _, ok := Compute(s.CPUs[0].Times, s2.CPUs[0].Times); ok {
				t.Fatal("usage over no time")
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	data := []byte(sample)
	var s Stat
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseBytes(data, &s); err != nil {
			b.Fatal(err)
		}
	}
}
