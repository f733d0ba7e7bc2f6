namespace Microsoft.ML.Lorenza.Benchmarks;

/// <summary>One benchmark, run by name. It prints a table and saves its results through the context.</summary>
public interface IBenchmark
{
    string Name { get; }
    string Description { get; }
    void Run(BenchmarkContext context);
}
