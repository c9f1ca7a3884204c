using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using ScanService.Protocols.OpenInference;
using ScanService.Protocols.Scan.V1;
using Images = ScanService.Api.Tests.Reliability.CorpusImages;

namespace ScanService.Api.Tests.Reliability;

/// <summary>Which configuration a case needs: the service's defaults, or a pixel limit lowered below a real large image.</summary>
public enum CorpusService
{
    Defaults,
    LowPixelLimit,
}

/// <summary>
/// One HTTP request of the corpus and the status the service documents for it (README "Errors", the Swagger
/// responses). <see cref="Reason"/> is the problem's <c>reason</c> for undecodable images. A 200 case is an input the
/// service must accept: a real image in an unusual but supported variant. <c>{model}</c> in the path is the served model's name.
/// </summary>
public sealed record HttpCase(string Name, string Category, string Path, Func<HttpContent?> Content, HttpStatusCode Status, string? Reason = null,
    CorpusService Service = CorpusService.Defaults, HttpMethod? Method = null)
{
    public HttpMethod Verb => Method ?? HttpMethod.Post;
    public override string ToString() => Name;
}

/// <summary>
/// One gRPC call of the corpus and the status it must end with: the call's own status for unary calls, or the
/// error answer of the bad item on a stream (whose other items must still be answered). The call is given a
/// channel to the service and the served model's name.
/// </summary>
public sealed record GrpcCase(string Name, string Category, Func<GrpcChannel, string, Task<Status>> Call, StatusCode Status)
{
    public override string ToString() => Name;
}

/// <summary>
/// Every bad (and every unusual but valid) input the reliability tests send, in one place, each with its documented
/// outcome. Made by the tests from the Fashion-MNIST test set; nothing is downloaded. The categories are listed in
/// docs/RELIABILITY.md.
/// </summary>
public static class BadInputCorpus
{
    /// <summary>Past the 16 MiB default of Grpc:MaxReceiveMessageBytes.</summary>
    private const int OversizedGrpcBytes = 17 * 1024 * 1024;
    /// <summary>Past the 4 MiB default of Limits:MaxRequestBodyBytes.</summary>
    private const int OversizedImageBytes = 4 * 1024 * 1024 + 1024;
    /// <summary>A real 24-megapixel image: under the default Model:MaxImagePixels (40 M), over the lowered one.</summary>
    public const int LargeWidth = 6000, LargeHeight = 4000;
    public const long LoweredPixelLimit = 10_000_000;

    private const string Classify = "/v1/classify";
    private const string Batch = "/v1/classify/batch";
    private const string InferPath = "/v2/models/{model}/infer";

    public static IReadOnlyList<HttpCase> Http { get; } = BuildHttp();
    public static IReadOnlyList<GrpcCase> Grpc { get; } = BuildGrpc();
    public static int Count => Http.Count + Grpc.Count;

    public static HttpCase HttpCase(string name) => Http.Single(c => c.Name == name);
    public static GrpcCase GrpcCase(string name) => Grpc.Single(c => c.Name == name);

