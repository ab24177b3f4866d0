package procs

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/greencampus/powerinput/internal/fixtures"
)

// referenceStat parses a stat line another way, with the standard
// library: what ParseStat should give, and whether it should refuse it.
func referenceStat(b []byte) (Stat, bool) {
	s := string(b)
	open := strings.IndexByte(s, '(')
	if open < 1 {
		return Stat{}, false
	}
	end := open + strings.LastIndexByte(s[open:min(len(s), open+65)], ')')
	if end <= open {
		return Stat{}, false
	}
	pidText := strings.TrimRight(s[:open], " ")
	pid, err := strconv.ParseUint(pidText, 10, 64)
	if err != nil || pid == 0 || pid > 1<<22 || strings.ContainsAny(pidText, "+-") {
		return Stat{}, false
	}
	line, _, _ := strings.Cut(s[end+1:], "\n")
	fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(fields) < 20 {
		return Stat{}, false
	}
	num := func(i int) (uint64, bool) {
		f := fields[i]
		if len(f) > 20 || f[0] == '+' {
			return 0, false
		}
		v, err := strconv.ParseUint(f, 10, 64)
		return v, err == nil
	}
	flags, ok1 := num(6)
	ut, ok2 := num(11)
	stt, ok3 := num(12)
	start, ok4 := num(19)
	if !ok1 || !ok2 || !ok3 || !ok4 || ut > 1<<62 || stt > 1<<62 {
		return Stat{}, false
	}
	threads, ok5 := num(17)
	if !ok5 {
		threads = 0
	}
	return Stat{PID: pid, Comm: b[open+1 : end], Kernel: flags&pfKthread != 0, CPU: ut + stt, Start: start, Threads: threads}, true
}

func FuzzParseStat(f *testing.F) {
	for _, b := range fixtures.Files("stat") {
		f.Add(b)
	}
	f.Add([]byte(statLine(proc{pid: 1, comm: "systemd", utime: 100, stime: 50, start: 2})))
	f.Add([]byte(statLine(proc{pid: 2, comm: "kworker/0:1H-kblockd", kernel: true, start: 3})))
	f.Add([]byte(statLine(proc{pid: 3, comm: "a) (b", start: 3})))
	f.Add([]byte("1 (x) S"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseStat(b)
		want, ok := referenceStat(b)
		if ok != (err == nil) {
			t.Fatalf("ParseStat(%q): err %v, reference ok %v", b, err, ok)
		}
		if !ok {
			// The error names what is wrong, never the file's bytes.
			if len(b) > 8 && bytes.Contains([]byte(err.Error()), b) {
				t.Fatalf("error %q holds the input", err)
			}
			return
		}
		if got.PID != want.PID || !bytes.Equal(got.Comm, want.Comm) || got.Kernel != want.Kernel || got.CPU != want.CPU || got.Start != want.Start || got.Threads != want.Threads {
			t.Fatalf("ParseStat(%q) = %+v, want %+v", b, got, want)
		}
	})
}

func FuzzParseSchedstat(f *testing.F) {
	for _, b := range fixtures.Files("schedstat") {
		f.Add(b)
	}
	f.Add([]byte("4620279 2674761 24\n"))
	f.Add([]byte("0 0 0\n"))
	f.Add([]byte("18446744073709551615 0 1\n"))
	f.Add([]byte("18446744073709551616 0 1\n"))
	f.Add([]byte(" 12\t3"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseSchedstat(b)
		// The reference: the first field of the first line, split on
		// spaces and tabs, a decimal number without sign.
		line, _, _ := strings.Cut(string(b), "\n")
		fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
		var want uint64
		ok := len(fields) > 0 && fields[0][0] != '+' && len(fields[0]) <= 20
		if ok {
			var perr error
			want, perr = strconv.ParseUint(fields[0], 10, 64)
			ok = perr == nil
		}
		if ok != (err == nil) {
			t.Fatalf("ParseSchedstat(%q): err %v, reference ok %v", b, err, ok)
		}
		if ok && got != want {
			t.Fatalf("ParseSchedstat(%q) = %d, want %d", b, got, want)
		}
		if err != nil && len(b) > 8 && bytes.Contains([]byte(err.Error()), b) {
			t.Fatalf("error %q holds the input", err)
		}
	})
}

func FuzzParseLastPID(f *testing.F) {
	for _, b := range fixtures.Files("loadavg") {
		f.Add(b)
	}
	f.Add([]byte("2.07 0.99 0.88 1/219 12003\n"))
	f.Add([]byte("0.00 0.00 0.00 1/1 1\n"))
	f.Add([]byte("0.00 0.00 0.00 1/1 4194304\n"))
	f.Add([]byte("0.00 0.00 0.00 1/1 4194305\n"))
	f.Add([]byte("0.00 0.00 0.00 1/1 0\n"))
	f.Add([]byte("0.00 0.00 0.00 1-1 5\n"))
	f.Add([]byte("0.00 0.00 0.00 1/1\n12\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseLastPID(b)
		// The reference: the first line split on spaces and tabs; the
		// fourth field two decimal numbers around a '/', the fifth a
		// decimal PID.
		line, _, _ := strings.Cut(string(b), "\n")
		fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
		dec := func(s string) (uint64, bool) {
			if s == "" || s[0] == '+' || len(s) > 20 {
				return 0, false
			}
			v, err := strconv.ParseUint(s, 10, 64)
			return v, err == nil
		}
		var want uint64
		ok := len(fields) >= 5
		if ok {
			run, total, cut := strings.Cut(fields[3], "/")
			_, ok1 := dec(run)
			_, ok2 := dec(total)
			var ok3 bool
			want, ok3 = dec(fields[4])
			ok = cut && ok1 && ok2 && ok3 && want > 0 && want <= 1<<22
		}
		if ok != (err == nil) {
			t.Fatalf("ParseLastPID(%q): err %v, reference ok %v", b, err, ok)
		}
		if ok && uint64(got) != want {
			t.Fatalf("ParseLastPID(%q) = %d, want %d", b, got, want)
		}
		if err != nil && len(b) > 8 && bytes.Contains([]byte(err.Error()), b) {
			t.Fatalf("error %q holds the input", err)
		}
	})
}
