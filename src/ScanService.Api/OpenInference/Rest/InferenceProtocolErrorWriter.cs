using Microsoft.AspNetCore.WebUtilities;

namespace ScanService.Api.OpenInference.Rest;

/// <summary>
/// Writes every error under /v2 (mapped exceptions, unknown routes, wrong methods) in the protocol's shape,
/// <c>{"error": "..."}</c>, in place of RFC 7807 problem details. Registered ahead of the default writer.
/// </summary>
internal sealed class InferenceProtocolErrorWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => InferenceProtocolApi.Serves(context.HttpContext.Request.Path);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        var message = problem.Detail ?? problem.Title ?? ReasonPhrases.GetReasonPhrase(status);
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(new InferenceError(message)));
    }
}
