package attribute

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/internal/lineproto"
)

var noon = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func names(out []Load) []string {
	var s []string
	for _, l := range out {
		s = append(s, fmt.Sprintf("%s/%s=%s", l.Name, l.Kind, l.CPU))
	}
	return s
}

func TestSelectTopNAndOther(t *testing.T) {
	s := Selector{TopN: 2, MinShare: 0.1, PerDay: 10, MaxLen: 8}
	loads := []Load{
		{"nginx", "service", 3 * time.Second},
		{"postgres", "service", 5 * time.Second},
		{"cron", "service", 1 * time.Second},
		{"idle", "service", 0},
		{"nginx", "container", 2 * time.Second}, // another kind: another workload
		{"bad\x01name", "service", 900 * time.Millisecond},
		{"bad\x02name", "service", 100 * time.Millisecond}, // cleans to the same name: added up
	}
	out, n := s.Select(noon, loads, 20*time.Second)
	require.Equal(t, 2, n)
	require.Equal(t, []string{"postgres/service=5s", "nginx/service=3s"}, names(out[:n]))
	require.ElementsMatch(t, []string{"nginx/container=2s", "cron/service=1s", "bad?name/service=1s"}, names(out[n:]))

	// MinShare: of 20 s busy, 10 % is 2 s: cron (1 s) never gets a series.
	s.TopN = 10
	out, n = s.Select(noon, loads, 20*time.Second)
	require.Equal(t, []string{"postgres/service=5s", "nginx/service=3s", "nginx/container=2s"}, names(out[:n]))

	// Busy below the loads' sum (read a moment apart): the sum is the whole.
	out, n = s.Select(noon, loads[:1], 0)
	require.Equal(t, 1, n)
	require.Equal(t, "nginx", out[0].Name)

	// Ties are broken by name, then kind: the same input, the same output.
	tie := []Load{{"b", "x", time.Second}, {"a", "y", time.Second}, {"a", "x", time.Second}}
	s.TopN = 2
	out, n = s.Select(noon, tie, 0)
	require.Equal(t, []string{"a/x=1s", "a/y=1s"}, names(out[:n]))
}

// A day of random names: 100,000 of them over 86,400 gathers, each
// busier than the machine's three steady services. The names that get a
// series in a day stay within the cap, the steady services keep theirs all
// day, and the next day starts with them (they used more than min_share
// of the day's busy time) and room for new names, not with the day's
// random names that will never come back.
func TestSelectDailyCapUnderRandomNames(t *testing.T) {
	const perDay = 20
	s := Selector{TopN: 10, MinShare: 0.01, PerDay: perDay, MaxLen: 64}
	rng := rand.New(rand.NewPCG(1, 2))
	steady := []Load{{"nginx", "service", 2 * time.Second}, {"postgres", "service", time.Second}, {"sshd", "service", 500 * time.Millisecond}}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	series := map[int64]map[string]bool{}
	random := 0
	loads := make([]Load, 0, 8)
	for sec := 0; sec < 86400+3600; sec++ {
		now := start.Add(time.Duration(sec) * time.Second)
		loads = append(loads[:0], steady...)
		for k := 0; k < 1+sec%7/5; k++ { // 1 or 2 new names a gather
			loads = append(loads, Load{fmt.Sprintf("job-%016x", rng.Uint64()), "service", time.Duration(3+rng.IntN(5)) * time.Second})
			random++
		}
		out, n := s.Select(now, loads, 10*time.Second)
		day := DayOf(now)
		if series[day] == nil {
			series[day] = map[string]bool{}
		}
		for _, l := range out[:n] {
			series[day][l.Name] = true
		}
		if sec > 3600 && sec < 86400 {
			for _, st := range steady {
				require.Contains(t, names(out[:n]), fmt.Sprintf("%s/%s=%s", st.Name, st.Kind, st.CPU), "a steady service loses its series at %s", now)
			}
		}
	}
	require.GreaterOrEqual(t, random, 100_000)
	d0 := DayOf(start)
	require.Len(t, series[d0], perDay, "the first day fills its cap and no more")
	require.Len(t, series[d0+1], perDay, "the next day has its own room")
	for _, st := range steady {
		require.True(t, series[d0][st.Name])
		require.True(t, series[d0+1][st.Name])
	}
}

func TestSelectDoesNotAllocate(t *testing.T) {
	s := Selector{TopN: 3, MinShare: 0, PerDay: 100, MaxLen: 64}
	var loads []Load
	for i := range 50 {
		loads = append(loads, Load{fmt.Sprintf("p%d", i), "program", time.Duration(i) * time.Millisecond})
	}
	s.Select(noon, loads, time.Second)
	require.Zero(t, testing.AllocsPerRun(100, func() { s.Select(noon, loads, time.Second) }))
}

