package render

import (
	"math"

	"github.com/greencampus/powerinput/internal/greenbot/numfmt"
)

const nnbsp = numfmt.NNBSP

// unitSpace joins a number to its unit: a no-break space, so that a
// narrow mail window never puts "159" at a line's end and "Wh" on the
// next. French typography wants it too (espace insécable).
const unitSpace = "\u00A0"

// num writes v with decimals digits after the point, in lang's way.
func num(lang string, v float64, decimals int) string { return numfmt.Number(v, decimals, lang) }

// amount writes a quantity with as many decimals as three significant
// digits need, at most two: 0.42, 4.2, 42, 4,200.
func amount(lang string, v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return num(lang, v, 0)
	case a >= 10:
		return num(lang, v, 1)
	default:
		return num(lang, v, 2)
	}
}

// count writes how many of a metaphor: whole above 10, one decimal below.
func count(lang string, v float64) string {
	if v >= 10 {
		return num(lang, math.Round(v), 0)
	}
	return num(lang, v, 1)
}

// shownCount is v as count writes it, which decides a label's number.
func shownCount(v float64) float64 {
	if v >= 10 {
		return math.Round(v)
	}
	return math.Round(v*10) / 10
}

// percent writes a share 0 … 1 as a whole percentage ("<1" where it
// rounds to 0 but is not).
func percent(lang string, share float64) string {
	p := share * 100
	s := num(lang, math.Round(p), 0)
	if p > 0 && p < 0.5 {
		s = "<" + nnbspIf(lang) + "1"
	}
	if lang == "fr" {
		return s + nnbsp + "%"
	}
	return s + "%"
}

func nnbspIf(lang string) string {
	if lang == "fr" {
		return nnbsp
	}
	return ""
}

// kwh writes joules as kWh, or Wh below 1 kWh.
func kwh(lang string, joules float64) string {
	k := joules / 3.6e6
	if k < 1 {
		return amount(lang, joules/3600) + unitSpace + "Wh"
	}
	return amount(lang, k) + unitSpace + "kWh"
}

// grams writes a mass of CO₂: g below a kilogram, kg below a tonne, t.
func grams(lang string, g float64) string {
	switch {
	case g >= 1e6:
		return amount(lang, g/1e6) + unitSpace + "t"
	case g >= 1000:
		return amount(lang, g/1000) + unitSpace + "kg"
	default:
		return amount(lang, g) + unitSpace + "g"
	}
}
