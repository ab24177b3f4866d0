package powerinput

import (
	"fmt"
	"math"
	"time"
)

// Duration is a configuration option holding a duration, written as
// Telegraf writes them: a string such as "1s" or "500ms", or a number of
// seconds. (Telegraf's own config.Duration would pull its whole
// configuration machinery into this small binary.)
type Duration time.Duration

// UnmarshalTOML reads a TOML string or number.
func (d *Duration) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		p, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as \"1s\" or \"500ms\"", v)
		}
		*d = Duration(p)
	case int64:
		if v < 0 || v > math.MaxInt64/int64(time.Second) {
			return fmt.Errorf("%d seconds is out of range", v)
		}
		*d = Duration(time.Duration(v) * time.Second)
	case float64:
		if !(v >= 0 && v < float64(math.MaxInt64/int64(time.Second))) {
			return fmt.Errorf("%v seconds is out of range", v)
		}
		*d = Duration(v * float64(time.Second))
	default:
		return fmt.Errorf("want a duration such as \"1s\", not a %T", v)
	}
	return nil
}

// String is the duration as Go writes it.
func (d Duration) String() string { return time.Duration(d).String() }
