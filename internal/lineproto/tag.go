// Package lineproto says what InfluxDB line protocol can carry as it is:
// a value written as a tag by Telegraf and read back by its parsers.
// Names that come from the kernel (interfaces, VMs, sensors) are checked
// here before they become tags.
package lineproto

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrTagValue is wrapped by the errors of CheckTagValue.
var ErrTagValue = errors.New("cannot be written as a line-protocol tag value that reads back unchanged")

// The reasons CheckTagValue gives. They name what is wrong without
// quoting the value: the caller quotes it (%q) if it must.
var (
	errEmpty     = tagErr("empty (Telegraf's serializer drops the tag)")
	errNotUTF8   = tagErr("not valid UTF-8 (line protocol decoders refuse it)")
	errControl   = tagErr("holds a control character (line protocol decoders refuse it)")
	errBackslash = tagErr(`ends with a backslash (Telegraf's serializer trims it, and the name would become another)`)
	errQuote     = tagErr(`holds a backslash before '"' together with ',', '=' or a space (Telegraf's parser would drop that backslash)`)
)

type tagError struct{ reason string }

func tagErr(reason string) error { return &tagError{reason} }

func (e *tagError) Error() string { return e.reason + ": " + ErrTagValue.Error() }
func (e *tagError) Unwrap() error { return ErrTagValue }

// CheckTagValue says whether s, written as a tag value by Telegraf's
// influx serializer (plugins/serializers/influx), reads back as exactly s
// through both line-protocol decoders Telegraf uses: its own parser
// (plugins/parsers/influx) and line-protocol/v2's (influx_parser_type =
// "upstream"). It returns nil if so, and otherwise an error wrapping
// ErrTagValue that says why. Because every value it accepts reads back
// as itself, two different values it accepts never make the same series.
//
// The serializer escapes ',', '=' and ' ' with a backslash and leaves
// other backslashes alone; both decoders take a backslash before one of
// those three as an escape and keep any other backslash. That round-trips,
// except for:
//   - an empty value, which the serializer drops with its tag;
//   - invalid UTF-8 and control bytes (below 0x20, and 0x7f), which
//     line-protocol/v2 refuses (the serializer writes \t, \n, \f and \r as
//     two characters that no decoder turns back);
//   - a trailing backslash, which the serializer trims ("e\" becomes "e",
//     another interface);
//   - `\"` in a value that also holds ',', '=' or ' ': Telegraf's own
//     parser then unescapes `\"` to `"`.
//
// It does not allocate.
func CheckTagValue(s string) error {
	if s == "" {
		return errEmpty
	}
	if !utf8.ValidString(s) {
		return errNotUTF8
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return errControl
		}
	}
	if s[len(s)-1] == '\\' {
		return errBackslash
	}
	if strings.Contains(s, `\"`) && strings.ContainsAny(s, ",= ") {
		return errQuote
	}
	return nil
}
