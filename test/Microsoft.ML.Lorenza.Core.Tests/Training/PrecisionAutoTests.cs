using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>
/// Precision = Auto, the default: bf16 where the CPU has bf16 instructions, float32 elsewhere — with the detection faked
/// both ways, so the test means the same on any machine — and how far bf16 moves training and prediction from float32.
/// bf16 runs on any x86 CPU (emulated where the instructions are missing), so nothing here needs a bf16 CPU.
/// </summary>
[TestClass]
public sealed class PrecisionAutoTests
{
    /// <summary>The bound on bf16's per-step losses against float32's over the first 12 steps (relative).</summary>
    private const double TrainingBound = 5e-3; // measured 1.8e-4 (AVX512_BF16)

    /// <summary>The bound on bf16's class probabilities against float32's (absolute).</summary>
    private const double PredictionBound = 5e-3; // measured 4.4e-5 on this tiny model; MiniLM: bench predict-precision

    [TestCleanup]
    public void RealDetection() => (CpuFeatures.FakeBf16Instructions, CpuFeatures.FakeNoBf16) = (null, false);

    [TestMethod]
    public void AutoIsBf16OnACpuWithBf16Instructions_Float32Elsewhere_AndSaysWhy()
    {
        CpuFeatures.FakeBf16Instructions = "AVX512_BF16";
        var bf16 = ComputeOptions.Resolve(ComputePrecision.Auto, CPU);
        Assert.AreEqual(ScalarType.BFloat16, bf16.ComputeType);
        Assert.AreEqual("bf16 (auto: the CPU has AVX512_BF16)", bf16.Description);

        (CpuFeatures.FakeBf16Instructions, CpuFeatures.FakeNoBf16) = (null, true);
        var f32 = ComputeOptions.Resolve(ComputePrecision.Auto, CPU);
        Assert.IsNull(f32.ComputeType);
        Assert.AreEqual("float32 (auto: the CPU has no bf16 instructions, AVX512_BF16)", f32.Description);

        Assert.AreEqual(ComputePrecision.Auto, new TrainingOptions().Compute.Precision, "the default");
        Assert.IsNull(ComputeOptions.Resolve(ComputePrecision.None, CPU).ComputeType);
        Assert.AreEqual(ScalarType.BFloat16, ComputeOptions.Resolve(ComputePrecision.Bf16, CPU).ComputeType, "asked for, whatever the CPU");
        Assert.AreEqual(ScalarType.Float16, ComputeOptions.Resolve(ComputePrecision.Fp16, CPU).ComputeType);
    }

    private static TextDataset Toy() => TextDataset.FromExamples(Enumerable.Range(0, 96)
        .Select(i => new TextExample(i % 2 == 0 ? $"good great fine film {i % 7}" : $"bad awful poor film {i % 5}", null, i % 2 == 0 ? "pos" : "neg")));

    private static TrainingOptions Options() => new()
    {
        Model = { Preset = ModelPreset.Tiny, TokenizerMerges = 30, Dropout = 0 },
        Data = { ValidationFraction = 0 },
        Optimizer = { LearningRate = 1e-3, Rank = 4, RefreshInterval = 5 },
        Loop = { Epochs = 2, BatchSize = 16, Seed = 2 },
        Compute = { Device = "cpu" },
    };

    [TestMethod]
    public void TrainingWithAuto_TracksFloat32_AndPredictsWithinTheBound()
    {
        CpuFeatures.FakeBf16Instructions = "AVX512_BF16";
        var (auto, autoReport) = TextClassifierTrainer.Train(Toy(), null, Options());
        CpuFeatures.FakeBf16Instructions = null;
        var f32Options = Options();
        f32Options.Compute.Precision = ComputePrecision.None;
        var (f32, f32Report) = TextClassifierTrainer.Train(Toy(), null, f32Options);
        using (auto)
        using (f32)
        {
            Assert.AreEqual(ScalarType.BFloat16, auto.Model.ComputeType, "auto picked bf16 on a (faked) bf16 CPU");
            StringAssert.StartsWith(auto.Compute.Description, "bf16 (auto: the CPU has AVX512_BF16)");
            Assert.IsTrue(auto.Model.parameters().All(p => p.dtype == ScalarType.Float32), "float32 master weights");
            var steps = Math.Min(12, f32Report.StepLosses.Count);
            var worst = Enumerable.Range(0, steps).Max(i => Math.Abs(autoReport.StepLosses[i] - f32Report.StepLosses[i]) / f32Report.StepLosses[i]);
            Console.WriteLine($"bf16 vs float32, first {steps} losses: max relative difference {worst:E2}");
            Assert.IsTrue(worst <= TrainingBound, $"bf16's losses part from float32's by {worst:E2} (bound {TrainingBound})");

            // The same trained weights predicting in bf16 and in float32.
            var texts = Toy().Examples.Select(e => e.Text).Concat(["a film", "great but awful", "fine fine fine"]).ToList();
            var inF32 = f32.PredictProbabilities(texts);
            f32.Model.ComputeType = ScalarType.BFloat16;
            var inBf16 = f32.PredictProbabilities(texts);
            var difference = inF32.Zip(inBf16).Max(p => p.First.Zip(p.Second).Max(q => Math.Abs(q.First - q.Second)));
            Console.WriteLine($"bf16 vs float32 prediction: max probability difference {difference:E2}");
            Assert.IsTrue(difference <= PredictionBound, $"{difference:E2} (bound {PredictionBound})");
            Assert.IsTrue(difference > 0, "bf16 really computed in bf16");
        }
    }

    [TestMethod]
    public void LoadingPredictsInTheResolvedPrecision()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-precision-").FullName;
        try
        {
            var options = Options();
            options.Loop.MaxSteps = 2;
            var (trained, _) = TextClassifierTrainer.Train(Toy(), null, options);
            using (trained) trained.Save(folder);
            CpuFeatures.FakeBf16Instructions = "AVX512_BF16";
            using (var loaded = TextClassifier.Load(folder))
                Assert.AreEqual(ScalarType.BFloat16, loaded.Model.ComputeType, "auto on a bf16 CPU");
            using (var loaded = TextClassifier.Load(folder, precision: ComputePrecision.None))
                Assert.IsNull(loaded.Model.ComputeType, "none: float32");
            (CpuFeatures.FakeBf16Instructions, CpuFeatures.FakeNoBf16) = (null, true);
            using (var loaded = TextClassifier.Load(folder))
            {
                Assert.IsNull(loaded.Model.ComputeType, "auto without bf16 instructions");
                Assert.AreEqual("float32 (auto: the CPU has no bf16 instructions, AVX512_BF16)", loaded.Compute.Description);
            }

            // A model trained (or set) in float32 is saved so, and loads so: save → load scores the same.
            using (var loaded = TextClassifier.Load(folder, precision: ComputePrecision.None))
            {
                loaded.Save(folder);
                (CpuFeatures.FakeBf16Instructions, CpuFeatures.FakeNoBf16) = ("AVX512_BF16", false);
                using var again = TextClassifier.Load(folder);
                Assert.AreEqual(ComputePrecision.None, again.RequestedPrecision);
                Assert.IsNull(again.Model.ComputeType, "the saved precision, not auto's bf16");
            }
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
