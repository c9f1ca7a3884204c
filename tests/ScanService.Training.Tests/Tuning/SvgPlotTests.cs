using System.Globalization;
using System.Xml.Linq;
using ScanService.Training.Tuning;

namespace ScanService.Training.Tests.Tuning;

/// <summary>The figures tune writes: well-formed SVG with the titles, axis labels, legends and names a reader needs.</summary>
public class SvgPlotTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>The text of every <c>text</c> element, as a reader sees it.</summary>
    private static List<string> Texts(XDocument doc) => [.. doc.Descendants(Svg + "text").Select(t => t.Value.Trim())];

    private static XDocument Parse(string svg)
    {
        XDocument doc = XDocument.Parse(svg);
        Assert.Equal(Svg + "svg", doc.Root!.Name);
        Assert.True(double.Parse((string)doc.Root.Attribute("width")!, CultureInfo.InvariantCulture) > 0);
        return doc;
    }

    /// <summary>Text boxes (from each glyph's x and the font size) that overlap: labels written over one another.</summary>
    private static List<string> OverlappingTexts(XDocument doc)
    {
        var boxes = new List<(string Text, double Left, double Top, double Right, double Bottom)>();
        foreach (XElement t in doc.Descendants(Svg + "text"))
        {
            string transform = (string?)t.Attribute("transform") ?? "";
            if (!transform.StartsWith("translate(", StringComparison.Ordinal)) continue; // rotated axis and tick labels: laid out by their axis
            double[] at = [.. transform["translate(".Length..^1].Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
            double[] xs = [.. ((string)t.Attribute("x")!).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
            double y = double.Parse(((string)t.Attribute("y")!).Split(',')[0], CultureInfo.InvariantCulture);
            double size = double.Parse((string)t.Attribute("font-size")!, CultureInfo.InvariantCulture);
            boxes.Add((t.Value.Trim(), at[0] + xs.Min(), at[1] + y - (0.75 * size), at[0] + xs.Max() + (0.5 * size), at[1] + y));
        }
        Assert.NotEmpty(boxes);
        var overlaps = new List<string>();
        for (int i = 0; i < boxes.Count; i++)
        {
            for (int j = i + 1; j < boxes.Count; j++)
            {
                var (a, b) = (boxes[i], boxes[j]);
                if (a.Left < b.Right && b.Left < a.Right && a.Top < b.Bottom && b.Top < a.Bottom) overlaps.Add($"'{a.Text}' and '{b.Text}'");
            }
        }
        return overlaps;
    }

    [Fact]
    public void The_overlap_check_sees_labels_written_over_one_another()
    {
        static string Text(double x, double y, string text) =>
            $"<text transform=\"translate({x} {y})\" font-size=\"12\" x=\"0, 7, 14, \" y=\"4, \">{text}</text>";
        XDocument apart = XDocument.Parse($"<svg xmlns=\"http://www.w3.org/2000/svg\">{Text(10, 20, "abc")}{Text(10, 40, "def")}</svg>");
        XDocument over = XDocument.Parse($"<svg xmlns=\"http://www.w3.org/2000/svg\">{Text(10, 20, "abc")}{Text(20, 22, "def")}</svg>");

        Assert.Empty(OverlappingTexts(apart));
        Assert.Single(OverlappingTexts(over));
    }

    [Fact]
    public void AccuracyVsCost_names_every_series_and_operating_point_without_overlapping_labels()
    {
        ExitOutputs o = TuningTestData.Realistic(1500, seed: 41);
        TuningResult r = ThresholdTuner.Run(o, new TuningOptions { Genetic = new GeneticSearchOptions { Generations = 15 }, MsdNetBudgets = 12 });

        XDocument doc = Parse(SvgPlots.AccuracyVsCost(r));

        List<string> texts = Texts(doc);
        Assert.Contains("Accuracy vs. cost (validation)", texts);
        Assert.Contains("Relative cost (multiply-adds / monolithic graph)", texts);
        Assert.Contains("Validation accuracy (%)", texts);
        foreach (string series in new[] { "GA Pareto front", "Shared threshold (grid)", "MSDNet budgeted", "Single exit", "Full depth (monolithic)", "exit 1", "exit 4", "full depth" })
            Assert.Contains(series, texts);
        foreach (NamedOperatingPoint p in r.OperatingPoints)
            Assert.Contains(texts, t => t.Contains(p.Name, StringComparison.Ordinal) && t.Contains(" % at ", StringComparison.Ordinal));
        Assert.Empty(OverlappingTexts(doc));
    }

    [Fact]
    public void ExitSharesByClass_has_every_class_name_and_exit_in_its_legend_and_escapes_names()
    {
        int[] labels = [0, 0, 0, 1, 1, 2, 2, 2, 2];
        int[] taken = [0, 1, 1, 3, 3, 0, 1, 2, 3];
        string[] names = ["T-shirt <top>", "Trouser & co", "Pullover"];

        XDocument doc = Parse(SvgPlots.ExitSharesByClass(labels, taken, names, 4, "Exit taken per class, balanced (test)"));

        List<string> texts = Texts(doc);
        Assert.Contains("Exit taken per class, balanced (test)", texts);
        Assert.Contains("Share of the class's samples (%)", texts);
        Assert.All(names, n => Assert.Contains(n, texts));
        Assert.All(Enumerable.Range(1, 4), k => Assert.Contains($"exit {k}", texts));
        Assert.Empty(OverlappingTexts(doc));
    }

    [Fact]
    public void ExitSharesByClass_from_outputs_and_its_argument_checks()
    {
        ExitOutputs o = TuningTestData.Realistic(800, seed: 42, classes: 5);
        XDocument doc = Parse(SvgPlots.ExitSharesByClass(o, [0.8f, 0.8f, 0.8f, 0f], ["a", "b", "c", "d", "e"]));
        Assert.Contains("e", Texts(doc));
        Assert.Throws<ArgumentException>(() => SvgPlots.ExitSharesByClass([5], [0], ["a"], 4));
        Assert.Throws<ArgumentException>(() => SvgPlots.ExitSharesByClass([0], [4], ["a"], 4));
    }

    [Fact]
    public void AttentionGrid_draws_a_panel_per_image_and_map_with_column_headers_captions_and_a_colour_bar()
    {
        var rng = new Random(43);
        HeatMap Map(int h, int w) => new(h, w, [.. Enumerable.Range(0, h * w).Select(_ => (float)rng.NextDouble())]);
        // A nearly flat map, as trained attention maps are: its own scale shows its range.
        HeatMap Flat(int h, int w) => new(h, w, [.. Enumerable.Range(0, h * w).Select(i => i == 0 ? 0.46f : i == 1 ? 0.552f : 0.5f)]);
        AttentionSample[] samples =
        [
            new(Map(28, 28), [Flat(14, 14), Map(7, 7), Map(4, 4)], "coat → exit 2"),
            new(Map(28, 28), [Map(14, 14), Map(7, 7), Map(4, 4)], "bag & <shoe>"),
        ];

        XDocument doc = Parse(SvgPlots.AttentionGrid(samples));

        // A filled rectangle per pixel of every image and map (a crisp cell in any viewer); the colour bar's scale is one raster.
        // (Skia leaves out fill for black, SVG's default, and x or y where they are 0.)
        int cells = doc.Descendants(Svg + "rect").Count(r => r.Parent!.Name != Svg + "clipPath" && r.Attribute("x") is not null && r.Attribute("y") is not null);
        Assert.Equal(2 * ((28 * 28) + (14 * 14) + (7 * 7) + (4 * 4)), cells);
        Assert.Single(doc.Descendants(Svg + "image"));
        List<string> texts = Texts(doc);
        Assert.Contains("Attention maps", texts);
        Assert.Contains("input", texts);
        Assert.Contains("attention 3", texts);
        Assert.Contains("bag & <shoe>", texts);
        Assert.Contains("coat → exit 2", texts);
        Assert.Contains("attention (mean over channels), each map on its own scale: range under it", texts);
        Assert.Contains("0.460 – 0.552", texts);
        Assert.Contains("lowest", texts);
        Assert.Contains("highest", texts);
        Assert.Equal(2 * 3, texts.Count(t => t.Contains(" – ")));
        // The flat map's extremes take the two ends of the colour scale, its other cells the colour at (0.5-0.46)/(0.552-0.46).
        var fills = doc.Descendants(Svg + "rect").Select(r => (string?)r.Attribute("fill")).Where(f => f is not null).ToList();
        Assert.Contains(fills, f => string.Equals(f, new ScottPlot.Colormaps.Viridis().GetColor(1.0).ToHex(), StringComparison.OrdinalIgnoreCase));
        Assert.Empty(OverlappingTexts(doc));
    }

    [Fact]
    public void HeatMap_FromRowsAndValidation()
    {
        HeatMap m = HeatMap.FromRows(new float[,] { { 0f, 0.5f }, { 1f, 0.25f } });
        Assert.Equal(2, m.Height);
        Assert.Equal(1f, m[1, 0]);
        Assert.Throws<ArgumentException>(() => new HeatMap(2, 2, new float[3]));
    }

    private static IReadOnlyList<ScanService.Training.Learning.EpochMetrics> Epochs(int count) =>
        [.. Enumerable.Range(1, count).Select(e => new ScanService.Training.Learning.EpochMetrics
        {
            Epoch = e, LearningRate = 0.1 / e, TrainLoss = 3.0 / e, TrainDeepCrossEntropy = 1.0 / e, TrainCrossEntropy = 1.2 / e,
            TrainDistillation = 0.7 / e, TrainHint = 0.01, TrainAccuracy = 0.5 + 0.04 * e,
            ValidationAccuracy = [0.6 + 0.02 * e, 0.62 + 0.02 * e, 0.63 + 0.02 * e, 0.65 + 0.02 * e], ValidationEnsembleAccuracy = 0.66 + 0.02 * e,
            Seconds = 140, ImagesPerSecond = 400,
        })];

    [Fact]
    public void Training_curves_name_every_loss_term_and_exit_with_no_label_over_another()
    {
        XDocument loss = Parse(SvgPlots.TrainingLoss(Epochs(8)));
        XDocument accuracy = Parse(SvgPlots.ValidationAccuracy(Epochs(8)));

        List<string> lossTexts = Texts(loss), accuracyTexts = Texts(accuracy);
        Assert.Contains("Training loss per epoch", lossTexts);
        Assert.Contains("Epoch", lossTexts);
        foreach (var term in new[] { "total", "deepest exit: cross-entropy", "shallow exits: (1-α) cross-entropy", "shallow exits: α T² distillation", "shallow exits: λ feature hint" })
            Assert.Contains(term, lossTexts);
        Assert.Contains("Validation accuracy (%)", accuracyTexts);
        Assert.All(Enumerable.Range(1, 4), k => Assert.Contains($"exit {k}", accuracyTexts));
        Assert.Contains("ensemble", accuracyTexts);
        Assert.Empty(OverlappingTexts(loss));
        Assert.Empty(OverlappingTexts(accuracy));
    }
}