    private static List<HttpCase> BuildHttp()
    {
        var cases = new List<HttpCase>();
        void Image(string name, string category, Func<byte[]> image, HttpStatusCode status, string? reason = null, string contentType = "image/png",
            CorpusService service = CorpusService.Defaults) =>
            cases.Add(new HttpCase(name, category, Classify, () => Raw(image(), contentType), status, reason, service));
        void Bad(string name, string category, Func<byte[]> image, string reason) => Image(name, category, image, HttpStatusCode.BadRequest, reason);
        void Good(string name, Func<byte[]> image, string contentType = "image/png") => Image(name, "valid variant", image, HttpStatusCode.OK, contentType: contentType);

        // Nothing, or not an image at all.
        Bad("empty body", "empty", () => [], "empty");
        Image("empty octet-stream body", "empty", () => [], HttpStatusCode.BadRequest, "empty", "application/octet-stream");
        Bad("text sent as an image", "not an image", () => "%PDF-1.7 this is no image"u8.ToArray(), "unsupportedFormat");
        Bad("zeros", "not an image", () => new byte[4096], "unsupportedFormat");
        Bad("one byte", "not an image", () => [0x89], "unsupportedFormat");

        // Truncated: every accepted format cut in half, and PNG cut inside its signature and its header.
        Bad("truncated PNG", "truncated", () => Images.Truncated(Images.GreyPng(0), 0.5), "corrupt");
        Bad("PNG cut inside its signature", "truncated", () => Images.GreyPng(0)[..5], "corrupt");
        Bad("PNG cut inside its header chunk", "truncated", () => Images.GreyPng(0)[..20], "corrupt");
        Bad("truncated JPEG", "truncated", () => Images.Truncated(Images.Jpeg(0), 0.5), "corrupt");
        Bad("truncated GIF", "truncated", () => Images.Truncated(Images.Gif(0), 0.5), "corrupt");
        Bad("truncated WebP", "truncated", () => Images.Truncated(Images.LosslessWebp(0), 0.5), "corrupt");
        Bad("truncated BMP", "truncated", () => Images.Truncated(Images.Bmp(0), 0.5), "corrupt");

        // Corrupt: the format's signature and structure, with data that cannot be decoded.
        Bad("PNG with scrambled pixel data", "corrupt", Images.PngWithScrambledPixelData, "corrupt");
        Bad("PNG signature followed by garbage", "corrupt", () => [.. PngChunks.Signature, .. "garbage, not a chunk"u8], "corrupt");
        Bad("JPEG with garbage segments", "corrupt", Images.JpegWithGarbageSegments, "corrupt");
        Bad("GIF with an invalid LZW code size", "corrupt", Images.GifWithInvalidLzwCodeSize, "corrupt");
        Bad("GIF screen descriptor followed by garbage", "corrupt", () => [.. "GIF89a"u8, 28, 0, 28, 0, 0, 0, 0, .. "garbage, not a block"u8], "corrupt");
        Bad("WebP with a scrambled bitstream", "corrupt", Images.WebpWithScrambledBitstream, "corrupt");
        Bad("RIFF WEBP header followed by garbage", "corrupt", () => "RIFF\x20\0\0\0WEBPgarbage, not a chunk header"u8.ToArray(), "corrupt");

        // Decompression bombs: tiny bodies whose headers declare far more pixels than Model:MaxImagePixels.
        Bad("PNG declaring 100000x100000", "decompression bomb", () => Images.PngDeclaring(100_000, 100_000), "tooManyPixels");
        Bad("JPEG declaring 60000x60000", "decompression bomb", () => Images.JpegDeclaring(60_000, 60_000), "tooManyPixels");
        Bad("GIF declaring 65535x65535", "decompression bomb", () => Images.GifDeclaring(65535, 65535), "tooManyPixels");
        Bad("WebP declaring 16384x16384", "decompression bomb", () => Images.WebpDeclaring(16384, 16384), "tooManyPixels");
        Bad("BMP declaring 60000x60000", "decompression bomb", () => Images.BmpDeclaring(60_000, 60_000), "tooManyPixels");
        // Past the decoders' own ceilings (libpng 1,000,000 per side, libjpeg-turbo 65500, Skia's BMP 65536) the
        // header is refused by the decoder itself, before any pixel buffer: a PNG's IHDR says it is too large, the
        // others are reported as corrupt.
        Bad("PNG declaring 2^31-1 square", "decompression bomb", () => Images.PngDeclaring(int.MaxValue, int.MaxValue), "tooManyPixels");
        Bad("JPEG declaring 65535x65535", "decompression bomb", () => Images.JpegDeclaring(65535, 65535), "corrupt");
        Bad("BMP declaring 100000x100000", "decompression bomb", () => Images.BmpDeclaring(100_000, 100_000), "corrupt");

        // Sizes: the smallest image, a real one of 24 megapixels, and that one again over a lowered limit.
        Image("1x1 PNG", "size", Images.OnePixelPng, HttpStatusCode.OK);
        Image("6000x4000 PNG under the pixel limit", "size", () => Images.LargePng(LargeWidth, LargeHeight), HttpStatusCode.OK);
        Image("6000x4000 PNG over a lowered pixel limit", "size", () => Images.LargePng(LargeWidth, LargeHeight), HttpStatusCode.BadRequest, "tooManyPixels",
            service: CorpusService.LowPixelLimit);

        // Variants the service must read: grey, colour, alpha, 16-bit, palette, lossy and lossless, every format.
        Good("grey PNG", () => Images.GreyPng(1));
        Good("RGB PNG", () => Images.RgbPng(1));
        Good("RGBA PNG", () => Images.RgbaPng(1));
        Good("16-bit grey PNG", () => Images.Grey16Png(1));
        Good("16-bit RGBA PNG", () => Images.Rgba16Png(1));
        Good("grey JPEG", () => Images.Jpeg(1), "image/jpeg");
        Good("colour JPEG", () => Images.ColourJpeg(1), "image/jpeg");
        Good("palette GIF", () => Images.Gif(1), "image/gif");
        Good("lossless WebP", () => Images.LosslessWebp(1), "image/webp");
        Good("lossy WebP", () => Images.LossyWebp(1), "image/webp");
        Good("24-bit BMP", () => Images.Bmp(1), "image/bmp");
        Good("PNG sent as octet-stream", () => Images.GreyPng(1), "application/octet-stream");

        // Content types the image endpoints do not take.
        foreach (var type in new[] { "text/plain", "application/json", "image/tiff", "application/x-www-form-urlencoded" })
            cases.Add(new HttpCase($"image sent as {type}", "content type", Classify, () => Raw(Images.GreyPng(0), type), HttpStatusCode.UnsupportedMediaType));
        cases.Add(new HttpCase("image without a content type", "content type", Classify, () => new ByteArrayContent(Images.GreyPng(0)), HttpStatusCode.UnsupportedMediaType));
        cases.Add(new HttpCase("raw image to the batch endpoint", "content type", Batch, () => Raw(Images.GreyPng(0), "image/png"), HttpStatusCode.UnsupportedMediaType));
        cases.Add(new HttpCase("inference request sent as text/plain", "content type", InferPath, () => new StringContent("{}", Encoding.UTF8, "text/plain"), HttpStatusCode.UnsupportedMediaType));

        // Multipart forms that lack what the endpoint reads.
        cases.Add(new HttpCase("multipart without the image field", "multipart", Classify, () => Form(("picture", "0.png", Images.GreyPng(0))), HttpStatusCode.BadRequest));
        cases.Add(new HttpCase("multipart without a boundary", "multipart", Classify, () => Raw("--x\r\n\r\n"u8.ToArray(), "multipart/form-data"), HttpStatusCode.BadRequest));
        cases.Add(new HttpCase("multipart whose body ends mid-part", "multipart", Classify, TruncatedMultipart, HttpStatusCode.BadRequest));
        cases.Add(new HttpCase("batch without file parts", "multipart", Batch, () => new MultipartFormDataContent { { new StringContent("x"), "note" } }, HttpStatusCode.BadRequest));
        cases.Add(new HttpCase("batch with one corrupt image", "multipart", Batch,
            () => Form(("images", "good.png", Images.GreyPng(0)), ("images", "bad.png", Images.Truncated(Images.GreyPng(1), 0.5))), HttpStatusCode.BadRequest, "corrupt"));

        // Options the model cannot honour, or that do not parse.
        foreach (var query in new[] { "?operatingPoint=warp-speed", "?maxExit=0", "?maxExit=99", "?maxExit=deep", "?fullDepth=true&ensemble=true", "?topK=0" })
            cases.Add(new HttpCase($"option {query}", "options", Classify + query, () => Raw(Images.GreyPng(0), "image/png"), HttpStatusCode.BadRequest));

        // Limits: request size and image count.
        cases.Add(new HttpCase("image body past the size limit", "size limit", Classify, () => Raw(PaddedPng(OversizedImageBytes), "image/png"), HttpStatusCode.RequestEntityTooLarge));
        cases.Add(new HttpCase("batch of 65 images", "size limit", Batch,
            () => Form(Enumerable.Range(0, 65).Select(i => ("images", $"{i}.png", Images.GreyPng(i % 32))).ToArray()), HttpStatusCode.RequestEntityTooLarge));

        // Open Inference Protocol: malformed JSON and tensors that do not fit the model.
        void V2(string name, string category, string json, HttpStatusCode status = HttpStatusCode.BadRequest) =>
            cases.Add(new HttpCase(name, category, InferPath, () => new StringContent(json, Encoding.UTF8, "application/json"), status));
        V2("v2 JSON cut off", "malformed JSON", "{\"inputs\": [");
        V2("v2 body that is not JSON", "malformed JSON", "not json");
        V2("v2 JSON null", "malformed JSON", "null");
        V2("v2 empty JSON object", "malformed JSON", "{}");
        V2("v2 inputs of the wrong JSON type", "malformed JSON", "{\"inputs\": {\"name\": \"input\"}}");
        V2("v2 input without datatype and shape", "malformed JSON", "{\"inputs\": [{\"name\": \"input\", \"data\": [0]}]}");
        V2("v2 tensor of shape [1,1,27,28]", "tensor", Tensor([1, 1, 27, 28], Values(784)));
        V2("v2 tensor of shape [784]", "tensor", Tensor([784], Values(784)));
        V2("v2 tensor of shape [0,1,28,28]", "tensor", Tensor([0, 1, 28, 28], "[]"));
        V2("v2 tensor of datatype INT64", "tensor", Tensor([1, 1, 28, 28], Values(784), "INT64"));
        V2("v2 tensor of datatype BYTES", "tensor", Tensor([1, 1, 28, 28], Values(784), "BYTES"));
        V2("v2 tensor with 783 elements", "tensor", Tensor([1, 1, 28, 28], Values(783)));
        V2("v2 tensor with 785 elements", "tensor", Tensor([1, 1, 28, 28], Values(785)));
        V2("v2 tensor with a NaN", "tensor", Tensor([1, 1, 28, 28], Values(784, "\"NaN\"")));
        V2("v2 tensor with +Infinity", "tensor", Tensor([1, 1, 28, 28], Values(784, "\"Infinity\"")));
        V2("v2 tensor with -Infinity", "tensor", Tensor([1, 1, 28, 28], Values(784, "\"-Infinity\"")));
        V2("v2 tensor with a value past FP32", "tensor", Tensor([1, 1, 28, 28], Values(784, "1e39")));
        V2("v2 tensor with a string element", "tensor", Tensor([1, 1, 28, 28], Values(784, "\"0.5\"")));
        V2("v2 image element that is not base64", "tensor",
            """{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["%%% not base64 %%%"]}]}""");
        V2("v2 image element that is a truncated PNG", "tensor",
            $$"""{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["{{Convert.ToBase64String(Images.Truncated(Images.GreyPng(0), 0.5))}}"]}]}""");
        V2("v2 image element declaring 100000x100000", "decompression bomb",
            $$"""{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["{{Convert.ToBase64String(Images.PngDeclaring(100_000, 100_000))}}"]}]}""");

        // Security: the admin routes are off unless configured.
        cases.Add(new HttpCase("admin reload on a service without admin", "security", "/admin/reload", () => null, HttpStatusCode.NotFound));
        return cases;
    }

