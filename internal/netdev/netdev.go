// Package netdev reads the kernel's per-interface traffic counters
// (/proc/net/dev) and, for each interface, what Telegraf's net input adds
// from sysfs: the link speed and whether the interface exists, is up and
// is a loopback. It also says which interface names can be written as a
// line-protocol tag value that reads back unchanged.
//
// It never imports Telegraf.
package netdev

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/greencampus/powerinput/internal/kfile"
)

// ErrSyntax is wrapped by every parse error of this package.
var ErrSyntax = errors.New("invalid /proc/net/dev line")

// Counters are one interface's cumulative counters.
type Counters struct {
	Name                                  string
	RxBytes, RxPackets, RxErrors, RxDrops uint64
	TxBytes, TxPackets, TxErrors, TxDrops uint64
}

// NameLen is the longest interface name Linux allows (IFNAMSIZ - 1).
const NameLen = 15

// numCounters is how many counters the kernel writes per interface.
const numCounters = 16

// Parser parses /proc/net/dev content. It keeps the names of the
// interfaces it saw in its last few parses, so that parsing the same
// interfaces again does not allocate; names not seen for forgetAfter
// parses are dropped, so interfaces that come and go cost no memory once
// gone. The zero value is ready to use. It is not safe for concurrent use.
type Parser struct {
	names map[string]seen
	parse uint64 // parses so far
}

type seen struct {
	name  string
	parse uint64 // the last parse that listed it
}

// forgetAfter is how many parses a name absent from /proc/net/dev is kept.
const forgetAfter = 3

// ParseBytes parses /proc/net/dev content into dst (reused) and returns
// it. Lines without a ':' are the two header lines (or blank) and are
// skipped. Each other line is an interface: the name is what lies between
// the leading blanks and the first ':' (Linux forbids ':' in a name, and
// allows '|', ',', '=', '"', '\' and bytes that are not UTF-8), followed by
// at least 16 decimal counters. A line that is not so, whose name Linux
// would refuse, or that repeats an interface already listed, is left out
// and reported in the returned *SyntaxError; the other interfaces are kept.
//
// A name that Linux allows is thus safe as a path element under
// /sys/class/net: never empty, ".", "..", nor holding '/'.
//
// With well-formed content and the same interfaces as before, it does not
// allocate.
func (p *Parser) ParseBytes(b []byte, dst []Counters) ([]Counters, error) {
	dst = dst[:0]
	p.parse++
	if p.names == nil {
		p.names = map[string]seen{}
	}
	var bad *SyntaxError
	for n := 1; len(b) > 0; n++ {
		var line []byte
		line, b = kfile.NextLine(b)
		c, reason := p.parseLine(line)
		switch {
		case reason == header:
		case reason != "":
			if bad == nil {
				bad = &SyntaxError{}
			}
			bad.add(n, line, reason)
		default:
			dst = append(dst, c)
		}
	}
	p.forget(len(dst))
	if bad != nil {
		return dst, bad
	}
	return dst, nil
}

// header is parseLine's reason for a line that holds no interface.
const header = "header"

func (p *Parser) parseLine(line []byte) (Counters, string) {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	colon := bytes.IndexByte(line[i:], ':')
	if colon < 0 {
		if i == len(line) || bytes.IndexByte(line, '|') >= 0 {
			return Counters{}, header
		}
		return Counters{}, "no ':' after an interface name"
	}
	colon += i
	name := line[i:colon]
	if why := nameProblem(name); why != "" {
		return Counters{}, why
	}
	var v [numCounters]uint64
	rest := line[colon+1:]
	for k := range v {
		var f []byte
		f, rest = kfile.NextField(rest)
		if f == nil {
			return Counters{}, fmt.Sprintf("%d counters, want %d", k, numCounters)
		}
		x, ok := kfile.Uint(f)
		if !ok {
			return Counters{}, fmt.Sprintf("counter %d is not a decimal number below 2^64", k+1)
		}
		v[k] = x
	}
	// Fields past the 16th are left alone: a kernel that appends a column
	// keeps the first sixteen where they are.
	s, dup := p.intern(name)
	if dup {
		return Counters{}, "interface listed twice"
	}
	return Counters{
		Name:    s,
		RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDrops: v[3],
		TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDrops: v[11],
	}, ""
}

// intern returns the string for name, allocating it only for a name not
// seen lately; dup is true if this parse already listed it.
func (p *Parser) intern(name []byte) (s string, dup bool) {
	if e, ok := p.names[string(name)]; ok {
		if e.parse == p.parse {
			return e.name, true
		}
		p.names[e.name] = seen{e.name, p.parse}
		return e.name, false
	}
	s = string(name)
	p.names[s] = seen{s, p.parse}
	return s, false
}

// forget drops the names not listed in the last forgetAfter parses, when
// they have become a fair share of those kept.
func (p *Parser) forget(live int) {
	if len(p.names) <= live+live/4+64 {
		return
	}
	for k, e := range p.names {
		if p.parse-e.parse >= forgetAfter {
			delete(p.names, k)
		}
	}
}

// kept is how many names the parser holds (for tests).
func (p *Parser) kept() int { return len(p.names) }

// nameProblem says why Linux would refuse b as an interface name
// (net/core/dev.c: dev_valid_name), or "" when it would not.
func nameProblem(b []byte) string {
	switch {
	case len(b) == 0:
		return "no interface name before ':'"
	case len(b) > NameLen:
		return fmt.Sprintf("interface name longer than %d bytes", NameLen)
	case string(b) == "." || string(b) == "..":
		return `interface name "." or ".."`
	}
	for _, c := range b {
		switch {
		case c == 0:
			return "interface name holds a NUL byte"
		case c == '/':
			return "interface name holds '/'"
		case kernelSpace(c):
			return "interface name holds white space"
		}
	}
	return ""
}

// kernelSpace is the kernel's isspace (lib/ctype.c): the ASCII blanks, and
// 0xA0, which its Latin-1 table counts as a space.
func kernelSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0
}

// SyntaxError lists the lines of one parse that were left out, by number
// and reason. It wraps ErrSyntax. It never quotes the file: a message says
// what was wrong, not what was there (the file may not be what it claims).
type SyntaxError struct {
	// Lines is how many lines were left out.
	Lines int
	first [maxQuoted]badLine
}

type badLine struct {
	n      int
	reason string
}

// maxQuoted is how many bad lines an error describes.
const maxQuoted = 3

func (e *SyntaxError) add(n int, _ []byte, reason string) {
	if e.Lines < maxQuoted {
		e.first[e.Lines] = badLine{n: n, reason: reason}
	}
	e.Lines++
}

func (e *SyntaxError) Error() string {
	var sb strings.Builder
	if e.Lines == 1 {
		sb.WriteString("1 invalid line: ")
	} else {
		fmt.Fprintf(&sb, "%d invalid lines: ", e.Lines)
	}
	for i, l := range e.first[:min(e.Lines, maxQuoted)] {
		if i > 0 {
			sb.WriteString("; ")
		}
		fmt.Fprintf(&sb, "line %d: %s", l.n, l.reason)
	}
	if e.Lines > maxQuoted {
		fmt.Fprintf(&sb, "; and %d more", e.Lines-maxQuoted)
	}
	return sb.String()
}

// Unwrap makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }
