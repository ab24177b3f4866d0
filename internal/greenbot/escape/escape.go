// Package escape makes names read from the database (hosts, VMs, systemd
// units, processes) safe to put in a message: whatever a name holds, it
// shows as itself and can never become markup, a link or a mention.
//
// Use one function per text form of a message.Message, on every name and
// every other value that comes from the database, never on the bot's own
// wording:
//
//	Plain(name)    in Text (mail's text part, stdout, Matrix's body)
//	HTML(name)     in HTML (mail's HTML part, Matrix's formatted body)
//	Markdown(name) in Markdown (Slack, Mattermost, Rocket.Chat webhooks)
//
// All three neutralise mentions: an '@' is followed by U+2060 WORD JOINER,
// invisible, so "@room", "@channel", "@here" or "getty@tty1" never notify
// anyone in Matrix, Mattermost or Slack; control characters and the bidi
// overrides that could make a name read backwards are replaced by U+FFFD.
// HTML escapes & < > " ' as entities. Markdown escapes & < > as Slack
// requires (so "<!here>" stays text), and a name that holds one of Slack's
// or CommonMark's formatting characters (* _ ~ ` | [ ] \ #) is shown as a
// code span, since neither dialect has a backslash escape that the other
// reads the same way; inside it a backtick, & < and > become look-alikes
// (U+02CB, U+FF06, U+2039, U+203A), because Slack decodes entities in
// code and CommonMark does not.
//
// The senders in package deliver also defuse room-wide mentions in the
// whole message as a second line of defence; that does not replace these.
package escape

import (
	"html"
	"strings"
	"unicode"
)

// wordJoiner follows every '@': invisible, and it breaks the match of
// every mention syntax.
const wordJoiner = "\u2060"

// Plain returns name for a plain-text part: mentions defused, control and
// bidi-override characters replaced.
func Plain(name string) string {
	var b strings.Builder
	b.Grow(len(name) + 3)
	for _, r := range name {
		switch {
		case r == '@':
			b.WriteString("@" + wordJoiner)
		case r == '\uFFFD' || unsafeRune(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unsafeRune is a character that changes how the text around it shows:
// controls (a newline could start a new Markdown block or forge a line of
// the message) and the bidi embeddings, overrides and isolates.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069', r == '\u200E', r == '\u200F', r == '\u061C':
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	}
	return false
}

// HTML returns name for an HTML part (text or an attribute's quoted value).
func HTML(name string) string {
	return html.EscapeString(Plain(name))
}

// markdownSpecial are the characters that format text in Slack's mrkdwn
// or in CommonMark (Mattermost, Rocket.Chat).
const markdownSpecial = "*_~`|[]\\#"

// Markdown returns name for a Slack-compatible mrkdwn text.
func Markdown(name string) string {
	s := Plain(name)
	if !strings.ContainsAny(s, markdownSpecial) {
		return slackEntities.Replace(s)
	}
	return "`" + inCode.Replace(s) + "`"
}

// slackEntities are the only three escapes Slack documents (and
// CommonMark reads them the same way outside code).
var slackEntities = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// inCode replaces, inside a code span, the characters that would end it
// or that Slack and CommonMark read differently there (Slack decodes
// entities in code, CommonMark does not): look-alikes that read the same.
var inCode = strings.NewReplacer("`", "\u02CB", "&", "\uFF06", "<", "\u2039", ">", "\u203A")

// Mentions defuses the room-wide mentions in a whole text, the bot's
// wording included (which never means to notify a room): "@room" and
// Slack's "<!here>", "<!channel>", "<!everyone>" get a word joiner. It is
// the senders' second line of defence; names still go through Plain,
// HTML or Markdown.
func Mentions(text string) string {
	if !strings.ContainsAny(text, "@<") {
		return text
	}
	// The words that, after an '@', notify a whole room or channel in
	// Matrix (@room), Slack (@channel, @here, @everyone) or Mattermost
	// and Rocket.Chat (@all, @channel, @here).
	roomWide := [...]string{"room", "channel", "here", "everyone", "all"}
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		b.WriteByte(c)
		switch {
		case c == '<' && strings.HasPrefix(text[i+1:], "!"):
			b.WriteString(wordJoiner)
		case c == '@':
			rest := strings.ToLower(text[i+1:])
			for _, w := range roomWide {
				if strings.HasPrefix(rest, w) {
					b.WriteString(wordJoiner)
					break
				}
			}
		}
	}
	return b.String()
}
