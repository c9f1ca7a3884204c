using System.Globalization;
using System.Xml.Linq;

namespace ScanService.Training.Tuning;

/// <summary>A 2-D map of values in [0, 1], row-major (an image or an attention map).</summary>
public sealed record HeatMap
{
    public HeatMap(int height, int width, float[] values)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != height * width)
            throw new ArgumentException($"Expected {height * width} values for {height}x{width}, got {values.Length}.", nameof(values));
        Height = height;
        Width = width;
        Values = values;
    }

    public int Height { get; }
    public int Width { get; }
    public float[] Values { get; }

    public float this[int y, int x] => Values[(y * Width) + x];

    public static HeatMap FromRows(float[,] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int h = rows.GetLength(0), w = rows.GetLength(1);
        var values = new float[h * w];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
                values[(y * w) + x] = rows[y, x];
        }
        return new HeatMap(h, w, values);
    }
}

/// <summary>One test image and what each attention module made of it (maps averaged over channels).</summary>
/// <param name="Image">Grey image, values in [0, 1].</param>
/// <param name="Maps">One map per attention module, values in [0, 1].</param>
/// <param name="Caption">Optional row caption, e.g. "label: coat, exit 2".</param>
public sealed record AttentionSample(HeatMap Image, IReadOnlyList<HeatMap> Maps, string? Caption = null);

/// <summary>
/// Figures for <c>evaluate</c> and <c>tune</c>, written as SVG through System.Xml.Linq so the output is always
/// well-formed XML. Every data mark carries <c>data-series</c> (and a <c>title</c> tooltip where useful).
/// </summary>
public static class SvgPlots
{
    private static readonly XNamespace Ns = "http://www.w3.org/2000/svg";

    private const string GaColour = "#d62728";
    private const string GridColour = "#1f77b4";
    private const string MsdColour = "#2ca02c";
    private const string ExitColour = "#9467bd";
    private const string FullColour = "#000000";
    private const string OperatingColour = "#ff7f0e";

