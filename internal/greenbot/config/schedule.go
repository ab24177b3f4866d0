package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Period is the kind of a digest: what one covers.
type Period int

const (
	Daily  Period = iota // the calendar day before the digest's day
	Weekly               // the seven calendar days before
)

func (p Period) String() string {
	if p == Weekly {
		return "weekly"
	}
	return "daily"
}

// Days is how many calendar days a period holds.
func (p Period) Days() int {
	if p == Weekly {
		return 7
	}
	return 1
}

// Schedule says when a digest is due: every day, or one weekday, at a wall
// clock time of a time zone. Daylight-saving changes follow the zone: a
// time the spring change skips (02:30 in Paris on the last Sunday of
// March) is due an hour later, at 03:30; a time the autumn change repeats
// is due once, the first time.
type Schedule struct {
	Period  Period
	Weekday time.Weekday // Weekly only
	Hour    int
	Minute  int
	Loc     *time.Location
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday,
	"saturday": time.Saturday,
}

// ParseSchedule reads "daily 08:00" or "weekly monday 08:00".
func ParseSchedule(s string, loc *time.Location) (Schedule, error) {
	f := strings.Fields(strings.ToLower(s))
	sc := Schedule{Loc: loc}
	var clock string
	switch {
	case len(f) == 2 && f[0] == "daily":
		sc.Period, clock = Daily, f[1]
	case len(f) == 3 && f[0] == "weekly":
		wd, ok := weekdays[f[1]]
		if !ok {
			return sc, fmt.Errorf("schedule %q: %q is not a weekday (monday … sunday)", s, f[1])
		}
		sc.Period, sc.Weekday, clock = Weekly, wd, f[2]
	default:
		return sc, fmt.Errorf("schedule %q: want \"daily HH:MM\" or \"weekly WEEKDAY HH:MM\"", s)
	}
	h, m, ok := strings.Cut(clock, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(m) != 2 {
		return sc, fmt.Errorf("schedule %q: %q is not a time of day HH:MM (00:00 to 23:59)", s, clock)
	}
	sc.Hour, sc.Minute = hh, mm
	return sc, nil
}

// at is the schedule's instant on the calendar day of y-m-d: the first
// instant whose wall clock shows Hour:Minute, or the next one that exists.
func (s Schedule) at(y int, m time.Month, d int) time.Time {
	t := time.Date(y, m, d, s.Hour, s.Minute, 0, 0, s.Loc)
	// In a repeated hour Go may choose either; take the first.
	if e := t.Add(-time.Hour); e.Hour() == s.Hour && e.Minute() == s.Minute && e.Day() == d {
		return e
	}
	return t
}

// Next is the first due instant strictly after t.
func (s Schedule) Next(t time.Time) time.Time {
	l := t.In(s.Loc)
	for i := 0; i <= 8; i++ {
		day := time.Date(l.Year(), l.Month(), l.Day()+i, 12, 0, 0, 0, s.Loc)
		if s.Period == Weekly && day.Weekday() != s.Weekday {
			continue
		}
		if c := s.at(day.Year(), day.Month(), day.Day()); c.After(t) {
			return c
		}
	}
	panic("unreachable: a weekday comes back within 8 days")
}

// Last is the latest due instant at or before t.
func (s Schedule) Last(t time.Time) time.Time {
	l := t.In(s.Loc)
	for i := 0; i <= 8; i++ {
		day := time.Date(l.Year(), l.Month(), l.Day()-i, 12, 0, 0, 0, s.Loc)
		if s.Period == Weekly && day.Weekday() != s.Weekday {
			continue
		}
		if c := s.at(day.Year(), day.Month(), day.Day()); !c.After(t) {
			return c
		}
	}
	panic("unreachable: a weekday comes back within 8 days")
}

// Covers is the period a digest due at due reports on: whole calendar days
// of the zone, ending at the midnight that starts due's day. A day of a
// daylight-saving change lasts 23 or 25 hours.
func (s Schedule) Covers(due time.Time) (start, end time.Time) {
	l := due.In(s.Loc)
	end = time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, s.Loc)
	start = time.Date(l.Year(), l.Month(), l.Day()-s.Period.Days(), 0, 0, 0, 0, s.Loc)
	return start, end
}
