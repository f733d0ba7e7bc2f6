using System.Net;
using System.Net.Sockets;

namespace Microsoft.ML.Lorenza.Tests.BadInputs;

/// <summary>
/// A server on 127.0.0.1 that answers every request with the bytes of one file, as they are (status line, headers and
/// body), then closes the connection: the hub client's response handling reads whatever the file says, so a damaged
/// or hostile answer is a damaged file like any other. The file is read afresh for each request.
/// </summary>
internal sealed class RawHttpAnswer : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly string answerFile;
    private readonly Thread loop;

    public RawHttpAnswer(string answerFile)
    {
        this.answerFile = answerFile;
        listener.Start();
        loop = new Thread(Serve) { IsBackground = true, Name = "raw HTTP answer" };
        loop.Start();
    }

    public Uri Endpoint => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");

    private void Serve()
    {
        while (true)
        {
            Socket client;
            try { client = listener.AcceptSocket(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException) { return; } // stopped
            // A thread of its own: the client blocks thread-pool threads in synchronous sends, which would starve a pool work item.
            new Thread(() => Answer(client)) { IsBackground = true }.Start();
        }
    }

    private void Answer(Socket client)
    {
        using (client)
        {
            try
            {
                client.ReceiveTimeout = 5000;
                ReadRequestHead(client);
                client.Send(File.ReadAllBytes(answerFile));
                client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                // the client gave up first: nothing to answer
            }
        }
    }

    /// <summary>Reads up to the blank line that ends the request's head (requests from this client have no body).</summary>
    private static void ReadRequestHead(Socket client)
    {
        var buffer = new byte[1];
        var tail = 0u;
        while (tail != 0x0D0A0D0A && client.Receive(buffer) == 1) tail = (tail << 8) | buffer[0];
    }

    public void Dispose() => listener.Stop();
}