    private static List<GrpcCase> BuildGrpc()
    {
        var png = Images.GreyPng(0);
        return
        [
            // scan.v1 Classify: fields missing or wrong, and a message past the receive limit.
            Unary("Classify without an image", "missing field", () => new ClassifyRequest { Id = "no-image" }, StatusCode.InvalidArgument),
            Unary("Classify of text", "not an image", () => Request("text", "not an image"u8.ToArray()), StatusCode.InvalidArgument),
            Unary("Classify of a truncated PNG", "truncated", () => Request("cut", Images.Truncated(png, 0.5)), StatusCode.InvalidArgument),
            Unary("Classify of a GIF declaring 65535x65535", "decompression bomb", () => Request("bomb", Images.GifDeclaring(65535, 65535)), StatusCode.InvalidArgument),
            Unary("Classify with an unknown operating point", "options", () => Request("point", png, new ClassifyOptions { OperatingPoint = "warp-speed" }), StatusCode.InvalidArgument),
            Unary("Classify with max_exit 0", "options", () => Request("exit", png, new ClassifyOptions { MaxExit = 0 }), StatusCode.InvalidArgument),
            Unary("Classify of 17 MiB", "size limit", () => Request("big", PaddedPng(OversizedGrpcBytes)), StatusCode.ResourceExhausted),

            // ClassifyStream: a bad item gets an error answer and the stream goes on; a message past the limit ends the call.
            StreamItem("stream item without an id", "missing field", () => Request("", png), StatusCode.InvalidArgument),
            StreamItem("stream item without an image", "missing field", () => new ClassifyRequest { Id = "no-image" }, StatusCode.InvalidArgument),
            StreamItem("stream item of a JPEG declaring 65535x65535", "decompression bomb", () => Request("bomb", Images.JpegDeclaring(65535, 65535)), StatusCode.InvalidArgument),
            StreamItem("stream item with max_exit 99", "options", () => Request("deep", png, new ClassifyOptions { MaxExit = 99 }), StatusCode.InvalidArgument),
            StreamItem("stream item of 17 MiB", "size limit", () => Request("big", PaddedPng(OversizedGrpcBytes)), StatusCode.ResourceExhausted),

            // Open Inference Protocol ModelInfer: fields missing, tensors that do not fit, and the receive limit.
            ModelInfer("ModelInfer without inputs", "missing field", r => r.Inputs.Clear(), StatusCode.InvalidArgument),
            ModelInfer("ModelInfer without a datatype", "missing field", r => r.Inputs[0].Datatype = "", StatusCode.InvalidArgument),
            ModelInfer("ModelInfer without a shape", "missing field", r => r.Inputs[0].Shape.Clear(), StatusCode.InvalidArgument),
            ModelInfer("ModelInfer without contents", "missing field", r => r.Inputs[0].Contents = null, StatusCode.InvalidArgument),
            ModelInfer("ModelInfer without a model name", "missing field", r => r.ModelName = "", StatusCode.NotFound),
            ModelInfer("ModelInfer of shape [1,1,28,27]", "tensor", r => r.Inputs[0].Shape[3] = 27, StatusCode.InvalidArgument),
            ModelInfer("ModelInfer with 783 values", "tensor", r => r.Inputs[0].Contents.Fp32Contents.RemoveAt(0), StatusCode.InvalidArgument),
            ModelInfer("ModelInfer with a NaN", "tensor", r => r.Inputs[0].Contents.Fp32Contents[5] = float.NaN, StatusCode.InvalidArgument),
            ModelInfer("ModelInfer with +Infinity", "tensor", r => r.Inputs[0].Contents.Fp32Contents[5] = float.PositiveInfinity, StatusCode.InvalidArgument),
            ModelInfer("ModelInfer with a raw -Infinity", "tensor", r =>
            {
                var raw = new byte[784 * sizeof(float)];
                BitConverter.TryWriteBytes(raw.AsSpan(12), float.NegativeInfinity);
                r.Inputs[0].Contents = null;
                r.RawInputContents.Add(ByteString.CopyFrom(raw));
            }, StatusCode.InvalidArgument),
            ModelInfer("ModelInfer of 17 MiB", "size limit", r =>
            {
                r.Inputs[0].Contents = null;
                r.RawInputContents.Add(ByteString.CopyFrom(new byte[OversizedGrpcBytes]));
            }, StatusCode.ResourceExhausted),
        ];
    }

