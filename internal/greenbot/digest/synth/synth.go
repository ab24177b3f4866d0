// Package synth makes InfluxDB answers for a digest's queries as a campus
// of any size would give them, for tests and benchmarks that need
// thousands of hosts. Each host draws a constant power, so every sum is
// known in advance: Watts(i) for host i.
package synth

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/influx"
)

// Watts is the power of host i at its basis.
func Watts(i int) float64 { return 50 + float64(i%7)*10 }

// Host names host i.
func Host(i int) string { return fmt.Sprintf("host-%04d", i) }

// VMs per host, each taking 10 % of the host; the rest is unused.
var vmNames = []string{"web", "db", "ci"}

// VMShare is each VM's share of its host.
const VMShare = 0.1

func num(v float64) json.Number { return json.Number(strconv.FormatFloat(v, 'g', -1, 64)) }

// Days returns what InfluxDB answers to the digest's power_host query
// over [from, to) in loc's days: every host measured all along,
// host 0 at the wall (its parts draw 80 %), the others on their parts.
func Days(hosts int, from, to time.Time, loc *time.Location) (days []influx.Series) {
	for i := range hosts {
		s := influx.Series{Name: "power_host", Tags: map[string]string{"host": Host(i), "basis": "", "source": "rapl"}, Columns: []string{"time", "e", "w", "co2", "s"}}
		wall := i == 0
		if wall {
			s.Tags["basis"] = "wall"
		}
		for d := from.In(loc); d.Before(to); d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc) {
			next := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
			sec := next.Sub(d).Seconds()
			j := Watts(i) * sec
			row := []any{json.Number(strconv.FormatInt(d.UnixNano(), 10)), num(j), nil, num(j / 3.6e6 * 56), num(sec)}
			if wall {
				row[1], row[2] = num(0.8*j), num(j)
			}
			s.Values = append(s.Values, row)
		}
		days = append(days, s)
	}
	return days
}

// Parts returns power_vm's answer over a period of sec seconds.
func Parts(hosts int, sec float64) []influx.Series {
	var out []influx.Series
	for i := range hosts {
		j := Watts(i) * sec
		if i == 0 {
			j *= 0.8 // power_vm divides the parts, not the wall
		}
		rest := j
		for _, vm := range vmNames {
			out = append(out, one(Host(i), vm, VMShare*j))
			rest -= VMShare * j
		}
		out = append(out, one(Host(i), "_unused", rest))
	}
	return out
}

func one(host, domain string, j float64) influx.Series {
	return influx.Series{Name: "power_vm", Tags: map[string]string{"host": host, "domain": domain},
		Columns: []string{"time", "e"}, Values: [][]any{{json.Number("0"), num(j)}}}
}
