
namespace ScanService.Core.Tests.Inference;

/// <summary>
/// The engine against the monolithic graph and against its own answers one sample at a time, with feature maps in
/// pooled host arrays and in ONNX Runtime's allocator with IOBinding and Gather compaction (the CUDA code path).
/// </summary>
public abstract class EarlyExitEngineTests : IDisposable
{
    private const int Samples = 48;
    private readonly FeatureMemory _featureMemory;
    private readonly EarlyExitEngine _engine;
    private readonly float[] _input;

    protected EarlyExitEngineTests(FeatureMemory featureMemory)
    {
        _featureMemory = featureMemory;
        _engine = EarlyExitEngine.Create(CommittedBundle.Load(), OnnxSessions.ChooseProvider(ExecutionProviderPreference.Cpu), featureMemory);
        _input = TestImages.Normalised(_engine.Manifest.Input, Samples);
    }

    public void Dispose()
    {
        _engine.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void The_engine_keeps_features_where_it_was_asked_to()
    {
        Assert.Equal(_featureMemory, _engine.FeatureMemory);
    }

    private ExitPlan Thresholds(params float[] thresholds) => new(ExitMode.EarlyExit, thresholds, _engine.ExitCount, "test");

    private float[] Sample(int i) => _input.AsSpan(i * _engine.SampleSize, _engine.SampleSize).ToArray();

    [Fact]
    public void Thresholds_that_never_fire_give_the_full_depth_answer()
    {
        var answers = _engine.Run(_input, Samples, Thresholds(2f, 2f, 2f, 2f));
        var monolithic = _engine.RunMonolithic(_input, Samples);
        for (var i = 0; i < Samples; i++)
        {
            Assert.Equal(4, answers[i].Exit);
            Assert.Equal(monolithic[i].ClassIndex, answers[i].ClassIndex);
            for (var c = 0; c < _engine.ClassCount; c++) Assert.Equal(monolithic[i].Probabilities[c], answers[i].Probabilities[c], 4);
        }
    }

    [Fact]
    public void Exits_switched_off_run_no_head_and_change_no_answer()
    {
        // Exit 2 off (above 1): its head never runs; exits 1 and 3 decide as before.
        var observer = new Batching.RecordingObserver();
        var skipping = _engine.Run(_input, Samples, Thresholds(0.9f, 2f, 0.8f, 0f), observer);
        var ranAt = observer.Heads.Select(h => h.Exit).Distinct().Order().ToList();
        Assert.DoesNotContain(2, ranAt);
        Assert.Contains(1, ranAt);
        // The same decisions as exit 2 with a threshold no confidence reaches but whose head still runs (exactly 1 is reachable only by a softmax of one class).
        var reference = _engine.Run(_input, Samples, Thresholds(0.9f, 1f, 0.8f, 0f));
        for (var i = 0; i < Samples; i++)
        {
            if (reference[i].Exit == 2) continue; // a confidence of exactly 1 would have left at exit 2
            Assert.Equal(reference[i].Exit, skipping[i].Exit);
            Assert.Equal(reference[i].ClassIndex, skipping[i].ClassIndex);
            Assert.Equal(reference[i].Confidence, skipping[i].Confidence, 5);
        }

        // Every exit but the last off: only the deepest head runs, as at full depth.
        var deepOnly = new Batching.RecordingObserver();
        _engine.Run(_input, Samples, Thresholds(2f, 2f, 2f, 0f), deepOnly);
        Assert.Equal([_engine.ExitCount], deepOnly.Heads.Select(h => h.Exit).Distinct());
    }

    [Fact]
    public void Thresholds_of_zero_send_every_sample_out_at_the_first_exit()
    {
        var answers = _engine.Run(_input, Samples, Thresholds(0f, 0f, 0f, 0f));
        var exit1 = _engine.Run(_input, Samples, _engine.Resolve(new InferenceOptions { FullDepth = true, MaxExit = 1 }));
        Assert.All(answers, a => Assert.Equal(1, a.Exit));
        Assert.Equal(exit1.Select(a => a.ClassIndex), answers.Select(a => a.ClassIndex));
    }

    [Fact]
    public void A_mixed_batch_keeps_every_answer_right_and_in_order()
    {
        // Thresholds at the median confidence of each exit make some samples leave at every depth.
        var perExit = Enumerable.Range(1, 3)
            .Select(k => _engine.Run(_input, Samples, _engine.Resolve(new InferenceOptions { FullDepth = true, MaxExit = k })).Select(a => a.Confidence).Order().ElementAt(Samples / 2))
            .ToList();
        var plan = Thresholds(perExit[0], perExit[1], perExit[2], 0f);

        var batched = _engine.Run(_input, Samples, plan);
        Assert.True(batched.Select(a => a.Exit).Distinct().Count() >= 2, "the thresholds should split the batch across exits");
        for (var i = 0; i < Samples; i++)
        {
            var alone = _engine.Run(Sample(i), 1, plan)[0];
            Assert.Equal(alone.Exit, batched[i].Exit);
            Assert.Equal(alone.ClassIndex, batched[i].ClassIndex);
            Assert.Equal(alone.Confidence, batched[i].Confidence, 4);
            Assert.True(batched[i].Exit == 4 || batched[i].Confidence >= plan.Thresholds[batched[i].Exit - 1]);
        }
    }

    [Fact]
    public void Max_exit_caps_the_depth_and_answers_there_when_nothing_fired()
    {
        var plan = _engine.Resolve(new InferenceOptions { MaxExit = 2 }) with { Thresholds = [2f, 2f, 2f, 2f] };
        var capped = _engine.Run(_input, Samples, plan);
        var exit2 = _engine.Run(_input, Samples, _engine.Resolve(new InferenceOptions { FullDepth = true, MaxExit = 2 }));
        Assert.All(capped, a => Assert.Equal(2, a.Exit));
        Assert.Equal(exit2.Select(a => a.ClassIndex), capped.Select(a => a.ClassIndex));
    }

    [Fact]
    public void The_ensemble_is_the_softmax_of_the_mean_of_every_exits_logits()
    {
        var ensemble = _engine.Run(_input, Samples, _engine.Resolve(new InferenceOptions { Ensemble = true }));
        var perExit = Enumerable.Range(1, 4)
            .Select(k => _engine.Run(_input, Samples, _engine.Resolve(new InferenceOptions { FullDepth = true, MaxExit = k })))
            .ToList();
        for (var i = 0; i < Samples; i++)
        {
            // log-softmax differs from the logits by a constant per exit, and softmax ignores constants.
            var meanLog = Enumerable.Range(0, _engine.ClassCount).Select(c => perExit.Average(e => Math.Log(e[i].Probabilities[c]))).ToArray();
            var max = meanLog.Max();
            var sum = meanLog.Sum(v => Math.Exp(v - max));
            Assert.Equal(4, ensemble[i].Exit);
            for (var c = 0; c < _engine.ClassCount; c++) Assert.Equal(Math.Exp(meanLog[c] - max) / sum, ensemble[i].Probabilities[c], 3);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Max_exit_out_of_range_is_refused(int maxExit)
    {
        var error = Assert.Throws<InvalidInferenceOptionsException>(() => _engine.Resolve(new InferenceOptions { MaxExit = maxExit }));
        Assert.Contains("between 1 and 4", error.Message);
    }

    [Fact]
    public void Warming_up_runs_every_stage_and_head_at_every_batch_size_and_changes_no_answer()
    {
        var plan = Thresholds(0.9f, 0.9f, 0.9f, 0f);
        var before = _engine.Run(_input, Samples, plan);
        var observer = new Batching.RecordingObserver();

        _engine.WarmUp(5, observer);

        for (var size = 1; size <= 5; size++)
            for (var k = 1; k <= _engine.ExitCount; k++)
            {
                Assert.Contains((k, size), observer.Stages);
                Assert.Contains((k, size), observer.Heads);
            }
        Assert.All(observer.Stages, s => Assert.InRange(s.Size, 1, 5));
        var after = _engine.Run(_input, Samples, plan);
        for (var i = 0; i < Samples; i++)
        {
            Assert.Equal((before[i].ClassIndex, before[i].Exit), (after[i].ClassIndex, after[i].Exit));
            Assert.Equal(before[i].Probabilities, after[i].Probabilities);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => _engine.WarmUp(0));
    }

    [Fact]
    public void An_unknown_operating_point_is_refused_naming_the_known_ones()
    {
        var error = Assert.Throws<InvalidInferenceOptionsException>(() => _engine.Resolve(new InferenceOptions { OperatingPoint = "turbo" }));
        Assert.Contains("'turbo'", error.Message);
    }

    [Fact]
    public void Full_depth_and_ensemble_together_are_refused()
    {
        Assert.Throws<InvalidInferenceOptionsException>(() => _engine.Resolve(new InferenceOptions { FullDepth = true, Ensemble = true }));
    }

    [Fact]
    public void A_buffer_too_small_for_the_batch_is_refused()
    {
        Assert.Throws<ArgumentException>(() => _engine.Run(new float[10], 1, Thresholds(2f, 2f, 2f, 2f)));
    }

    [Fact]
    public void An_empty_batch_gives_no_answers()
    {
        Assert.Empty(_engine.Run([], 0, Thresholds(0f, 0f, 0f, 0f)));
    }
}

public sealed class HostFeatureMemoryEngineTests() : EarlyExitEngineTests(FeatureMemory.Host);

public sealed class DeviceFeatureMemoryEngineTests() : EarlyExitEngineTests(FeatureMemory.Device);
