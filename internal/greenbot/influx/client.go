package influx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Client asks one InfluxDB 1.x server. Its zero values are given defaults
// by New; a Client is safe for concurrent use.
type Client struct {
	base     *url.URL
	http     *http.Client
	username string
	password string
	// Timeout bounds each attempt; Attempts counts tries of one query
	// (1: no retry); Backoff is the wait before the second try, doubled
	// for each next one up to MaxBackoff.
	Timeout    time.Duration
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
	queries    atomic.Int64
}

// Defaults of a Client.
const (
	DefaultTimeout  = 30 * time.Second
	DefaultAttempts = 4
	DefaultBackoff  = 2 * time.Second
)

// New returns a client of the server at rawURL (http://host:8086), with
// basic authentication where username is set.
func New(rawURL, username, password string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("influxdb url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("influxdb url %q: want http://host:port or https://host:port", rawURL)
	}
	return &Client{
		base: u, http: &http.Client{}, username: username, password: password,
		Timeout: DefaultTimeout, Attempts: DefaultAttempts,
		Backoff: DefaultBackoff, MaxBackoff: 30 * time.Second,
	}, nil
}

// URL is the server's address, without credentials.
func (c *Client) URL() string { return c.base.Redacted() }

// Queries counts the queries this client sent (each once, however many
// attempts it took).
func (c *Client) Queries() int64 { return c.queries.Load() }

// Query runs InfluxQL q in database db and returns each series of every
// statement, in order. See QueryResults to keep statements apart.
func (c *Client) Query(ctx context.Context, db, q string) ([]Series, error) {
	res, err := c.QueryResults(ctx, db, q)
	if err != nil {
		return nil, err
	}
	var out []Series
	for _, r := range res {
		out = append(out, r.Series...)
	}
	return out, nil
}

// QueryResults runs q (one or more statements separated by ';') and returns
// one Result per statement. A network error, a timeout or an answer 5xx or
// 429 is tried again after a backoff, up to Attempts; an error in the
// answer (ErrQuery) is not.
func (c *Client) QueryResults(ctx context.Context, db, q string) ([]Result, error) {
	c.queries.Add(1)
	wait := c.Backoff
	var last error
	for attempt := 1; ; attempt++ {
		res, err := c.once(ctx, db, q)
		if err == nil {
			return res, nil
		}
		last = err
		var perm *permanent
		if errors.As(err, &perm) || errors.Is(err, ErrQuery) || attempt >= max(c.Attempts, 1) {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("influxdb at %s: %w (after %d attempts, last: %w)", c.URL(), ctx.Err(), attempt, last)
		case <-t.C:
		}
		wait = min(2*wait, max(c.MaxBackoff, c.Backoff))
	}
	return nil, fmt.Errorf("influxdb at %s: %w", c.URL(), last)
}

// permanent is an answer that another attempt will not change (4xx other
// than 429).
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

func (c *Client) once(ctx context.Context, db, q string) ([]Result, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	form := url.Values{"q": {q}, "epoch": {"ns"}}
	if db != "" {
		form.Set("db", db)
	}
	u := c.base.JoinPath("query")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &permanent{err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.username != "" {
		req.SetBasicAuth(c.username, c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said once, by QueryResults
		}
		return nil, err
	}
	defer resp.Body.Close()
	// A bounded read: an answer of a digest is small, and a server that
	// sends without end must not fill memory.
	body := io.LimitReader(resp.Body, 64<<20)
	switch {
	case resp.StatusCode == http.StatusOK:
		return Parse(body)
	case resp.StatusCode == http.StatusBadRequest:
		// InfluxDB says why in JSON: a parse error of the statement.
		if _, perr := Parse(body); perr != nil && errors.Is(perr, ErrQuery) {
			return nil, perr
		}
		return nil, &permanent{fmt.Errorf("answer %s", resp.Status)}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, &permanent{fmt.Errorf("answer %s: check username and password", resp.Status)}
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		io.Copy(io.Discard, body)
		return nil, fmt.Errorf("answer %s", resp.Status)
	default:
		return nil, &permanent{fmt.Errorf("answer %s", resp.Status)}
	}
}

// Ping checks that the server answers /ping.
func (c *Client) Ping(ctx context.Context) error {
	bound := 10 * time.Second
	if c.Timeout > 0 {
		bound = min(c.Timeout, bound)
	}
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.JoinPath("ping").String(), nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("influxdb at %s: %w", c.URL(), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("influxdb at %s: /ping answered %s", c.URL(), resp.Status)
	}
	return nil
}
