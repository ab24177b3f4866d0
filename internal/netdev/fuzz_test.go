package netdev_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/internal/netdev"
)

// devLine writes an interface as the kernel does ("%6s: %7llu ...").
func devLine(b []byte, c netdev.Counters) []byte {
	v := [16]uint64{c.RxBytes, c.RxPackets, c.RxErrors, c.RxDrops, 0, 0, 0, 0, c.TxBytes, c.TxPackets, c.TxErrors, c.TxDrops}
	b = fmt.Appendf(b, "%6s:", c.Name)
	for _, x := range v {
		b = fmt.Appendf(b, " %7d", x)
	}
	return append(b, '\n')
}

// reference parses /proc/net/dev another way, with the standard library:
// the interfaces it should give, and how many lines it should refuse.
func reference(text string) (want []netdev.Counters, bad int) {
	lines := strings.Split(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	listed := map[string]bool{}
	for _, l := range lines {
		rest := strings.TrimLeft(l, " \t")
		name, counters, ok := strings.Cut(rest, ":")
		if !ok {
			if rest != "" && !strings.Contains(l, "|") {
				bad++
			}
			continue
		}
		fields := strings.FieldsFunc(counters, func(r rune) bool { return r == ' ' || r == '\t' })
		var v [16]uint64
		good := devValidName(name) && len(fields) >= 16 && !listed[name]
		for i := 0; good && i < 16; i++ {
			var err error
			v[i], err = strconv.ParseUint(fields[i], 10, 64)
			// kfile.Uint takes digits only, at most 20 of them.
			good = err == nil && len(fields[i]) <= 20 && fields[i][0] != '+'
		}
		if !good {
			bad++
			continue
		}
		listed[name] = true
		want = append(want, netdev.Counters{
			Name:    name,
			RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDrops: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDrops: v[11],
		})
	}
	return want, bad
}

// FuzzParse: the parser never panics; it gives what a plain standard
// library parse gives, refuses as many lines, and reads its own output
// back unchanged; its error wraps ErrSyntax and is short, printable ASCII.
func FuzzParse(f *testing.F) {
	for _, b := range fixtures.Files("dev*", "*net*dev*") {
		f.Add(string(b))
	}
	const h = "Inter-|   Receive                                                |  Transmit\n" +
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
	const c16 = " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	for _, s := range []string{
		h + "    lo:" + c16 + "  eth0:" + c16,
		h + "|a:" + c16 + `e\:` + c16 + "e:" + c16,
		"\xff\xfe:" + c16 + "caf\xc3\xa9:" + c16,
		`we,ird"=x:` + c16 + "a:b:" + c16,
		"eth0: 1 2 3\n:\n..:" + c16 + "a b:" + c16,
		"eth0:" + c16 + "eth0:" + c16,
		"eth0: 18446744073709551615 0 0 0 0 0 0 0 18446744073709551616 0 0 0 0 0 0 0\n",
		"eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 x\n",
		"\n\n \t\n",
		"eth0\t:\t1\t2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
		"1234567890123456:" + c16 + "123456789012345:" + c16,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var p netdev.Parser
		got, err := p.ParseBytes([]byte(text), nil)
		want, bad := reference(text)

		var se *netdev.SyntaxError
		switch {
		case err == nil && bad != 0:
			t.Fatalf("no error, want %d lines refused", bad)
		case err != nil && (!errors.As(err, &se) || !errors.Is(err, netdev.ErrSyntax)):
			t.Fatalf("error %v is not a *SyntaxError wrapping ErrSyntax", err)
		case se != nil && se.Lines != bad:
			t.Fatalf("%d lines refused, want %d: %v", se.Lines, bad, err)
		}
		if err != nil {
			msg := err.Error()
			if len(msg) > 600 {
				t.Fatalf("error of %d bytes", len(msg))
			}
			for i := 0; i < len(msg); i++ {
				if msg[i] < ' ' || msg[i] > '~' {
					t.Fatalf("error holds byte %#x: %q", msg[i], msg)
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d interfaces, want %d:\ngot  %+v\nwant %+v", len(got), len(want), got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("interface %d: %+v, want %+v", i, got[i], want[i])
			}
		}

		// What the parser gave, written as the kernel writes it, reads back
		// the same.
		var out []byte
		for _, c := range got {
			out = devLine(out, c)
		}
		again, err := p.ParseBytes(out, nil)
		if err != nil || len(again) != len(got) {
			t.Fatalf("its own output: %d interfaces of %d, %v", len(again), len(got), err)
		}
		for i := range got {
			if again[i] != got[i] {
				t.Fatalf("its own output: %+v, want %+v", again[i], got[i])
			}
		}
	})
}
