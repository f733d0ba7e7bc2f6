using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Optimizers;

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
/// One engine for AdamW, SAM, GaLore, AdaZo-SAM and LORENZA (docs/lorenza-algorithm.md). <see cref="Step"/> is LORENZA's
/// step; the others are that step with parts left out: no subspace (<see cref="Subspace.None"/>: AdamW, SAM, AdaZo-SAM),
/// GaLore's SVD basis taken before the update instead of the range finder's after it, no ascent (AdamW, GaLore) or the
/// ascent from a second backprop (SAM). The subspace is a <see cref="SubspaceProjector"/> per matrix and Adam's state an
/// <see cref="AdamMoments"/>, shared by all five. Unmanaged parameters take plain AdamW steps and are never perturbed;
/// the word embedding is trained in full, in a subspace or not at all (<see cref="OptimizerOptions.WordEmbeddings"/>).
/// </summary>
/// <remarks>Made by <see cref="OptimizerFactory"/>.</remarks>
public sealed class AdamFamilyOptimizer : IOptimizer
{
    private readonly OptimizerOptions options;
    private readonly LearningRateSchedule schedule;
    private readonly Subspace subspace;
    private readonly Ascent ascent;
    private readonly List<ParameterState> states;
    private readonly List<Tensor> frozen;
    private readonly SeedSequence random;
    private readonly FlatAdamGroup fullRank;
    private readonly IReadOnlyList<BatchedLowRankGroup> lowRankGroups;
    private int adamSteps;
    private bool finished;
    private Dictionary<string, double> diagnostics = new();