    /// <summary>
    /// Accuracy against relative cost: GA front, grid sweep and MSDNet curve as lines with a marker per point,
    /// each single exit and full depth as markers, the named operating points circled and labelled.
    /// </summary>
    public static string AccuracyVsCost(TuningResult result, string title = "Accuracy vs. cost (validation)")
    {
        ArgumentNullException.ThrowIfNull(result);
        const double width = 820, height = 540, left = 70, right = 200, top = 44, bottom = 60;
        double pw = width - left - right, ph = height - top - bottom;

        IReadOnlyList<EvaluatedPoint> ga = result.GeneticFront.Points;
        IReadOnlyList<EvaluatedPoint> grid = SortedByCost(result.GridSweep);
        var msdRaw = new List<EvaluatedPoint>(result.MsdNet.Count);
        foreach (MsdNetBudgetedPoint m in result.MsdNet)
            msdRaw.Add(m.Point);
        IReadOnlyList<EvaluatedPoint> msd = SortedByCost(msdRaw);

        double maxCost = 0, minAcc = 1, maxAcc = 0;
        foreach (EvaluatedPoint p in ga.Concat(grid).Concat(msd).Concat(result.SingleExits).Append(result.FullDepth))
        {
            maxCost = Math.Max(maxCost, p.RelativeCost);
            minAcc = Math.Min(minAcc, p.Accuracy);
            maxAcc = Math.Max(maxAcc, p.Accuracy);
        }
        (double xMax, double xStep) = NiceRange(0, maxCost);
        double yLo = Math.Floor(minAcc * 20) / 20;
        double yHi = Math.Min(1, Math.Ceiling((maxAcc + 1e-9) * 20) / 20);
        if (yHi - yLo < 0.05)
            yLo = Math.Max(0, yHi - 0.05);
        (_, double yStep) = NiceRange(yLo, yHi);

        double X(double cost) => left + (pw * cost / xMax);
        double Y(double acc) => top + ph - (ph * (acc - yLo) / (yHi - yLo));

        XElement svg = Root(width, height);
        svg.Add(Text(width / 2, 24, title, 16, "middle", bold: true));
        var axes = El("g", ("data-role", "axes"));
        for (double x = 0; x <= xMax + 1e-9; x += xStep)
        {
            axes.Add(Line(X(x), top, X(x), top + ph, "#e0e0e0"));
            axes.Add(Text(X(x), top + ph + 18, Fmt(x, "0.0#"), 11, "middle"));
        }
        for (double y = yLo; y <= yHi + 1e-9; y += yStep)
        {
            axes.Add(Line(left, Y(y), left + pw, Y(y), "#e0e0e0"));
            axes.Add(Text(left - 6, Y(y) + 4, Fmt(100 * y, "0.#"), 11, "end"));
        }
        axes.Add(El("rect", ("x", F(left)), ("y", F(top)), ("width", F(pw)), ("height", F(ph)), ("fill", "none"), ("stroke", "#444444")));
        axes.Add(Text(left + (pw / 2), height - 16, "Relative cost (multiply-adds / monolithic graph)", 12, "middle"));
        var yLabel = Text(18, top + (ph / 2), "Validation accuracy (%)", 12, "middle");
        yLabel.SetAttributeValue("transform", $"rotate(-90 18 {F(top + (ph / 2))})");
        axes.Add(yLabel);
        svg.Add(axes);

        svg.Add(Series(grid, PointSources.Grid, GridColour, 2.0, X, Y));
        svg.Add(Series(msd, PointSources.MsdNet, MsdColour, 2.5, X, Y));
        svg.Add(Series(ga, PointSources.Genetic, GaColour, ga.Count > 100 ? 2.0 : 3.0, X, Y));

        var exits = El("g", ("data-role", "single-exits"));
        foreach (EvaluatedPoint p in result.SingleExits)
        {
            exits.Add(Marker("rect", p, "single-exit", ExitColour, X, Y, 5));
            exits.Add(Text(X(p.RelativeCost) + 7, Y(p.Accuracy) + 14, p.Source, 10, "start", ExitColour));
        }
        svg.Add(exits);

        var full = El("g", ("data-role", "full-depth"));
        full.Add(Marker("diamond", result.FullDepth, PointSources.FullDepth, FullColour, X, Y, 6));
        full.Add(Text(X(result.FullDepth.RelativeCost) - 8, Y(result.FullDepth.Accuracy) - 8, "full depth", 10, "end", FullColour));
        svg.Add(full);

        var ops = El("g", ("data-role", "operating-points"));
        foreach (NamedOperatingPoint op in result.OperatingPoints)
        {
            var c = El("circle", ("cx", F(X(op.RelativeCost))), ("cy", F(Y(op.ValidationAccuracy))), ("r", "7"),
                ("fill", "none"), ("stroke", OperatingColour), ("stroke-width", "2"), ("data-series", "operating-point"), ("data-name", op.Name));
            c.Add(El("title", $"{op.Name}: {Fmt(100 * op.ValidationAccuracy, "0.00")} % at cost {Fmt(op.RelativeCost, "0.000")}"));
            ops.Add(c);
        }
        // Operating points crowd near full depth: names that share a point share a label, and labels are stacked
        // below-right of their points (the dominated, mostly empty side of the front) with a leader line each.
        var groups = result.OperatingPoints.GroupBy(o => (o.RelativeCost, o.ValidationAccuracy)).OrderBy(g => g.Key.RelativeCost).ToList();
        for (int i = 0; i < groups.Count; i++)
        {
            (double cost, double acc) = groups[i].Key;
            double px = X(cost), py = Y(acc);
            double tx = px + 14, ty = Math.Min(top + ph - 6, py + 24 + (16 * i));
            ops.Add(Line(px, py, tx - 2, ty - 4, OperatingColour, 0.8));
            ops.Add(Text(tx, ty, string.Join(" = ", groups[i].Select(o => o.Name)), 11, "start", OperatingColour, bold: true));
        }
        svg.Add(ops);

        var legend = El("g", ("data-role", "legend"));
        double ly = top + 10;
        foreach ((string label, string colour, string shape) in new[]
        {
            ("GA Pareto front", GaColour, "line"), ("Shared threshold (grid)", GridColour, "line"), ("MSDNet budgeted", MsdColour, "line"),
            ("Single exit", ExitColour, "square"), ("Full depth (monolithic)", FullColour, "diamond"), ("Operating point", OperatingColour, "ring"),
        })
        {
            double lx = left + pw + 16;
            legend.Add(shape switch
            {
                "line" => Line(lx, ly, lx + 22, ly, colour, 2),
                "square" => El("rect", ("x", F(lx + 6)), ("y", F(ly - 5)), ("width", "10"), ("height", "10"), ("fill", colour)),
                "diamond" => El("polygon", ("points", Diamond(lx + 11, ly, 6)), ("fill", colour)),
                _ => El("circle", ("cx", F(lx + 11)), ("cy", F(ly)), ("r", "6"), ("fill", "none"), ("stroke", colour), ("stroke-width", "2")),
            });
            legend.Add(Text(lx + 30, ly + 4, label, 11, "start"));
            ly += 20;
        }
        svg.Add(legend);
        return Serialise(svg, indent: true);
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

        const double barWidth = 40, gap = 18, left = 60, right = 130, top = 44, bottom = 110, ph = 300;
        double pw = (classes * (barWidth + gap)) + gap;
        double width = left + pw + right, height = top + ph + bottom;
        double Y(double share) => top + ph - (ph * share);

        XElement svg = Root(width, height);
        svg.Add(Text(width / 2, 24, title, 16, "middle", bold: true));
        var axes = El("g", ("data-role", "axes"));
        for (int pct = 0; pct <= 100; pct += 20)
        {
            axes.Add(Line(left, Y(pct / 100.0), left + pw, Y(pct / 100.0), "#e0e0e0"));
            axes.Add(Text(left - 6, Y(pct / 100.0) + 4, $"{pct.ToString(CultureInfo.InvariantCulture)} %", 11, "end"));
        }
        axes.Add(Line(left, top + ph, left + pw, top + ph, "#444444"));
        svg.Add(axes);

        var bars = El("g", ("data-role", "bars"));
        for (int c = 0; c < classes; c++)
        {
            double x = left + gap + (c * (barWidth + gap));
            double below = 0;
            for (int k = 0; k < exitCount; k++)
            {
                double share = totals[c] == 0 ? 0 : (double)counts[c, k] / totals[c];
                var seg = El("rect", ("x", F(x)), ("y", F(Y(below + share))), ("width", F(barWidth)), ("height", F(ph * share)),
                    ("fill", ExitPalette(k, exitCount)), ("data-series", "exit-share"), ("data-class", c.ToString(CultureInfo.InvariantCulture)),
                    ("data-exit", (k + 1).ToString(CultureInfo.InvariantCulture)));
                seg.Add(El("title", $"{classNames[c]}: exit {k + 1} {Fmt(100 * share, "0.0")} % ({counts[c, k]} of {totals[c]})"));
                bars.Add(seg);
                below += share;
            }
            double lx = x + (barWidth / 2), ly = top + ph + 14;
            var name = Text(lx, ly, classNames[c], 11, "end");
            name.SetAttributeValue("transform", $"rotate(-40 {F(lx)} {F(ly)})");
            bars.Add(name);
        }
        svg.Add(bars);

        var legend = El("g", ("data-role", "legend"));
        for (int k = 0; k < exitCount; k++)
        {
            double lx = left + pw + 16, ly = top + 10 + (k * 20);
            legend.Add(El("rect", ("x", F(lx)), ("y", F(ly - 6)), ("width", "12"), ("height", "12"), ("fill", ExitPalette(k, exitCount))));
            legend.Add(Text(lx + 18, ly + 4, $"exit {k + 1}", 11, "start"));
        }
        svg.Add(legend);
        return Serialise(svg, indent: true);
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
    /// Images in rows; columns: the grey input, then each attention module's map in a perceptual colour scale.
    /// Every cell is one <c>rect</c> with <c>class="px"</c>.
    /// </summary>
    public static string AttentionGrid(IReadOnlyList<AttentionSample> samples, string title = "Attention maps")
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfZero(samples.Count);
        int columns = 1;
        bool captions = false;
        foreach (AttentionSample s in samples)
        {
            ArgumentNullException.ThrowIfNull(s);
            columns = Math.Max(columns, 1 + s.Maps.Count);
            captions |= s.Caption is not null;
        }

        const double panel = 112, gap = 10, top = 64, left = 10;
        double captionWidth = captions ? 150 : 0;
        double width = left + captionWidth + (columns * (panel + gap));
        double height = top + (samples.Count * (panel + gap));

        XElement svg = Root(width, height);
        svg.Add(Text(width / 2, 22, title, 16, "middle", bold: true));
        for (int c = 0; c < columns; c++)
        {
            string header = c == 0 ? "input" : $"attention {c}";
            svg.Add(Text(left + captionWidth + (c * (panel + gap)) + (panel / 2), top - 10, header, 12, "middle"));
        }
        for (int r = 0; r < samples.Count; r++)
        {
            AttentionSample s = samples[r];
            double y0 = top + (r * (panel + gap));
            if (s.Caption is not null)
                svg.Add(Text(left, y0 + (panel / 2) + 4, s.Caption, 11, "start"));
            svg.Add(Panel(s.Image, left + captionWidth, y0, panel, r, 0, grey: true));
            for (int m = 0; m < s.Maps.Count; m++)
                svg.Add(Panel(s.Maps[m], left + captionWidth + ((m + 1) * (panel + gap)), y0, panel, r, m + 1, grey: false));
        }
        // Tens of thousands of cells: no indentation keeps the file small.
        return Serialise(svg, indent: false);
    }

