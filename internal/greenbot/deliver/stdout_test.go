package deliver

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestPrinter(t *testing.T) {
	m := digestMessage(t, "digest/x")
	for _, tc := range []struct {
		format, want string
	}{
		{"", "Hier, kvm-0 a utilisé 12,4 kWh"},
		{"markdown", "Hier, *kvm-0* a utilisé"},
		{"html", "<b>kvm-0</b>"},
	} {
		var b bytes.Buffer
		p, err := NewPrinter(Stdout{Format: tc.format}, &b)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.HasPrefix(out, m.Subject+"\n===") || !strings.Contains(out, tc.want) || !strings.Contains(out, "[week.png: kWh par jour, ") {
			t.Errorf("format %q printed\n%s", tc.format, out)
		}
	}
	if _, err := NewPrinter(Stdout{Format: "pdf"}, &bytes.Buffer{}); err == nil {
		t.Error("format pdf accepted")
	}
}

func TestDestinationValidate(t *testing.T) {
	for _, tc := range []struct {
		d    Destination
		want string
	}{
		{Destination{}, "no kind"},
		{Destination{Stdout: &Stdout{}, Webhook: &Webhook{URL: "https://x/y"}}, "more than one kind"},
		{Destination{Webhook: &Webhook{URL: "ftp://x"}}, "webhook: url: want https"},
		{Destination{Matrix: &Matrix{Homeserver: "https://m.example.org", AccessToken: "t", Room: "#alias:example.org"}}, "room \"#alias:example.org\": want a room ID"},
		{Destination{Mail: &SMTP{Host: "smtp.example.org", From: "bot@example.org", Security: "ssl"}}, "security \"ssl\""},
		{Destination{Mail: &SMTP{Host: "smtp.example.org", From: "bot@example.org"}}, "to: no recipient"},
		{Destination{Mail: &SMTP{Host: "smtp.example.org", From: "bot@example.org", To: []string{"a@example.org"}, Password: "x"}}, "a password without a username"},
		{Destination{Stdout: &Stdout{}}, ""},
	} {
		err := tc.d.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.d, err, tc.want)
		}
	}
}
