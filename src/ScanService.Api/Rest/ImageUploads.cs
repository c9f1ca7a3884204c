using System.Net.Http.Headers;
using ScanService.Api.Classifier;
using ScanService.Api.Serving;

namespace ScanService.Api.Rest;

/// <summary>
/// Reads images from a request: the raw body of an image content type, or file parts of a multipart form.
/// The format is recognised from the data itself; the declared content type only selects how the body is read.
/// </summary>
internal static class ImageUploads
{
    public const string SingleField = "image";
    public const string Multipart = "multipart/form-data";

    public static readonly IReadOnlyList<string> RawContentTypes =
        ["image/png", "image/jpeg", "image/bmp", "image/webp", "image/gif", "application/octet-stream"];

    /// <summary>One image: the raw body, or the form's file field <c>image</c>.</summary>
    public static async Task<ReadOnlyMemory<byte>> ReadSingleAsync(HttpRequest request, ServingLimits limits, CancellationToken cancellationToken)
    {
        var mediaType = MediaType(request);
        if (mediaType is not null && RawContentTypes.Contains(mediaType))
        {
            var body = await ReadBodyAsync(request, cancellationToken);
            limits.CheckImageBytes(body.Length);
            return body;
        }
        if (mediaType == Multipart)
        {
            var form = await ReadFormAsync(request, cancellationToken);
            var file = form.Files.GetFile(SingleField)
                ?? throw InvalidRequestException.BadRequest($"The multipart request has no file field named '{SingleField}'.");
            // Surplus parts would be silently dropped: say so instead, and point at the batch route.
            if (form.Files.Count > 1)
                throw InvalidRequestException.BadRequest(
                    $"The multipart request has {form.Files.Count} file parts; this route classifies one image (field '{SingleField}'). Send several images to POST /v1/classify/batch.");
            limits.CheckImageBytes(file.Length);
            return await ReadFileAsync(file, cancellationToken);
        }
        throw InvalidRequestException.UnsupportedMediaType(
            $"Send the image as the body with content type {string.Join(", ", RawContentTypes)}, or as {Multipart} with a file field '{SingleField}'; the request says {Describe(request)}.");
    }

    /// <summary>Every file part of a multipart form, in order, named by field and file name for error messages.</summary>
    public static async Task<List<EncodedImage>> ReadBatchAsync(HttpRequest request, ServingLimits limits, CancellationToken cancellationToken)
    {
        if (MediaType(request) != Multipart)
            throw InvalidRequestException.UnsupportedMediaType($"A batch is sent as {Multipart} with one file part per image; the request says {Describe(request)}.");
        var form = await ReadFormAsync(request, cancellationToken);
        if (form.Files.Count == 0)
            throw InvalidRequestException.BadRequest("The multipart request has no file parts; send one file part per image (for example in a field named 'images').");
        limits.CheckImageCount(form.Files.Count);
        var images = new List<EncodedImage>(form.Files.Count);
        for (var i = 0; i < form.Files.Count; i++)
        {
            var file = form.Files[i];
            var name = $"field '{file.Name}', file '{file.FileName}'";
            limits.CheckImageBytes(file.Length, i);
            images.Add(new EncodedImage(await ReadFileAsync(file, cancellationToken), name));
        }
        return images;
    }

    private static async Task<IFormCollection> ReadFormAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException e)
        {
            // The form reader's messages describe the body (a missing boundary, a limit of the form reader), nothing of the server.
            throw InvalidRequestException.BadRequest($"The multipart body cannot be read: {e.Message}");
        }
        catch (IOException e) when (e is not BadHttpRequestException && !request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            // A body that ends before its closing boundary is the client's mistake, not a server fault; Kestrel's own
            // refusals (413 and the like) are BadHttpRequestExceptions and keep their status.
            throw InvalidRequestException.BadRequest("The multipart body cannot be read: it ends before its closing boundary.");
        }
    }

    /// <summary>The whole body in memory; the endpoint's body limit is enforced while it is read.</summary>
    internal static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        // The declared length only sizes the first buffer, and not beyond 1 MiB: the body limit is enforced while reading.
        using var buffer = new MemoryStream((int)Math.Min(request.ContentLength ?? 0, 1 << 20));
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static async Task<ReadOnlyMemory<byte>> ReadFileAsync(IFormFile file, CancellationToken cancellationToken)
    {
        var bytes = new byte[file.Length];
        await using var stream = file.OpenReadStream();
        await stream.ReadExactlyAsync(bytes, cancellationToken);
        return bytes;
    }

    private static string? MediaType(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var media) ? media.MediaType?.ToLowerInvariant() : null;

    private static string Describe(HttpRequest request) =>
        string.IsNullOrEmpty(request.ContentType) ? "no content type" : $"'{request.ContentType}'";
}
