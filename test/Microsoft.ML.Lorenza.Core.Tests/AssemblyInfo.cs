// Tests share libtorch's process-wide state (default generators, thread count), so they run one at a time.
[assembly: Microsoft.VisualStudio.TestTools.UnitTesting.DoNotParallelize]
