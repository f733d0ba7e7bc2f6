using System.Globalization;
using System.Text;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.NoisyLabels;

/// <summary>
/// SVG panels, one per noise rate: clean dev accuracy per epoch per arm (mean over seeds), and for noisy rates a panel of
/// the share of flipped rows the model predicts with their wrong label (how much noise it has memorized).
/// </summary>
public static class NoisyLabelsChart
{
    private static readonly string[] Colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
    private const int PanelWidth = 360, PanelHeight = 240, Left = 50, Top = 40;

    public static string Render(IReadOnlyList<NoisyRun> runs)
    {
        var arms = runs.Select(r => r.Arm).Distinct().ToList();
        var panels = new List<(string Title, double Noise, Func<NoisyEpoch, double> Value, double Min)>();
        foreach (var noise in runs.Select(r => r.Noise).Distinct().Order())
        {
            var lowest = runs.Where(r => r.Noise == noise).SelectMany(r => r.Epochs).Min(e => e.DevAccuracy);
            panels.Add(($"dev accuracy, {noise:P0} labels flipped", noise, e => e.DevAccuracy, Math.Floor(lowest * 10) / 10));
            if (noise > 0) panels.Add(($"flipped rows memorized, {noise:P0}", noise, e => e.FlippedMemorized, 0));
        }
        var width = panels.Count * (PanelWidth + Left + 20) + 160;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{Top + PanelHeight + 60}\" font-family=\"sans-serif\" font-size=\"11\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        for (var p = 0; p < panels.Count; p++)
            Panel(svg, p * (PanelWidth + Left + 20) + Left, panels[p], runs, arms);
        for (var a = 0; a < arms.Count; a++)
        {
            var y = Top + 14 * a;
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{width - 150}\" x2=\"{width - 130}\" y1=\"{y}\" y2=\"{y}\" stroke=\"{Colors[a % Colors.Length]}\" stroke-width=\"2\"/><text x=\"{width - 125}\" y=\"{y + 4}\">{arms[a]}</text>");
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void Panel(StringBuilder svg, int x0, (string Title, double Noise, Func<NoisyEpoch, double> Value, double Min) panel, IReadOnlyList<NoisyRun> runs, List<string> arms)
    {
        var selected = runs.Where(r => r.Noise == panel.Noise).ToList();
        var epochs = selected.Max(r => r.Epochs.Count);
        double X(double epoch) => x0 + (epoch - 1) / Math.Max(1, epochs - 1) * PanelWidth;
        double Y(double v) => Top + PanelHeight - (v - panel.Min) / (1 - panel.Min) * PanelHeight;
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 + PanelWidth / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"13\">{panel.Title}</text>");
        for (var t = panel.Min; t <= 1.0001; t += 0.1)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" x2=\"{x0 + PanelWidth}\" y1=\"{Y(t):F1}\" y2=\"{Y(t):F1}\" stroke=\"#eee\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 - 5}\" y=\"{Y(t) + 4:F1}\" text-anchor=\"end\">{t:F1}</text>");
        }
        for (var e = 1; e <= epochs; e++)
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(e):F1}\" y=\"{Top + PanelHeight + 15}\" text-anchor=\"middle\">{e}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 + PanelWidth / 2}\" y=\"{Top + PanelHeight + 32}\" text-anchor=\"middle\">epoch</text>");
        for (var a = 0; a < arms.Count; a++)
        {
            var armRuns = selected.Where(r => r.Arm == arms[a]).ToList();
            if (armRuns.Count == 0) continue;
            var points = Enumerable.Range(1, armRuns.Min(r => r.Epochs.Count))
                .Select(e => $"{X(e):F1},{Y(armRuns.Average(r => panel.Value(r.Epochs[e - 1]))):F1}");
            svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{Colors[a % Colors.Length]}\" stroke-width=\"1.5\" points=\"{string.Join(' ', points)}\"/>");
        }
    }
}
