package dashboards

// The JSON shapes of a Chronograf 1.10 dashboard file.

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
	Legend         map[string]any  `json:"legend"`
	TableOptions   *TableOptions   `json:"tableOptions,omitempty"`
	FieldOptions   []any           `json:"fieldOptions"`
	TimeFormat     string          `json:"timeFormat"`
	DecimalPlaces  DecimalPlaces   `json:"decimalPlaces"`
	Note           string          `json:"note"`
	NoteVisibility string          `json:"noteVisibility"`
}

type Query struct {
	Query       string         `json:"query"`
	QueryConfig map[string]any `json:"queryConfig"`
	Source      string         `json:"source"`
	Type        string         `json:"type"`
}

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

type TableOptions struct {
	VerticalTimeAxis bool           `json:"verticalTimeAxis"`
	SortBy           map[string]any `json:"sortBy"`
	Wrapping         string         `json:"wrapping"`
	FixFirstColumn   bool           `json:"fixFirstColumn"`
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

type Dashboard struct {
	ID           int        `json:"id"`
	Name         string     `json:"name"`
	Organization string     `json:"organization"`
	Templates    []Template `json:"templates"`
	Cells        []Cell     `json:"cells"`
}
