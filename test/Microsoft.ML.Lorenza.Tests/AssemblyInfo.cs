// Tests share one trained pipeline and libtorch's threads; running them one at a time keeps timings and memory sane.
[assembly: Microsoft.VisualStudio.TestTools.UnitTesting.DoNotParallelize]
