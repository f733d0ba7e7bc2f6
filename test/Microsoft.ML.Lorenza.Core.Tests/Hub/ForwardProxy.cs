using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Microsoft.ML.Lorenza.Tests.Hub;

/// <summary>
/// A plain HTTP forward proxy on 127.0.0.1 (what HTTP_PROXY / HTTPS_PROXY point to): it takes absolute-form requests
/// (GET http://host:port/path), records their request lines, and forwards each over its own connection to the origin
/// (closing both after the answer). CONNECT (HTTPS) is tunnelled. Enough to see that a client honours the proxy variables.
/// </summary>
internal sealed class ForwardProxy : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    public ForwardProxy()
    {
        listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        loop = Task.Run(AcceptLoop);
    }

    public string Url { get; }

    /// <summary>The request lines received ("HEAD http://127.0.0.1:1234/org/name/resolve/main/config.json HTTP/1.1").</summary>
    public ConcurrentQueue<string> RequestLines { get; } = new();

    private async Task AcceptLoop()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            _ = Task.Run(() => Forward(client));
        }
    }

    private async Task Forward(TcpClient client)
    {
        using (client)
        {
            try
            {
                var downstream = client.GetStream();
                var head = await ReadHead(downstream);
                if (head is null) return;
                var lines = head.Split("\r\n");
                RequestLines.Enqueue(lines[0]);
                var parts = lines[0].Split(' ');
                if (parts[0] == "CONNECT")
                {
                    var hostPort = parts[1].Split(':');
                    using var tunnel = new TcpClient();
                    await tunnel.ConnectAsync(hostPort[0], int.Parse(hostPort[1]));
                    await downstream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 Connection established\r\n\r\n"));
                    var upstreamStream = tunnel.GetStream();
                    await Task.WhenAny(downstream.CopyToAsync(upstreamStream), upstreamStream.CopyToAsync(downstream));
                    return;
                }
                var target = new Uri(parts[1]);
                using var origin = new TcpClient();
                await origin.ConnectAsync(target.Host == "localhost" ? "127.0.0.1" : target.Host, target.Port);
                var upstream = origin.GetStream();
                var forwarded = new StringBuilder($"{parts[0]} {target.PathAndQuery} {parts[2]}\r\n");
                foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
                    if (!line.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase) && !line.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase))
                        forwarded.Append(line).Append("\r\n");
                forwarded.Append("Connection: close\r\n\r\n");
                await upstream.WriteAsync(Encoding.ASCII.GetBytes(forwarded.ToString()));
                await upstream.CopyToAsync(downstream); // the answer, until the origin closes
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or FormatException or UriFormatException) { }
        }
    }

    private static async Task<string?> ReadHead(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (await stream.ReadAsync(one) == 1)
        {
            bytes.Add(one[0]);
            if (bytes.Count >= 4 && bytes[^1] == '\n' && bytes[^2] == '\r' && bytes[^3] == '\n' && bytes[^4] == '\r')
                return Encoding.ASCII.GetString(bytes.ToArray(), 0, bytes.Count - 4);
            if (bytes.Count > 65536) return null;
        }
        return null;
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        loop.Wait(TimeSpan.FromSeconds(10));
    }
}
