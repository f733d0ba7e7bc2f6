namespace Microsoft.ML.Lorenza.Runtime;

/// <summary>Tensor shapes as error messages show them, e.g. "[8, 128]".</summary>
public static class Shapes
{
    public static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
