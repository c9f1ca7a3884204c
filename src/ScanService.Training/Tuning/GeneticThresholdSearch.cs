namespace ScanService.Training.Tuning;

public enum CrossoverKind
{
    /// <summary>BLX-α: each child gene drawn uniformly from the parents' interval widened by α on both sides.</summary>
    Blend,
    /// <summary>Each gene taken from either parent with probability one half.</summary>
    Uniform,
}

/// <summary>Settings of the genetic threshold search; the defaults suit 4 exits and a few thousand validation samples.</summary>
public sealed record GeneticSearchOptions
{
    public int PopulationSize { get; init; } = 64;
    public int Generations { get; init; } = 100;
    /// <summary>Probability that a selected pair is recombined rather than copied.</summary>
    public double CrossoverRate { get; init; } = 0.9;
    /// <summary>Probability, per gene, of a gaussian perturbation.</summary>
    public double MutationRate { get; init; } = 0.2;
    /// <summary>Standard deviation of that perturbation (thresholds live in [0, 1]).</summary>
    public double MutationSigma { get; init; } = 0.1;
    public int Seed { get; init; } = 42;
    public int TournamentSize { get; init; } = 2;
    public CrossoverKind Crossover { get; init; } = CrossoverKind.Blend;
    public double BlendAlpha { get; init; } = 0.5;
    /// <summary>
    /// Share of the first population set to shared thresholds evenly spaced over [0, 1]: they span the whole cost
    /// range, so the front is wide from generation 0 and the search refines instead of discovering the extremes.
    /// </summary>
    public double DiagonalSeedFraction { get; init; } = 0.25;

    public void Validate()
    {
        if (PopulationSize < 4)
            throw new ArgumentOutOfRangeException(nameof(PopulationSize), PopulationSize, "Population must hold at least 4 genomes.");
        ArgumentOutOfRangeException.ThrowIfNegative(Generations);
        CheckProbability(CrossoverRate, nameof(CrossoverRate));
        CheckProbability(MutationRate, nameof(MutationRate));
        CheckProbability(DiagonalSeedFraction, nameof(DiagonalSeedFraction));
        if (!(MutationSigma >= 0) || double.IsInfinity(MutationSigma))
            throw new ArgumentOutOfRangeException(nameof(MutationSigma), MutationSigma, "Sigma must be finite and non-negative.");
        if (!(BlendAlpha >= 0) || double.IsInfinity(BlendAlpha))
            throw new ArgumentOutOfRangeException(nameof(BlendAlpha), BlendAlpha, "Alpha must be finite and non-negative.");
        if (TournamentSize < 1 || TournamentSize > PopulationSize)
            throw new ArgumentOutOfRangeException(nameof(TournamentSize), TournamentSize, "Tournament size must be in [1, population].");
    }

    private static void CheckProbability(double p, string name)
    {
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(name, p, "Must be a probability in [0, 1].");
    }
}

/// <param name="Generation">0 after the first population is evaluated, then 1..Generations.</param>
/// <param name="Generations">Total generations planned.</param>
/// <param name="FrontSize">Points on the archive's Pareto front so far.</param>
/// <param name="Evaluations">Genomes simulated so far.</param>
/// <param name="BestAccuracy">Highest validation accuracy on the front.</param>
public readonly record struct GeneticSearchProgress(int Generation, int Generations, int FrontSize, int Evaluations, double BestAccuracy);

/// <param name="Front">Every non-dominated genome evaluated during the whole run (the archive), not only the last population.</param>
/// <param name="Evaluations">Genomes simulated.</param>
/// <param name="Generations">Generations completed.</param>
public sealed record GeneticSearchResult(ParetoFront Front, int Evaluations, int Generations);

/// <summary>
/// Multi-objective genetic search for per-exit confidence thresholds (NSGA-II: non-dominated sorting with crowding
/// distance; parents and offspring compete for survival, which is the elitism). Objectives: validation accuracy up,
/// mean relative cost down. The genome is θ for exits 1..E-1 in [0, 1]; the deepest exit always answers.
/// All randomness comes from one <see cref="Random"/> seeded from the options, so a seed fixes the result.
/// </summary>
public sealed class GeneticThresholdSearch
{
    /// <summary>
    /// Genes range over [0, 1.05]: a softmax maximum is at most 1 (and can be exactly 1 in float), so a threshold above
    /// 1 switches its exit off; the top 5 % of the range is where the search finds that. Written out as
    /// <see cref="EarlyExitSimulator.NeverExit"/>.
    /// </summary>
    public const double GeneCeiling = 1.05;

    public GeneticThresholdSearch(GeneticSearchOptions? options = null)
    {
        Options = options ?? new GeneticSearchOptions();
        Options.Validate();
    }

    public GeneticSearchOptions Options { get; }

    public GeneticSearchResult Run(ExitOutputs outputs, IProgress<GeneticSearchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var archive = new ParetoFront();
        int genes = outputs.ExitCount - 1;
        if (genes == 0)
        {
            // One exit: nothing to tune, the only "threshold set" is to answer there.
            archive.TryAdd(EarlyExitSimulator.Evaluate(outputs, [], PointSources.Genetic));
            progress?.Report(new GeneticSearchProgress(Options.Generations, Options.Generations, 1, 1, archive.Points[0].Accuracy));
            return new GeneticSearchResult(archive, 1, Options.Generations);
        }

        var state = new SearchState(outputs, Options, archive);
        int n = Options.PopulationSize;
        var population = new Individual[n];
        int diagonal = (int)Math.Round(Options.DiagonalSeedFraction * n);
        for (int i = 0; i < n; i++)
        {
            var g = new float[genes];
            if (i < diagonal)
            {
                float v = diagonal == 1 ? 0.5f : (float)i / (diagonal - 1);
                Array.Fill(g, v);
            }
            else
            {
                for (int j = 0; j < genes; j++)
                    g[j] = (float)(state.Random.NextDouble() * GeneCeiling);
            }
            population[i] = state.Evaluate(g);
        }
        AssignRankAndCrowding(population);
        progress?.Report(state.Progress(0));

        int completed = 0;
        for (int gen = 1; gen <= Options.Generations; gen++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Individual[] offspring = state.Breed(population);
            var combined = new Individual[population.Length + offspring.Length];
            population.CopyTo(combined, 0);
            offspring.CopyTo(combined, population.Length);
            population = SelectSurvivors(combined, n);
            completed = gen;
            progress?.Report(state.Progress(gen));
        }
        return new GeneticSearchResult(archive, state.Evaluations, completed);
    }

    private sealed class Individual(float[] genes, double accuracy, double cost)
    {
        public float[] Genes { get; } = genes;
        public double Accuracy { get; } = accuracy;
        public double Cost { get; } = cost;
        public int Rank { get; set; }
        public double Crowding { get; set; }

        public bool Dominates(Individual o) =>
            Accuracy >= o.Accuracy && Cost <= o.Cost && (Accuracy > o.Accuracy || Cost < o.Cost);

        /// <summary>Crowded-comparison: lower rank first, then the less crowded.</summary>
        public bool BetterThan(Individual o) => Rank < o.Rank || (Rank == o.Rank && Crowding > o.Crowding);
    }

    private sealed class SearchState(ExitOutputs outputs, GeneticSearchOptions options, ParetoFront archive)
    {
        private readonly int[] _counts = new int[outputs.ExitCount];

        public Random Random { get; } = new(options.Seed);
        public int Evaluations { get; private set; }

        public Individual Evaluate(float[] genes)
        {
            int hits = EarlyExitSimulator.Run(outputs, genes, _counts);
            double accuracy = (double)hits / outputs.SampleCount;
            double cost = EarlyExitSimulator.RelativeCost(outputs, _counts, genes);
            Evaluations++;
            if (archive.WouldAccept(accuracy, cost))
            {
                var shares = new double[_counts.Length];
                for (int k = 0; k < shares.Length; k++)
                    shares[k] = (double)_counts[k] / outputs.SampleCount;
                archive.TryAdd(new EvaluatedPoint(EarlyExitSimulator.FullThresholds(genes, outputs.ExitCount), accuracy, cost, shares, PointSources.Genetic));
            }
            return new Individual(genes, accuracy, cost);
        }

        public GeneticSearchProgress Progress(int generation) =>
            new(generation, options.Generations, archive.Count, Evaluations, archive.MostAccurate?.Accuracy ?? 0);

        public Individual[] Breed(Individual[] population)
        {
            int n = population.Length;
            var children = new Individual[n];
            int made = 0;
            while (made < n)
            {
                float[] a = (float[])Tournament(population).Genes.Clone();
                float[] b = (float[])Tournament(population).Genes.Clone();
                if (Random.NextDouble() < options.CrossoverRate)
                    Crossover(a, b);
                Mutate(a);
                Mutate(b);
                children[made++] = Evaluate(a);
                if (made < n)
                    children[made++] = Evaluate(b);
            }
            return children;
        }

        private Individual Tournament(Individual[] population)
        {
            Individual best = population[Random.Next(population.Length)];
            for (int i = 1; i < options.TournamentSize; i++)
            {
                Individual c = population[Random.Next(population.Length)];
                if (c.BetterThan(best))
                    best = c;
            }
            return best;
        }

