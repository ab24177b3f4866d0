package escape

import (
	"html"
	"strings"
	"testing"
	"unicode/utf8"
)

// shown is what a reader sees: the invisible word joiners taken out.
func shown(s string) string { return strings.ReplaceAll(s, wordJoiner, "") }

func TestForms(t *testing.T) {
	for _, tc := range []struct {
		name, plain, html, markdown string
	}{
		{"kvm-0", "kvm-0", "kvm-0", "kvm-0"},
		{"@room", "@\u2060room", "@\u2060room", "@\u2060room"},
		{"getty@tty1.service", "getty@\u2060tty1.service", "getty@\u2060tty1.service", "getty@\u2060tty1.service"},
		{"<!here>", "<!here>", "&lt;!here&gt;", "&lt;!here&gt;"},
		{"<b>x</b> & y", "<b>x</b> & y", "&lt;b&gt;x&lt;/b&gt; &amp; y", "&lt;b&gt;x&lt;/b&gt; &amp; y"},
		{`a"b'c`, `a"b'c`, "a&#34;b&#39;c", `a"b'c`},
		{"vm_prod_1", "vm_prod_1", "vm_prod_1", "`vm_prod_1`"},
		{"*bold* `x` <y>", "*bold* `x` <y>", "*bold* `x` &lt;y&gt;", "`*bold* \u02CBx\u02CB \u2039y\u203A`"},
		{"a\nb\u202Ec", "a\uFFFDb\uFFFDc", "a\uFFFDb\uFFFDc", "a\uFFFDb\uFFFDc"},
		{"[link](http://x)", "[link](http://x)", "[link](http://x)", "`[link](http://x)`"},
		{"café", "café", "café", "café"},
	} {
		if got := Plain(tc.name); got != tc.plain {
			t.Errorf("Plain(%q) = %q, want %q", tc.name, got, tc.plain)
		}
		if got := HTML(tc.name); got != tc.html {
			t.Errorf("HTML(%q) = %q, want %q", tc.name, got, tc.html)
		}
		if got := Markdown(tc.name); got != tc.markdown {
			t.Errorf("Markdown(%q) = %q, want %q", tc.name, got, tc.markdown)
		}
	}
}

// FuzzEscape checks what must hold for any name: HTML shows the name
// (after entity decoding) and holds no markup; Markdown holds no '<', and
// either no formatting character or one code span; no '@' is followed by
// anything but the word joiner; no line break survives.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"kvm-0", "@room", "<!channel>", "user@1000.service", "a`b", "_x_", "a\x00b", "\xff", "&amp;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		plain := Plain(name)
		if !utf8.ValidString(plain) {
			t.Fatalf("Plain(%q) = %q: not UTF-8", name, plain)
		}
		for _, out := range []string{plain, HTML(name), Markdown(name)} {
			if strings.ContainsAny(out, "\n\r\u2028\u2029\u202E") {
				t.Fatalf("%q gives %q: a line break or override", name, out)
			}
			if i := strings.Index(out, "@"); i >= 0 && !strings.HasPrefix(out[i+1:], wordJoiner) {
				t.Fatalf("%q gives %q: a bare @", name, out)
			}
		}
		h := HTML(name)
		if strings.ContainsAny(h, `<>"'`) {
			t.Fatalf("HTML(%q) = %q holds markup characters", name, h)
		}
		if got := html.UnescapeString(h); got != plain {
			t.Fatalf("HTML(%q) shows %q, want %q", name, got, plain)
		}
		m := Markdown(name)
		if strings.ContainsAny(m, "<>") {
			t.Fatalf("Markdown(%q) = %q holds < or >", name, m)
		}
		if strings.ContainsAny(m, "*_~|[]\\#") {
			inner, ok := strings.CutPrefix(m, "`")
			inner, ok2 := strings.CutSuffix(inner, "`")
			if !ok || !ok2 || strings.Contains(inner, "`") {
				t.Fatalf("Markdown(%q) = %q: formatting outside one code span", name, m)
			}
		}
		if !strings.ContainsAny(plain, markdownSpecial) && shown(html.UnescapeString(m)) != shown(plain) {
			t.Fatalf("Markdown(%q) shows %q, want %q", name, m, plain)
		}
	})
}

func TestMentions(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"hey @room look", "hey @\u2060room look"},
		{"@Channel @here @everyone @all", "@\u2060Channel @\u2060here @\u2060everyone @\u2060all"},
		{"<!here> and <!channel>", "<\u2060!here> and <\u2060!channel>"},
		{"bot@example.org", "bot@example.org"},
		{"@\u2060room", "@\u2060room"},
		{"x <b> y", "x <b> y"},
	} {
		if got := Mentions(tc.in); got != tc.want {
			t.Errorf("Mentions(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
