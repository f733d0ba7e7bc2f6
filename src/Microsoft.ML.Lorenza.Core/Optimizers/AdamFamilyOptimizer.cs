using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>How managed matrices keep their Adam state.</summary>
public enum Subspace
{
    /// <summary>Full m×n moments (AdamW, SAM, AdaZo-SAM).</summary>
    None,
    /// <summary>LORENZA: randomized range finder, refreshed at the end of every T-th step from G_SAM.</summary>
    RangeFinder,
    /// <summary>GaLore: full SVD of the current gradient at steps 0, T, 2T, … before the update.</summary>
    Svd,
}

/// <summary>Where the sharpness-aware ascent direction comes from.</summary>
public enum Ascent
{
    None,
    /// <summary>Two-point zeroth-order estimate from loss values (LORENZA, AdaZo-SAM).</summary>
    ZerothOrder,
    /// <summary>The Adam first moment (the labelled departure).</summary>
    Momentum,
    /// <summary>A full backprop at θ (classic SAM: two backprops per step).</summary>
    Gradient,
}

/// <summary>
/// One engine for AdamW, SAM, GaLore, AdaZo-SAM and LORENZA (docs/lorenza-algorithm.md): they differ
/// only in how managed matrices keep their moments (<see cref="Subspace"/>) and where the ascent comes
/// from (<see cref="Ascent"/>). Perturbations are <see cref="Perturbation"/> scopes of side branches, so
/// weights change only in the update. Unmanaged parameters take plain AdamW steps and are never perturbed; the word
/// embedding is trained in full, in a low-rank subspace or not at all (<see cref="OptimizerOptions.WordEmbeddings"/>).
/// </summary>
/// <remarks>Made by <see cref="OptimizerFactory"/>; its name is an <see cref="OptimizerKind.Name"/>.</remarks>
public sealed class AdamFamilyOptimizer : IOptimizer
{
    private readonly OptimizerOptions options;
    private readonly LearningRateSchedule schedule;
    private readonly Subspace subspace;
    private readonly Ascent ascent;
    private readonly List<ParameterState> states;
    private readonly List<Tensor> frozen;
    private ulong rngState;
    private int adamSteps;
    private bool finished;
    private Dictionary<string, double> diagnostics = new();

    internal AdamFamilyOptimizer(string name, IReadOnlyList<OptimizedParameter> parameters, OptimizerOptions options,
                               LearningRateSchedule schedule, Subspace subspace, Ascent ascent)
    {
        options.Validate();
        Name = name;
        this.options = options.Clone();
        this.schedule = schedule;
        this.subspace = subspace;
        this.ascent = ascent;
        rngState = options.Seed;
        var embeddings = options.WordEmbeddingsFor(name);
        bool LowRank(OptimizedParameter p) => subspace != Subspace.None && (p.Managed || (p.WordEmbedding && embeddings == WordEmbeddingTreatment.LowRank));
        var trained = embeddings == WordEmbeddingTreatment.Frozen ? parameters.Where(p => !p.WordEmbedding) : parameters;
        states = trained.Select(p => new ParameterState(p, LowRank(p))).ToList();
        frozen = embeddings == WordEmbeddingTreatment.Frozen ? parameters.Where(p => p.WordEmbedding && p.Tensor.requires_grad).Select(p => p.Tensor).ToList() : [];
        foreach (var s in states.Where(s => s.LowRank))
        {
            long m = s.Parameter.Tensor.size(0), n = s.Parameter.Tensor.size(1);
            if (options.Rank > Math.Min(m, n))
                throw new ArgumentOutOfRangeException(nameof(options), options.Rank,
                    $"Rank = {options.Rank} is invalid for {s.Parameter.Name} ({m}×{n}): it must be in [1, min(m, n) = {Math.Min(m, n)}].");
        }
        if (ascent != Ascent.None && states.All(s => !s.Parameter.Managed))
            throw new ArgumentException($"{name} perturbs managed weights, but no parameter is managed; check the ManagedParameterRule.");
        if (states.Any(s => s.Parameter.Managed && s.Parameter.Layer is null) && ascent != Ascent.None)
            throw new ArgumentException("Managed parameters must be SideBranchLinear weights (the perturbation is applied as the layer's side branch).");
        foreach (var t in frozen) // after every check, so a refusal leaves the model as it was; Finish unfreezes
        {
            t.requires_grad_(false);
            t.grad = null;
        }
    }

