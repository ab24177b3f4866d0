package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxAnswer bounds how much of an HTTP answer is read: the answers the
// senders parse are small, and a server that sends without end must not
// fill memory.
const maxAnswer = 1 << 20

// answer is what the senders keep of an HTTP exchange.
type answer struct {
	status     int
	retryAfter time.Duration // from a Retry-After header in seconds
	body       []byte
}

// do sends one request and reads its answer. A request that gets no
// answer (refused, reset, timed out) is a *RefusedError. Its errors never
// hold the URL (a webhook's path is its secret): the caller names the host.
func do(ctx context.Context, hc *http.Client, method, rawURL string, header http.Header, body []byte) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, bytes.NewReader(body))
	if err != nil {
		return answer{}, withoutURL(err)
	}
	req.Header = header
	resp, err := hc.Do(req)
	if err != nil {
		return answer{}, Temporary(withoutURL(err), 0)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return answer{}, Temporary(fmt.Errorf("reading the answer: %w", err), 0)
	}
	a := answer{status: resp.StatusCode, body: b}
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
		a.retryAfter = time.Duration(min(s, 86400)) * time.Second
	}
	return a, nil
}

// withoutURL keeps the cause of a *url.Error and drops the URL it
// quotes, which may hold a secret path or token.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// refusedForNow: 429 and 5xx may be cured by waiting.
func refusedForNow(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// secret is value, or the first line of file where file is set (a
// password, a token, a webhook's URL kept out of the configuration).
func secret(value, file string) (string, error) {
	if file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimRight(line, "\r"), nil
}

// clip keeps a short, printable piece of a server's word for an error
// message.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
