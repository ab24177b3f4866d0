package config

import (
	"testing"
	"time"
)

func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no time zone data for Europe/Paris: %v", err)
	}
	return loc
}

func TestScheduleNextAcrossDST(t *testing.T) {
	loc := paris(t)
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		schedule string
		after    string // UTC
		want     string // UTC
	}{
		// Winter: Paris is UTC+1.
		{"daily 08:00", "2026-01-10T06:00:00Z", "2026-01-10T07:00:00Z"},
		{"daily 08:00", "2026-01-10T07:00:00Z", "2026-01-11T07:00:00Z"},
		// 29 March 2026: clocks go 02:00 → 03:00; 08:00 is now UTC+2.
		{"daily 08:00", "2026-03-28T07:00:00Z", "2026-03-29T06:00:00Z"},
		// 02:30 does not exist that night: due at 03:30 CEST.
		{"daily 02:30", "2026-03-28T12:00:00Z", "2026-03-29T01:30:00Z"},
		// 25 October 2026: 03:00 → 02:00; 02:30 happens twice, due once, the first.
		{"daily 02:30", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z"},
		{"daily 02:30", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
		{"daily 08:00", "2026-10-24T06:00:00Z", "2026-10-25T07:00:00Z"},
		// Weekly: Monday 08:00, across the March change.
		{"weekly monday 08:00", "2026-03-23T07:00:00Z", "2026-03-30T06:00:00Z"},
		{"weekly Monday 08:00", "2026-03-25T00:00:00Z", "2026-03-30T06:00:00Z"},
		{"weekly sunday 23:59", "2026-03-29T21:58:00Z", "2026-03-29T21:59:00Z"},
	} {
		s, err := ParseSchedule(tc.schedule, loc)
		if err != nil {
			t.Fatalf("%s: %v", tc.schedule, err)
		}
		got := s.Next(utc(tc.after))
		if !got.Equal(utc(tc.want)) {
			t.Errorf("%s after %s: got %s, want %s", tc.schedule, tc.after, got.UTC().Format(time.RFC3339), tc.want)
		}
		if last := s.Last(got); !last.Equal(got) {
			t.Errorf("%s: Last(%s) = %s, want itself", tc.schedule, got, last)
		}
		if last := s.Last(got.Add(-time.Second)); !last.Before(got) || !s.Next(last).Equal(got) {
			t.Errorf("%s: Last before %s = %s, whose Next is not it", tc.schedule, got, last)
		}
	}
}

func TestCoversDSTDays(t *testing.T) {
	loc := paris(t)
	for _, tc := range []struct {
		schedule string
		due      time.Time
		hours    float64
	}{
		{"daily 08:00", time.Date(2026, 3, 30, 8, 0, 0, 0, loc), 23},  // covers 29 March
		{"daily 08:00", time.Date(2026, 10, 26, 8, 0, 0, 0, loc), 25}, // covers 25 October
		{"daily 08:00", time.Date(2026, 6, 2, 8, 0, 0, 0, loc), 24},
		{"weekly monday 08:00", time.Date(2026, 3, 30, 8, 0, 0, 0, loc), 7*24 - 1},
		{"weekly monday 08:00", time.Date(2026, 10, 26, 8, 0, 0, 0, loc), 7*24 + 1},
	} {
		s, err := ParseSchedule(tc.schedule, loc)
		if err != nil {
			t.Fatal(err)
		}
		start, end := s.Covers(tc.due)
		if got := end.Sub(start).Hours(); got != tc.hours {
			t.Errorf("%s due %s: covers %s to %s, %v h, want %v h", tc.schedule, tc.due, start, end, got, tc.hours)
		}
		if ls, le := start.In(loc), end.In(loc); ls.Hour() != 0 || le.Hour() != 0 || le.Day() != tc.due.Day() {
			t.Errorf("%s: covers %s to %s, want local midnights ending on the due day", tc.schedule, ls, le)
		}
	}
}

func TestParseScheduleRejects(t *testing.T) {
	for _, s := range []string{"", "daily", "daily 8", "daily 24:00", "daily 08:60", "daily 08:5", "weekly 08:00",
		"weekly funday 08:00", "monthly 1 08:00", "hourly :30", "daily 08:00 extra"} {
		if _, err := ParseSchedule(s, time.UTC); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}
