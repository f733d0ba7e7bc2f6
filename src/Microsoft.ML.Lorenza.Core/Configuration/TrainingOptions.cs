using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Optimizers;

namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>
/// Everything a training run needs besides the data, one group per concern, with the defaults of every surface: the
/// `lorenza` CLI builds its options from the groups' <see cref="OptionAttribute"/>s (<see cref="OptionProperty.All"/>) and
/// takes its defaults from a fresh instance, and the ML.NET Options fields start from the same values (the options tests
/// hold all three equal). C# sets a group in place: <c>new TrainingOptions { Loop = { Epochs = 1 }, Optimizer = { Rank = 4 } }</c>.
/// </summary>
public sealed class TrainingOptions
{
    public ModelOptions Model { get; } = new();
    public DataOptions Data { get; } = new();
    public OptimizerOptions Optimizer { get; } = new();
    public LoopOptions Loop { get; } = new();
    public ComputeOptions Compute { get; } = new();

    /// <summary>
    /// The peak learning rate a null <see cref="OptimizerOptions.LearningRate"/> means: 1e-4 fine-tuning a pretrained model
    /// (the MiniLM demo reaches 95 % with it in three epochs), 1e-3 training a preset from scratch.
    /// </summary>
    public static double DefaultLearningRate(bool pretrained) => pretrained ? 1e-4 : 1e-3;

    /// <summary>The peak learning rate of this run: <see cref="OptimizerOptions.LearningRate"/>, or its default.</summary>
    public double PeakLearningRate => Optimizer.LearningRate ?? DefaultLearningRate(!Model.FromScratch);

    /// <summary>Validates every group, then what joins them; the first bad value throws, naming it and its valid range.</summary>
    public void Validate()
    {
        Loop.Validate();
        Data.Validate();
        Model.Validate();
        if (Model.Preset is { } preset)
            DataChecks.MaxSequenceLength(Data.MaxSequenceLength, DataChecks.PresetMaxSequenceLength, $"the '{preset.Name}' preset");
        Compute.Validate();
        Optimizer.Validate();
        Optimizer.WordEmbeddingsFor(Optimizer.Algorithm); // before any data is read
    }
}

/// <summary>The check every option group makes: one line naming the option, its value and the valid range.</summary>
internal static class OptionCheck
{
    public static void That(bool ok, string name, object value, string range)
    {
        if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} = {value} is invalid: it must be {range}.");
    }
}
