package deliver

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/message"
)

func TestParseMatrixAnswers(t *testing.T) {
	for _, tc := range []struct {
		body    string
		errcode string
		after   int64
	}{
		{`{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2000}`, "M_LIMIT_EXCEEDED", 2000},
		{`{"errcode":"M_UNKNOWN_TOKEN","error":"Unknown token","soft_logout":false}`, "M_UNKNOWN_TOKEN", 0},
		{`{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":-5}`, "M_LIMIT_EXCEEDED", 0},
		{`{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":99999999999}`, "M_LIMIT_EXCEEDED", 86400_000},
		{`<html>502 Bad Gateway</html>`, "", 0},
	} {
		e := parseMatrixError([]byte(tc.body))
		if e.Errcode != tc.errcode || e.RetryAfterMS != tc.after {
			t.Errorf("parseMatrixError(%s) = %+v, want %s and %d ms", tc.body, e, tc.errcode, tc.after)
		}
	}
	for _, tc := range []struct {
		body, want string
		ok         bool
	}{
		{`{"content_uri":"mxc://localhost/AQwafuaFswefuhsfAFAgsw"}`, "mxc://localhost/AQwafuaFswefuhsfAFAgsw", true},
		{`{"content_uri":"https://evil/x"}`, "", false},
		{`{"content_uri":"mxc://"}`, "", false},
		{`{}`, "", false},
		{`[`, "", false},
	} {
		got, err := parseUpload([]byte(tc.body))
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("parseUpload(%s) = %q, %v; want %q, ok %v", tc.body, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseMatrix: any answer gives an error or a bounded value, never a
// panic; an accepted upload is always an mxc:// URI.
func FuzzParseMatrix(f *testing.F) {
	for _, s := range []string{
		`{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2000}`,
		`{"content_uri":"mxc://localhost/AQwafuaFswefuhsfAFAgsw"}`,
		`{"retry_after_ms":1e300}`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e := parseMatrixError(b)
		if e.RetryAfterMS < 0 || e.RetryAfterMS > 86400_000 {
			t.Fatalf("retry_after_ms %d out of bounds", e.RetryAfterMS)
		}
		if uri, err := parseUpload(b); err == nil && !strings.HasPrefix(uri, "mxc://") {
			t.Fatalf("accepted %q", uri)
		}
	})
}

func seedRecord(t testing.TB) []byte {
	b, err := json.Marshal(record{
		Queued: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC), Attempts: 2, Next: time.Date(2026, 12, 5, 8, 3, 0, 0, time.UTC),
		LastErr: "mail to smtp.example.org:587: dial failed: connection refused",
		Message: message.Message{ID: "digest/daily/2026-12-05", Kind: message.Digest, Lang: "fr", Subject: "Campus : 12,4 kWh",
			Text: "x", Images: []message.Image{{Name: "week.png", CID: "week", ContentType: "image/png", Data: []byte{0x89, 'P', 'N', 'G'}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRecord(t *testing.T) {
	r, err := parseRecord(seedRecord(t))
	if err != nil || r.Attempts != 2 || r.Message.ID != "digest/daily/2026-12-05" || len(r.Message.Images[0].Data) != 4 {
		t.Errorf("parseRecord = %+v, %v", r, err)
	}
	for _, bad := range []string{``, `{}`, `{"queued":"2026-12-05T08:00:00Z","message":{}}`, `{"message":{"ID":"x"}}`,
		`{"queued":"2026-12-05T08:00:00Z","attempts":-1,"message":{"ID":"x"}}`, `{"queued":"yesterday","message":{"ID":"x"}}`} {
		if _, err := parseRecord([]byte(bad)); err == nil {
			t.Errorf("parseRecord(%s) accepted", bad)
		}
	}
}

// FuzzParseRecord: a pending file, however damaged, is read or refused
// with an error; what is read has what the outbox relies on.
func FuzzParseRecord(f *testing.F) {
	f.Add(seedRecord(f))
	f.Add([]byte(`{"queued":"2026-12-05T08:00:00Z","message":{"ID":"x"}}`))
	f.Add([]byte(`{"queued":"2026-12-05T08:00:00Z","attempts":1e9,"message":{"ID":"x","Images":[{"Data":"!!"}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRecord(b)
		if err != nil {
			return
		}
		if r.Message.ID == "" || r.Queued.IsZero() || r.Attempts < 0 {
			t.Fatalf("accepted %+v", r)
		}
	})
}
