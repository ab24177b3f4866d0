// Package dashboards builds the Chronograf dashboards of chronograf/.
// `go generate ./chronograf` writes each of Files to its file; a test in
// chronograf/ fails when a committed file differs from what is built here.
//
// To add a dashboard: write a function returning it, in a file of its own
// (see vms.go for a small one), and add one line to Files. Give it the next
// id (900105, …): ids are users' bookmarks, never change one. Build cells
// with graph, stat, table and note; place them with layout and row; write
// queries with simple and perPackage (query.go), which name measurements in
// full and carry the time range as Chronograf needs.
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
	{"campus-en.dashboard", CampusEN},
	{"campus-fr.dashboard", CampusFR},
	{"everyday-en.dashboard", EverydayEN},
	{"everyday-fr.dashboard", EverydayFR},
	{"servers-en.dashboard", ServersEN},
	{"servers-fr.dashboard", ServersFR},
	{"vms-en.dashboard", VMsEN},
	{"vms-fr.dashboard", VMsFR},
	{"hypervisors-en.dashboard", HypervisorsEN},
	{"hypervisors-fr.dashboard", HypervisorsFR},
	{"applications-en.dashboard", ApplicationsEN},
	{"applications-fr.dashboard", ApplicationsFR},
	{"admin-en.dashboard", AdminEN},
	{"admin-fr.dashboard", AdminFR},
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
