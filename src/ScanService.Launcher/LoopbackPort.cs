using System.Net;
using System.Net.Sockets;

namespace ScanService.Launcher;

/// <summary>Ports for servers started on the loopback interface by the tools and the tests.</summary>
public static class LoopbackPort
{
    /// <summary>A TCP port free on the loopback interface at the time of asking.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Two different free ports: REST's and gRPC's endpoints.</summary>
    public static (int RestPort, int GrpcPort) FreePair()
    {
        int rest = Free(), grpc = Free();
        while (grpc == rest) grpc = Free();
        return (rest, grpc);
    }
}