    public string Name { get; }
    public int StepCount { get; private set; }
    public int SkippedSteps { get; private set; }
    public IReadOnlyDictionary<string, double> LastDiagnostics => diagnostics;

    public long StateBytes => states.Sum(s => s.StateElements * 4L);

    public StepResult Step(LossClosure closure)
    {
        if (finished) throw new InvalidOperationException($"{Name} has finished training (Finish); create a new optimizer to train again.");
        var t = StepCount++;
        var lr = schedule.At(t);
        var rho = schedule.Rho(t, options.Rho, options.RhoMin);
        diagnostics = new Dictionary<string, double> { ["lr"] = lr, ["rho"] = rho };
        using var scope = torch.NewDisposeScope();

        // GaLore (published): the projector comes from the gradient of this very step.
        var needsCurrentGradientBasis = subspace == Subspace.Svd && t % options.RefreshInterval == 0;
        var hasBasis = states.Where(s => s.LowRank).All(s => s.Basis is not null);
        var ascentReady = ascent switch
        {
            Ascent.None => false,
            Ascent.Gradient => true,
            _ => hasBasis && adamSteps > 0,
        };

        // Steps 2–3: ascent direction and perturbation (skipped when ρ_t = 0).
        IReadOnlyList<Tensor?>? direction = null;
        Perturbation? perturbation = null;
        double ascentNorm = 0;
        if (rho > 0 && ascentReady)
        {
            direction = ascent switch
            {
                Ascent.ZerothOrder => ZerothOrderEstimate(closure),
                Ascent.Momentum => states.Select(s => s.Parameter.Managed ? s.M : null).ToList(),
                _ => GradientDirection(closure),
            };
            if (direction is null) return Skip(lr, rho, "probe loss not finite");
            ascentNorm = Math.Sqrt(SumOfSquares(direction.OfType<Tensor>()));
            diagnostics["ascent_norm"] = ascentNorm;
            if (ascentNorm > 0 && double.IsFinite(ascentNorm)) perturbation = Perturb(direction, rho / ascentNorm);
            else diagnostics["perturbation_skipped"] = 1;
        }

        // Step 4: the one backprop at θ + e.
        double loss;
        using (perturbation) // taken off after the backward, however it ends
        {
            ZeroGrad();
            loss = closure(LossMode.Train);
        }
        diagnostics["loss"] = loss;

        var gradNorm = GlobalGradNorm();
        diagnostics["grad_norm"] = gradNorm;
        if (!double.IsFinite(loss) || !double.IsFinite(gradNorm)) return Skip(lr, rho, "loss or gradient not finite");
        if (options.MaxGradNorm is { } max && gradNorm > max)
        {
            using var clip = (max / gradNorm).ToScalar();
            foreach (var s in states) s.Parameter.Tensor.grad?.mul_(clip);
        }

        if (needsCurrentGradientBasis || (subspace == Subspace.RangeFinder && !hasBasis)) Refresh(all: true, "refresh_initial");

        Update(lr, direction is not null && ascent != Ascent.Gradient ? (direction, ascentNorm) : null);

        // Step 1's refresh, at the end of the step, from G_SAM (LORENZA).
        if (subspace == Subspace.RangeFinder && (t + 1) % options.RefreshInterval == 0) Refresh(all: true, "refresh");
        else if (subspace == Subspace.RangeFinder && options.RefreshTolerance is { } tolerance) Refresh(all: false, "refresh_early", tolerance);
        ZeroGrad();
        return new StepResult(loss, false, lr, rho);
    }

    private StepResult Skip(double lr, double rho, string why)
    {
        ZeroGrad();
        SkippedSteps++;
        diagnostics["skipped"] = 1;
        diagnostics["skipped_total"] = SkippedSteps;
        SkipReason = why;
        return new StepResult(double.NaN, true, lr, rho);
    }

    /// <summary>Why the last skipped step was skipped.</summary>
    public string? SkipReason { get; private set; }

    // ---- ascent ----