func TestCleanName(t *testing.T) {
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"nginx", 64, "nginx"},
		{"", 64, "?"},
		{"a\x00b\nc\x7f", 64, "a?b?c?~5c901b0a"},
		{"bad\xffutf8", 64, "bad?utf8" + HashSuffix("bad\xffutf8")},
		{`trailing\`, 64, `trailing?` + HashSuffix(`trailing\`)},
		{`say \"hi\", ok`, 64, `say ?"hi?", ok` + HashSuffix(`say \"hi\", ok`)},
		// Characters that show as nothing or turn the text around.
		{"vm\u202egpj.exe", 64, "vm?gpj.exe" + HashSuffix("vm\u202egpj.exe")},
		{"ng\u200binx", 64, "ng?inx" + HashSuffix("ng\u200binx")},
		{"\ufeffsshd\u2066", 64, "?sshd?" + HashSuffix("\ufeffsshd\u2066")},
		{"c1\u0085", 64, "c1?" + HashSuffix("c1\u0085")},
		{"line\u2028sep", 64, "line?sep" + HashSuffix("line\u2028sep")},
		// Cut to leave room for the hash, which is of the whole name.
		{"0123456789\x01abc", 12, "012" + HashSuffix("0123456789\x01abc")},
		// No room for the hash below 10 bytes.
		{"a\x01", 9, "a?"},
		{"été ünïcode", 64, "été ünïcode"},
		{"with space,comma=", 64, "with space,comma="},
		{"0123456789", 8, "01234567"},
		{"0123456é", 8, "0123456"},
		{`0123456\x`, 8, `0123456?`},
		{"x", 0, "x"},
	} {
		require.Equal(t, tt.want, CleanName(tt.in, tt.max), "CleanName(%q, %d)", tt.in, tt.max)
	}
}

// Whatever the kernel calls a workload, its cleaned name reads back as
// itself through line protocol, is within the limit, and cleaning it
// again changes nothing.
func FuzzCleanName(f *testing.F) {
	for _, p := range fixtures.Paths("*") {
		f.Add(filepath.Base(filepath.Dir(p)), 16)
	}
	f.Add("kworker/0:1H-kblockd", 15)
	f.Add("a\\\"b c", 64)
	f.Add("\xff\xfe", 1)
	f.Add("vm\u202egpj.exe", 64)
	f.Add("\u200b\u2060\ufeff", 12)
	f.Fuzz(func(t *testing.T, name string, maxLen int) {
		maxLen = maxLen%300 + 1
		if maxLen < 1 {
			maxLen = -maxLen + 1
		}
		got := CleanName(name, maxLen)
		if err := lineproto.CheckTagValue(got); err != nil {
			t.Fatalf("CleanName(%q, %d) = %q: %v", name, maxLen, got, err)
		}
		if len(got) > maxLen && got != "?" {
			t.Fatalf("CleanName(%q, %d) = %q: longer than the limit", name, maxLen, got)
		}
		if HasInvisible(got) {
			t.Fatalf("CleanName(%q, %d) = %q: an invisible character is left", name, maxLen, got)
		}
		if again := CleanName(got, maxLen); again != got {
			t.Fatalf("CleanName is not idempotent: %q then %q", got, again)
		}
		if len(name) <= maxLen && lineproto.CheckTagValue(name) == nil && !HasInvisible(name) && got != name {
			t.Fatalf("CleanName(%q) changed a name that was fine: %q", name, got)
		}
	})
}

// A burst of new names at midnight, while nginx is idle, cannot take
// nginx's place for the day: it was busy the day before.
func TestSelectKeepsYesterdaysBusyNames(t *testing.T) {
	s := Selector{TopN: 5, MinShare: 0.01, PerDay: 10, MaxLen: 64}
	day1 := time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)
	for i := range 60 {
		s.Select(day1.Add(time.Duration(i)*time.Minute), []Load{{"nginx", "service", 5 * time.Second}, {fmt.Sprintf("once-%d", i), "service", 100 * time.Millisecond}}, 10*time.Second)
	}
	day2 := day1.Add(time.Hour + time.Second)
	for i := range 20 {
		var loads []Load
		for j := range 10 {
			loads = append(loads, Load{fmt.Sprintf("burst-%d-%d", i, j), "service", 4 * time.Second})
		}
		s.Select(day2.Add(time.Duration(i)*time.Second), loads, 100*time.Second)
	}
	require.Equal(t, 10, s.Admitted(), "the day is full")
	out, n := s.Select(day2.Add(time.Minute), []Load{{"nginx", "service", 5 * time.Second}}, 10*time.Second)
	require.Equal(t, []string{"nginx/service=5s"}, names(out[:n]))
	// once-N names (1 % of their day each, under min_share) were not kept.
	_, n = s.Select(day2.Add(2*time.Minute), []Load{{"once-59", "service", 5 * time.Second}}, 10*time.Second)
	require.Zero(t, n)
}
