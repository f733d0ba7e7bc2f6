using System.Globalization;
using System.Text;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.Comparison;

/// <summary>An SVG bar chart of accuracy per data set and method (mean, with the min–max over seeds).</summary>
public static class AccuracyChart
{
    public static string Render(IReadOnlyList<ComparisonRun> rows)
    {
        var groups = rows.GroupBy(r => (r.Dataset, r.Optimizer)).ToList();
        const int barWidth = 26, gap = 6, top = 40, height = 260;
        var width = 80 + groups.Count * (barWidth + gap) + 40;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{top + height + 150}\" font-family=\"sans-serif\" font-size=\"11\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">validation accuracy (mean, min–max over seeds)</text>");
        double Y(double v) => top + height - v * height;
        for (var t = 0; t <= 10; t += 2)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"60\" x2=\"{width - 20}\" y1=\"{Y(t / 10.0):F1}\" y2=\"{Y(t / 10.0):F1}\" stroke=\"#eee\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"55\" y=\"{Y(t / 10.0) + 4:F1}\" text-anchor=\"end\">{t / 10.0:F1}</text>");
        }
        string[] colors = ["#1f77b4", "#aec7e8", "#9467bd", "#2ca02c", "#d62728", "#ff7f0e", "#8c564b"];
        var x = 70;
        foreach (var g in groups)
        {
            var mean = g.Average(r => r.Accuracy);
            var color = colors[Math.Max(0, ComparisonMethod.All.ToList().FindIndex(c => c.Label == g.Key.Optimizer)) % colors.Length];
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{Y(mean):F1}\" width=\"{barWidth}\" height=\"{height * mean:F1}\" fill=\"{color}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x + barWidth / 2}\" x2=\"{x + barWidth / 2}\" y1=\"{Y(g.Min(r => r.Accuracy)):F1}\" y2=\"{Y(g.Max(r => r.Accuracy)):F1}\" stroke=\"black\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate({x + barWidth / 2},{top + height + 8}) rotate(60)\">{g.Key.Dataset} {g.Key.Optimizer}</text>");
            x += barWidth + gap;
        }
        svg.Append("</svg>");
        return svg.ToString();
    }
}
