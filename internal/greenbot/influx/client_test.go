package influx

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// answering is a local server that fails the first fails requests with
// status, then answers with a recorded InfluxDB answer.
func answering(t *testing.T, fails int, status int, file string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/query" || r.FormValue("db") != "metrics_from_pau" || r.FormValue("q") == "" || r.FormValue("epoch") != "ns" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if int(n.Add(1)) <= fails {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func fast(t *testing.T, url string) *Client {
	t.Helper()
	c, err := New(url, "", "")
	if err != nil {
		t.Fatal(err)
	}
	c.Backoff, c.MaxBackoff, c.Timeout = time.Millisecond, 4*time.Millisecond, time.Second
	return c
}

func TestQueryRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fails    int
		status   int
		wantErr  bool
		requests int32
	}{
		{"first answer", 0, 0, false, 1},
		{"two 503 then an answer", 2, http.StatusServiceUnavailable, false, 3},
		{"429 then an answer", 1, http.StatusTooManyRequests, false, 2},
		{"always 500", 99, http.StatusInternalServerError, true, DefaultAttempts},
		{"401 is not retried", 99, http.StatusUnauthorized, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := answering(t, tc.fails, tc.status, "sum-by-host.json")
			c := fast(t, srv.URL)
			series, err := c.Query(context.Background(), "metrics_from_pau", "SELECT 1")
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error: %v", err, tc.wantErr)
			}
			if !tc.wantErr && len(series) != 2 {
				t.Errorf("got %d series, want 2", len(series))
			}
			if got := n.Load(); got != tc.requests {
				t.Errorf("got %d requests, want %d", got, tc.requests)
			}
			if c.Queries() != 1 {
				t.Errorf("Queries: got %d, want 1", c.Queries())
			}
		})
	}
}

func TestQueryErrorNotRetried(t *testing.T) {
	srv, n := answering(t, 0, 0, "no-database.json")
	_, err := fast(t, srv.URL).Query(context.Background(), "metrics_from_pau", "SELECT 1")
	if !errors.Is(err, ErrQuery) || !strings.Contains(err.Error(), "database not found") {
		t.Fatalf("got %v, want ErrQuery naming the database", err)
	}
	if n.Load() != 1 {
		t.Errorf("got %d requests, want 1", n.Load())
	}
}

func TestQueryTimeoutBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm() // the body read, the server sees the client go
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	c := fast(t, srv.URL)
	c.Timeout, c.Attempts = 50*time.Millisecond, 2
	start := time.Now()
	_, err := c.Query(context.Background(), "metrics_from_pau", "SELECT 1")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %v, want about 2 × 50 ms", el)
	}
}

func TestQueryDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	c := fast(t, url)
	_, err := c.Query(context.Background(), "metrics_from_pau", "SELECT 1")
	if err == nil || !strings.Contains(err.Error(), url) {
		t.Fatalf("got %v, want an error naming %s", err, url)
	}
}

func TestNewRejects(t *testing.T) {
	for _, u := range []string{"", "localhost:8086", "ftp://x", "http://"} {
		if _, err := New(u, "", ""); err == nil {
			t.Errorf("%q: no error", u)
		}
	}
}
