namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>How each class's examples weigh in the training loss (evaluation is never weighted).</summary>
public enum ClassWeighting
{
    /// <summary>Every class weighs the same (each example 1, times its example weight if any).</summary>
    None,

    /// <summary>
    /// Inverse class frequency over the training rows, N / (K · n_c) for a class with n_c of the N rows (K: the classes
    /// that have rows), so the weights average to 1 over the training rows (scikit-learn's "balanced").
    /// </summary>
    Balanced,
}
