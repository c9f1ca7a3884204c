using Grpc.Net.Client;
using ScanService.Protocols.Scan.V1;

namespace ScanService.Api.Tests.Grpc;

/// <summary>Channels to the service under test, in memory or over real HTTP/2.</summary>
internal static class GrpcTestServer
{
    /// <summary>A channel on the in-memory test server's handler (HTTP/2 semantics, no socket).</summary>
    public static GrpcChannel InMemoryChannel(this ScanApiFactory factory) =>
        GrpcChannel.ForAddress(factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = factory.Server.CreateHandler() });

    /// <summary>
    /// Starts the app on Kestrel with gRPC on an HTTP/2-only loopback endpoint, as a deployment must serve it,
    /// and returns that endpoint's address; REST stays on an HTTP/1.1-and-2 endpoint of its own.
    /// </summary>
    public static Uri StartOnKestrel(this ScanApiFactory factory)
    {
        var port = LoopbackPort.Free();
        factory
            .With("Kestrel:Endpoints:Http:Url", "http://127.0.0.1:0")
            .With("Kestrel:Endpoints:Grpc:Url", $"http://127.0.0.1:{port}")
            .With("Kestrel:Endpoints:Grpc:Protocols", "Http2")
            .UseKestrel();
        factory.StartServer();
        return new Uri($"http://127.0.0.1:{port}");
    }

    public static T Service<T>(this ScanApiFactory factory) where T : notnull => factory.Services.GetRequiredService<T>();

    /// <summary>The engine's own answer for one encoded image: what every front end must report.</summary>
    public static Prediction EngineAnswer(this LoadedModel model, byte[] png, InferenceOptions options)
    {
        var pixels = new float[model.Engine.SampleSize];
        model.Preprocessor.Preprocess(png, pixels);
        return model.Engine.Run(pixels, 1, model.Engine.Resolve(options))[0];
    }

    public static ClassifyRequest Request(string id, byte[] image, ClassifyOptions? options = null) =>
        new() { Id = id, Image = Google.Protobuf.ByteString.CopyFrom(image), Options = options };
}
