using System.Net.Http.Headers;
using System.Text.Json.Serialization;

namespace ScanService.Api.Tests.Rest;

/// <summary>Requests and checks shared by the REST tests.</summary>
internal static class RestCalls
{
    /// <summary>The service's JSON: web defaults, enums as camelCase strings.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static LoadedModel Model(this ScanApiFactory factory) =>
        factory.Services.GetRequiredService<ModelSlot>().Current ?? throw new InvalidOperationException("the test app has no model");

    /// <summary>The network input the service makes of <paramref name="encoded"/>.</summary>
    public static float[] Preprocess(this LoadedModel model, byte[] encoded)
    {
        var input = new float[model.Engine.SampleSize];
        model.Preprocessor.Preprocess(encoded, input);
        return input;
    }

    public static ByteArrayContent Raw(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    public static MultipartFormDataContent Form(params (string Field, string FileName, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (field, fileName, bytes) in files)
            form.Add(Raw(bytes, "image/png"), field, fileName);
        return form;
    }

    public static async Task<ClassifyResponse> ClassifyAsync(this HttpClient client, byte[] png, string query = "")
    {
        using var response = await client.PostAsync("/v1/classify" + query, Raw(png, "image/png"));
        return await OkJsonAsync<ClassifyResponse>(response);
    }

    public static async Task<T> OkJsonAsync<T>(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<T>(body, Json) ?? throw new InvalidOperationException("null body");
    }

    /// <summary>Asserts an RFC 7807 problem with this status and returns it.</summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var problem = await RefusalAsync(response, status, "application/problem+json");
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        return problem;
    }

    /// <summary>Asserts the Open Inference Protocol's error, <c>{"error": "..."}</c>, with this status and returns its message.</summary>
    public static async Task<string> AssertProtocolErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var error = await RefusalAsync(response, status, "application/json");
        var property = Assert.Single(error.EnumerateObject());
        Assert.Equal("error", property.Name);
        var message = property.Value.GetString();
        Assert.False(string.IsNullOrWhiteSpace(message));
        return message!;
    }

    /// <summary>The JSON body of a refusal, once its status, its media type and its silence about internals are checked.</summary>
    private static async Task<JsonElement> RefusalAsync(HttpResponseMessage response, HttpStatusCode status, string mediaType)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        AssertNothingInternal(body);
        return JsonSerializer.Deserialize<JsonElement>(body);
    }

    /// <summary>No stack trace, source location or file path of the server in a response.</summary>
    public static void AssertNothingInternal(string body)
    {
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain(".cs:line", body, StringComparison.Ordinal);
        Assert.DoesNotContain(RepositoryPaths.Root, body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
    }

    public static JsonContent InferBody(object request) => JsonContent.Create(request);

    /// <summary>An FP32 request for one or more preprocessed samples, flat data.</summary>
    public static object Fp32Request(float[] data, int count, object? parameters = null, string? id = null) => new
    {
        id,
        parameters,
        inputs = new[] { new { name = "input", shape = new long[] { count, 1, 28, 28 }, datatype = "FP32", data } },
    };
}
