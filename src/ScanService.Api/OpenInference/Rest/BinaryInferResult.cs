using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace ScanService.Api.OpenInference.Rest;

/// <summary>
/// An answer under the binary data extension: the JSON part, then the outputs asked for as binary data in the order
/// of the outputs; <c>Inference-Header-Content-Length</c> says where the JSON ends.
/// </summary>
public sealed class BinaryInferResult(InferResponse response, IReadOnlyList<byte[]> binary) : IResult
{
    public InferResponse Response => response;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var json = httpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var header = JsonSerializer.SerializeToUtf8Bytes(response, json);
        var http = httpContext.Response;
        http.StatusCode = StatusCodes.Status200OK;
        http.ContentType = "application/octet-stream";
        http.Headers[BinaryTensorData.HeaderLengthHeader] = header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        http.ContentLength = header.Length + binary.Sum(b => (long)b.Length);
        await http.Body.WriteAsync(header, httpContext.RequestAborted);
        foreach (var part in binary) await http.Body.WriteAsync(part, httpContext.RequestAborted);
    }
}
