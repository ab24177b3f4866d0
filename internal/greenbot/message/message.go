// Package message is what the Green Campus Bot sends: one text for people,
// in the forms each destination reads, with its pictures. Digests and alerts
// make Messages; the destinations (mail, Matrix, webhooks, stdout) send them.
package message

// Kind tells a digest from an alert's start or end.
type Kind string

const (
	Digest     Kind = "digest"
	AlertStart Kind = "alert-start"
	AlertEnd   Kind = "alert-end"
)

// Message is one thing to tell people. Every text form says the same thing:
// Text is plain (mail's text part, stdout), HTML is mail's HTML part and
// Matrix's formatted body, Markdown is for chat webhooks (Slack's mrkdwn
// dialect: *bold*, _italic_). Data from the database (host, VM and unit
// names) is escaped for each form by whoever builds the message.
type Message struct {
	// ID names the message for de-duplication across retries and restarts:
	// the same ID is never delivered twice to one destination.
	ID       string
	Kind     Kind
	Lang     string // "en" or "fr"
	Subject  string
	Text     string
	HTML     string
	Markdown string
	// Late is set when the message goes out later than planned (a database
	// that did not answer, a destination that refused); the texts say so.
	Late   bool
	Images []Image
}

// Image is a picture attached to or inlined in a Message.
type Image struct {
	// Name is a file name ("week.png"); CID the content ID an HTML part
	// refers to as cid:CID.
	Name        string
	CID         string
	ContentType string // "image/png"
	Alt         string // what the picture shows, for people who cannot see it
	Data        []byte
}
