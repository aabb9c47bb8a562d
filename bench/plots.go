package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// plotVariant draws the median repetition of a variant as one SVG of four panels: per-peer
// progress, the CDF of completion times, upload utilization and piece availability over time.
func plotVariant(out, scenarioName string, vr *variantResult) error {
	rec := vr.best
	panels := [][]*plot.Plot{
		{progressPlot(rec, vr.TStarS), cdfPlot(map[string]*runRecord{vr.Name: rec})},
		{utilizationPlot(rec), availabilityPlot(map[string]*runRecord{vr.Name: rec})},
	}
	return savePanels(filepath.Join(out, fmt.Sprintf("%s-%s.svg", scenarioName, vr.Name)), panels, 2)
}

// savePanels writes rows x cols plots as one SVG.
func savePanels(path string, panels [][]*plot.Plot, cols int) error {
	w, h := vg.Length(cols)*4.5*vg.Inch, vg.Length(len(panels))*3.2*vg.Inch
	c := vgsvg.New(w, h)
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: len(panels), Cols: cols, PadX: vg.Inch / 4, PadY: vg.Inch / 4,
		PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	canvases := plot.Align(panels, tiles, dc)
	for i, row := range panels {
		for j, p := range row {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// progressPlot: each leecher's fraction of pieces over time (grey; free-riders red, fast blue),
// with T* as a vertical line.
func progressPlot(rec *runRecord, tStar float64) *plot.Plot {
	p := newPlot("Per-peer progress", "time (s)", "fraction of pieces")
	total := 0
	for _, pr := range rec.Peers {
		for _, s := range pr.Samples {
			total = max(total, s.Pieces)
		}
	}
	for _, pr := range rec.Peers {
		if pr.Role == "seeder" || len(pr.Samples) == 0 || total == 0 {
			continue
		}
		pts := make(plotter.XYs, len(pr.Samples))
		for i, s := range pr.Samples {
			pts[i] = plotter.XY{X: s.T, Y: float64(s.Pieces) / float64(total)}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		l.Color = roleColor(pr.Role)
		l.Width = vg.Points(0.6)
		p.Add(l)
	}
	if tStar > 0 {
		addVLine(p, tStar, "T*")
	}
	return p
}

func roleColor(role string) color.Color {
	switch role {
	case "free-rider":
		return color.RGBA{R: 220, A: 255}
	case "fast":
		return color.RGBA{B: 220, A: 255}
	}
	return color.RGBA{R: 110, G: 110, B: 110, A: 255}
}

// cdfPlot: the CDF of the leechers' completion times, one line per run.
func cdfPlot(recs map[string]*runRecord) *plot.Plot {
	p := newPlot("Completion times (CDF)", "time (s)", "fraction of leechers done")
	for i, name := range sortedKeys(recs) {
		var done []float64
		n := 0
		for _, pr := range recs[name].Peers {
			if pr.Role == "seeder" || pr.Killed {
				continue
			}
			n++
			if pr.DoneS > 0 {
				done = append(done, pr.DoneS)
			}
		}
		slices.Sort(done)
		pts := make(plotter.XYs, 0, 2*len(done)+1)
		pts = append(pts, plotter.XY{})
		for k, t := range done {
			pts = append(pts, plotter.XY{X: t, Y: float64(k) / float64(n)}, plotter.XY{X: t, Y: float64(k+1) / float64(n)})
		}
		addLine(p, pts, name, i)
	}
	return p
}

// utilizationPlot: the swarm's upload rate over the sum of the caps of the peers still
// uploading, over time.
func utilizationPlot(rec *runRecord) *plot.Plot {
	p := newPlot("Upload utilization", "time (s)", "upload / sum of caps")
	var pts plotter.XYs
	for _, s := range rec.Swarm {
		if s.CapBps > 0 {
			pts = append(pts, plotter.XY{X: s.T, Y: s.UploadBps / s.CapBps})
		}
	}
	if len(pts) == 0 {
		p.Title.Text += " (uncapped)"
		return p
	}
	addLine(p, pts, "", 0)
	return p
}

// availabilityPlot: the minimum (solid) and mean (dashed) availability of a piece among the
// live peers over time, one colour per run.
func availabilityPlot(recs map[string]*runRecord) *plot.Plot {
	p := newPlot("Piece availability", "time (s)", "peers holding a piece")
	for i, name := range sortedKeys(recs) {
		var lo, mean plotter.XYs
		for _, s := range recs[name].Swarm {
			lo = append(lo, plotter.XY{X: s.T, Y: float64(s.MinAvailability)})
			mean = append(mean, plotter.XY{X: s.T, Y: s.MeanAvailability})
		}
		addLine(p, lo, name+" min", i)
		if l := addLine(p, mean, name+" mean", i); l != nil {
			l.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
		}
	}
	return p
}

// compareVariants draws a scenario's variants together: completion CDFs and availability.
func compareVariants(out, scenarioName string, vs []variantResult) error {
	recs := make(map[string]*runRecord, len(vs))
	for i := range vs {
		recs[vs[i].Name] = vs[i].best
	}
	panels := [][]*plot.Plot{{cdfPlot(recs), availabilityPlot(recs)}}
	return savePanels(filepath.Join(out, scenarioName+"-compare.svg"), panels, 2)
}

// scalingPlot is experiment 1's figure: makespan against N for client-server and P2P, with
// their bounds.
func scalingPlot(out string, vs []variantResult) error {
	p := newPlot("Client-server against P2P", "leechers N", "makespan (s)")
	series := map[string]plotter.XYs{}
	for _, v := range vs {
		kind := "P2P"
		if strings.HasPrefix(v.Name, "cs-") {
			kind = "client-server"
		}
		n := float64(v.Peers)
		series[kind+" measured"] = append(series[kind+" measured"], plotter.XY{X: n, Y: v.MakespanS})
		series[kind+" bound"] = append(series[kind+" bound"], plotter.XY{X: n, Y: v.FluidBoundS})
	}
	for i, name := range sortedKeys(series) {
		if l := addLine(p, series[name], name, i/2); l != nil && strings.HasSuffix(name, "bound") {
			l.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
		}
	}
	return savePanels(filepath.Join(out, "client-server-scaling.svg"), [][]*plot.Plot{{p}}, 1)
}

// scalePlot is the scale scenario's figure: makespan and T* against log2 N, with the
// least-squares line a + b log2 N through the makespans.
func scalePlot(out string, vs []variantResult) error {
	p := newPlot("Makespan against log2 N", "log2 N (leechers)", "makespan (s)")
	var measured, bound, fit plotter.XYs
	a, b := fitLog2(vs)
	for _, v := range vs {
		x := math.Log2(float64(v.Peers))
		measured = append(measured, plotter.XY{X: x, Y: v.MakespanS})
		bound = append(bound, plotter.XY{X: x, Y: v.TStarS})
		fit = append(fit, plotter.XY{X: x, Y: a + b*x})
	}
	addLine(p, measured, "measured", 0)
	if l := addLine(p, bound, "T*", 1); l != nil {
		l.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
	}
	if l := addLine(p, fit, fmt.Sprintf("fit %.1f %+.2f log2 N", a, b), 2); l != nil {
		l.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
	}
	p.Y.Min = 0
	return savePanels(filepath.Join(out, scaleScenario+"-log-n.svg"), [][]*plot.Plot{{p}}, 1)
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

// addLine adds a line in the i-th colour, with a legend entry when name is set.
func addLine(p *plot.Plot, pts plotter.XYs, name string, i int) *plotter.Line {
	if len(pts) == 0 {
		return nil
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil
	}
	l.Color = palette[i%len(palette)]
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
	return l
}

func addVLine(p *plot.Plot, x float64, name string) {
	l, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: 1}})
	if err != nil {
		return
	}
	l.Color = color.Black
	l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	p.Add(l)
	p.Legend.Add(name, l)
}

var palette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 255, G: 127, B: 14, A: 255},
	color.RGBA{R: 44, G: 160, B: 44, A: 255}, color.RGBA{R: 214, G: 39, B: 40, A: 255},
	color.RGBA{R: 148, G: 103, B: 189, A: 255}, color.RGBA{R: 140, G: 86, B: 75, A: 255},
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