    /// <summary>
    /// Ẑ_ℓ = (1/q)·Σ_i c_i·Z_{i,ℓ}, c_i = (L(θ + μU_i) − L(θ − μU_i))/(2μ) in float64, with the noise Z drawn
    /// per layer from a generator on the parameter's device seeded by hash(s, i, ℓ), and dropped after use.
    /// </summary>
    internal IReadOnlyList<Tensor?>? ZerothOrderEstimate(LossClosure closure)
    {
        var seed = NextRandom();
        var estimate = new Tensor?[states.Count];
        var mu = options.ZoSmoothing;
        for (var i = 0; i < options.ZoQueries; i++)
        {
            using var probeScope = torch.NewDisposeScope();
            var noise = states.Select((s, l) => s.Parameter.Managed ? ProbeNoise(seed, i, l, s) : null).ToList();
            double plus, minus;
            using (torch.no_grad())
            {
                using (Perturb(noise, mu)) plus = closure(LossMode.Eval, options.ProbeBatchFraction);
                using (Perturb(noise, -mu)) minus = closure(LossMode.Eval, options.ProbeBatchFraction);
            }
            if (!double.IsFinite(plus) || !double.IsFinite(minus)) return null;
            var c = (plus - minus) / (2 * mu);
            diagnostics[$"zo_c{(i == 0 ? "" : i.ToString(System.Globalization.CultureInfo.InvariantCulture))}"] = c;
            using var weight = (c / options.ZoQueries).ToScalar();
            for (var l = 0; l < states.Count; l++)
            {
                if (noise[l] is not { } z) continue;
                if (estimate[l] is { } sum) sum.add_(z, weight);
                else estimate[l] = z.mul_(weight).MoveToOuterDisposeScope();
            }
        }
        return estimate;
    }

    internal static ulong ProbeSeed(ulong stepSeed, int probe, int layer) =>
        SplitMix64(stepSeed ^ SplitMix64((ulong)probe * 0x9E3779B97F4A7C15UL + (ulong)layer + 1));

    private static Tensor ProbeNoise(ulong seed, int probe, int layer, ParameterState s)
    {
        var device = s.Parameter.Tensor.device;
        using var generator = new Generator(ProbeSeed(seed, probe, layer), device);
        return torch.randn(s.ProjectedShape, device: device, generator: generator);
    }

    private List<Tensor?> GradientDirection(LossClosure closure)
    {
        ZeroGrad();
        closure(LossMode.Train);
        var direction = states.Select(s => s.Parameter.Managed ? s.Parameter.Tensor.grad?.detach() : null).ToList();
        ZeroGrad();
        return direction;
    }

    /// <summary>Each managed layer moved by scale·(back-projected direction) until the returned scope is disposed.</summary>
    private Perturbation Perturb(IReadOnlyList<Tensor?> direction, double scale)
    {
        var perturbation = new Perturbation();
        for (var l = 0; l < states.Count; l++)
        {
            if (direction[l] is not { } d) continue;
            var s = states[l];
            perturbation.Set(s.Parameter.Layer!, s.Basis is null ? new LowRankDelta(d, null, scale)
                : s.RightSide ? new LowRankDelta(d, s.Basis.t(), scale)
                : new LowRankDelta(s.Basis, d, scale));
        }
        return perturbation;
    }

    // ---- update ----

