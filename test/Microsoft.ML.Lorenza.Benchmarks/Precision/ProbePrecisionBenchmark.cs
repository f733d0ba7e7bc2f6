using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Benchmarks.Precision;

/// <summary>
/// Can LORENZA's zeroth-order probes run in bf16 on the CPU? The two-point estimate c = (L(θ+μU) − L(θ−μU))/(2μ) of
/// fine-tuning MiniLM, for many probes U = P·Z in the rank-8 range-finder subspace of the gradient (as LORENZA draws
/// them), with the forward in float32 and in bf16. With one query the ascent direction is sign(c)·U, so the sign is what
/// must survive; the bound for running probes in bf16: signs agree on ≥ 95 % of the probes and the median relative
/// error of c is ≤ 10 %.
/// </summary>
public sealed class ProbePrecisionBenchmark : IBenchmark
{
    public string Name => "probe-precision";
    public string Description => "LORENZA's zeroth-order estimate on MiniLM, float32 vs bf16 forward: sign agreement (>= 95 %) and relative error (<= 10 %)";

    public void Run(BenchmarkContext context)
    {
        TorchRuntime.EnsureLoaded();
        var probes = context.Int("--probes", context.Quick ? 8 : 40);
        var rows = context.Int("--rows", 4); // ⌈32/8⌉: LORENZA's default probe batch
        const double mu = 1e-3;
        var folder = PretrainedModels.Get("minilm");
        var (model, _) = ModelFolder.Load(folder, ["negative", "positive"], seed: 1);
        using var _model = model;
        var tokenizer = ModelFolder.LoadTokenizer(folder);
        var data = BenchmarkContext.SampleReviews();
        var examples = data.Examples.Take(32).ToList();
        var batch = tokenizer.EncodeBatch(examples.Select(e => e.Text).ToList(), null, 128);
        var (ids, mask, types) = TextClassifier.ToTensors(batch, CPU);
        using var labels = torch.tensor(examples.Select(e => e.Label == "positive" ? 1L : 0L).ToArray());

        // The subspace LORENZA would probe in: the range finder's rank-8 basis of each managed matrix's gradient.
        var managed = ManagedParameterRule.Architecture.Apply(model).Where(p => p.Managed).ToList();
        model.train();
        using (var output = model.forward(ids, mask, types, labels)) output.Loss!.backward();
        var bases = managed.Select((p, i) =>
        {
            var g = p.Tensor.grad!;
            var right = g.size(0) > g.size(1);
            using var basis = SubspaceProjector.RangeFinderBasis(right ? g.t() : g, 8, 0, 0, (ulong)i + 1);
            return (Basis: basis.detach().clone(), Right: right);
        }).ToList();
        foreach (var p in managed) p.Tensor.grad = null;

        double Loss(ScalarType? computeType)
        {
            model.eval();
            model.ComputeType = computeType;
            using var noGrad = torch.no_grad();
            using var output = model.forward(ids.narrow(0, 0, rows), mask.narrow(0, 0, rows), types.narrow(0, 0, rows), labels.narrow(0, 0, rows));
            return output.Loss!.item<float>();
        }
        void Move(IReadOnlyList<Tensor> noise, double scale)
        {
            using var noGrad = torch.no_grad();
            for (var i = 0; i < managed.Count; i++) managed[i].Tensor.add_(noise[i], scale);
        }

        var estimates = new List<(double F32, double Bf16)>();
        for (var k = 0; k < probes; k++)
        {
            using var scope = torch.NewDisposeScope();
            var noise = managed.Select((p, i) =>
            {
                var (basis, right) = bases[i];
                var z = SeededNormal.Draw(right ? [p.Tensor.size(0), basis.size(1)] : [basis.size(1), p.Tensor.size(1)], (ulong)(1000 * k + i), CPU);
                return right ? torch.matmul(z, basis.t()) : torch.matmul(basis, z);
            }).ToList();
            double C(ScalarType? type)
            {
                Move(noise, mu);
                var plus = Loss(type);
                Move(noise, -2 * mu);
                var minus = Loss(type);
                Move(noise, mu);
                return (plus - minus) / (2 * mu);
            }
            estimates.Add((C(null), C(ScalarType.BFloat16)));
        }
        model.ComputeType = null;

        var signs = estimates.Count(e => Math.Sign(e.F32) == Math.Sign(e.Bf16)) / (double)estimates.Count;
        var relative = BenchmarkContext.Median(estimates.Select(e => Math.Abs(e.Bf16 - e.F32) / Math.Max(Math.Abs(e.F32), 1e-12)));
        var pass = signs >= 0.95 && relative <= 0.10;
        BenchmarkContext.PrintTable(
        [
            ["probes", "rows", "median |c| (float32)", "signs agree", "median relative error of c", "bf16 probes allowed (>= 95 %, <= 10 %)"],
            [$"{probes}", $"{rows}", $"{BenchmarkContext.Median(estimates.Select(e => Math.Abs(e.F32))):E2}", $"{signs:P0}", $"{relative:P1}", pass ? "yes" : "no: probes stay float32"],
        ]);
        Console.WriteLine($"CPU bf16 instructions: {CpuFeatures.Bf16Instructions ?? "none"}");
        context.Save(new { probes, rows, mu, sign_agreement = signs, median_relative_error = relative, bf16_allowed = pass, estimates = estimates.Select(e => new[] { e.F32, e.Bf16 }) });
    }
}
