package attribute

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Load is one workload's CPU time over an interval.
type Load struct {
	// Name as the kernel gives it; the Selector cleans it.
	Name string
	// Kind tells workloads of the same name apart (a service and a
	// container, a program and a kernel thread).
	Kind string
	CPU  time.Duration
}

// Selector bounds which workloads get a series of their own, so that the
// names written to a database with a long retention stay few whatever
// runs on the machine (a fork bomb, a CI runner making random names):
//
//   - per interval, only the TopN workloads by CPU time, among those with
//     at least MinShare of the interval's busy CPU time;
//   - per UTC day, at most PerDay distinct names: a name seen earlier in
//     the day is written again whenever it is in the top N, a new one only
//     while the day has room. The others add up into "other". A day
//     starts with the previous day's names that used at least MinShare of
//     that day's busy CPU time already let in (at most half of PerDay, the
//     busiest first), so that a burst of new names early in the day (a
//     fork bomb, a CI run) cannot take the places of the machine's steady
//     workloads; the first day after a start is first come, first served.
//
// So a day writes at most PerDay names of a kind's measurement, plus the
// fixed parts. Names are cleaned for line protocol (see CleanName) and
// cut to MaxLen bytes; workloads whose cleaned names and kinds are equal
// are added up.
type Selector struct {
	TopN     int
	MinShare float64 // 0 to 1
	PerDay   int
	MaxLen   int

	day      int64
	admitted map[nameKey]time.Duration // CPU time today
	dayBusy  time.Duration
	carry    []nameCPU
	clean    map[string]string
	agg      map[nameKey]int
	out      []Load
}

type nameKey struct{ name, kind string }

type nameCPU struct {
	k   nameKey
	cpu time.Duration
}

// maxCleanCache bounds the memory of cleaned names (names come and go).
const maxCleanCache = 8192

