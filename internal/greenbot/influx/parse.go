// Package influx reads InfluxDB 1.x over its HTTP /query API: InfluxQL in,
// series out, with bounded timeouts and retries. It never writes.
package influx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Series is one series of an answer: a measurement's rows, grouped by the
// tags of a GROUP BY.
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	// Values holds each row; numbers are json.Number (time in ns with the
	// client's epoch=ns), strings, booleans or nil.
	Values [][]any `json:"values"`
}

// Result is the answer to one statement of a query.
type Result struct {
	Series []Series
}

// ErrQuery is wrapped by every error InfluxDB reports in its answer (a bad
// statement, a database that does not exist): retrying does not help.
var ErrQuery = errors.New("influxdb refused the query")

// maxMessage bounds how much of an error message from the server is
// repeated in ours.
const maxMessage = 200

type answer struct {
	Results []struct {
		StatementID int      `json:"statement_id"`
		Series      []Series `json:"series"`
		Error       string   `json:"error"`
	} `json:"results"`
	Error string `json:"error"`
}

// Parse reads one /query answer (not chunked). An error in the answer, for
// the whole query or one statement, is returned wrapping ErrQuery.
func Parse(r io.Reader) ([]Result, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var a answer
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("influxdb answer is not the JSON of /query: %w", err)
	}
	if a.Error != "" {
		return nil, fmt.Errorf("%s: %w", clip(a.Error), ErrQuery)
	}
	out := make([]Result, len(a.Results))
	for i, res := range a.Results {
		if res.Error != "" {
			return nil, fmt.Errorf("statement %d: %s: %w", i+1, clip(res.Error), ErrQuery)
		}
		for j, s := range res.Series {
			for k, row := range s.Values {
				if len(row) != len(s.Columns) {
					return nil, fmt.Errorf("statement %d, series %d, row %d: %d values for %d columns: %w", i+1, j+1, k+1, len(row), len(s.Columns), ErrQuery)
				}
			}
		}
		out[i].Series = res.Series
	}
	return out, nil
}

func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxMessage {
		s = s[:maxMessage] + "…"
	}
	return s
}

// Col returns the index of a column, or -1.
func (s Series) Col(name string) int {
	for i, c := range s.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// Float returns row i's value in column col as a number; false where it is
// missing, null or not a number.
func (s Series) Float(i int, col string) (float64, bool) {
	c := s.Col(col)
	if c < 0 || i < 0 || i >= len(s.Values) {
		return 0, false
	}
	switch v := s.Values[i][c].(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case float64:
		return v, true
	}
	return 0, false
}

// Time returns row i's time, from an answer asked with epoch=ns.
func (s Series) Time(i int) (time.Time, bool) {
	c := s.Col("time")
	if c < 0 || i < 0 || i >= len(s.Values) {
		return time.Time{}, false
	}
	switch v := s.Values[i][c].(type) {
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(0, n).UTC(), true
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	}
	return time.Time{}, false
}

// String returns row i's value in column col where it is a string.
func (s Series) String(i int, col string) (string, bool) {
	c := s.Col(col)
	if c < 0 || i < 0 || i >= len(s.Values) {
		return "", false
	}
	v, ok := s.Values[i][c].(string)
	return v, ok
}
