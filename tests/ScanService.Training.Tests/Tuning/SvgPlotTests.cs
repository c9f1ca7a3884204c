using System.Xml.Linq;
using ScanService.Training.Tuning;

namespace ScanService.Training.Tests.Tuning;

public class SvgPlotTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static int CountSeries(XDocument doc, string series) =>
        doc.Descendants().Count(e => (string?)e.Attribute("data-series") == series);

    [Fact]
    public void AccuracyVsCost_IsValidXml_WithOneMarkerPerPoint()
    {
        ExitOutputs o = TuningTestData.Realistic(1500, seed: 41);
        TuningResult r = ThresholdTuner.Run(o, new TuningOptions { Genetic = new GeneticSearchOptions { Generations = 15 }, MsdNetBudgets = 12 });

        XDocument doc = XDocument.Parse(SvgPlots.AccuracyVsCost(r));
        Assert.Equal(Svg + "svg", doc.Root!.Name);
        Assert.Equal(r.GeneticFront.Count, CountSeries(doc, PointSources.Genetic));
        Assert.Equal(r.GridSweep.Count, CountSeries(doc, PointSources.Grid));
        Assert.Equal(r.MsdNet.Count, CountSeries(doc, PointSources.MsdNet));
        Assert.Equal(4, CountSeries(doc, "single-exit"));
        Assert.Equal(1, CountSeries(doc, PointSources.FullDepth));
        Assert.Equal(3, CountSeries(doc, "operating-point"));
        Assert.Equal(3, doc.Descendants(Svg + "polyline").Count());
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value.Contains("balanced", StringComparison.Ordinal));
        // Every coordinate is a plain invariant number.
        Assert.All(doc.Descendants(Svg + "circle"), c => Assert.True(double.TryParse((string?)c.Attribute("cx"), System.Globalization.CultureInfo.InvariantCulture, out _)));
    }

    [Fact]
    public void ExitSharesByClass_HasOneSegmentPerClassAndExit_StackingToTheFullBar()
    {
        int[] labels = [0, 0, 0, 1, 1, 2, 2, 2, 2];
        int[] taken = [0, 1, 1, 3, 3, 0, 1, 2, 3];
        string[] names = ["T-shirt <top>", "Trouser & co", "Pullover"];

        XDocument doc = XDocument.Parse(SvgPlots.ExitSharesByClass(labels, taken, names, 4));
        var segments = doc.Descendants(Svg + "rect").Where(e => (string?)e.Attribute("data-series") == "exit-share").ToList();
        Assert.Equal(3 * 4, segments.Count);
        for (int c = 0; c < 3; c++)
        {
            double total = segments.Where(s => (string?)s.Attribute("data-class") == c.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Sum(s => double.Parse((string)s.Attribute("height")!, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(300, total, 1);
        }
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value == "T-shirt <top>");
    }

    [Fact]
    public void ExitSharesByClass_FromOutputs()
    {
        ExitOutputs o = TuningTestData.Realistic(800, seed: 42, classes: 5);
        string svg = SvgPlots.ExitSharesByClass(o, [0.8f, 0.8f, 0.8f, 0f], ["a", "b", "c", "d", "e"]);
        Assert.Equal(5 * 4, CountSeries(XDocument.Parse(svg), "exit-share"));
        Assert.Throws<ArgumentException>(() => SvgPlots.ExitSharesByClass([5], [0], ["a"], 4));
    }

    [Fact]
    public void AttentionGrid_HasOneCellPerPixel()
    {
        var rng = new Random(43);
        HeatMap Map(int h, int w) => new(h, w, [.. Enumerable.Range(0, h * w).Select(_ => (float)rng.NextDouble())]);
        AttentionSample[] samples =
        [
            new(Map(28, 28), [Map(14, 14), Map(7, 7), Map(4, 4)], "coat → exit 2"),
            new(Map(28, 28), [Map(14, 14), Map(7, 7), Map(4, 4)], "bag & <shoe>"),
        ];

        XDocument doc = XDocument.Parse(SvgPlots.AttentionGrid(samples));
        int cells = doc.Descendants(Svg + "rect").Count(e => (string?)e.Attribute("class") == "px");
        Assert.Equal(2 * ((28 * 28) + (14 * 14) + (7 * 7) + (4 * 4)), cells);
        Assert.Equal(2 * 4, doc.Descendants(Svg + "g").Count(g => g.Attribute("data-row") is not null));
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value == "attention 3");
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value == "bag & <shoe>");
    }

    [Fact]
    public void HeatMap_FromRowsAndValidation()
    {
        HeatMap m = HeatMap.FromRows(new float[,] { { 0f, 0.5f }, { 1f, 0.25f } });
        Assert.Equal(2, m.Height);
        Assert.Equal(1f, m[1, 0]);
        Assert.Throws<ArgumentException>(() => new HeatMap(2, 2, new float[3]));
    }
}