    internal AdamFamilyOptimizer(OptimizerAlgorithm algorithm, IReadOnlyList<OptimizedParameter> parameters, OptimizerOptions options,
                               LearningRateSchedule schedule, Subspace subspace, Ascent ascent)
    {
        options.Validate();
        Name = algorithm.Name;
        this.options = options.Clone();
        this.schedule = schedule;
        this.subspace = subspace;
        this.ascent = ascent;
        random = new SeedSequence(options.Seed);
        var embeddings = options.WordEmbeddingsFor(algorithm);
        bool LowRank(OptimizedParameter p) => subspace != Subspace.None && (p.Managed || (p.WordEmbedding && embeddings == WordEmbeddingTreatment.LowRank));
        var trained = embeddings == WordEmbeddingTreatment.Frozen ? parameters.Where(p => !p.WordEmbedding) : parameters;
        states = trained.Select(p => new ParameterState(p, LowRank(p) ? new SubspaceProjector(p, subspace, options.Rank) : null)).ToList();
        frozen = embeddings == WordEmbeddingTreatment.Frozen ? parameters.Where(p => p.WordEmbedding && p.Tensor.requires_grad).Select(p => p.Tensor).ToList() : [];
        fullRank = new FlatAdamGroup(states.Where(s => s.Projector is null).Select(s => (s.Parameter.Tensor, s.Moments)).ToList());
        lowRankGroups = BatchedLowRankGroup.Partition(states.Select((s, l) => (s, l)).Where(x => x.s.Projector is not null)
            .Select(x => new BatchedLowRankGroup.Member(x.l, x.s.Parameter.Tensor, x.s.Projector!, x.s.Moments)));
        if (ascent != Ascent.None && states.All(s => !s.Parameter.Managed))
            throw new ArgumentException($"{Name} perturbs managed weights, but no parameter is managed; check the ManagedParameterRule.");
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

    public long StateBytes => states.Sum(s => (s.Moments.Elements + (s.Projector?.Basis?.numel() ?? 0)) * 4L);

    /// <summary>One step, numbered as in docs/lorenza-algorithm.md, "One step".</summary>
    public StepResult Step(LossClosure closure)
    {
        if (finished) throw new InvalidOperationException($"{Name} has finished training (Finish); create a new optimizer to train again.");
        var t = StepCount++;
        var lr = schedule.At(t);
        var rho = schedule.Rho(t, options.Rho, options.RhoMin);
        diagnostics = new Dictionary<string, double> { ["lr"] = lr, ["rho"] = rho };
        using var scope = torch.NewDisposeScope();
        var hasBasis = states.All(s => s.Projector is null || s.Projector.Basis is not null);

        // 2. The ascent direction ĝ, in the subspace: none on the first step (no basis, no moments yet) or when ρ_t = 0.
        IReadOnlyList<Tensor?>? direction = null;
        if (rho > 0 && (ascent == Ascent.Gradient || (ascent != Ascent.None && hasBasis && adamSteps > 0)))
        {
            direction = ascent switch
            {
                Ascent.ZerothOrder => ZerothOrderEstimate(closure),
                Ascent.Momentum => states.Select(s => s.Parameter.Managed ? s.Moments.M : null).ToList(),
                _ => GradientDirection(closure),
            };
            if (direction is null) return Skip(lr, rho); // a probe loss was not finite
        }
        var ascentNorm = direction is null ? 0 : Math.Sqrt(SumOfSquares(direction.OfType<Tensor>()));

        // 3–4. Perturb to θ + e, e = ρ_t·P·ĝ/‖ĝ‖, and backprop once there: G_SAM. The perturbation is taken off after the
        // backward, however it ends.
        double loss;
        using (PerturbAlong(direction, rho, ascentNorm))
        {
            ZeroGrad();
            loss = closure(LossMode.Train);
        }
        diagnostics["loss"] = loss;
        var gradNorm = GlobalGradNorm();
        diagnostics["grad_norm"] = gradNorm;
        if (!double.IsFinite(loss) || !double.IsFinite(gradNorm)) return Skip(lr, rho);
        if (options.MaxGradNorm is { } max && gradNorm > max)
        {
            using var clip = (max / gradNorm).ToScalar();
            foreach (var s in states) s.Parameter.Tensor.grad?.mul_(clip);
        }

        // 1. The first bases, from this gradient (LORENZA); GaLore takes a new one every T steps, before the update.
        if ((subspace == Subspace.Svd && t % options.RefreshInterval == 0) || (subspace == Subspace.RangeFinder && !hasBasis))
            Refresh(all: true, "refresh_initial");

        // 5–7. Project, Adam in the subspace, back-project.
        Update(lr, ascent != Ascent.Gradient ? direction : null, ascentNorm);

        // 8. LORENZA's refresh at the end of every T-th step, from G_SAM (or early, for a matrix the subspace lost).
        if (subspace == Subspace.RangeFinder && (t + 1) % options.RefreshInterval == 0) Refresh(all: true, "refresh");
        else if (subspace == Subspace.RangeFinder && options.RefreshTolerance is { } tolerance) Refresh(all: false, "refresh_early", tolerance);
        ZeroGrad();
        return new StepResult(loss, false, lr, rho);
    }

    /// <summary>A step that changes nothing: a loss or the gradient was not finite.</summary>
    private StepResult Skip(double lr, double rho)
    {
        ZeroGrad();
        SkippedSteps++;
        diagnostics["skipped"] = 1;
        diagnostics["skipped_total"] = SkippedSteps;
        return new StepResult(double.NaN, true, lr, rho);
    }

    // ---- ascent ----

    /// <summary>
    /// Ẑ_ℓ = (1/q)·Σ_i c_i·Z_{i,ℓ}, c_i = (L(θ + μU_i) − L(θ − μU_i))/(2μ) in float64, with the noise Z drawn
    /// per layer on the parameter's device, seeded by hash(s, i, ℓ) (<see cref="SeededNormal"/>), and dropped after use.
    /// </summary>
    internal IReadOnlyList<Tensor?>? ZerothOrderEstimate(LossClosure closure)
    {
        var seed = random.Next();
        var estimate = new Tensor?[states.Count];
        var mu = options.ZoSmoothing;
        for (var i = 0; i < options.ZoQueries; i++)
        {
            using var probeScope = torch.NewDisposeScope();
            var noise = states.Select((s, l) => s.Parameter.Managed ? ProbeNoise(SeedSequence.Probe(seed, i, l), s) : null).ToList();
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

    private static Tensor ProbeNoise(ulong seed, ParameterState s) =>
        SeededNormal.Draw(s.Projector?.ProjectedShape ?? s.Parameter.Tensor.shape, seed, s.Parameter.Tensor.device);

    private List<Tensor?> GradientDirection(LossClosure closure)
    {
        ZeroGrad();
        closure(LossMode.Train);
        var direction = states.Select(s => s.Parameter.Managed ? s.Parameter.Tensor.grad?.detach() : null).ToList();
        ZeroGrad();
        return direction;
    }

    /// <summary>The SAM perturbation e = ρ·ĝ/‖ĝ‖, or none (null) without an ascent or with a norm of 0 or not finite.</summary>
    private Perturbation? PerturbAlong(IReadOnlyList<Tensor?>? direction, double rho, double norm)
    {
        if (direction is null) return null;
        diagnostics["ascent_norm"] = norm;
        if (norm > 0 && double.IsFinite(norm)) return Perturb(direction, rho / norm);
        diagnostics["perturbation_skipped"] = 1;
        return null;
    }

    /// <summary>Each managed layer moved by scale·(back-projected direction) until the returned scope is disposed.</summary>
    private Perturbation Perturb(IReadOnlyList<Tensor?> direction, double scale)
    {
        var perturbation = new Perturbation();
        for (var l = 0; l < states.Count; l++)
        {
            if (direction[l] is not { } d) continue;
            var s = states[l];
            perturbation.Set(s.Parameter.Layer!, s.Projector?.Delta(d, scale) ?? new LowRankDelta(d, null, scale));
        }
        return perturbation;
    }

    // ---- update ----

    /// <summary>
    /// One Adam step of every parameter: full-rank moments, or moments of the projected gradient R = PᵀG (or G·P)
    /// back-projected. With an ascent <paramref name="direction"/> ĝ it also records cos(ĝ, R) over all managed
    /// matrices ("ascent_alignment"), from the same projections.
    /// </summary>
    private void Update(double lr, IReadOnlyList<Tensor?>? direction, double ascentNorm)
    {
        adamSteps++;
        using var noGrad = torch.no_grad();
        using var readingsScope = torch.NewDisposeScope();
        using var adam = new AdamScalars(options, lr, adamSteps);
        // On a GPU the full-rank parameters take one multi-tensor step (the loop below then leaves them alone).
        var fullRankDone = states.Count > 0 && fullRank.AppliesTo(states[0].Parameter.Tensor.device) && fullRank.TryStep(adam, options.WeightDecay != 0);
        // And same-shape low-rank matrices a batched one; the loop below only records what it measured of them.
        var batched = new Dictionary<int, (BatchedLowRankGroup.Readings Readings, int Row)>();
        if (lowRankGroups.Count > 0 && BatchedLowRankGroup.AppliesTo(states[0].Parameter.Tensor.device))
            foreach (var group in lowRankGroups)
                if (group.TryStep(adam, options.WeightDecay != 0, direction) is { } readings)
                    for (var i = 0; i < group.Members.Count; i++) batched[group.Members[i].Index] = (readings, i);
        // Diagnostics as 0-d tensors, read together at the end: one device read per step, not several per matrix. Squared
        // norms are kept as float32 norms, squared in float64 all at once; dot products are float64 sums.
        var norms = new List<Tensor>();
        var dots = new List<Tensor>();
        int Norm(Tensor norm) { norms.Add(norm.MoveToOuterDisposeScope()); return norms.Count - 1; }
        int Square(Tensor t) => Norm(t.norm());
        int Dot(Tensor value) { dots.Add(value.MoveToOuterDisposeScope()); return -dots.Count; } // negative: a dot's index
        var alignment = new List<(int Dot, int ProjectedSquare)>();                                  // ĝ·R, |R|² per perturbed matrix
        var captured = new List<(SubspaceProjector Projector, int ProjectedSquare, int GradientSquare)>(); // |R|², |G|² per low-rank matrix
        for (var l = 0; l < states.Count; l++)
        {
            var s = states[l];
            if (s.Parameter.Tensor.grad is not { } grad) continue;
            using var scope = torch.NewDisposeScope();
            if (batched.TryGetValue(l, out var b))
            {
                var projected = Norm(b.Readings.ProjectedNorms.select(0, b.Row));
                if (b.Readings.Dots is { } dotsOfGroup) alignment.Add((Dot(dotsOfGroup.select(0, b.Row)), projected));
                captured.Add((s.Projector!, projected, Norm(b.Readings.GradientNorms.select(0, b.Row))));
                continue;
            }
            var w = s.Parameter.Tensor;
            var r = s.Projector?.Project(grad) ?? grad.alias();
            int? projectedSquare = direction?[l] is not null || s.Projector is not null ? Square(r) : null;
            if (direction?[l] is { } d) alignment.Add((Dot((d * r).sum(ScalarType.Float64)), projectedSquare!.Value));
            s.Moments.EnsureShapeOf(r);
            if (s.Projector is not { } projector)
            {
                if (!fullRankDone) s.Moments.StepFullRank(w, r, adam, options.WeightDecay != 0); // exactly torch.optim.AdamW's update
                continue;
            }
            captured.Add((projector, projectedSquare!.Value, Square(grad)));
            if (options.WeightDecay != 0) w.mul_(adam.Decay);
            projector.AddBackProjected(w, s.Moments.Normalized(r, adam), adam.LowRankStepSize);
        }
        if (norms.Count == 0 && dots.Count == 0) return;
        var squares = norms.Count > 0 ? torch.stack(norms).to(ScalarType.Float64).square() : torch.zeros(0, ScalarType.Float64, dots[0].device);
        var read = (dots.Count > 0 ? torch.cat([squares, torch.stack(dots)]) : squares).ToArray<double>(); // one device-to-host copy
        double Value(int index) => index >= 0 ? read[index] : read[norms.Count - index - 1];
        if (direction is not null && alignment.Count > 0)
        {
            double dot = alignment.Sum(a => Value(a.Dot)), projected = alignment.Sum(a => Value(a.ProjectedSquare));
            diagnostics["ascent_alignment"] = ascentNorm > 0 && projected > 0 ? dot / (ascentNorm * Math.Sqrt(projected)) : 0;
        }
        if (captured.Count > 0)
        {
            var fractions = captured.Select(c => c.Projector.CapturedFraction = Math.Sqrt(Value(c.ProjectedSquare) / Math.Max(Value(c.GradientSquare), double.Epsilon))).ToList();
            diagnostics["captured_fraction_min"] = fractions.Min();
            diagnostics["captured_fraction_mean"] = fractions.Average();
        }
    }

    /// <summary>New bases from the current gradients (all, or those whose captured fraction fell below the tolerance).</summary>
    private void Refresh(bool all, string reason, double tolerance = 0)
    {
        var refreshed = 0;
        using var noGrad = torch.no_grad();
        foreach (var s in states)
        {
            if (s.Projector is not { } projector || s.Parameter.Tensor.grad is not { } grad) continue;
            if (!all && !(projector.CapturedFraction < tolerance)) continue;
            projector.Refresh(grad, options, random.Next);
            if (options.ResetMomentsOnRefresh) s.Moments.Reset();
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
        // Each norm in float32, then all in float64 (one cast, not one per tensor).
        var norms = states.Select(s => s.Parameter.Tensor.grad).Where(g => g is not null).Select(g => g!.norm()).ToArray();
        return norms.Length == 0 ? 0 : torch.stack(norms).to(ScalarType.Float64).norm().item<double>();
    }

    /// <summary>|t|² in float64, as a 0-d tensor.</summary>
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

    // ---- checkpoints and the end ----

    public void SaveState(IDictionary<string, Tensor> into, string prefix = "optimizer.")
    {
        into[prefix + "counters"] = torch.tensor(new long[] { StepCount, SkippedSteps, adamSteps, unchecked((long)random.State) }).DetachFromDisposeScope();
        foreach (var s in states)
        {
            void Save(string suffix, Tensor? t) { if (t is not null) into[$"{prefix}{s.Parameter.Name}.{suffix}"] = t.detach().clone().DetachFromDisposeScope(); }
            Save("exp_avg", s.Moments.M);
            Save("exp_avg_sq", s.Moments.V);
            Save("basis", s.Projector?.Basis);
        }
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> from, string prefix = "optimizer.")
    {
        if (!from.TryGetValue(prefix + "counters", out var counters))
            throw new InvalidDataException($"The checkpoint has no {prefix}counters: it was not written by this optimizer.");
        var c = counters.ToArray<long>();
        (StepCount, SkippedSteps, adamSteps, random.State) = ((int)c[0], (int)c[1], (int)c[2], unchecked((ulong)c[3]));
        foreach (var s in states)
        {
            var device = s.Parameter.Tensor.device;
            Tensor? Take(string suffix) => from.TryGetValue($"{prefix}{s.Parameter.Name}.{suffix}", out var t) ? t.to(device).DetachFromDisposeScope() : null;
            s.Moments.Replace(Take("exp_avg"), Take("exp_avg_sq"));
            s.Projector?.Replace(Take("basis"));
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
        fullRank.Dispose();
        foreach (var group in lowRankGroups) group.Dispose();
        foreach (var s in states)
        {
            s.Moments.Replace(null, null);
            s.Projector?.Replace(null);
        }
    }

    /// <summary>A trained parameter, its subspace (null: full rank) and its Adam moments.</summary>
    private sealed record ParameterState(OptimizedParameter Parameter, SubspaceProjector? Projector)
    {
        public AdamMoments Moments { get; } = new();
    }
}
