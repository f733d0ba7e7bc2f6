namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>What the model sees of the data: the classes, the tokens per example, the rows held out for validation.</summary>
public sealed class DataOptions
{
    /// <summary>
    /// The classes in output order (null: the distinct training labels in ordinal order). Set it when the
    /// class list is known beforehand, so that labels without training examples still get an output.
    /// </summary>
    [NotAnOption("the classes come from the data: the training labels (CLI), the label column's keys (ML.NET)")]
    public IReadOnlyList<string>? Labels { get; set; }
    /// <summary>Train on labels that look continuous (many distinct numbers) as classes anyway; otherwise they are refused.</summary>
    [Option("--labels-are-classes", "train on numeric labels with many distinct values (which look continuous) as classes",
            NotInMlNet = "ML.NET labels are keys (MapValueToKey), classes by construction", OnlyCommand = "train")]
    public bool LabelsAreClasses { get; set; }
    [Option("--max-length", "maximum tokens per example (longer ones are truncated)", MlNetName = "MaxSequenceLength")]
    public int MaxSequenceLength { get; set; } = 128;
    /// <summary>Fraction of the training data held out for validation when no validation set is given.</summary>
    [Option("--validation-fraction", "held-out fraction when no validation set is given (0: train on all)")]
    public double ValidationFraction { get; set; } = 0.1;
    /// <summary>
    /// Class weights in the training loss: None, or Balanced (inverse class frequency over the training rows, averaging 1).
    /// Multiplies the example weights where there are some (<see cref="Datasets.TextExample.Weight"/>).
    /// </summary>
    [Option("--class-weights", "weigh each class's loss: none, or balanced (inverse class frequency over the training rows, averaging 1)")]
    public ClassWeighting ClassWeights { get; set; } = ClassWeighting.None;

    public void Validate()
    {
        OptionCheck.That(MaxSequenceLength >= 8, nameof(MaxSequenceLength), MaxSequenceLength, ">= 8");
        OptionCheck.That(ValidationFraction is >= 0 and < 1, nameof(ValidationFraction), ValidationFraction, "in [0, 1)");
        OptionCheck.That(Enum.IsDefined(ClassWeights), nameof(ClassWeights), ClassWeights, "None or Balanced");
    }
}
