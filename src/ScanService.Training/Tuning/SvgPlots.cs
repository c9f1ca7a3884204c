using System.Globalization;
using ScottPlot;

namespace ScanService.Training.Tuning;

/// <summary>
/// The figures <c>tune</c> writes, drawn by ScottPlot and written as SVG. The library lays out titles, axis labels,
/// tick labels, legends and the colour bar, so none of them overlaps another; names of crowded points go into the
/// legend rather than beside the points.
/// </summary>
public static class SvgPlots
{
    private static readonly Color GaColour = Color.FromHex("#d62728");
    private static readonly Color GridColour = Color.FromHex("#1f77b4");
    private static readonly Color MsdColour = Color.FromHex("#2ca02c");
    private static readonly Color ExitColour = Color.FromHex("#9467bd");
    private static readonly Color FullColour = Colors.Black;
    private static readonly Color OperatingColour = Color.FromHex("#ff7f0e");
    private static readonly MarkerShape[] OperatingShapes = [MarkerShape.OpenCircle, MarkerShape.OpenSquare, MarkerShape.OpenTriangleUp, MarkerShape.OpenDiamond];

    /// <summary>
    /// Accuracy against relative cost: GA front, grid sweep and MSDNet curve as lines with a marker per point, each
    /// single exit and full depth as markers, the named operating points as open markers named in the legend.
    /// </summary>
    public static string AccuracyVsCost(TuningResult result, string title = "Accuracy vs. cost (validation)")
    {
        ArgumentNullException.ThrowIfNull(result);
        using var plot = NewPlot(title, "Relative cost (multiply-adds / monolithic graph)", "Validation accuracy (%)");
        Curve(plot, result.GridSweep, "Shared threshold (grid)", GridColour, 4);
        Curve(plot, result.MsdNet.Select(m => m.Point), "MSDNet budgeted", MsdColour, 5);
        Curve(plot, result.GeneticFront.Points, "GA Pareto front", GaColour, result.GeneticFront.Count > 100 ? 4 : 6);

        var exits = plot.Add.Markers(result.SingleExits.Select(p => p.RelativeCost).ToArray(), result.SingleExits.Select(p => 100 * p.Accuracy).ToArray(), MarkerShape.FilledSquare, 10, ExitColour);
        exits.LegendText = "Single exit";
        // Exit labels below-right of their squares, the full-depth label above-left of its diamond: the deepest exit
        // alone and full depth sit almost on one spot.
        for (int k = 0; k < result.SingleExits.Count; k++)
            Label(plot, $"exit {k + 1}", result.SingleExits[k], ExitColour, Alignment.UpperLeft, 7, 7);
        var full = plot.Add.Marker(result.FullDepth.RelativeCost, 100 * result.FullDepth.Accuracy, MarkerShape.FilledDiamond, 13, FullColour);
        full.LegendText = "Full depth (monolithic)";
        Label(plot, "full depth", result.FullDepth, FullColour, Alignment.LowerRight, -8, -8);

        // Named points crowd near full depth: names that share a point share a marker, and each marker is named in the legend.
        var groups = result.OperatingPoints.GroupBy(o => (o.RelativeCost, o.ValidationAccuracy)).OrderBy(g => g.Key.RelativeCost).ToList();
        for (int i = 0; i < groups.Count; i++)
        {
            (double cost, double accuracy) = groups[i].Key;
            var point = plot.Add.Marker(cost, 100 * accuracy, OperatingShapes[i % OperatingShapes.Length], 18, OperatingColour);
            point.MarkerLineWidth = 2;
            point.LegendText = $"{string.Join(" = ", groups[i].Select(o => o.Name))}: {Fmt(100 * accuracy, "0.00")} % at {Fmt(cost, "0.000")}";
        }
        // From zero, as cost is a share of the monolithic graph's; room on the right for the deepest exit's label.
        double maxCost = result.GridSweep.Concat(result.SingleExits).Append(result.FullDepth).Concat(result.GeneticFront.Points).Max(p => p.RelativeCost);
        plot.Axes.SetLimitsX(0, maxCost * 1.1);
        plot.ShowLegend(Edge.Right);
        return plot.GetSvgXml(960, 560);
    }