    private static XElement Panel(HeatMap map, double x0, double y0, double size, int row, int column, bool grey)
    {
        double cell = size / Math.Max(map.Height, map.Width);
        var g = El("g", ("data-row", row.ToString(CultureInfo.InvariantCulture)), ("data-col", column.ToString(CultureInfo.InvariantCulture)),
            ("shape-rendering", "crispEdges"));
        string w = F(cell);
        for (int y = 0; y < map.Height; y++)
        {
            for (int x = 0; x < map.Width; x++)
            {
                float v = map[y, x];
                g.Add(El("rect", ("class", "px"), ("x", F(x0 + (x * cell))), ("y", F(y0 + (y * cell))), ("width", w), ("height", w),
                    ("fill", grey ? Grey(v) : Viridis(v))));
            }
        }
        g.Add(El("rect", ("x", F(x0)), ("y", F(y0)), ("width", F(cell * map.Width)), ("height", F(cell * map.Height)), ("fill", "none"), ("stroke", "#888888")));
        return g;
    }

    private static XElement Series(IReadOnlyList<EvaluatedPoint> points, string series, string colour, double radius, Func<double, double> x, Func<double, double> y)
    {
        var g = El("g", ("data-role", "series"), ("data-name", series));
        if (points.Count > 1)
        {
            string coords = string.Join(" ", points.Select(p => $"{F(x(p.RelativeCost))},{F(y(p.Accuracy))}"));
            g.Add(El("polyline", ("points", coords), ("fill", "none"), ("stroke", colour), ("stroke-width", "1.5"), ("stroke-opacity", "0.8")));
        }
        foreach (EvaluatedPoint p in points)
            g.Add(Marker("circle", p, series, colour, x, y, radius));
        return g;
    }

