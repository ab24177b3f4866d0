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
	// HourlyRollup holds, per hour and series, the sums of the energies
	// and CO₂ of power_host, power_vm, power_service and power_process
	// (deploy/setup-influxdb.sh, docs/scale.md): a year in a fraction of
	// a second, where the raw points take many seconds.
	HourlyRollup = "rollup_1h"
	// FiveMinuteRollup holds the same per 5 minutes.
	FiveMinuteRollup = "rollup_5m"
	// Detail is the retention policy the reader picks in a dashboard's
	// :detail: variable (detailTemplate): the raw points or a rollup. The
	// cells over the time range that a rollup can answer read it; the
	// "right now" cells, "last heard from" and the measurements without a
	// rollup (cpu, net, powerstat_package) read the raw points.
	Detail = ":detail:"
)

// from is a FROM clause with the measurement named in full.
func from(measurement string) string { return fromRP(RetentionPolicy, measurement) }

// fromRP is from in retention policy rp.
func fromRP(rp, measurement string) string {
	return fmt.Sprintf(`FROM "%s"."%s"."%s"`, Database, rp, measurement)
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
	return simpleIn(RetentionPolicy, measurement, ss, conds, byTime, group...)
}

// simpleIn is simple read from retention policy rp.
func simpleIn(rp, measurement string, ss []sel, conds []string, byTime bool, group ...string) string {
	q := "SELECT " + selects(ss) + " " + fromRP(rp, measurement) + " " + where(conds...)
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

// recent is "right now": the last few minutes, whatever the time picker
// says. A host silent for longer has no value in a "right now" cell, not
// its old figure. Three minutes hold several of powerinput's intervals
// (10 s by default) and a late flush of Telegraf's buffer.
const (
	recentWindow = "3m"
	recent       = "time > now() - " + recentWindow
)

// measuredOnly keeps the machines measured by their own counters (RAPL,
// through powercap or read directly). Virtual machines are left out of sums
// over hosts: their energy is already part of their hypervisor's; and
// estimates are never added to measurements.
const measuredOnly = `("source" = 'rapl' OR "source" = 'msr')`

// notMeasured keeps the hosts whose numbers come from the hypervisor or
// from a model: the virtual machines and the estimates.
const notMeasured = `"source" != 'rapl' AND "source" != 'msr'`

// basis is two subqueries of power_host, for a FROM clause, whose field
// as is fn of what the metaphors and co2_grams count (the basis): the
// wall's field where the host has a power meter at the socket
// (basis=wall), else the parts' (CPU packages, memory and GPUs). So a
// host's kWh and its everyday figures count the same thing. Each subquery
// applies fn per group (tags, and time(:interval:) with byTime), so the
// outer query adds up a few rows only.
func basis(fn, wallField, partsField, as string, conds []string, byTime bool, group ...string) string {
	return basisIn(RetentionPolicy, fn, wallField, partsField, as, conds, byTime, group...)
}

// basisIn is basis read from retention policy rp: the rollups keep the
// basis tag and sum wall_joules and energy_joules per bucket.
func basisIn(rp, fn, wallField, partsField, as string, conds []string, byTime bool, group ...string) string {
	part := func(field, cond string) string {
		c := append(append([]string{}, conds...), cond)
		return fmt.Sprintf(`(SELECT %s("%s") AS "%s" %s %s%s)`, fn, field, as, fromRP(rp, "power_host"), where(c...), groupBy(byTime, group...))
	}
	return part(wallField, `"basis" = 'wall'`) + ", " + part(partsField, `"basis" != 'wall'`)
}

// basisEnergy is basis for the energy: field "e", joules.
func basisEnergy(conds []string, group ...string) string {
	return basisEnergyIn(RetentionPolicy, conds, group...)
}

// basisEnergyIn is basisEnergy read from retention policy rp.
func basisEnergyIn(rp string, conds []string, group ...string) string {
	return "FROM " + basisIn(rp, "sum", "wall_joules", "energy_joules", "e", conds, false, group...)
}

// basisPower is basis for the power of the last interval of each host in
// conds: field "w", watts.
func basisPowerNow(conds []string) string {
	return "FROM " + basis("last", "wall_watts", "power_watts", "w", conds, false, "host")
}

// twoDigits rounds the value of expr (an aggregate, or a field of a
// subquery) to two significant digits, as a person reads a figure: 0.033,
// 0.18, 4.2, 240, 1,300. Chronograf then shows it as it is, in the
// browser's language (decimal comma and thin spaces in French). Exact for
// values below a million (then a larger unit is due); 0 stays 0.
func twoDigits(expr string) string {
	scale := fmt.Sprintf("pow(10, 1 - floor(log10(%s + 0.000000001)))", expr)
	return fmt.Sprintf("round(%s * %s) / %s", expr, scale, scale)
}

// allPackages is field of powerstat_package added up over a host's CPU
// packages (and their dies), per time(:interval:): the processors, or
// their memory, as one line.
func allPackages(field, as string, conds []string) string {
	inner := simple("powerstat_package", []sel{{"mean", field, "v"}}, conds, true, "package_id", "die")
	return `SELECT sum("v") AS "` + as + `" FROM (` + inner + ") " + where(during) + groupBy(true)
}
