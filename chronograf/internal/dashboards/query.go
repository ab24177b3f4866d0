package dashboards

import (
	"fmt"
	"strings"
)

// Where the data is. Every query names its measurement in full: Chronograf
// sends no database with a query it cannot parse, and InfluxDB then answers
// "database name required".
const (
	Database        = "metrics_from_pau"
	RetentionPolicy = "forever"
)

// from is a FROM clause with the measurement named in full.
func from(measurement string) string {
	return fmt.Sprintf(`FROM "%s"."%s"."%s"`, Database, RetentionPolicy, measurement)
}

// during is the time picker's range, both bounds written out. A subquery
// needs it in each SELECT that groups by time(:interval:): Chronograf finds
// the range for :interval: in the first time condition of the text, and
// sends time(0ms) when that is not the inner query's.
const during = `time > :dashboardTime: AND time < :upperDashboardTime:`

// onHost keeps the host chosen in the dashboard's :host: variable. The
// variable is of type influxql, whose value goes into the text as it is
// (hence the quotes here), so that cell titles show kvm-0, not 'kvm-0'.
const onHost = `"host" = ':host:'`

// where joins conditions.
func where(conds ...string) string { return "WHERE " + strings.Join(conds, " AND ") }

// sel is one aggregate of a field, named.
type sel struct{ fn, field, as string }

func (s sel) String() string { return fmt.Sprintf(`%s("%s") AS "%s"`, s.fn, s.field, s.as) }

func selects(ss []sel) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

// simple is a SELECT of one measurement; group is the GROUP BY list
// ("" for none), and time(:interval:) is added first when byTime.
func simple(measurement string, ss []sel, conds []string, byTime bool, group ...string) string {
	q := "SELECT " + selects(ss) + " " + from(measurement) + " " + where(conds...)
	return q + groupBy(byTime, group...)
}

func groupBy(byTime bool, tags ...string) string {
	var parts []string
	if byTime {
		parts = append(parts, "time(:interval:)")
	}
	for _, t := range tags {
		parts = append(parts, `"`+t+`"`)
	}
	if len(parts) == 0 {
		return ""
	}
	g := " GROUP BY " + strings.Join(parts, ", ")
	if byTime {
		g += " FILL(null)"
	}
	return g
}

// perPackage reads powerstat_package fields per CPU package, adding up the
// dies of each package. A multi-die CPU may write one point per die, each
// with a die tag and the package's package_id: the mean (or last) of each
// die, then their sum per package, is the package. Without a die tag each
// package is one group and the sum is the value itself. With byTime, per
// time(:interval:), both levels carrying the range (see during).
func perPackage(ss []sel, conds []string, byTime bool) string {
	inner := make([]sel, len(ss))
	outer := make([]sel, len(ss))
	for i, s := range ss {
		v := fmt.Sprintf("v%d", i)
		inner[i] = sel{s.fn, s.field, v}
		outer[i] = sel{"sum", v, s.as}
	}
	sub := "SELECT " + selects(inner) + " " + from("powerstat_package") + " " + where(conds...) + " GROUP BY "
	if byTime {
		sub += "time(:interval:), "
	}
	sub += `"package_id", "die"`
	q := "SELECT " + selects(outer) + " FROM (" + sub + ")"
	if byTime {
		q += " " + where(during)
	}
	return q + groupBy(byTime, "package_id")
}
