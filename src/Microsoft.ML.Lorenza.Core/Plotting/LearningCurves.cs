using System.Globalization;
using System.Text;
using Microsoft.ML.Lorenza.Training;

namespace Microsoft.ML.Lorenza.Plotting;

/// <summary>Draws the learning curves of a report as an SVG picture (no dependencies): loss per step, accuracy per epoch.</summary>
public static class LearningCurves
{
    private const int Width = 900, Height = 360, Margin = 50, PanelWidth = (Width - 3 * Margin) / 2;

    public static string ToSvg(TrainingReport report, string title)
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.Append($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>");

        var smoothed = Smooth(report.StepLosses, Math.Max(1, report.StepLosses.Count / 50));
        Panel(svg, Margin, "training loss (smoothed) per step", "step",
            [("loss", "#1f77b4", smoothed.Select((v, i) => ((double)i + 1, v)).ToList())]);
        Panel(svg, 2 * Margin + PanelWidth, "accuracy per epoch", "epoch",
        [
            ("train", "#ff7f0e", report.Epochs.Select(e => ((double)e.Epoch, e.TrainAccuracy)).ToList()),
            ("validation", "#2ca02c", report.Epochs.Select(e => ((double)e.Epoch, e.ValidationAccuracy)).ToList()),
        ]);
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void Panel(StringBuilder svg, int left, string title, string xLabel, List<(string Name, string Color, List<(double X, double Y)> Points)> series)
    {
        int top = 40, bottom = Height - Margin;
        var all = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.Y)).ToList();
        if (all.Count == 0) return;
        double x0 = all.Min(p => p.X), x1 = Math.Max(all.Max(p => p.X), x0 + 1);
        double y0 = all.Min(p => p.Y), y1 = all.Max(p => p.Y);
        if (y1 - y0 < 1e-9) { y0 -= 0.5; y1 += 0.5; }
        double Sx(double x) => left + (x - x0) / (x1 - x0) * PanelWidth;
        double Sy(double y) => bottom - (y - y0) / (y1 - y0) * (bottom - top);
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + PanelWidth / 2}\" y=\"{top - 8}\" text-anchor=\"middle\">{title}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{top}\" width=\"{PanelWidth}\" height=\"{bottom - top}\" fill=\"none\" stroke=\"#888\"/>");
        for (var k = 0; k <= 4; k++)
        {
            var y = y0 + (y1 - y0) * k / 4;
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" x2=\"{left + PanelWidth}\" y1=\"{Sy(y):F1}\" y2=\"{Sy(y):F1}\" stroke=\"#eee\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 4}\" y=\"{Sy(y) + 4:F1}\" text-anchor=\"end\">{y:G3}</text>");
            var x = x0 + (x1 - x0) * k / 4;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Sx(x):F1}\" y=\"{bottom + 15}\" text-anchor=\"middle\">{x:G4}</text>");
        }
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + PanelWidth / 2}\" y=\"{bottom + 32}\" text-anchor=\"middle\">{xLabel}</text>");
        var legendY = top + 14;
        foreach (var (name, color, points) in series)
        {
            var finite = points.Where(p => double.IsFinite(p.Y)).ToList();
            if (finite.Count == 0) continue;
            var path = string.Join(" ", finite.Select((p, i) => string.Create(CultureInfo.InvariantCulture, $"{(i == 0 ? "M" : "L")}{Sx(p.X):F1},{Sy(p.Y):F1}")));
            svg.Append(CultureInfo.InvariantCulture, $"<path d=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>");
            if (finite.Count < 30)
                foreach (var p in finite) svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{Sx(p.X):F1}\" cy=\"{Sy(p.Y):F1}\" r=\"3\" fill=\"{color}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + PanelWidth - 8}\" y=\"{legendY}\" text-anchor=\"end\" fill=\"{color}\">{name}</text>");
            legendY += 15;
        }
    }

    private static List<double> Smooth(List<double> values, int window)
    {
        var result = new List<double>(values.Count);
        for (var i = 0; i < values.Count; i++)
        {
            var from = Math.Max(0, i - window + 1);
            var slice = values.Skip(from).Take(i - from + 1).Where(double.IsFinite).ToList();
            result.Add(slice.Count == 0 ? double.NaN : slice.Average());
        }
        return result;
    }

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