        private void Crossover(float[] a, float[] b)
        {
            for (int j = 0; j < a.Length; j++)
            {
                if (options.Crossover == CrossoverKind.Uniform)
                {
                    if (Random.NextDouble() < 0.5)
                        (a[j], b[j]) = (b[j], a[j]);
                }
                else
                {
                    double lo = Math.Min(a[j], b[j]);
                    double span = Math.Max(a[j], b[j]) - lo;
                    double from = lo - (options.BlendAlpha * span);
                    double width = span * (1 + (2 * options.BlendAlpha));
                    a[j] = Clamp01(from + (Random.NextDouble() * width));
                    b[j] = Clamp01(from + (Random.NextDouble() * width));
                }
            }
        }

        private void Mutate(float[] g)
        {
            for (int j = 0; j < g.Length; j++)
            {
                if (Random.NextDouble() < options.MutationRate)
                    g[j] = Clamp01(g[j] + (options.MutationSigma * Gaussian()));
            }
        }

        private double Gaussian()
        {
            // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
            double u1 = 1.0 - Random.NextDouble();
            double u2 = Random.NextDouble();
            return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        }

        private static float Clamp01(double v) => (float)Math.Clamp(v, 0.0, GeneCeiling);
    }

    private static Individual[] SelectSurvivors(Individual[] combined, int n)
    {
        List<List<int>> fronts = AssignRankAndCrowding(combined);
        var survivors = new Individual[n];
        int filled = 0;
        foreach (List<int> front in fronts)
        {
            if (filled + front.Count <= n)
            {
                foreach (int i in front)
                    survivors[filled++] = combined[i];
                if (filled == n)
                    break;
                continue;
            }
            // Partial front: keep the least crowded; index breaks ties so the order never depends on the sort algorithm.
            int[] order = [.. front];
            Array.Sort(order, (x, y) =>
            {
                int c = combined[y].Crowding.CompareTo(combined[x].Crowding);
                return c != 0 ? c : x.CompareTo(y);
            });
            for (int i = 0; filled < n; i++)
                survivors[filled++] = combined[order[i]];
            break;
        }
        return survivors;
    }

    /// <summary>Fast non-dominated sort (Deb et al. 2002) and crowding distance per front; returns the fronts.</summary>
    private static List<List<int>> AssignRankAndCrowding(Individual[] pop)
    {
        int m = pop.Length;
        var dominatedBy = new int[m];
        var dominates = new List<int>[m];
        var fronts = new List<List<int>>();
        var current = new List<int>();
        for (int i = 0; i < m; i++)
        {
            dominates[i] = [];
            for (int j = 0; j < m; j++)
            {
                if (i == j)
                    continue;
                if (pop[i].Dominates(pop[j]))
                    dominates[i].Add(j);
                else if (pop[j].Dominates(pop[i]))
                    dominatedBy[i]++;
            }
            if (dominatedBy[i] == 0)
            {
                pop[i].Rank = 0;
                current.Add(i);
            }
        }
        int rank = 0;
        while (current.Count > 0)
        {
            fronts.Add(current);
            var next = new List<int>();
            foreach (int i in current)
            {
                foreach (int j in dominates[i])
                {
                    if (--dominatedBy[j] == 0)
                    {
                        pop[j].Rank = rank + 1;
                        next.Add(j);
                    }
                }
            }
            rank++;
            current = next;
        }
        foreach (List<int> front in fronts)
            AssignCrowding(pop, front);
        return fronts;
    }

    private static void AssignCrowding(Individual[] pop, List<int> front)
    {
        foreach (int i in front)
            pop[i].Crowding = 0;
        if (front.Count <= 2)
        {
            foreach (int i in front)
                pop[i].Crowding = double.PositiveInfinity;
            return;
        }
        int[] order = [.. front];
        for (int objective = 0; objective < 2; objective++)
        {
            Func<Individual, double> value = objective == 0 ? p => p.Accuracy : p => p.Cost;
            Array.Sort(order, (x, y) =>
            {
                int c = value(pop[x]).CompareTo(value(pop[y]));
                return c != 0 ? c : x.CompareTo(y);
            });
            double min = value(pop[order[0]]);
            double max = value(pop[order[^1]]);
            pop[order[0]].Crowding = double.PositiveInfinity;
            pop[order[^1]].Crowding = double.PositiveInfinity;
            if (max <= min)
                continue;
            for (int k = 1; k < order.Length - 1; k++)
                pop[order[k]].Crowding += (value(pop[order[k + 1]]) - value(pop[order[k - 1]])) / (max - min);
        }
    }
}
