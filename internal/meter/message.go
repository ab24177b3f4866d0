package meter

import (
	"fmt"
	"strings"

	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/say"
)

// Message words the problem for the log, with its level. It names the
// channel (a file) and what was wrong with it, never what the file held.
func (p Problem) Message() (say.Level, string) {
	switch p.Kind {
	case ReadFailed:
		if p.Held {
			return say.Warn, fmt.Sprintf("cannot read %s: %s; no value for this interval, its energy goes into the next", p.Channel, kfile.Reason(p.Err, p.Channel))
		}
		return say.Error, fmt.Sprintf("cannot read %s: %s; no value for it until it can be read", p.Channel, kfile.Reason(p.Err, p.Channel))
	case Reset:
		if p.Share {
			return say.Warn, fmt.Sprintf("%s went backwards (the VM moved to another hypervisor, or its counter was reset): no value for this interval, the next is measured", p.Channel)
		}
		return say.Warn, fmt.Sprintf("%s went backwards (counter reset or driver reload): no value for this interval", p.Channel)
	case Implausible:
		if p.Share {
			return say.Warn, fmt.Sprintf("%s moved by %.0f J in %g s (%.0f W on average), more than this guest's bound of %.0f W (%.0f W per vCPU, at least %.0f W): the VM moved to another hypervisor, or its counter was replaced; no value for this interval, the next is measured",
				p.Channel, p.Power.Over(p.Interval).Joules(), p.Interval.Seconds(), p.Power.Watts(), p.Ceiling.Watts(), GuestPerVCPU.Watts(), GuestFloor.Watts())
		}
		return say.Warn, fmt.Sprintf("%s implies more than %.0f W, its ceiling (a counter reset, or a TDP set too low: the ceilings follow tdp_watts): no value for such an interval", p.Channel, p.Ceiling.Watts())
	case Ambiguous:
		return say.Warn, fmt.Sprintf("%s: the interval is long enough for the counter to wrap more than once, so its energy is unknown: no value for it; gather more often", p.Channel)
	case Moved:
		if p.Share {
			return say.Warn, fmt.Sprintf("%s: this VM's counter now comes from another hypervisor, or was made anew: this interval is left out, the next is measured", p.Channel)
		}
		return say.Warn, fmt.Sprintf("%s is another counter now (made anew): this interval is left out, the next is measured", p.Channel)
	case Stale:
		return say.Warn, fmt.Sprintf("%s has stopped advancing: no value for it until it moves", p.Channel)
	case Missing:
		return say.Warn, fmt.Sprintf("%s is missing: %v; no host total until it is back", p.Channel, p.Err)
	case ZeroInterval:
		return say.Warn, "no time passed since the previous gather: this gather has no power value; its energy goes into the next"
	}
	return say.Warn, strings.TrimSpace(fmt.Sprintf("%s: %v", p.Channel, p.Err))
}
