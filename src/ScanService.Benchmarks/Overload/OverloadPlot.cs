using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ScottPlot;

namespace ScanService.Benchmarks.Overload;

/// <summary>
/// overload.svg: two panels over the seconds of each run, one above the other on the same time axis: p99 latency
/// against the objective, and the effective operating point (mean relative cost of the answers). Shown for the
/// adaptive modes, whose point moves; for every run when no adaptive mode ran, so the figure is never empty.
/// ScottPlot draws each panel, as it draws the trainer's figures; the panels share one fixed layout so that their
/// time axes line up when stacked.
/// </summary>
public static partial class OverloadPlot
{
    private const int Width = 1100;
    private const int LatencyHeight = 440;
    private const int CostHeight = 400;
    private static readonly PixelPadding Padding = new(left: 80, right: 300, bottom: 55, top: 45);
    private static readonly Color ObjectiveColour = Color.FromHex("#d62728");
    private static readonly Color PointColour = Colors.Gray;

    public static string Svg(OverloadReport report)
    {
        var adaptive = report.Runs.Where(r => r.Adaptive).ToList();
        var runs = adaptive.Count > 0 ? adaptive : [.. report.Runs];
        var objective = report.Settings.ObjectiveMilliseconds;
        var palette = new ScottPlot.Palettes.Category10();
        var seconds = Math.Max(1, report.Runs.Select(r => r.Seconds).DefaultIfEmpty(1).Max());

        using var latency = NewPlot(F($"p99 latency per second{(adaptive.Count > 0 ? ", adaptive modes" : "")} (capacity {report.Capacity.AnswersPerSecond:F0} answers/s; client and service on {report.Machine.Cores} cores)"),
            "Second of the run (by when requests were due)", "p99 latency of the answers (ms)");
        using var cost = NewPlot("Effective operating point per second", "Second of the run (by when requests were due)", "Mean relative cost of the answers");
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var colour = palette.GetColor(i);
            var pattern = run.Mode == OverloadMode.AdaptiveFromAccurateName ? LinePattern.Dashed : LinePattern.Solid;
            var name = F($"{run.Mode} at {run.Multiplier:0.##}×");
            Series(latency, run.Timeline.Select(t => (t.Second + 0.5, t.P99Ms)), name, colour, pattern);
            Series(cost, run.Timeline.Select(t => (t.Second + 0.5, t.MeanRelativeCost)), name, colour, pattern);
        }
        var line = latency.Add.HorizontalLine(objective, 1.5f, ObjectiveColour, LinePattern.Dotted);
        line.LegendText = F($"objective {objective:0.#} ms");