    private static XElement Marker(string shape, EvaluatedPoint p, string series, string colour, Func<double, double> x, Func<double, double> y, double size)
    {
        double cx = x(p.RelativeCost), cy = y(p.Accuracy);
        XElement e = shape switch
        {
            "circle" => El("circle", ("cx", F(cx)), ("cy", F(cy)), ("r", F(size)), ("fill", colour), ("fill-opacity", "0.85")),
            "rect" => El("rect", ("x", F(cx - size)), ("y", F(cy - size)), ("width", F(2 * size)), ("height", F(2 * size)), ("fill", colour)),
            _ => El("polygon", ("points", Diamond(cx, cy, size)), ("fill", colour)),
        };
        e.SetAttributeValue("data-series", series);
        string thresholds = string.Join(", ", p.Thresholds.Take(p.Thresholds.Length - 1).Select(t => t > 1f ? "never" : Fmt(t, "0.000")));
        e.Add(El("title", $"{p.Source}: {Fmt(100 * p.Accuracy, "0.00")} % at cost {Fmt(p.RelativeCost, "0.000")}; θ = [{thresholds}]"));
        return e;
    }

    private static IReadOnlyList<EvaluatedPoint> SortedByCost(IEnumerable<EvaluatedPoint> points) =>
        [.. points.Select((p, i) => (p, i)).OrderBy(t => t.p.RelativeCost).ThenBy(t => t.p.Accuracy).ThenBy(t => t.i).Select(t => t.p)];

