package vmhost

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/greencampus/powerinput/internal/attribute"
	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/internal/lineproto"
)

// The archives keep a cmdline one argument a line; the kernel separates
// them with NUL bytes.
func cmdlineSeeds() [][]byte {
	var out [][]byte
	for _, b := range fixtures.Files("cmdline") {
		out = append(out, bytes.ReplaceAll(b, []byte("\n"), []byte{0}))
	}
	return append(out,
		[]byte("/usr/bin/qemu-system-x86_64\x00-name\x00guest=a,,b,debug-threads=on\x00-smp\x004,sockets=4\x00"),
		[]byte("kvm\x00--name\x00x\x00-smp\x00sockets=2,cores=3\x00"),
		[]byte("qemu-kvm\x00-name\x00"))
}

func FuzzParseCmdline(f *testing.F) {
	for _, b := range cmdlineSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseCmdline(b)
		if err != nil {
			return
		}
		if a.Name == "" || a.VCPUs < 0 || a.VCPUs > maxVCPUs {
			t.Fatalf("ParseCmdline(%q) = %+v", b, a)
		}
		// The name is bytes of the command line, never more.
		if !bytes.Contains(b, []byte(strings.ReplaceAll(a.Name, ",", ""))) && !strings.Contains(a.Name, ",") {
			t.Fatalf("name %q is not in %q", a.Name, b)
		}
	})
}

func FuzzParseScopeName(f *testing.F) {
	for _, p := range fixtures.Paths() {
		for _, part := range strings.Split(p, "/") {
			f.Add(part)
		}
	}
	f.Add(`machine-qemu\x2d1\x2dgreenit.scope`)
	f.Add(`machine-qemu\x2d3\x2d\x2e\x2e.scope`)
	f.Add("qemu-4-db.libvirt-qemu")
	f.Add(`machine-qemu\x2d5\x2dprod` + "\u202e" + `db.scope`)
	f.Fuzz(func(t *testing.T, dir string) {
		name, id, ok := ParseScopeName(dir)
		if !ok {
			return
		}
		if name == "" || id < 0 {
			t.Fatalf("ParseScopeName(%q) = %q, %d", dir, name, id)
		}
		tag := TagName(name)
		if err := lineproto.CheckTagValue(tag); err != nil || Reserved(tag) || !utf8.ValidString(tag) || attribute.HasInvisible(tag) {
			t.Fatalf("TagName(%q) = %q: %v", name, tag, err)
		}
	})
}

func FuzzParseProcStat(f *testing.F) {
	for _, b := range fixtures.Files("stat") {
		f.Add(b)
	}
	f.Add([]byte("100 (qemu-system-x86) S 1 100 100 0 -1 4194560 0 0 0 0 150 50 0 0 20 0 9 0 5000 0 0\n"))
	f.Add([]byte("1 ((a) b)) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseProcStat(b)
		if err != nil {
			return
		}
		if len(s.Comm) > len(b) {
			t.Fatalf("comm longer than the input")
		}
		// Whatever the command name, the counters come from after it.
		close := bytes.LastIndexByte(b, ')')
		if close < 0 || !bytes.Contains(b[close:], []byte(" ")) {
			t.Fatalf("parsed %q without fields after comm", b)
		}
	})
}

// fieldsOf splits on spaces and tabs, as the kernel's files are.
func fieldsOf(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
}

func FuzzParseStatusUIDs(f *testing.F) {
	for _, b := range fixtures.Files("status") {
		f.Add(b)
	}
	f.Add([]byte("Uid:\t0\t0\t0\t0\n"))
	f.Add([]byte("Name:\tx\nUid:\t1 2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		real, eff, err := ParseStatusUIDs(b)
		if err != nil {
			return
		}
		// The IDs are the first two numbers of the first Uid line.
		for _, line := range strings.Split(string(b), "\n") {
			rest, ok := strings.CutPrefix(line, "Uid:")
			if !ok {
				continue
			}
			fields := fieldsOf(rest)
			r, err1 := strconv.ParseUint(strings.TrimSpace(fields[0]), 10, 32)
			e, err2 := strconv.ParseUint(strings.TrimSpace(fields[1]), 10, 32)
			if err1 != nil || err2 != nil || uint32(r) != real || uint32(e) != eff {
				t.Fatalf("ParseStatusUIDs(%q) = %d, %d", b, real, eff)
			}
			return
		}
		t.Fatalf("ParseStatusUIDs(%q) = %d, %d without a Uid line", b, real, eff)
	})
}

func FuzzParsePasswd(f *testing.F) {
	for _, b := range fixtures.Files("passwd") {
		f.Add(b)
	}
	f.Add([]byte("qemu:x:107:107::/:/sbin/nologin\nqemu:x:1:1::/:/bin/sh\n"))
	f.Add([]byte("+libvirt-qemu::::::\n#qemu:x:1\nlibvirt-qemu:x:4294967295:0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		users, _ := ParsePasswd(bytes.NewReader(b))
		// Each entry is a line of the file, in the file's order.
		lines := strings.Split(string(b), "\n")
		for _, u := range users {
			found := false
			for len(lines) > 0 && !found {
				f := strings.SplitN(strings.TrimSuffix(lines[0], "\r"), ":", 5)
				lines = lines[1:]
				if len(f) < 4 || f[0] != u.Name {
					continue
				}
				uid, err1 := strconv.ParseUint(f[2], 10, 32)
				gid, err2 := strconv.ParseUint(f[3], 10, 32)
				found = err1 == nil && err2 == nil && uint32(uid) == u.UID && uint32(gid) == u.GID
			}
			if !found || u.Name == "" {
				t.Fatalf("ParsePasswd(%q): %+v is no line's entry, or out of order", b, u)
			}
		}
	})
}

func FuzzParseUptime(f *testing.F) {
	for _, b := range fixtures.Files("uptime") {
		f.Add(b)
	}
	f.Add([]byte("350735.47 234388.90\n"))
	f.Add([]byte("1.5 0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ticks, err := ParseUptime(b)
		if err != nil {
			return
		}
		// The first field's whole seconds.
		whole, _, _ := strings.Cut(strings.TrimSpace(fieldsOf(string(b))[0]), ".")
		if n, err := strconv.ParseUint(whole, 10, 64); err != nil || n != ticks/100 {
			t.Fatalf("ParseUptime(%q) = %d ticks", b, ticks)
		}
	})
}
