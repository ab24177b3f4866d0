// Package numfmt writes numbers for people in the bot's two languages:
// "12,345.6" in English, "12 345,6" in French (a narrow no-break space,
// U+202F, between thousands, and a decimal comma). Digests and alerts
// both use it, so a number reads the same in each.
package numfmt

import (
	"math"
	"strconv"
	"strings"
)

// NNBSP is the narrow no-break space of French typography: between
// thousands, and before % ; : ! ?
const NNBSP = "\u202F"

// Number writes v with decimals digits after the point, in lang ("fr",
// else English); a negative value with the minus sign U+2212.
func Number(v float64, decimals int, lang string) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	sep, dot := ",", "."
	if lang == "fr" {
		sep, dot = NNBSP, ","
	}
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteString("−")
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString(dot + frac)
	}
	return b.String()
}
