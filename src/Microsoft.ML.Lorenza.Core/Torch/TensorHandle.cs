using System.Runtime.InteropServices;

namespace Microsoft.ML.Lorenza.Torch;

/// <summary>Owns one native at::Tensor; the finalizer frees it if a tensor was never disposed.</summary>
internal sealed class TensorHandle : SafeHandle
{
    public TensorHandle(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        Native.lt_tensor_free(handle);
        return true;
    }
}
