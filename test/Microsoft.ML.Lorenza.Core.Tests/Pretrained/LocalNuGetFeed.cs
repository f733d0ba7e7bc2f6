using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Microsoft.ML.Lorenza.Tests.Pretrained;

/// <summary>
/// A NuGet v3 source on 127.0.0.1 serving one package: the service index (naming the flat container) and
/// flat/&lt;id&gt;/&lt;version&gt;/&lt;id&gt;.&lt;version&gt;.nupkg, with the bytes it is given. Everything else is 404.
/// </summary>
internal sealed class LocalNuGetFeed : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly Task loop;

    public LocalNuGetFeed(string packageId, string version, byte[] package)
    {
        var port = FreePort();
        var root = $"http://127.0.0.1:{port}/";
        listener.Prefixes.Add(root);
        listener.Start();
        IndexUrl = root + "v3/index.json";
        var index = Encoding.UTF8.GetBytes($$"""{"version":"3.0.0","resources":[{"@id":"{{root}}flat/","@type":"PackageBaseAddress/3.0.0"}]}""");
        var (id, v) = (packageId.ToLowerInvariant(), version.ToLowerInvariant());
        var files = new Dictionary<string, byte[]> { ["/v3/index.json"] = index, [$"/flat/{id}/{v}/{id}.{v}.nupkg"] = package };
        loop = Task.Run(() => Serve(files));
    }

    /// <summary>The service index URL, what LORENZA_NUGET_SOURCE would be set to.</summary>
    public string IndexUrl { get; }

    /// <summary>The paths asked for, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    private async Task Serve(Dictionary<string, byte[]> files)
    {
        while (true)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            var path = context.Request.Url!.AbsolutePath;
            Requests.Enqueue(path);
            try
            {
                if (files.TryGetValue(path, out var body))
                {
                    context.Response.ContentLength64 = body.Length;
                    await context.Response.OutputStream.WriteAsync(body);
                }
                else context.Response.StatusCode = 404;
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException) { } // the client went away
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        listener.Close();
        loop.Wait(TimeSpan.FromSeconds(10));
    }
}
