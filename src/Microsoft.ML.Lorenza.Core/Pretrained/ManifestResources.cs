using System.Buffers.Binary;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>
/// Reads embedded manifest resources out of a .NET assembly image without loading it: the metadata's
/// ManifestResource table gives each resource's offset into the resources directory of the CLI header, where
/// the resource is stored as a 4-byte little-endian length followed by its bytes. Nothing is executed.
/// </summary>
internal static class ManifestResources
{
    /// <summary>
    /// The named resources of <paramref name="image"/> as slices of it (no copies). Throws
    /// <see cref="InvalidDataException"/> naming <paramref name="source"/> when the image is not a .NET assembly,
    /// a resource is missing, or one runs past the resources directory.
    /// </summary>
    public static Dictionary<string, ReadOnlyMemory<byte>> Read(byte[] image, string source, params string[] names)
    {
        try
        {
            using var pe = new PEReader(ImmutableCollectionsMarshal.AsImmutableArray(image));
            if (!pe.HasMetadata || pe.PEHeaders.CorHeader is not { } cor)
                throw new InvalidDataException($"{source} is not a .NET assembly (no CLI header).");
            var directory = cor.ResourcesDirectory;
            if (directory.Size == 0 || !pe.PEHeaders.TryGetDirectoryOffset(directory, out var start))
                throw new InvalidDataException($"{source} has no managed resources directory.");
            var end = (long)start + directory.Size;
            if (end > image.Length) throw new InvalidDataException($"{source}: the resources directory runs past the end of the file.");

            var metadata = pe.GetMetadataReader();
            var found = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
            foreach (var handle in metadata.ManifestResources)
            {
                var resource = metadata.GetManifestResource(handle);
                var name = metadata.GetString(resource.Name);
                if (!names.Contains(name, StringComparer.Ordinal)) continue;
                if (!resource.Implementation.IsNil)
                    throw new InvalidDataException($"{source}: resource {name} is stored in another file, not embedded.");
                var at = start + resource.Offset;
                if (resource.Offset < 0 || at + 4 > end) throw new InvalidDataException($"{source}: resource {name} lies outside the resources directory.");
                var length = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan((int)at, 4));
                if (at + 4 + length > end) throw new InvalidDataException($"{source}: resource {name} ({length} bytes) runs past the resources directory.");
                found[name] = image.AsMemory((int)at + 4, (int)length);
            }
            var missing = names.Where(n => !found.ContainsKey(n)).ToList();
            if (missing.Count > 0)
                throw new InvalidDataException($"{source} has no embedded resource {string.Join(", ", missing)}.");
            return found;
        }
        catch (BadImageFormatException e)
        {
            throw new InvalidDataException($"{source} is not a readable .NET assembly ({e.Message}).", e);
        }
    }
}
