// Package dashfile holds the JSON shapes of a Chronograf 1.10 dashboard
// file (chronograf/*.dashboard), with every key the server and the
// browser need written out (see the format notes: a missing fieldOptions
// empties a table, missing template values blank the page). The generator
// in chronograf/internal/dashboards writes them; tools and the end-to-end
// tests, which cannot import that package, read the files with them.
package dashfile

// Dashboard is a .dashboard file.
type Dashboard struct {
	ID           int        `json:"id"`
	Name         string     `json:"name"`
	Organization string     `json:"organization"`
	Templates    []Template `json:"templates"`
	Cells        []Cell     `json:"cells"`
}

// Cell is a dashboard cell as Chronograf stores it.
type Cell struct {
	I              string          `json:"i"`
	X              int             `json:"x"`
	Y              int             `json:"y"`
	W              int             `json:"w"`
	H              int             `json:"h"`
	Name           string          `json:"name"`
	Type           string          `json:"type"`
	Queries        []Query         `json:"queries"`
	Axes           map[string]Axis `json:"axes"`
	Colors         []Color         `json:"colors"`
	Legend         Legend          `json:"legend"`
	TableOptions   *TableOptions   `json:"tableOptions,omitempty"`
	FieldOptions   []FieldOption   `json:"fieldOptions"`
	TimeFormat     string          `json:"timeFormat"`
	DecimalPlaces  DecimalPlaces   `json:"decimalPlaces"`
	Note           string          `json:"note"`
	NoteVisibility string          `json:"noteVisibility"`
}

// Query is one InfluxQL query of a cell. QueryConfig is written as {}:
// the server recomputes it from Query.
type Query struct {
	Query       string         `json:"query"`
	QueryConfig map[string]any `json:"queryConfig"`
	Source      string         `json:"source"`
	Type        string         `json:"type"`
}

// Axis is one of x, y, y2. For a single-stat, y's Prefix and Suffix are
// written around the number.
type Axis struct {
	Bounds []string `json:"bounds"`
	Label  string   `json:"label"`
	Prefix string   `json:"prefix"`
	Suffix string   `json:"suffix"`
	Base   string   `json:"base"`
	Scale  string   `json:"scale"`
}

type Color struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Hex   string `json:"hex"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Legend is {} (a legend on hover only) or a static legend: both keys or
// neither.
type Legend struct {
	Type        string `json:"type,omitempty"`
	Orientation string `json:"orientation,omitempty"`
}

type TableOptions struct {
	VerticalTimeAxis bool        `json:"verticalTimeAxis"`
	SortBy           FieldOption `json:"sortBy"`
	Wrapping         string      `json:"wrapping"`
	FixFirstColumn   bool        `json:"fixFirstColumn"`
}

// FieldOption renames, hides and orders a table column. InternalName is
// "time", a tag key, or "<measurement>.<field or alias>".
type FieldOption struct {
	InternalName string `json:"internalName"`
	DisplayName  string `json:"displayName"`
	Visible      bool   `json:"visible"`
}

type DecimalPlaces struct {
	IsEnforced bool `json:"isEnforced"`
	Digits     int  `json:"digits"`
}

type Template struct {
	ID       string          `json:"id"`
	TempVar  string          `json:"tempVar"`
	Type     string          `json:"type"`
	Label    string          `json:"label"`
	SourceID string          `json:"sourceID"`
	Values   []TemplateValue `json:"values"`
	Query    TemplateQuery   `json:"query"`
}

type TemplateValue struct {
	Key      string `json:"key,omitempty"` // map: what the menu shows
	Value    string `json:"value"`
	Type     string `json:"type"`
	Selected bool   `json:"selected"`
}

type TemplateQuery struct {
	InfluxQL    string `json:"influxql"`
	DB          string `json:"db"`
	Measurement string `json:"measurement"`
	TagKey      string `json:"tagKey"`
	FieldKey    string `json:"fieldKey"`
}
