namespace Microsoft.ML.Lorenza.Torch;

/// <summary>
/// Base class of neural-network modules, shaped like torch.nn.Module: named parameters and
/// sub-modules (dotted names, e.g. "encoder.layer.0.attention.self.query.weight"), train/eval mode,
/// device and dtype moves that keep parameter identity, and state dicts. A module owns its
/// parameters: they are outside every dispose scope and freed by <see cref="Dispose"/>.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<(string Name, Tensor Tensor)> parameters = new();
    private readonly List<(string Name, Module Module)> children = new();
    private bool disposed;

    public bool training { get; private set; } = true;

    /// <summary>Registers a parameter: it requires grad unless <paramref name="requiresGrad"/> is false.</summary>
    protected Tensor register_parameter(string name, Tensor tensor, bool requiresGrad = true)
    {
        if (parameters.Exists(p => p.Name == name)) throw new ArgumentException($"Parameter '{name}' is already registered.", nameof(name));
        tensor.DetachFromDisposeScope();
        if (requiresGrad && !tensor.requires_grad) tensor.requires_grad = true;
        parameters.Add((name, tensor));
        return tensor;
    }

    protected T register_module<T>(string name, T module) where T : Module
    {
        if (children.Exists(c => c.Name == name)) throw new ArgumentException($"Module '{name}' is already registered.", nameof(name));
        children.Add((name, module));
        return module;
    }

    /// <summary>Every parameter with its dotted name, in registration order (depth first).</summary>
    public IEnumerable<(string name, Tensor parameter)> named_parameters(bool recurse = true)
    {
        foreach (var (name, tensor) in parameters) yield return (name, tensor);
        if (!recurse) yield break;
        foreach (var (prefix, child) in children)
            foreach (var (name, tensor) in child.named_parameters())
                yield return ($"{prefix}.{name}", tensor);
    }

    public IEnumerable<Tensor> parameters_() => named_parameters().Select(p => p.parameter);

    public IEnumerable<(string name, Module module)> named_modules()
    {
        yield return ("", this);
        foreach (var (prefix, child) in children)
            foreach (var (name, module) in child.named_modules())
                yield return (name.Length == 0 ? prefix : $"{prefix}.{name}", module);
    }

    /// <summary>Switches dropout and similar layers between training and inference behaviour.</summary>
    public Module train(bool on = true)
    {
        training = on;
        foreach (var (_, child) in children) child.train(on);
        return this;
    }

    public Module eval() => train(false);

    /// <summary>Moves every parameter to <paramref name="device"/> in place (references stay valid).</summary>
    public Module to(Device device)
    {
        foreach (var (_, p) in named_parameters())
        {
            if (p.device == device || (device.IsCuda && p.device.IsCuda && device.Index < 0)) continue;
            using var moved = p.detach().to(device);
            p.set_data(moved);
        }
        return this;
    }

    /// <summary>Converts every floating-point parameter to <paramref name="type"/> in place.</summary>
    public Module to(ScalarType type)
    {
        foreach (var (_, p) in named_parameters())
        {
            if (!p.dtype.IsFloatingPoint() || p.dtype == type) continue;
            using var converted = p.detach().to(type);
            p.set_data(converted);
        }
        return this;
    }

    /// <summary>Clears every parameter's gradient (sets it to none, as PyTorch's zero_grad(set_to_none=True)).</summary>
    public void zero_grad()
    {
        foreach (var (_, p) in named_parameters()) p.grad = null;
    }

    /// <summary>Name → parameter, the tensors themselves (not copies).</summary>
    public Dictionary<string, Tensor> state_dict() => named_parameters().ToDictionary(p => p.name, p => p.parameter);

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var (_, p) in parameters) p.Dispose();
        foreach (var (_, child) in children) child.Dispose();
        GC.SuppressFinalize(this);
    }
}
