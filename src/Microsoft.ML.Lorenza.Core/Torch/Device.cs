namespace Microsoft.ML.Lorenza.Torch;

public enum DeviceType
{
    Cpu = 0,
    Cuda = 1,
}

/// <summary>Where a tensor lives: "cpu", "cuda" (the current CUDA device) or "cuda:N".</summary>
public readonly record struct Device(DeviceType Type, int Index = -1)
{
    public static readonly Device Cpu = new(DeviceType.Cpu);
    public static readonly Device Cuda = new(DeviceType.Cuda);

    public bool IsCuda => Type == DeviceType.Cuda;

    /// <summary>Parses "cpu", "cuda", "cuda:1". Throws <see cref="ArgumentException"/> on anything else.</summary>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "cuda" || t == "gpu") return Cuda;
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), out var index) && index >= 0)
            return new Device(DeviceType.Cuda, index);
        throw new ArgumentException($"Unknown device '{text}'. Use 'cpu', 'cuda' or 'cuda:N' (N = 0, 1, ...).", nameof(text));
    }

    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : Index < 0 ? "cuda" : $"cuda:{Index}";
}