    /// <summary>Per class, the share of samples answered by each exit as a stacked bar (exit 1 at the bottom).</summary>
    /// <param name="labels">True class of each sample.</param>
    /// <param name="exitTaken">0-based exit each sample left at (<see cref="EarlyExitSimulator.ExitTaken"/>).</param>
    /// <param name="classNames">Display names; their count is the number of classes.</param>
    /// <param name="exitCount">E.</param>
    /// <param name="title">Figure title.</param>
    public static string ExitSharesByClass(ReadOnlySpan<int> labels, ReadOnlySpan<int> exitTaken, IReadOnlyList<string> classNames, int exitCount, string title = "Exit taken per class")
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exitCount);
        if (labels.Length != exitTaken.Length)
            throw new ArgumentException($"{labels.Length} labels but {exitTaken.Length} exits taken.", nameof(exitTaken));
        int classes = classNames.Count;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        var counts = new int[classes, exitCount];
        var totals = new int[classes];
        for (int i = 0; i < labels.Length; i++)
        {
            int c = labels[i], k = exitTaken[i];
            if ((uint)c >= (uint)classes)
                throw new ArgumentException($"Label {c} of sample {i} is outside 0..{classes - 1}.", nameof(labels));
            if ((uint)k >= (uint)exitCount)
                throw new ArgumentException($"Exit {k} of sample {i} is outside 0..{exitCount - 1}.", nameof(exitTaken));
            counts[c, k]++;
            totals[c]++;
        }

        using var plot = NewPlot(title, "", "Share of the class's samples (%)");
        var bars = new List<Bar>();
        for (int c = 0; c < classes; c++)
        {
            double below = 0;
            for (int k = 0; k < exitCount; k++)
            {
                double share = totals[c] == 0 ? 0 : 100.0 * counts[c, k] / totals[c];
                bars.Add(new Bar { Position = c, ValueBase = below, Value = below + share, FillColor = ExitPalette(k, exitCount), LineWidth = 0 });
                below += share;
            }
        }
        plot.Add.Bars(bars);
        for (int k = 0; k < exitCount; k++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"exit {k + 1}", FillColor = ExitPalette(k, exitCount) });

        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, classes).Select(c => (double)c)], [.. classNames]);
        LabelStyle ticks = plot.Axes.Bottom.TickLabelStyle;
        ticks.Rotation = -40;
        ticks.Alignment = Alignment.MiddleRight;
        // The axis does not measure rotated labels: it gets the height of the widest name turned by 40 degrees.
        using (var paint = Paint.NewDisposablePaint())
        {
            float widest = ticks.MeasureWidestString([.. classNames], paint).Item2.Length;
            plot.Axes.Bottom.MinimumSize = (float)((widest * Math.Sin(Math.PI * 40 / 180)) + (ticks.FontSize * Math.Cos(Math.PI * 40 / 180)) + 12);
        }
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.SetLimits(-0.6, classes - 0.4, 0, 100);
        plot.HideGrid();
        plot.ShowLegend(Edge.Right);
        return plot.GetSvgXml(Math.Max(560, 140 + (60 * classes)), 480);
    }

    /// <summary>Stacked exit shares per class for the samples of <paramref name="outputs"/> under <paramref name="thresholds"/>.</summary>
    public static string ExitSharesByClass(ExitOutputs outputs, ReadOnlySpan<float> thresholds, IReadOnlyList<string> classNames, string title = "Exit taken per class")
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (!outputs.HasLabels)
            throw new ArgumentException("These outputs were recorded without labels.", nameof(outputs));
        int[] taken = EarlyExitSimulator.ExitTaken(outputs, thresholds);
        return ExitSharesByClass(outputs.Labels, taken, classNames, outputs.ExitCount, title);
    }

    /// <summary>
    /// Images in rows; columns: the grey input, then each attention module's map (mean over channels) in viridis.
    /// Each map has its own colour scale, from its lowest value (dark) to its highest (yellow), printed under it:
    /// the maps of a trained network vary by a few hundredths around their mean, which one scale for all would hide.
    /// Every panel is one heat map scaled to the same square.
    /// </summary>
    public static string AttentionGrid(IReadOnlyList<AttentionSample> samples, string title = "Attention maps")
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfZero(samples.Count);
        foreach (AttentionSample s in samples)
            ArgumentNullException.ThrowIfNull(s);
        int columns = samples.Max(s => 1 + s.Maps.Count);
        bool captions = samples.Any(s => s.Caption is not null);

        // One unit is one panel's side; panels are 112 px wide, 10 px apart across and 26 px down (room for a map's range).
        const double gap = 10.0 / 112, rowGap = 26.0 / 112, captionWidth = 150.0 / 112;
        double step = 1 + gap, rowStep = 1 + rowGap;
        using var plot = new Plot();
        plot.Font.Set(Font.Value);
        plot.Title(title, 16);
        ScottPlot.Plottables.Heatmap? scaleSource = null;
        for (int r = 0; r < samples.Count; r++)
        {
            AttentionSample s = samples[r];
            double top = -r * rowStep;
            Panel(plot, s.Image, 0, top, new ScottPlot.Colormaps.Grayscale(), 0f, 1f);
            for (int m = 0; m < s.Maps.Count; m++)
            {
                double left = (m + 1) * step;
                var (low, high) = Range(s.Maps[m]);
                scaleSource = Panel(plot, s.Maps[m], left, top, new ScottPlot.Colormaps.Viridis(), low, high);
                var range = plot.Add.Text(string.Create(CultureInfo.InvariantCulture, $"{low:F3} – {high:F3}"), left + 0.5, top - 1 - 0.02);
                range.Alignment = Alignment.UpperCenter;
                range.LabelFontSize = 10;
            }
            if (s.Caption is not null)
            {
                var caption = plot.Add.Text(s.Caption, -gap, top - 0.5);
                caption.Alignment = Alignment.MiddleRight;
                caption.LabelFontSize = 12;
            }
        }
        for (int c = 0; c < columns; c++)
        {
            var header = plot.Add.Text(c == 0 ? "input" : $"attention {c}", (c * step) + 0.5, 0.05);
            header.Alignment = Alignment.LowerCenter;
            header.LabelFontSize = 13;
        }
        if (scaleSource is not null)
        {
            var bar = plot.Add.ColorBar(scaleSource, Edge.Right);
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            ticks.AddMajor(0, "lowest");
            ticks.AddMajor(1, "highest");
            bar.Axis.TickGenerator = ticks;
            bar.Axis.Label.Text = "attention (mean over channels), each map on its own scale: range under it";
        }
        foreach (IAxis axis in plot.Axes.GetAxes()) axis.IsVisible = false;
        plot.Axes.Frame(false);
        plot.HideGrid();
        plot.Axes.SetLimits(captions ? -captionWidth - gap : -gap, (columns * step) - gap + 0.05, (-samples.Count * rowStep) + gap - 0.05, 0.35);
        int width = (int)(112 * ((columns * step) + (captions ? captionWidth : 0))) + (scaleSource is null ? 20 : 130);
        int height = (int)(112 * ((samples.Count * rowStep) + 0.4)) + 40;
        return plot.GetSvgXml(width, height);
    }

    /// <summary>Lowest and highest value of a map (NaN ignored; 0 and 1 when it has none).</summary>
    private static (float Low, float High) Range(HeatMap map)
    {
        var finite = map.Values.Where(v => !float.IsNaN(v)).ToArray();
        return finite.Length == 0 ? (0f, 1f) : (finite.Min(), finite.Max());
    }

    /// <summary>
    /// One panel, <paramref name="low"/>..<paramref name="high"/> stretched over the colour scale (a flat map is drawn
    /// at its middle): a map's own range, or 0..1 for an image.
    /// </summary>
    private static ScottPlot.Plottables.Heatmap Panel(Plot plot, HeatMap map, double left, double top, IColormap colormap, float low, float high)
    {
        var span = high - low;
        var values = new double[map.Height, map.Width];
        for (int y = 0; y < map.Height; y++)
        {
            for (int x = 0; x < map.Width; x++)
            {
                float v = map[y, x];
                values[y, x] = float.IsNaN(v) ? 0 : span > 0 ? Math.Clamp((v - low) / span, 0f, 1f) : 0.5;
            }
        }
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = colormap;
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        heatmap.Rectangle = new CoordinateRect(left, left + 1, top - 1, top);
        // A rectangle per cell, as crisp in any SVG viewer as the map is coarse (an embedded bitmap gets smoothed).
        heatmap.RenderStrategy = new ScottPlot.Plottables.Heatmap.RenderStrategies.Rectangles();
        return heatmap;
    }

    private static void Curve(Plot plot, IEnumerable<EvaluatedPoint> points, string name, Color colour, float markerSize)
    {
        var sorted = points.OrderBy(p => p.RelativeCost).ThenBy(p => p.Accuracy).ToList();
        if (sorted.Count == 0) return;
        var line = plot.Add.Scatter(sorted.Select(p => p.RelativeCost).ToArray(), sorted.Select(p => 100 * p.Accuracy).ToArray(), colour);
        line.LegendText = name;
        line.LineWidth = 1.5f;
        line.MarkerSize = markerSize;
    }

    private static void Label(Plot plot, string text, EvaluatedPoint at, Color colour, Alignment alignment, float offsetX, float offsetY)
    {
        var label = plot.Add.Text(text, at.RelativeCost, 100 * at.Accuracy);
        label.Alignment = alignment;
        label.OffsetX = offsetX;
        label.OffsetY = offsetY;
        label.LabelFontColor = colour;
        label.LabelFontSize = 11;
    }

    /// <summary>
    /// The run's loss per epoch, each term as it enters the loss (weights and T² applied): the deepest exit's
    /// cross-entropy, the shallow exits' cross-entropy, distillation and feature hint, and their sum.
    /// </summary>
    public static string TrainingLoss(IReadOnlyList<Learning.EpochMetrics> metrics, string title = "Training loss per epoch")
    {
        ArgumentNullException.ThrowIfNull(metrics);
        using var plot = NewPlot(title, "Epoch", "Loss (mean over the epoch's batches)");
        double[] epochs = [.. metrics.Select(m => (double)m.Epoch)];
        (string Name, Func<Learning.EpochMetrics, double> Value)[] terms =
        [
            ("total", m => m.TrainLoss),
            ("deepest exit: cross-entropy", m => m.TrainDeepCrossEntropy),
            ("shallow exits: (1-α) cross-entropy", m => m.TrainCrossEntropy),
            ("shallow exits: α T² distillation", m => m.TrainDistillation),
            ("shallow exits: λ feature hint", m => m.TrainHint),
        ];
        for (int i = 0; i < terms.Length; i++)
        {
            var line = plot.Add.Scatter(epochs, [.. metrics.Select(terms[i].Value)], ExitPalette(i, terms.Length));
            line.LegendText = terms[i].Name;
            line.LineWidth = i == 0 ? 3 : 2;
            line.MarkerSize = 4;
        }
        plot.ShowLegend(Edge.Right);
        return plot.GetSvgXml(960, 480);
    }

    /// <summary>Validation accuracy per epoch of every exit and of the ensemble of the exits.</summary>
    public static string ValidationAccuracy(IReadOnlyList<Learning.EpochMetrics> metrics, string title = "Validation accuracy per epoch")
    {
        ArgumentNullException.ThrowIfNull(metrics);
        using var plot = NewPlot(title, "Epoch", "Validation accuracy (%)");
        double[] epochs = [.. metrics.Select(m => (double)m.Epoch)];
        int exits = metrics.Count == 0 ? 0 : metrics.Max(m => m.ValidationAccuracy.Count);
        for (int k = 0; k < exits; k++)
        {
            var line = plot.Add.Scatter(epochs, [.. metrics.Select(m => k < m.ValidationAccuracy.Count ? 100 * m.ValidationAccuracy[k] : double.NaN)], ExitPalette(k, exits));
            line.LegendText = $"exit {k + 1}";
            line.LineWidth = 2;
            line.MarkerSize = 4;
        }
        if (metrics.Any(m => m.ValidationEnsembleAccuracy is not null))
        {
            var ensemble = plot.Add.Scatter(epochs, [.. metrics.Select(m => 100 * (m.ValidationEnsembleAccuracy ?? double.NaN))], FullColour);
            ensemble.LegendText = "ensemble";
            ensemble.LinePattern = LinePattern.Dashed;
            ensemble.MarkerSize = 4;
        }
        plot.ShowLegend(Edge.Right);
        return plot.GetSvgXml(960, 480);
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Font.Set(Font.Value);
        plot.Title(title, 16);
        plot.XLabel(xLabel, 13);
        plot.YLabel(yLabel, 13);
        return plot;
    }

    private static Color ExitPalette(int k, int exits) => new ScottPlot.Colormaps.Viridis().GetColor(exits == 1 ? 0.5 : 0.9 * k / (exits - 1));

    private static readonly string[] FontFolders = ["/usr/share/fonts", "/usr/local/share/fonts"];

    /// <summary>
    /// The font every figure is set in. SkiaSharp's Linux build without dependencies (the one the solution uses) lists
    /// no system fonts, and ScottPlot would then measure and draw no text at all; so a DejaVu Sans file is registered
    /// by path (Debian's fonts-dejavu-core), unless Skia already knows a font (Windows, macOS).
    /// </summary>
    private static readonly Lazy<string> Font = new(() =>
    {
        if (!string.IsNullOrEmpty(Fonts.Default)) return Fonts.Default;
        const string family = "DejaVu Sans";
        string? regular = FontFolders.Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "DejaVuSans.ttf", SearchOption.AllDirectories))
            .FirstOrDefault()
            ?? throw new InvalidOperationException(
                $"no font to draw the figures with: install DejaVu Sans (Debian and Ubuntu: fonts-dejavu-core) under {string.Join(" or ", FontFolders)}");
        Fonts.AddFontFile(family, regular, bold: false, italic: false);
        string bold = Path.Combine(Path.GetDirectoryName(regular)!, "DejaVuSans-Bold.ttf");
        Fonts.AddFontFile(family, File.Exists(bold) ? bold : regular, bold: true, italic: false);
        return family;
    });

    private static string Fmt(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
