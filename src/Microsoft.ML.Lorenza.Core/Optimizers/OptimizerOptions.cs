namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>The direction of the sharpness-aware ascent.</summary>
public enum AscentDirection
{
    /// <summary>The paper's two-point zeroth-order estimate from loss values only.</summary>
    ZerothOrder,

    /// <summary>Departure from the paper: the low-rank Adam first moment M (no extra forwards).</summary>
    Momentum,
}

/// <summary>
/// Every hyper-parameter of the optimizers, with the defaults of docs/lorenza-algorithm.md. Options an
/// optimizer does not use are ignored (e.g. Rank by AdamW).
/// </summary>
public sealed class OptimizerOptions
{
    /// <summary>Peak learning rate γ_max (the schedule scales it).</summary>
    public double LearningRate { get; set; } = 2e-5;
    public double Beta1 { get; set; } = 0.9;
    public double Beta2 { get; set; } = 0.999;
    public double Epsilon { get; set; } = 1e-6;
    public double WeightDecay { get; set; }

    /// <summary>r: subspace rank per managed matrix.</summary>
    public int Rank { get; set; } = 8;
    /// <summary>T: steps between subspace refreshes.</summary>
    public int RefreshInterval { get; set; } = 200;
    /// <summary>ς: refresh a matrix early when ‖PᵀG‖/‖G‖ drops below this (null: off).</summary>
    public double? RefreshTolerance { get; set; }
    /// <summary>α: scale of the back-projected update.</summary>
    public double Scale { get; set; } = 1.0;
    /// <summary>ρ_max: SAM radius at the peak learning rate.</summary>
    public double Rho { get; set; } = 0.05;
    /// <summary>ρ_min: SAM radius at the minimum learning rate.</summary>
    public double RhoMin { get; set; }
    /// <summary>μ: finite-difference step of the zeroth-order probes.</summary>
    public double ZoSmoothing { get; set; } = 1e-3;
    /// <summary>q: random directions per step.</summary>
    public int ZoQueries { get; set; } = 1;
    /// <summary>p: extra columns in the range finder.</summary>
    public int Oversampling { get; set; }
    /// <summary>k: power iterations in the range finder.</summary>
    public int PowerIterations { get; set; }
    public AscentDirection AscentDirection { get; set; } = AscentDirection.ZerothOrder;
    /// <summary>Reset the Adam moments when the subspace is refreshed (default: keep them, as GaLore).</summary>
    public bool ResetMomentsOnRefresh { get; set; }
    /// <summary>Seeds the optimizer's generator (probe seeds, range-finder Ω).</summary>
    public ulong Seed { get; set; }
    /// <summary>Clip the global gradient norm to this (null: no clipping).</summary>
    public double? MaxGradNorm { get; set; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the option, its value and the valid range.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, object value, string range)
        {
            if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} = {value} is invalid: it must be {range}.");
        }
        Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "a finite number > 0");
        Check(Beta1 is >= 0 and < 1, nameof(Beta1), Beta1, "in [0, 1)");
        Check(Beta2 is >= 0 and < 1, nameof(Beta2), Beta2, "in [0, 1)");
        Check(Epsilon > 0, nameof(Epsilon), Epsilon, "> 0");
        Check(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, ">= 0");
        Check(Rank >= 1, nameof(Rank), Rank, ">= 1 (and at most min(m, n) of every managed matrix)");
        Check(RefreshInterval >= 1, nameof(RefreshInterval), RefreshInterval, ">= 1");
        Check(RefreshTolerance is null or (> 0 and <= 1), nameof(RefreshTolerance), RefreshTolerance ?? 0, "in (0, 1], or null for off");
        Check(Scale > 0, nameof(Scale), Scale, "> 0");
        Check(Rho >= 0, nameof(Rho), Rho, ">= 0");
        Check(RhoMin >= 0 && RhoMin <= Rho, nameof(RhoMin), RhoMin, $"in [0, Rho = {Rho}]");
        Check(ZoSmoothing > 0, nameof(ZoSmoothing), ZoSmoothing, "> 0");
        Check(ZoQueries >= 1, nameof(ZoQueries), ZoQueries, ">= 1");
        Check(Oversampling >= 0, nameof(Oversampling), Oversampling, ">= 0");
        Check(PowerIterations >= 0, nameof(PowerIterations), PowerIterations, ">= 0");
        Check(Enum.IsDefined(AscentDirection), nameof(AscentDirection), AscentDirection, "ZerothOrder or Momentum");
        Check(MaxGradNorm is null or > 0, nameof(MaxGradNorm), MaxGradNorm ?? 0, "> 0, or null for no clipping");
    }

    public OptimizerOptions Clone() => (OptimizerOptions)MemberwiseClone();
}
