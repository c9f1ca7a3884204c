using ScanService.Datasets;

namespace ScanService.Soak;

/// <summary>What one soak run does: against which service, for how long, with how many clients and images.</summary>
public sealed record SoakSettings
{
    public const string DefaultImages = FashionMnist.DefaultTestImagesFile;

    /// <summary>The built ScanService.Api.dll to start as a child process; ignored when <see cref="Url"/> is given.</summary>
    public string? ServiceDll { get; init; }
    /// <summary>Model bundle the started service serves; its own default when null.</summary>
    public string? BundlePath { get; init; }
    /// <summary>Extra configuration for the started service, as key=value (e.g. Batching:QueueCapacity=64).</summary>
    public IReadOnlyDictionary<string, string> ServiceSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>REST address of a service already running; the soak then starts nothing.</summary>
    public Uri? Url { get; init; }
    /// <summary>gRPC (HTTP/2) address of that service.</summary>
    public Uri? GrpcUrl { get; init; }
    /// <summary>Process id of that service, for its working set; none sampled when null.</summary>
    public int? Pid { get; init; }

    /// <summary>Fashion-MNIST test images (IDX, gzip or plain).</summary>
    public string ImagesFile { get; init; } = DefaultImages;
    /// <summary>How many of the test images are sent, each with every option profile.</summary>
    public int Images { get; init; } = 128;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Concurrent closed-loop clients: half REST, a quarter gRPC unary, a quarter gRPC streams.</summary>
    public int Clients { get; init; } = 64;
    /// <summary>Items one gRPC stream client keeps unanswered at once.</summary>
    public int StreamWindow { get; init; } = 4;
    /// <summary>A request still unanswered after this long counts as an error.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public int Seed { get; init; } = 1;
    /// <summary>
    /// Size of the over-size item each stream client sends every few seconds (past the service's one-image limit,
    /// 4 MiB by default); it must get its own RESOURCE_EXHAUSTED answer while the stream goes on. 0 sends none.
    /// </summary>
    public int OversizeItemBytes { get; init; } = 4 * 1024 * 1024 + 1;
    /// <summary>Share of stream calls the client cancels on purpose after a few items (their unanswered items are not errors).</summary>
    public double CancelledCallShare { get; init; } = 0.25;
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(120);

    public void Validate()
    {
        if (Url is null && string.IsNullOrEmpty(ServiceDll)) throw new ArgumentException("give the service to start (--service) or the address of a running one (--url)");
        if (Url is not null && GrpcUrl is null) throw new ArgumentException("--url needs --grpc-url: the soak sends gRPC as well as REST");
        if (Clients < 4) throw new ArgumentException("--clients must be at least 4: half REST, a quarter gRPC unary, a quarter gRPC streams");
        if (Images < 1 || StreamWindow < 1 || Duration <= TimeSpan.Zero) throw new ArgumentException("--images, --stream-window and --seconds must be positive");
    }
}
