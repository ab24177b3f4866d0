package kfile

import "fmt"

// ParseUint parses an attribute holding one unsigned decimal number, such
// as energy_uj: digits, then optional white space (the kernel ends with a
// newline). The error says what is wrong, never what the bytes were. It does
// not allocate when the value is valid.
func ParseUint(b []byte) (uint64, error) {
	b = TrimSpace(b)
	if len(b) == 0 {
		return 0, ErrEmpty
	}
	v, ok := Uint(b)
	if !ok {
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("not a decimal number: %w", ErrSyntax)
			}
		}
		return 0, fmt.Errorf("number above 64 bits: %w", ErrSyntax)
	}
	return v, nil
}

// Uint parses a token of decimal digits, as /proc and cgroup files write
// counters. ok is false for an empty token, any other byte, or a value that
// does not fit 64 bits. It does not allocate.
func Uint(b []byte) (v uint64, ok bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) < 20 { // below 10^19: no overflow to check for
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + uint64(c-'0')
		}
		return v, true
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (^uint64(0)-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// TrimSpace drops trailing spaces, tabs, carriage returns and newlines.
func TrimSpace(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case ' ', '\t', '\r', '\n':
			b = b[:len(b)-1]
		default:
			return b
		}
	}
	return b
}

// NextField returns the first run of non-blank bytes of b (blanks are
// spaces and tabs) and what follows it; field is nil when b holds none.
func NextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	if i == len(b) {
		return nil, nil
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}

// NextLine returns the first line of b, without its newline, and the rest.
func NextLine(b []byte) (line, rest []byte) {
	for i, c := range b {
		if c == '\n' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}
