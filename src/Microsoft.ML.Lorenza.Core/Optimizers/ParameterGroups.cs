using System.Text.RegularExpressions;
using Microsoft.ML.Lorenza.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>
/// Which parameters are "managed" (low-rank subspace, sharpness-aware perturbation) and which get plain
/// AdamW. Default, as GaLore splits them: the 2-D weights of <see cref="SideBranchLinear"/> layers whose name
/// matches <see cref="NamePattern"/> (RoBERTa's attention query/key/value/output and FFN weights);
/// embeddings, LayerNorm, biases and the classifier head are unmanaged.
/// </summary>
public sealed class ManagedParameterRule
{
    /// <summary>A regular expression on the parameter's dotted name.</summary>
    public string NamePattern { get; init; } = @"encoder\.layer\.\d+\.(attention\.(self\.(query|key|value)|output\.dense)|intermediate\.dense|output\.dense)\.weight$";

    /// <summary>Weights with fewer elements than this stay unmanaged.</summary>
    public long MinimumSize { get; init; }

    /// <summary>Every Linear weight (for tests and models that are not RoBERTa).</summary>
    public static ManagedParameterRule AllLinearWeights { get; } = new() { NamePattern = @"weight$" };

    /// <summary>The parameters of <paramref name="module"/>, each marked managed or not.</summary>
    public IReadOnlyList<OptimizedParameter> Apply(nn.Module module)
    {
        var regex = new Regex(NamePattern, RegexOptions.CultureInvariant);
        var layers = ModuleTree.DepthFirst(module)
            .Where(m => m.Module is SideBranchLinear)
            .ToDictionary(m => (m.Name.Length == 0 ? "" : m.Name + ".") + "weight", m => (SideBranchLinear)m.Module);
        return module.named_parameters()
            .Select(p =>
            {
                var layer = layers.GetValueOrDefault(p.name);
                var managed = layer is not null && p.parameter.dim() == 2 && p.parameter.numel() >= MinimumSize && regex.IsMatch(p.name);
                return new OptimizedParameter(p.name, p.parameter, layer, managed);
            })
            .ToList();
    }
}
