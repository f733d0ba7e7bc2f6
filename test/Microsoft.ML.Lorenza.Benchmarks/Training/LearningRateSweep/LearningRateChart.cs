using System.Globalization;
using System.Text;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.LearningRateSweep;

/// <summary>SVG panels, one per data set and one for the fine-tuning mean: held-out accuracy (mean over seeds) against the learning rate on a log axis, one line per optimizer.</summary>
public static class LearningRateChart
{
    private static readonly string[] Colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];
    private const int PanelWidth = 260, PanelHeight = 220, Left = 45, Top = 40, Gap = 30;

    public static string Render(SweepAnalysis analysis)
    {
        var panels = analysis.Panels.ToList();
        var width = panels.Count * (PanelWidth + Left + Gap) + 110;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{Top + PanelHeight + 60}\" font-family=\"sans-serif\" font-size=\"11\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        for (var p = 0; p < panels.Count; p++)
            Panel(svg, p * (PanelWidth + Left + Gap) + Left, panels[p], analysis);
        for (var o = 0; o < analysis.Optimizers.Count; o++)
        {
            var y = Top + 14 * o;
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{width - 100}\" x2=\"{width - 80}\" y1=\"{y}\" y2=\"{y}\" stroke=\"{Colors[o % Colors.Length]}\" stroke-width=\"2\"/><text x=\"{width - 75}\" y=\"{y + 4}\">{analysis.Optimizers[o]}</text>");
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void Panel(StringBuilder svg, int x0, string panel, SweepAnalysis analysis)
    {
        var curves = analysis.Optimizers.Select(o => analysis.Curve(panel, o)).ToList();
        var points = curves.SelectMany(c => c).ToList();
        if (points.Count == 0) return;
        double minRate = Math.Log10(points.Min(p => p.Rate)), maxRate = Math.Log10(points.Max(p => p.Rate));
        var minAccuracy = Math.Floor(points.Min(p => p.Accuracy) * 10) / 10;
        double X(double rate) => x0 + (Math.Log10(rate) - minRate) / Math.Max(1e-9, maxRate - minRate) * PanelWidth;
        double Y(double v) => Top + PanelHeight - (v - minAccuracy) / (1 - minAccuracy) * PanelHeight;
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 + PanelWidth / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"13\">{panel}</text>");
        for (var t = minAccuracy; t <= 1.0001; t += 0.1)
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" x2=\"{x0 + PanelWidth}\" y1=\"{Y(t):F1}\" y2=\"{Y(t):F1}\" stroke=\"#eee\"/><text x=\"{x0 - 5}\" y=\"{Y(t) + 4:F1}\" text-anchor=\"end\">{t:F1}</text>");
        foreach (var rate in points.Select(p => p.Rate).Distinct())
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(rate):F1}\" y=\"{Top + PanelHeight + 15}\" text-anchor=\"middle\">{SweepAnalysis.Rate(rate)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 + PanelWidth / 2}\" y=\"{Top + PanelHeight + 32}\" text-anchor=\"middle\">learning rate (log)</text>");
        for (var o = 0; o < curves.Count; o++)
        {
            if (curves[o].Count == 0) continue;
            var line = string.Join(' ', curves[o].Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.Rate):F1},{Y(p.Accuracy):F1}")));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{Colors[o % Colors.Length]}\" stroke-width=\"1.5\" points=\"{line}\"/>");
        }
    }
}
