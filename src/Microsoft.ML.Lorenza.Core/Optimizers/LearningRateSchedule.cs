using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>The learning rate γ_t of step t, and the range it moves in (for the ρ schedule).</summary>
public abstract class LearningRateSchedule
{
    protected LearningRateSchedule(double max, double min = 0)
    {
        if (!(max > 0)) throw new ArgumentOutOfRangeException(nameof(max), max, "The peak learning rate must be > 0.");
        Max = max;
        Min = min;
    }

    public double Max { get; }
    public double Min { get; }

    public abstract double At(int step);

    /// <summary>GSAM's ρ_t = ρ_min + (ρ_max − ρ_min)·(γ_t − γ_min)/(γ_max − γ_min); ρ_max for a constant rate.</summary>
    public double Rho(int step, double rhoMax, double rhoMin) =>
        Max == Min ? rhoMax : rhoMin + (rhoMax - rhoMin) * (At(step) - Min) / (Max - Min);

    /// <summary>The schedule of <paramref name="shape"/> peaking at <paramref name="max"/> over <paramref name="totalSteps"/>.</summary>
    public static LearningRateSchedule Create(ScheduleShape shape, double max, int totalSteps, double warmupFraction = 0.06) => shape switch
    {
        ScheduleShape.Constant => new ConstantSchedule(max),
        ScheduleShape.Linear => new WarmupDecaySchedule(max, totalSteps, warmupFraction, cosine: false),
        ScheduleShape.Cosine => new WarmupDecaySchedule(max, totalSteps, warmupFraction, cosine: true),
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, $"LearningRateSchedule = {shape} is invalid: use Linear, Cosine or Constant."),
    };
}

public sealed class ConstantSchedule(double rate) : LearningRateSchedule(rate, rate)
{
    public override double At(int step) => Max;
}

/// <summary>Linear warm-up from 0 over the first steps, then a linear or cosine decay to 0 at the last step.</summary>
public sealed class WarmupDecaySchedule : LearningRateSchedule
{
    private readonly int total;
    private readonly int warmup;
    private readonly bool cosine;

    public WarmupDecaySchedule(double max, int totalSteps, double warmupFraction, bool cosine) : base(max)
    {
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "The schedule needs at least one step.");
        if (warmupFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(warmupFraction), warmupFraction, "The warm-up fraction must be in [0, 1).");
        total = totalSteps;
        warmup = (int)Math.Round(warmupFraction * totalSteps);
        this.cosine = cosine;
    }

    public override double At(int step)
    {
        if (step < warmup) return Max * (step + 1) / warmup;
        var progress = total == warmup ? 1 : Math.Clamp((double)(step - warmup) / (total - warmup), 0, 1);
        return cosine ? Max * 0.5 * (1 + Math.Cos(Math.PI * progress)) : Max * (1 - progress);
    }
}