// Select adds loads up by cleaned name and kind, and returns them with
// the ones to write on their own first: out[:n] get their own series,
// out[n:] add up into other. busy is the interval's busy CPU time, of
// which MinShare is taken. out is reused by the next call. Once warm it
// allocates only for names it has not seen (and once a day).
func (s *Selector) Select(now time.Time, loads []Load, busy time.Duration) (out []Load, n int) {
	if s.admitted == nil {
		s.admitted, s.clean, s.agg = map[nameKey]time.Duration{}, map[string]string{}, map[nameKey]int{}
		s.day = DayOf(now)
	}
	if day := DayOf(now); day != s.day {
		s.newDay(day)
	}
	if len(s.clean) > maxCleanCache {
		clear(s.clean)
	}
	s.out = s.out[:0]
	clear(s.agg)
	var sum time.Duration
	for _, l := range loads {
		if l.CPU <= 0 {
			continue
		}
		sum += l.CPU
		name, ok := s.clean[l.Name]
		if !ok {
			name = CleanName(l.Name, s.MaxLen)
			s.clean[l.Name] = name
		}
		k := nameKey{name, l.Kind}
		if i, ok := s.agg[k]; ok {
			s.out[i].CPU += l.CPU
			continue
		}
		s.agg[k] = len(s.out)
		s.out = append(s.out, Load{Name: name, Kind: l.Kind, CPU: l.CPU})
	}
	out = s.out
	slices.SortFunc(out, func(a, b Load) int {
		if c := cmp.Compare(b.CPU, a.CPU); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	s.dayBusy += max(busy, sum)
	least := time.Duration(s.MinShare * float64(max(busy, sum)))
	for i := range out {
		if n == s.TopN || out[i].CPU < least {
			break
		}
		k := nameKey{out[i].Name, out[i].Kind}
		if _, ok := s.admitted[k]; !ok {
			if len(s.admitted) >= s.PerDay {
				continue // today's names are taken: into other
			}
			s.admitted[k] = 0
		}
		out[n], out[i] = out[i], out[n]
		n++
	}
	// Today's CPU time of the names let in, to choose those kept tomorrow.
	for _, l := range out {
		k := nameKey{l.Name, l.Kind}
		if cpu, ok := s.admitted[k]; ok {
			s.admitted[k] = cpu + l.CPU
		}
	}
	return out, n
}

// newDay starts day with the busiest half of the previous day's names.
func (s *Selector) newDay(day int64) {
	s.carry = s.carry[:0]
	if day == s.day+1 {
		least := max(time.Duration(s.MinShare*float64(s.dayBusy)), 1)
		for k, cpu := range s.admitted {
			if cpu >= least {
				s.carry = append(s.carry, nameCPU{k, cpu})
			}
		}
		slices.SortFunc(s.carry, func(a, b nameCPU) int {
			if c := cmp.Compare(b.cpu, a.cpu); c != 0 {
				return c
			}
			if c := strings.Compare(a.k.name, b.k.name); c != 0 {
				return c
			}
			return strings.Compare(a.k.kind, b.k.kind)
		})
		s.carry = s.carry[:min(len(s.carry), s.PerDay/2)]
	}
	clear(s.admitted)
	for _, c := range s.carry {
		s.admitted[c.k] = 0
	}
	s.day, s.dayBusy = day, 0
}

// Admitted is how many names the current day has let through.
func (s *Selector) Admitted() int { return len(s.admitted) }

// DayOf is the UTC day number of t (days since 1970-01-01).
func DayOf(t time.Time) int64 {
	sec := t.Unix()
	d := sec / 86400
	if sec < 0 && sec%86400 != 0 {
		d--
	}
	return d
}

// CleanName returns name as a tag value that line protocol carries and
// gives back unchanged, and that shows as what it is: bytes that are not
// UTF-8, control characters and invisible ones (Invisible) become '?', a
// backslash that Telegraf's serializer or parser would change (at the end;
// before '"' in a name with ',', '=' or a space) becomes '?' (see
// lineproto.CheckTagValue), and the name is cut to at most maxLen bytes
// (0: no limit) on a character boundary. A name with a character replaced
// ends with '~' and 8 hex digits of a hash of the whole name (when maxLen
// leaves room for them), so that two names that differ only there stay
// apart. An empty name is "?". It allocates only when it changes
// something.
func CleanName(name string, maxLen int) string {
	whole := name
	if maxLen > 0 && len(name) > maxLen {
		name = cutAt(name, maxLen)
	}
	if name == "" {
		return "?"
	}
	if clean(name) {
		return name
	}
	const suffix = 9 // "~" and 8 hex digits
	hashed := maxLen == 0 || maxLen > suffix
	if hashed && maxLen > 0 && len(name) > maxLen-suffix {
		name = cutAt(name, maxLen-suffix)
	}
	quoteRisk := strings.ContainsAny(name, ",= ")
	var b strings.Builder
	b.Grow(len(name) + suffix)
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		switch {
		case r == utf8.RuneError && size <= 1, r < 0x20, r == 0x7f, Invisible(r):
			b.WriteByte('?')
		case r == '\\' && (i+1 == len(name) || quoteRisk && name[i+1] == '"'):
			b.WriteByte('?')
		default:
			b.WriteString(name[i : i+size])
		}
		i += size
	}
	if hashed {
		b.WriteString(HashSuffix(whole))
	}
	return b.String()
}

// HashSuffix is '~' and 8 hex digits of a hash of s: what a cleaned name
// ends with, so that two names cleaned alike stay apart.
func HashSuffix(s string) string {
	h := fnv.New32a()
	h.Write([]byte(s))
	return fmt.Sprintf("~%08x", h.Sum32())
}

// cutAt cuts s to at most n bytes on a character boundary.
func cutAt(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Invisible says whether r shows as nothing, or changes how the text
// around it shows: the format characters (Unicode category Cf: zero-width
// spaces and joiners U+200B–U+200D, marks U+200E–U+200F, bidirectional
// embeddings and overrides U+202A–U+202E and isolates U+2066–U+2069, word
// joiners U+2060–U+2064, the byte order mark U+FEFF, …), the line and
// paragraph separators (U+2028, U+2029) and the C1 controls
// (U+0080–U+009F). A name holding one can pass for another when shown
// (a right-to-left override makes "vm\u202egpj.exe" show as "vmexe.jpg").
func Invisible(r rune) bool {
	return r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029 || unicode.Is(unicode.Cf, r)
}

// HasInvisible says whether s holds an Invisible character. A tag made of
// such a name is rewritten (vmhost.TagName, and CleanName here), but a
// guest counter's folder is not: guestcounter.CheckName accepts these
// characters (it refuses '/', control characters below U+0020 and U+007F,
// and invalid UTF-8), so the folder keeps the domain's own name.
func HasInvisible(s string) bool {
	return strings.IndexFunc(s, Invisible) >= 0
}

// clean: nothing for CleanName to change (its length aside).
func clean(name string) bool {
	if !utf8.ValidString(name) || name[len(name)-1] == '\\' || strings.Contains(name, `\"`) && strings.ContainsAny(name, ",= ") {
		return false
	}
	ascii := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c == 0x7f {
			return false
		}
		ascii = ascii && c < 0x80
	}
	return ascii || !HasInvisible(name)
}
