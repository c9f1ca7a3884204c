namespace ScanService.Api.Tests.Reliability;

/// <summary>The service on real Kestrel: REST on an HTTP/1.1 loopback port, gRPC on an HTTP/2-only one.</summary>
public class LoopbackScanApiFactory : ScanApiFactory
{
    public LoopbackScanApiFactory()
    {
        var (rest, grpc) = LoopbackPort.FreePair();
        Rest = new Uri($"http://127.0.0.1:{rest}");
        Grpc = new Uri($"http://127.0.0.1:{grpc}");
        With("Kestrel:Endpoints:Http:Url", Rest.ToString());
        With("Kestrel:Endpoints:Http:Protocols", "Http1");
        With("Kestrel:Endpoints:Grpc:Url", Grpc.ToString());
        With("Kestrel:Endpoints:Grpc:Protocols", "Http2");
        UseKestrel();
    }

    public Uri Rest { get; }
    public Uri Grpc { get; }
}