    /// <summary>
    /// One Adam step of every parameter: full-rank moments, or moments of the projected gradient R = PᵀG (or G·P)
    /// back-projected. With the <paramref name="ascent"/> (direction ĝ and its norm) it also records cos(ĝ, PᵀG_SAM) over all
    /// managed matrices ("ascent_alignment"), from the same projections.
    /// </summary>
    private void Update(double lr, (IReadOnlyList<Tensor?> Direction, double Norm)? ascent)
    {
        var direction = ascent?.Direction;
        adamSteps++;
        var bc1 = 1 - Math.Pow(options.Beta1, adamSteps);
        var bc2Sqrt = Math.Sqrt(1 - Math.Pow(options.Beta2, adamSteps));
        using var noGrad = torch.no_grad();
        using var diagnosticsScope = torch.NewDisposeScope();
        // Diagnostics as 0-d float64 tensors, read together at the end (one read per step, not several per matrix).
        var readings = new List<Tensor>();
        int Read(Tensor value) { readings.Add(value.MoveToOuterDisposeScope()); return readings.Count - 1; }
        var alignment = new List<(int Dot, int ProjectedSquare)>();                  // ĝ·R and |R|² per perturbed matrix
        var captured = new List<(ParameterState State, int ProjectedSquare, int GradientSquare)>(); // |R|², |G|² per low-rank matrix
        // Numbers reach TorchSharp as explicit Scalars disposed after use (README, "TorchSharp notes").
        using var scalars = new AdamScalars(1 - lr * options.WeightDecay, options.Beta1, options.Beta2, bc2Sqrt, options.Epsilon, -lr / bc1);
        using var lowRankStepSize = (-lr * options.Scale / bc1).ToScalar();
        for (var l = 0; l < states.Count; l++)
        {
            var s = states[l];
            if (s.Parameter.Tensor.grad is not { } grad) continue;
            using var scope = torch.NewDisposeScope();
            var w = s.Parameter.Tensor;
            var r = s.Project(grad);
            // |R|² is read once per matrix, for the alignment and the captured fraction alike.
            int? projectedSquare = direction?[l] is not null || s.LowRank ? Read(SquaredNorm(r)) : null;
            if (direction?[l] is { } d) alignment.Add((Read((d * r).sum(ScalarType.Float64)), projectedSquare!.Value));
            s.EnsureMoments(r);
            if (!s.LowRank)
            {
                FullRankStep(w, r, s.M!, s.V!, scalars, options.WeightDecay != 0); // exactly torch.optim.AdamW's update
                continue;
            }
            captured.Add((s, projectedSquare!.Value, Read(SquaredNorm(grad))));
            if (options.WeightDecay != 0) w.mul_(scalars.Decay);
            s.M!.mul_(scalars.Beta1).add_(r, scalars.OneMinusBeta1);
            s.V!.mul_(scalars.Beta2).addcmul_(r, r, scalars.OneMinusBeta2);
            var denom = s.V.sqrt().div_(scalars.BiasCorrection2Sqrt).add_(scalars.Epsilon);
            AddBackProjected(w, s.M / denom, s.Basis!, s.RightSide, lowRankStepSize);
        }
        if (readings.Count == 0) return;
        var values = torch.stack(readings).data<double>().ToArray();
        if (ascent is { Norm: var norm } && alignment.Count > 0)
        {
            // cos(ĝ, PᵀG_SAM) over all managed matrices: how well the ascent matched the projected gradient.
            double dot = alignment.Sum(a => values[a.Dot]), projected = alignment.Sum(a => values[a.ProjectedSquare]);
            diagnostics["ascent_alignment"] = norm > 0 && projected > 0 ? dot / (norm * Math.Sqrt(projected)) : 0;
        }
        if (captured.Count > 0)
        {
            var fractions = captured.Select(c => c.State.CapturedFraction = Math.Sqrt(values[c.ProjectedSquare] / Math.Max(values[c.GradientSquare], double.Epsilon))).ToList();
            diagnostics["captured_fraction_min"] = fractions.Min();
            diagnostics["captured_fraction_mean"] = fractions.Average();
        }
    }

    /// <summary>Matrices above this many elements are back-projected in slices (the word embedding: 38.6 M, a 154 MB temporary whole).</summary>
    internal const long BackProjectionSlice = 4L * 1024 * 1024;

