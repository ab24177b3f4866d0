// Package dashfile describes the parts of a Chronograf .dashboard file
// (chronograf/*.dashboard) that the tools and the end-to-end tests read:
// the cells with their queries, and the template variables. It is kept
// apart from chronograf/internal, which generates those files, so that
// programs outside the chronograf folder can read them too. Fields not
// listed here are ignored when a file is decoded with encoding/json.
package dashfile

// File is one dashboard as written in a .dashboard file.
type File struct {
	Name      string     `json:"name"`
	Cells     []Cell     `json:"cells"`
	Templates []Template `json:"templates"`
}

// Cell is one panel of the dashboard; a cell of Type "note" has no query.
type Cell struct {
	I       string  `json:"i"`
	Name    string  `json:"name"`
	Type    string  `json:"type"`
	Queries []Query `json:"queries"`
}

// Query is one InfluxQL query of a cell, with Chronograf's :variables:.
type Query struct {
	Query string `json:"query"`
}

// Template is one dashboard variable (TempVar is written ":name:"): its
// kind (tagValues, influxql, map...), its stored values, and for kinds
// that ask the database, the question asked.
type Template struct {
	TempVar string          `json:"tempVar"`
	Type    string          `json:"type"`
	Values  []TemplateValue `json:"values"`
	Query   TemplateQuery   `json:"query"`
}

// TemplateValue is one stored value of a variable; Key is the label of a
// "map" variable's value.
type TemplateValue struct {
	Key      string `json:"key"`
	Value    string `json:"value"`
	Selected bool   `json:"selected"`
}

// TemplateQuery is what a variable asks the database for its values.
type TemplateQuery struct {
	InfluxQL    string `json:"influxql"`
	DB          string `json:"db"`
	Measurement string `json:"measurement"`
	TagKey      string `json:"tagKey"`
}
