package chart

import (
	"bytes"
	"image/png"
	"testing"
)

func TestPNG(t *testing.T) {
	bars := []Bar{{Label: "Mon 30", KWh: 12, PrevKWh: 10, HasKWh: true, HasPrev: true}, {Label: "Tue 1", KWh: 0, PrevKWh: 9, HasPrev: true}}
	b, err := PNG(bars, Labels{Title: "kWh per day", YAxis: "kWh", ThisWeek: "this week", PrevWeek: "week before"}, 640, 320)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got.X != 640 || got.Y != 320 {
		t.Errorf("got %v pixels, want 640×320", got)
	}
	// The green of the period's bars is drawn somewhere.
	found := false
	for y := 0; y < 320 && !found; y++ {
		for x := 0; x < 640; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if r>>8 == 0x2e && g>>8 == 0x8b && bb>>8 == 0x57 {
				found = true
				break
			}
		}
	}
	if !found {
		t.Error("no bar of the period's green in the picture")
	}
}