    /// <summary>
    /// W += step · P·N (left basis, N r×n) or N·Pᵀ (right basis, N m×r). Large matrices go in slices of rows (right) or
    /// columns (left) — the same products element by element — so the m×n update is never a whole temporary.
    /// </summary>
    internal static void AddBackProjected(Tensor w, Tensor normalized, Tensor basis, bool rightSide, Scalar step)
    {
        long m = w.size(0), n = w.size(1);
        if (m * n <= BackProjectionSlice)
        {
            using var back = rightSide ? torch.matmul(normalized, basis.t()) : torch.matmul(basis, normalized);
            w.add_(back, step);
            return;
        }
        var (dimension, length) = rightSide ? (0, m) : (1, n);
        var slice = Math.Max(1, BackProjectionSlice / (rightSide ? n : m));
        for (long start = 0; start < length; start += slice)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(slice, length - start);
            var back = rightSide ? torch.matmul(normalized.narrow(0, start, count), basis.t()) : torch.matmul(basis, normalized.narrow(1, start, count));
            w.narrow(dimension, start, count).add_(back, step);
        }
    }

    /// <summary>
    /// Elements per slice of <see cref="FullRankStep"/> (1 MB per array). Measured on roberta-base's update, 2 cores:
    /// whole tensors 0.72-0.91 s, slices of 64 K elements 0.41-0.51 s, 256 K 0.27-0.33 s, 1 M 0.26-0.28 s.
    /// </summary>
    internal const long FullRankSlice = 256 * 1024;

    /// <summary>
    /// torch.optim.AdamW's update of one full-rank parameter (decoupled decay, moments, bias-corrected step), slice
    /// by slice: the eight element-wise passes then find each slice in cache instead of streaming the whole tensor
    /// through memory eight times, and the temporary is small enough for malloc to reuse (no page faults per step).
    /// </summary>
    private static void FullRankStep(Tensor w, Tensor g, Tensor m, Tensor v, AdamScalars k, bool decay)
    {
        using var flat = NewDisposeScope();
        var (wf, gf, mf, vf) = (w.view(-1), g.contiguous().view(-1), m.view(-1), v.view(-1));
        var n = wf.size(0);
        for (long start = 0; start < n; start += FullRankSlice)
        {
            using var slice = NewDisposeScope();
            var length = Math.Min(FullRankSlice, n - start);
            var (ws, gs, ms, vs) = (wf.narrow(0, start, length), gf.narrow(0, start, length), mf.narrow(0, start, length), vf.narrow(0, start, length));
            if (decay) ws.mul_(k.Decay);
            ms.mul_(k.Beta1).add_(gs, k.OneMinusBeta1);
            vs.mul_(k.Beta2).addcmul_(gs, gs, k.OneMinusBeta2);
            var denom = vs.sqrt().div_(k.BiasCorrection2Sqrt).add_(k.Epsilon);
            ws.addcdiv_(ms, denom, k.StepSize);
        }
    }

    /// <summary>The numbers of one Adam update as Scalars, created once per step.</summary>
    private sealed class AdamScalars(double decay, double beta1, double beta2, double biasCorrection2Sqrt, double epsilon, double stepSize) : IDisposable
    {
        public Scalar Decay { get; } = decay.ToScalar();
        public Scalar Beta1 { get; } = beta1.ToScalar();
        public Scalar OneMinusBeta1 { get; } = (1 - beta1).ToScalar();
        public Scalar Beta2 { get; } = beta2.ToScalar();
        public Scalar OneMinusBeta2 { get; } = (1 - beta2).ToScalar();
        public Scalar BiasCorrection2Sqrt { get; } = biasCorrection2Sqrt.ToScalar();
        public Scalar Epsilon { get; } = epsilon.ToScalar();
        public Scalar StepSize { get; } = stepSize.ToScalar();

        public void Dispose()
        {
            foreach (var s in new[] { Decay, Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, BiasCorrection2Sqrt, Epsilon, StepSize }) s.Dispose();
        }
    }

    /// <summary>New bases from the current gradients (all, or those whose captured fraction fell below the tolerance).</summary>
    private void Refresh(bool all, string reason, double tolerance = 0)
    {
        var refreshed = 0;
        using var noGrad = torch.no_grad();
        foreach (var s in states.Where(s => s.LowRank))
        {
            if (!all && !(s.CapturedFraction < tolerance)) continue;
            if (s.Parameter.Tensor.grad is not { } grad) continue;
            using var scope = torch.NewDisposeScope();
            var g = s.RightSide ? grad.t() : grad;
            Tensor basis;
            if (subspace == Subspace.Svd)
            {
                basis = RangeFinder.SvdLeftBasis(g, options.Rank);
            }
            else
            {
                using var generator = new Generator(NextRandom(), g.device);
                basis = RangeFinder.LeftBasis(g, options.Rank, options.Oversampling, options.PowerIterations, generator);
            }
            s.Basis?.Dispose();
            s.Basis = basis.DetachFromDisposeScope();
            if (options.ResetMomentsOnRefresh) s.ResetMoments();
            refreshed++;
        }
        if (refreshed > 0) diagnostics[reason] = refreshed;
    }

    // ---- helpers ----

    private void ZeroGrad()
    {
        foreach (var s in states) s.Parameter.Tensor.grad = null;
    }

    private double GlobalGradNorm()
    {
        using var scope = torch.NewDisposeScope();
        var norms = states.Select(s => s.Parameter.Tensor.grad).Where(g => g is not null).Select(g => g!.norm().to(ScalarType.Float64)).ToArray();
        return norms.Length == 0 ? 0 : torch.stack(norms).norm().item<double>();
    }

    /// <summary>|t|² in float64, as a 0-d tensor (summed and read once per step, not once per matrix).</summary>
    private static Tensor SquaredNorm(Tensor t)
    {
        using var n = t.norm().to(ScalarType.Float64);
        return n.square();
    }

    private static double SumOfSquares(IEnumerable<Tensor> tensors)
    {
        using var scope = torch.NewDisposeScope();
        var squares = tensors.Select(SquaredNorm).ToArray();
        return squares.Length == 0 ? 0 : torch.stack(squares).sum().item<double>();
    }

    private ulong NextRandom()
    {
        rngState += 0x9E3779B97F4A7C15UL;
        return SplitMix64(rngState);
    }

    private static ulong SplitMix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    // ---- checkpoints ----

    public void SaveState(IDictionary<string, Tensor> into, string prefix = "optimizer.")
    {
        into[prefix + "counters"] = torch.tensor(new long[] { StepCount, SkippedSteps, adamSteps, unchecked((long)rngState) }).DetachFromDisposeScope();
        foreach (var s in states)
        {
            if (s.M is not null) into[$"{prefix}{s.Parameter.Name}.exp_avg"] = s.M.detach().clone().DetachFromDisposeScope();
            if (s.V is not null) into[$"{prefix}{s.Parameter.Name}.exp_avg_sq"] = s.V.detach().clone().DetachFromDisposeScope();
            if (s.Basis is not null) into[$"{prefix}{s.Parameter.Name}.basis"] = s.Basis.detach().clone().DetachFromDisposeScope();
        }
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> from, string prefix = "optimizer.")
    {
        if (!from.TryGetValue(prefix + "counters", out var counters))
            throw new InvalidDataException($"The checkpoint has no {prefix}counters: it was not written by this optimizer.");
        var c = counters.ToArray<long>();
        (StepCount, SkippedSteps, adamSteps, rngState) = ((int)c[0], (int)c[1], (int)c[2], unchecked((ulong)c[3]));
        foreach (var s in states)
        {
            var device = s.Parameter.Tensor.device;
            Tensor? Take(string suffix) => from.TryGetValue($"{prefix}{s.Parameter.Name}.{suffix}", out var t) ? t.to(device).DetachFromDisposeScope() : null;
            s.Replace(Take("exp_avg"), Take("exp_avg_sq"), Take("basis"));
        }
    }

    /// <summary>A frozen word embedding trainable again (perturbations are scoped: none outlives its step).</summary>
    public void Finish()
    {
        if (finished) return;
        finished = true;
        foreach (var t in frozen) t.requires_grad_(true);
    }

    public void Dispose()
    {
        Finish();
        foreach (var s in states) s.Replace(null, null, null);
    }

    /// <summary>The optimizer's state of one parameter.</summary>
    private sealed class ParameterState(OptimizedParameter parameter, bool lowRank)
    {
        public OptimizedParameter Parameter { get; } = parameter;
        public bool LowRank { get; } = lowRank;
        /// <summary>m &gt; n: a right basis P (n×r), projected shape m×r; otherwise a left basis (m×r), projected r×n.</summary>
        public bool RightSide { get; } = lowRank && parameter.Tensor.size(0) > parameter.Tensor.size(1);
        public Tensor? Basis { get; set; }
        public Tensor? M { get; private set; }
        public Tensor? V { get; private set; }
        public double CapturedFraction { get; set; } = 1;

        public long[] ProjectedShape
        {
            get
            {
                var shape = Parameter.Tensor.shape;
                if (Basis is null) return shape;
                var r = Basis.size(1);
                return RightSide ? [shape[0], r] : [r, shape[1]];
            }
        }

        public long StateElements =>
            (M?.numel() ?? 0) + (V?.numel() ?? 0) + (Basis?.numel() ?? 0);

        /// <summary>PᵀG (left), G·P (right), or G itself without a basis.</summary>
        public Tensor Project(Tensor g) =>
            Basis is null ? g.alias() : RightSide ? torch.matmul(g, Basis) : torch.matmul(Basis.t(), g);

        public void EnsureMoments(Tensor projected)
        {
            if (M is not null && M.shape.SequenceEqual(projected.shape)) return;
            M?.Dispose();
            V?.Dispose();
            M = torch.zeros_like(projected).DetachFromDisposeScope();
            V = torch.zeros_like(projected).DetachFromDisposeScope();
        }

        public void ResetMoments()
        {
            M?.zero_();
            V?.zero_();
        }

        public void Replace(Tensor? m, Tensor? v, Tensor? basis)
        {
            M?.Dispose();
            V?.Dispose();
            Basis?.Dispose();
            (M, V, Basis) = (m, v, basis);
        }
    }
}
