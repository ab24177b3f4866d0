// Package chronograf holds the Chronograf dashboards users load with
// --resources-path: the .dashboard files and the InfluxDB source
// pau-influxdb.src. The dashboard files are generated; edit the generator
// in internal/dashboards, then run
//
//	go generate ./chronograf
//
// The tests check that the files equal the generator's output, that they
// follow the rules Chronograf 1.10 really applies, and (with CHRONOGRAF_BIN
// set) that a real Chronograf serves them whole.
package chronograf

//go:generate go run ./gen
