package dashboards

import "github.com/greencampus/powerinput/internal/dashfile"

// The JSON shapes of a dashboard file are internal/dashfile's, shared with
// the tools and the end-to-end tests that read the files.
type (
	Dashboard     = dashfile.Dashboard
	Cell          = dashfile.Cell
	Query         = dashfile.Query
	Axis          = dashfile.Axis
	Color         = dashfile.Color
	Legend        = dashfile.Legend
	TableOptions  = dashfile.TableOptions
	FieldOption   = dashfile.FieldOption
	DecimalPlaces = dashfile.DecimalPlaces
	Template      = dashfile.Template
	TemplateValue = dashfile.TemplateValue
	TemplateQuery = dashfile.TemplateQuery
)
