using System.Text.RegularExpressions;
using Microsoft.ML.Lorenza.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>
/// Which parameters are "managed" (low-rank subspace, sharpness-aware perturbation) and which get plain
/// AdamW. Default (<see cref="Architecture"/>), as GaLore splits them: what the model's architecture reports as its
/// managed weights (<see cref="SequenceClassifier.ManagedLinears"/>: the encoder blocks' attention query/key/value/output
/// and FFN weights, for RoBERTa and BERT alike); embeddings, LayerNorm, biases, BERT's pooler and the classifier head
/// are unmanaged. With a <see cref="NamePattern"/>, the 2-D <see cref="SideBranchLinear"/> weights whose name matches it.
/// A <see cref="SequenceClassifier"/>'s token embedding matrix is marked <see cref="OptimizedParameter.WordEmbedding"/>.
/// </summary>
public sealed class ManagedParameterRule
{
    /// <summary>A regular expression on the parameter's dotted name; null (default): the architecture's managed weights.</summary>
    public string? NamePattern { get; init; }

    /// <summary>Weights with fewer elements than this stay unmanaged.</summary>
    public long MinimumSize { get; init; }

    /// <summary>The architecture's managed weights (the default rule); applies to <see cref="SequenceClassifier"/>s.</summary>
    public static ManagedParameterRule Architecture { get; } = new();

    /// <summary>Every Linear weight (for tests and models that are not a <see cref="SequenceClassifier"/>).</summary>
    public static ManagedParameterRule AllLinearWeights { get; } = new() { NamePattern = @"weight$" };

    /// <summary>The parameters of <paramref name="module"/>, each marked managed or not.</summary>
    public IReadOnlyList<OptimizedParameter> Apply(nn.Module module)
    {
        Func<string, bool> selected;
        if (NamePattern is { } pattern)
        {
            var regex = new Regex(pattern, RegexOptions.CultureInvariant);
            selected = regex.IsMatch;
        }
        else if (module is SequenceClassifier classifier)
        {
            var names = classifier.ManagedLinears().Select(m => m.name).ToHashSet(StringComparer.Ordinal);
            selected = names.Contains;
        }
        else
            throw new ArgumentException($"The architecture rule needs a SequenceClassifier, not a {module.GetType().Name}; give the rule a NamePattern (or use ManagedParameterRule.AllLinearWeights).", nameof(module));
        var layers = ModuleTree.DepthFirst(module)
            .Where(m => m.Module is SideBranchLinear)
            .ToDictionary(m => (m.Name.Length == 0 ? "" : m.Name + ".") + "weight", m => (SideBranchLinear)m.Module);
        var wordEmbedding = module is SequenceClassifier c ? $"{c.BaseModelPrefix}.embeddings.word_embeddings.weight" : null;
        return module.named_parameters()
            .Select(p =>
            {
                var layer = layers.GetValueOrDefault(p.name);
                var managed = layer is not null && p.parameter.dim() == 2 && p.parameter.numel() >= MinimumSize && selected(p.name);
                return new OptimizedParameter(p.name, p.parameter, layer, managed, p.name == wordEmbedding);
            })
            .ToList();
    }
}