    private static ClassifyRequest Request(string id, byte[] image, ClassifyOptions? options = null) =>
        new() { Id = id, Image = ByteString.CopyFrom(image), Options = options };

    /// <summary>Requests are made when the case runs, so that the large ones take no memory in between.</summary>
    private static GrpcCase Unary(string name, string category, Func<ClassifyRequest> request, StatusCode status) =>
        new(name, category, (channel, _) => StatusOf(new ClassificationService.ClassificationServiceClient(channel).ClassifyAsync(request()).ResponseAsync), status);

    /// <summary>
    /// The bad item between two good ones: the good ones must be answered (the stream goes on), and the bad one's
    /// error code is the case's status. When the call itself fails, as for a message past the limit, its status is.
    /// </summary>
    private static GrpcCase StreamItem(string name, string category, Func<ClassifyRequest> bad, StatusCode status) => new(name, category, async (channel, _) =>
    {
        using var call = new ClassificationService.ClassificationServiceClient(channel).ClassifyStream();
        var good = Images.GreyPng(0);
        try
        {
            await call.RequestStream.WriteAsync(Request("before", good));
            await call.RequestStream.WriteAsync(bad());
            await call.RequestStream.WriteAsync(Request("after", good));
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or IOException or InvalidOperationException)
        {
            // The server ended the call while the client still sent (a reset stream surfaces from the write as an
            // HttpProtocolException, an IOException, when the client has not yet read the call's end); the response
            // stream carries the status the call ended with.
        }
        try
        {
            var answers = new List<ClassifyStreamResponse>();
            await foreach (var answer in call.ResponseStream.ReadAllAsync()) answers.Add(answer);
            Assert.Equal(3, answers.Count);
            Assert.All(answers.Where(a => a.Id is "before" or "after"), a => Assert.Equal(ClassifyStreamResponse.OutcomeOneofCase.Result, a.OutcomeCase));
            var error = Assert.Single(answers, a => a.OutcomeCase == ClassifyStreamResponse.OutcomeOneofCase.Error).Error;
            return new Status((StatusCode)error.Code, error.Message);
        }
        catch (RpcException e)
        {
            return e.Status;
        }
    }, status);

