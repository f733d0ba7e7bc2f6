using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>Walks a module tree the way PyTorch's named_modules does: depth first, parents before children, the root as "".</summary>
public static class ModuleTree
{
    public static IEnumerable<(string Name, nn.Module Module)> DepthFirst(nn.Module root, string prefix = "")
    {
        yield return (prefix, root);
        foreach (var (name, child) in root.named_children())
            foreach (var entry in DepthFirst(child, prefix.Length == 0 ? name : $"{prefix}.{name}"))
                yield return entry;
    }
}
