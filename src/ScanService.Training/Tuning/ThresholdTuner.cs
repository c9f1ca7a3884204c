namespace ScanService.Training.Tuning;

/// <summary>Everything <c>tune</c> does, in one options object.</summary>
public sealed record TuningOptions
{
    public GeneticSearchOptions Genetic { get; init; } = new();
    /// <summary>Step of the shared-threshold baseline grid over [0, 1].</summary>
    public double GridStep { get; init; } = 0.005;
    /// <summary>Budgets on the MSDNet curve, evenly spaced from exit 1's cost to the deepest exit's.</summary>
    public int MsdNetBudgets { get; init; } = 50;
    public OperatingPointOptions OperatingPoints { get; init; } = new();
    /// <summary>
    /// Choose operating points from the GA archive pooled with the grid and MSDNet points. Every candidate is scored
    /// by the same simulator on the same validation split, so pooling only ever adds better candidates.
    /// The single exits are always pooled: the deepest alone guarantees a point at full-depth accuracy.
    /// </summary>
    public bool PoolBaselines { get; init; } = true;
    /// <summary>
    /// Share of the validation samples kept from the search and used only to judge its candidates when the named
    /// points are picked (<see cref="OperatingPointSelector.SelectOnHeldOut"/>); 0 picks on the search's own samples.
    /// </summary>
    public double HeldOutShare { get; init; } = 0.3;
    /// <summary>Seed of the split between searched and held-out samples.</summary>
    public int HeldOutSeed { get; init; } = 2019;

    public void Validate()
    {
        if (!(HeldOutShare >= 0 && HeldOutShare < 1))
            throw new ArgumentOutOfRangeException(nameof(HeldOutShare), HeldOutShare, "The held-out share must be in [0, 1).");
        Genetic.Validate();
        OperatingPoints.Validate();
        if (!(GridStep > 0 && GridStep <= 1))
            throw new ArgumentOutOfRangeException(nameof(GridStep), GridStep, "Grid step must be in (0, 1].");
        ArgumentOutOfRangeException.ThrowIfLessThan(MsdNetBudgets, 2);
    }
}

/// <summary>The outcome of a tuning run: every method's points and the chosen operating points.</summary>
public sealed record TuningResult
{
    /// <summary>Validation samples the search ran on.</summary>
    public required int SampleCount { get; init; }
    /// <summary>Validation samples held out of the search, on which the named points were judged too (0: none).</summary>
    public int HeldOutCount { get; init; }
    public required int ExitCount { get; init; }
    /// <summary>Relative cost of answering at each exit (cumulative, over the monolithic graph).</summary>
    public required IReadOnlyList<double> ExitRelativeCosts { get; init; }
    public required ParetoFront GeneticFront { get; init; }
    public required int GeneticEvaluations { get; init; }
    public required IReadOnlyList<EvaluatedPoint> GridSweep { get; init; }
    public required IReadOnlyList<MsdNetBudgetedPoint> MsdNet { get; init; }
    public required IReadOnlyList<EvaluatedPoint> SingleExits { get; init; }
    public required EvaluatedPoint FullDepth { get; init; }
    /// <summary>The front the operating points were chosen from.</summary>
    public required ParetoFront SelectionFront { get; init; }
    /// <summary>
    /// The candidates of <see cref="SelectionFront"/> judged again on every validation sample (searched and held out),
    /// and what of them is still a front: what the manifest carries for graceful degradation to step along.
    /// </summary>
    public ParetoFront ValidationFront { get; init; } = new();
    public required IReadOnlyList<NamedOperatingPoint> OperatingPoints { get; init; }
    public required string DefaultOperatingPoint { get; init; }

    public NamedOperatingPoint Default => Find(DefaultOperatingPoint)!;

    public NamedOperatingPoint? Find(string name)
    {
        foreach (NamedOperatingPoint p in OperatingPoints)
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
                return p;
        }
        return null;
    }
}

/// <summary>Runs the genetic search and every baseline on one set of validation outputs and picks operating points.</summary>
public static class ThresholdTuner
{
    public static TuningResult Run(ExitOutputs validation, TuningOptions? options = null, IProgress<GeneticSearchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(validation);
        options ??= new TuningOptions();
        options.Validate();
        var all = validation;
        ExitOutputs? heldOut = null;
        if (options.HeldOutShare > 0)
        {
            var (searched, kept) = HeldOutSplit(all.SampleCount, options.HeldOutShare, options.HeldOutSeed);
            validation = all.Subset(searched);
            heldOut = all.Subset(kept);
        }

        GeneticSearchResult ga = new GeneticThresholdSearch(options.Genetic).Run(validation, progress, cancellationToken);
        IReadOnlyList<EvaluatedPoint> grid = Baselines.SharedThresholdSweep(validation, options.GridStep);
        IReadOnlyList<MsdNetBudgetedPoint> msd = Baselines.MsdNetSweep(validation, options.MsdNetBudgets);
        IReadOnlyList<EvaluatedPoint> single = Baselines.SingleExits(validation);
        EvaluatedPoint full = Baselines.FullDepth(validation);

        var selection = new ParetoFront(ga.Front.Points);
        selection.AddRange(single);
        if (options.PoolBaselines)
        {
            selection.AddRange(grid);
            foreach (MsdNetBudgetedPoint m in msd)
                selection.TryAdd(m.Point);
        }

        var costs = new double[validation.ExitCount];
        for (int k = 0; k < costs.Length; k++)
            costs[k] = validation.RelativeCost(k);

        return new TuningResult
        {
            SampleCount = validation.SampleCount,
            HeldOutCount = heldOut?.SampleCount ?? 0,
            ExitCount = validation.ExitCount,
            ExitRelativeCosts = costs,
            GeneticFront = ga.Front,
            GeneticEvaluations = ga.Evaluations,
            GridSweep = grid,
            MsdNet = msd,
            SingleExits = single,
            FullDepth = full,
            SelectionFront = selection,
            ValidationFront = new ParetoFront(selection.Points.Select(p => EarlyExitSimulator.Evaluate(all, p.Thresholds, p.Source))),
            OperatingPoints = heldOut is null
                ? OperatingPointSelector.Select(selection, full.Accuracy, options.OperatingPoints)
                : OperatingPointSelector.SelectOnHeldOut(selection.Points, validation, heldOut, all, options.OperatingPoints),
            DefaultOperatingPoint = options.OperatingPoints.DefaultName,
        };
    }

    /// <summary>
    /// Sample indices of the searched and the held-out part: a seeded permutation, so the same validation split and seed
    /// give the same parts on every machine. At least one sample on each side.
    /// </summary>
    public static (int[] Searched, int[] HeldOut) HeldOutSplit(int sampleCount, double heldOutShare, int seed)
    {
        if (sampleCount < 2) throw new ArgumentException("Holding samples out needs at least 2 validation samples.", nameof(sampleCount));
        var order = Enumerable.Range(0, sampleCount).ToArray();
        new Random(seed).Shuffle(order);
        int kept = Math.Clamp((int)Math.Round(sampleCount * heldOutShare), 1, sampleCount - 1);
        var heldOut = order[..kept];
        var searched = order[kept..];
        Array.Sort(heldOut);
        Array.Sort(searched);
        return (searched, heldOut);
    }
}
