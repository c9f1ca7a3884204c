using System.Net.Http.Headers;
using System.Text.Json;

namespace ScanService.Benchmarks.Targets;

/// <summary>POST /v1/classify with one PNG per request, as an ordinary REST client would.</summary>
public sealed class HttpTarget(HttpClient client, ServingMode mode, IReadOnlyList<byte[]> pngs) : IClassifyTarget
{
    private static readonly MediaTypeHeaderValue Png = new("image/png");
    private readonly string _path = "/v1/classify?" + mode.Query;

    public async Task<Answer[]> ClassifyAsync(int first, int count, CancellationToken cancellationToken)
    {
        if (count != 1) throw new ArgumentException("one image per REST request", nameof(count));
        using var content = new ByteArrayContent(pngs[first]);
        content.Headers.ContentType = Png;
        using var response = await client.PostAsync(_path, content, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{(int)response.StatusCode} from {_path}: {System.Text.Encoding.UTF8.GetString(body)}", null, response.StatusCode);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        return [new Answer(root.GetProperty("classIndex").GetInt32(), root.GetProperty("exit").GetInt32())];
    }
}