    /// <summary>A valid FP32 ModelInfer request for one preprocessed-looking sample, then <paramref name="spoil"/>.</summary>
    private static GrpcCase ModelInfer(string name, string category, Action<ModelInferRequest> spoil, StatusCode status) => new(name, category, (channel, model) =>
    {
        var tensor = new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { 1, 1, 28, 28 }, Contents = new InferTensorContents() };
        tensor.Contents.Fp32Contents.AddRange(Enumerable.Repeat(0.25f, 784));
        var request = new ModelInferRequest { ModelName = model, Inputs = { tensor } };
        spoil(request);
        return StatusOf(new GRPCInferenceService.GRPCInferenceServiceClient(channel).ModelInferAsync(request).ResponseAsync);
    }, status);

    private static async Task<Status> StatusOf<T>(Task<T> call)
    {
        try
        {
            await call;
            return Status.DefaultSuccess;
        }
        catch (RpcException e)
        {
            return e.Status;
        }
    }

    private static byte[] PaddedPng(int size)
    {
        var padded = new byte[size];
        Images.GreyPng(0).CopyTo(padded, 0);
        return padded;
    }

    private static HttpContent TruncatedMultipart()
    {
        var body = "--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"0.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG"u8.ToArray();
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
        return content;
    }

    private static string Tensor(long[] shape, string data, string datatype = "FP32") =>
        $$"""{"inputs":[{"name":"input","datatype":"{{datatype}}","shape":[{{string.Join(",", shape)}}],"data":{{data}}}]}""";

    /// <summary>A JSON array of <paramref name="count"/> values, the first one <paramref name="first"/>.</summary>
    private static string Values(int count, string first = "0.25") =>
        "[" + string.Join(",", Enumerable.Repeat("0.25", count - 1).Prepend(first)) + "]";
}
