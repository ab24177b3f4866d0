// Package chart draws a digest's picture: the last seven days' energy per
// day as bars, the seven days before them in grey beside each, as a PNG.
package chart

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Bar is one day: its label ("Mon 30"), its kWh and the kWh of the same
// weekday a week earlier; Has* are false where nothing was measured.
type Bar struct {
	Label           string
	KWh, PrevKWh    float64
	HasKWh, HasPrev bool
}

// Labels are the chart's words, in the digest's language.
type Labels struct {
	Title, YAxis, ThisWeek, PrevWeek string
}

// Colours: a green for the period, a grey for the week before.
var (
	green = color.RGBA{R: 0x2e, G: 0x8b, B: 0x57, A: 0xff}
	grey  = color.RGBA{R: 0xb0, G: 0xb0, B: 0xb0, A: 0xff}
)

// PNG draws the bars at width × height pixels.
func PNG(bars []Bar, l Labels, width, height int) ([]byte, error) {
	p := plot.New()
	p.Title.Text = l.Title
	p.Y.Label.Text = l.YAxis
	p.Y.Min = 0
	cur := make(plotter.Values, len(bars))
	prev := make(plotter.Values, len(bars))
	names := make([]string, len(bars))
	for i, b := range bars {
		cur[i], prev[i], names[i] = b.KWh, b.PrevKWh, b.Label
	}
	w := vg.Points(14)
	pb, err := plotter.NewBarChart(prev, w)
	if err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	pb.Color, pb.LineStyle.Width, pb.Offset = grey, 0, -w/2
	cb, err := plotter.NewBarChart(cur, w)
	if err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	cb.Color, cb.LineStyle.Width, cb.Offset = green, 0, w/2
	p.Add(pb, cb)
	p.Legend.Add(l.PrevWeek, pb)
	p.Legend.Add(l.ThisWeek, cb)
	// Above the bars, top left, with room between its two lines.
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.Padding = vg.Points(5)
	p.Legend.XOffs = vg.Points(6)
	p.Legend.ThumbnailWidth = vg.Points(14)
	top := 0.0
	for _, b := range bars {
		top = max(top, b.KWh, b.PrevKWh)
	}
	if top > 0 {
		p.Y.Max = top * 1.3
	}
	p.NominalX(names...)
	// No tick marks under the days: they ran into the labels.
	p.X.Tick.Length = 0
	// Horizontal lines only: vertical ones would cross the bars and labels.
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(vg.Length(width)*vg.Inch/96, vg.Length(height)*vg.Inch/96), vgimg.UseDPI(96))}
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	return buf.Bytes(), nil
}