    /// <summary>Axis end rounded up to a tick and a tick step giving at most about 10 ticks.</summary>
    private static (double Max, double Step) NiceRange(double min, double max)
    {
        double span = Math.Max(max - min, 1e-6);
        double step = 1;
        foreach (double s in (ReadOnlySpan<double>)[0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5])
        {
            if (span / s <= 10)
            {
                step = s;
                break;
            }
        }
        return (min + (Math.Ceiling((span - 1e-9) / step) * step), step);
    }

    private static string ExitPalette(int k, int exits) => Viridis(exits == 1 ? 0.5f : 0.9f * k / (exits - 1));

    private static string Grey(float v)
    {
        int g = (int)Math.Round(255 * Clamp01(v));
        return $"#{g:x2}{g:x2}{g:x2}";
    }

    /// <summary>Viridis, linearly interpolated between five anchors: perceptually ordered and colour-blind safe.</summary>
    private static string Viridis(float v)
    {
        ReadOnlySpan<int> anchors = [0x440154, 0x3b528b, 0x21918c, 0x5ec962, 0xfde725];
        double t = Clamp01(v) * (anchors.Length - 1);
        int i = Math.Min((int)t, anchors.Length - 2);
        double f = t - i;
        int a = anchors[i], b = anchors[i + 1];
        int Mix(int shift) => (int)Math.Round((((a >> shift) & 0xff) * (1 - f)) + (((b >> shift) & 0xff) * f));
        return $"#{Mix(16):x2}{Mix(8):x2}{Mix(0):x2}";
    }

    private static double Clamp01(float v) => float.IsNaN(v) ? 0 : Math.Clamp(v, 0f, 1f);

    private static string Diamond(double cx, double cy, double r) =>
        $"{F(cx)},{F(cy - r)} {F(cx + r)},{F(cy)} {F(cx)},{F(cy + r)} {F(cx - r)},{F(cy)}";

    private static XElement Root(double width, double height) =>
        new(Ns + "svg",
            new XAttribute("width", F(width)), new XAttribute("height", F(height)),
            new XAttribute("viewBox", $"0 0 {F(width)} {F(height)}"),
            new XAttribute("font-family", "Helvetica, Arial, sans-serif"),
            El("rect", ("width", "100%"), ("height", "100%"), ("fill", "#ffffff")));

    private static XElement El(string name, params (string Name, string Value)[] attributes)
    {
        var e = new XElement(Ns + name);
        foreach ((string n, string v) in attributes)
            e.SetAttributeValue(n, v);
        return e;
    }

    private static XElement El(string name, string text) => new(Ns + name, text);

    private static XElement Text(double x, double y, string text, double size, string anchor, string colour = "#222222", bool bold = false)
    {
        XElement e = El("text", ("x", F(x)), ("y", F(y)), ("font-size", F(size)), ("text-anchor", anchor), ("fill", colour));
        if (bold)
            e.SetAttributeValue("font-weight", "bold");
        e.Value = text;
        return e;
    }

    private static XElement Line(double x1, double y1, double x2, double y2, string colour, double strokeWidth = 1) =>
        El("line", ("x1", F(x1)), ("y1", F(y1)), ("x2", F(x2)), ("y2", F(y2)), ("stroke", colour), ("stroke-width", F(strokeWidth)));

    private static string Serialise(XElement root, bool indent) =>
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + root.ToString(indent ? SaveOptions.None : SaveOptions.DisableFormatting) + "\n";

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    private static string Fmt(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