        var maxP99 = runs.SelectMany(r => r.Timeline).Select(t => t.P99Ms).Where(double.IsFinite).DefaultIfEmpty(objective).Max();
        latency.Axes.SetLimits(0, seconds, 0, Math.Max(maxP99, objective) * 1.08);
        var maxCost = report.PointCosts.Values.Concat(runs.SelectMany(r => r.Timeline).Select(t => t.MeanRelativeCost)).Where(double.IsFinite).DefaultIfEmpty(1).Max();
        cost.Axes.SetLimits(0, seconds, 0, maxCost * 1.15);
        NamedLevels(cost, report.PointCosts, seconds, maxCost * 1.15);
        latency.ShowLegend(Edge.Right);
        cost.ShowLegend(Edge.Right);
        return Stack([latency.GetSvgXml(Width, LatencyHeight), cost.GetSvgXml(Width, CostHeight)], [LatencyHeight, CostHeight]);
    }

    private static void Series(Plot plot, IEnumerable<(double X, double Y)> points, string name, Color colour, LinePattern pattern)
    {
        // Seconds without answers (NaN) are left out rather than drawn as gaps: the line joins the seconds that had some.
        var known = points.Where(p => double.IsFinite(p.Y)).ToList();
        if (known.Count == 0) return;
        var scatter = plot.Add.Scatter(known.Select(p => p.X).ToArray(), known.Select(p => p.Y).ToArray(), colour);
        scatter.LegendText = name;
        scatter.LineWidth = 1.5f;
        scatter.MarkerSize = 3;
        scatter.LinePattern = pattern;
    }

    /// <summary>
    /// The named points as dotted levels, so that the effective point reads as "between balanced and accurate"; points
    /// closer than a few per cent of the axis share one label ("fast / balanced"), which would otherwise overprint.
    /// </summary>
    private static void NamedLevels(Plot plot, IReadOnlyDictionary<string, double> costs, double seconds, double top)
    {
        var levels = costs.Where(p => p.Key is "fast" or "balanced" or "accurate").OrderBy(p => p.Value).ToList();
        var groups = new List<List<KeyValuePair<string, double>>>();
        foreach (var level in levels)
        {
            plot.Add.HorizontalLine(level.Value, 1, PointColour, LinePattern.Dotted);
            if (groups.Count > 0 && level.Value - groups[^1][^1].Value < 0.04 * top) groups[^1].Add(level);
            else groups.Add([level]);
        }
        foreach (var group in groups)
        {
            var label = plot.Add.Text(string.Join(" / ", group.Select(p => p.Key)), 0.01 * seconds, group.Max(p => p.Value));
            label.Alignment = Alignment.LowerLeft;
            label.LabelFontSize = 11;
            label.LabelFontColor = PointColour;
        }
    }

    /// <summary>One SVG of the panels one above the other: each panel's own document, moved down by the heights above it.</summary>
    private static string Stack(IReadOnlyList<string> panels, IReadOnlyList<int> heights)
    {
        var svg = new StringBuilder();
        svg.AppendLine(F($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{heights.Sum()}\" viewBox=\"0 0 {Width} {heights.Sum()}\">"));
        var top = 0;
        for (var i = 0; i < panels.Count; i++)
        {
            svg.AppendLine(F($"<g transform=\"translate(0,{top})\">"));
            svg.AppendLine(XmlDeclaration().Replace(panels[i], "").Trim());
            svg.AppendLine("</g>");
            top += heights[i];
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    [GeneratedRegex(@"^\s*<\?xml[^>]*\?>")]
    private static partial Regex XmlDeclaration();

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Font.Set(Font.Value);
        plot.Title(title, 15);
        plot.XLabel(xLabel, 13);
        plot.YLabel(yLabel, 13);
        plot.Layout.Fixed(Padding);
        return plot;
    }

    private static readonly string[] FontFolders = ["/usr/share/fonts", "/usr/local/share/fonts"];

    /// <summary>
    /// The font the figure is set in, found as the trainer's figures find it (src/ScanService.Training/Tuning/SvgPlots.cs):
    /// SkiaSharp's Linux build without dependencies lists no system fonts, and ScottPlot would then draw no text, so a
    /// DejaVu Sans file (Debian's fonts-dejavu-core) is registered by path unless Skia already knows a font.
    /// </summary>
    private static readonly Lazy<string> Font = new(() =>
    {
        if (!string.IsNullOrEmpty(Fonts.Default)) return Fonts.Default;
        const string family = "DejaVu Sans";
        var regular = FontFolders.Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "DejaVuSans.ttf", SearchOption.AllDirectories))
            .FirstOrDefault()
            ?? throw new InvalidOperationException(
                $"no font to draw overload.svg with: install DejaVu Sans (Debian and Ubuntu: fonts-dejavu-core) under {string.Join(" or ", FontFolders)}");
        Fonts.AddFontFile(family, regular, bold: false, italic: false);
        var bold = Path.Combine(Path.GetDirectoryName(regular)!, "DejaVuSans-Bold.ttf");
        Fonts.AddFontFile(family, File.Exists(bold) ? bold : regular, bold: true, italic: false);
        return family;
    });

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
