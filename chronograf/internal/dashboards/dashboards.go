// Package dashboards builds the Chronograf dashboards of chronograf/.
// `go generate ./chronograf` writes each of Files to its file; a test in
// chronograf/ fails when a committed file differs from what is built here.
//
// To add a dashboard: write a function returning it, in a file of its own,
// and add one line to Files. Give it the next id (900105, …): ids are
// users' bookmarks, never change one.
package dashboards

import (
	"bytes"
	"encoding/json"
)

// File is one dashboard file of chronograf/.
type File struct {
	Name  string // file name, ending in .dashboard
	Build func() Dashboard
}

// Files lists every dashboard the generator writes.
var Files = []File{
	{"servers.dashboard", Servers},
	{"everyday-en.dashboard", EverydayEN},
	{"everyday-fr.dashboard", EverydayFR},
	{"vms.dashboard", VMs},
}

// Render is the file's content: indented JSON, with <, > and & as they are
// (Markdown notes), and a final newline.
func Render(d Dashboard) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
