using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using ScanService.Api.Classifier;
using ScanService.Api.Serving;
using ScanService.Core.Batching;
using ScanService.Core.Inference;
using ScanService.Core.Preprocessing;

namespace ScanService.Api.Rest;

/// <summary>
/// The one place where exceptions become HTTP errors. Each maps to a status and a message meant for the client;
/// <see cref="IProblemDetailsService"/> then writes RFC 7807 problem details, or the Open Inference Protocol's
/// <c>{"error": ...}</c> on /v2 (see <see cref="OpenInference.Rest.InferenceProtocolErrorWriter"/>). Nothing
/// unexpected reaches the client beyond a generic 500: no exception text, stack trace or path.
/// </summary>
internal sealed partial class ScanExceptionHandler(IProblemDetailsService problemDetails, ILogger<ScanExceptionHandler> logger) : IExceptionHandler
{
    internal const string RetryAfterSeconds = "1";

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        // A client that went away needs no answer.
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested) return true;

        var problem = Map(exception);
        if (problem.Status == StatusCodes.Status500InternalServerError)
            logger.LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);

        context.Response.StatusCode = problem.Status!.Value;
        // The queue drains in milliseconds; a second is long enough for a retry not to meet the same crowd.
        if (problem.Status == StatusCodes.Status429TooManyRequests) context.Response.Headers.RetryAfter = RetryAfterSeconds;
        var written = await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
        // A client whose Accept header excludes JSON still learns what went wrong.
        if (!written)
            await context.Response.WriteAsJsonAsync(problem, options: null, contentType: "application/problem+json", cancellationToken);
        return true;
    }

    internal static ProblemDetails Map(Exception exception) => exception switch
    {
        ImageInBatchException e => Problem(StatusCodes.Status400BadRequest, DecodeTitle(e.Error, "An image"), e.Message,
            ("reason", Reason(e.Error)), ("index", e.Index), ("part", e.Name)),
        ImageDecodeException e => Problem(StatusCodes.Status400BadRequest, DecodeTitle(e.Error, "The image"), e.Message,
            ("reason", Reason(e.Error))),
        InvalidInferenceOptionsException e => Problem(StatusCodes.Status400BadRequest, "Invalid inference options", e.Message),
        InvalidRequestException e => Problem(e.StatusCode, e.Title, e.Message),
        RequestTooLargeException e => Problem(StatusCodes.Status413PayloadTooLarge, "The request is too large", e.Message),
        BadHttpRequestException e when BindingFailure(e.Message) is { } detail => Problem(e.StatusCode, "Invalid inference options", detail),
        // Kestrel's own limits (413), unreadable bodies.
        BadHttpRequestException e => Problem(e.StatusCode, ReasonPhrase(e.StatusCode), e.Message),
        QueueFullException e => Problem(StatusCodes.Status429TooManyRequests, "The service is busy", e.Message),
        ModelNotReadyException e => Problem(StatusCodes.Status503ServiceUnavailable, "The model is not ready", $"The service is up but {e.Message}; try again later."),
        _ => Problem(StatusCodes.Status500InternalServerError, "An unexpected error occurred", "The request could not be completed."),
    };

    private static string DecodeTitle(ImageDecodeError error, string subject) => error switch
    {
        ImageDecodeError.TooManyPixels => $"{subject} is too large to decode",
        ImageDecodeError.UnsupportedFormat => $"{subject} is not in a supported format",
        _ => $"{subject} cannot be decoded",
    };

    /// <summary>
    /// Minimal APIs word a query value that does not parse with the .NET type ('Failed to bind parameter
    /// "Nullable&lt;int&gt; maxExit" from "deep".'); the client needs the parameter, what it must be and what it sent.
    /// </summary>
    internal static string? BindingFailure(string message)
    {
        var match = BindingFailurePattern().Match(message);
        if (!match.Success) return null;
        var type = match.Groups["type"].Value;
        var expected = type.Contains("int", StringComparison.OrdinalIgnoreCase) ? "an integer"
            : type.Contains("bool", StringComparison.OrdinalIgnoreCase) ? "true or false"
            : "a valid value";
        return $"Query parameter '{match.Groups["name"].Value}' must be {expected}; got '{match.Groups["value"].Value}'.";
    }

    [GeneratedRegex("""^Failed to bind parameter "(?<type>.+) (?<name>[A-Za-z0-9_]+)" from "(?<value>.*)"\.?$""")]
    private static partial Regex BindingFailurePattern();

    // Types for the statuses ASP.NET Core's client-error mapping leaves without one.
    private static readonly Dictionary<int, string> ProblemTypes = new()
    {
        [StatusCodes.Status413PayloadTooLarge] = "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        [StatusCodes.Status429TooManyRequests] = "https://tools.ietf.org/html/rfc6585#section-4",
        [StatusCodes.Status503ServiceUnavailable] = "https://tools.ietf.org/html/rfc9110#section-15.6.4",
    };

    private static ProblemDetails Problem(int status, string title, string detail, params (string Key, object Value)[] extensions)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = ProblemTypes.GetValueOrDefault(status) };
        foreach (var (key, value) in extensions) problem.Extensions[key] = value;
        return problem;
    }

    private static string Reason(ImageDecodeError error) => error switch
    {
        ImageDecodeError.Empty => "empty",
        ImageDecodeError.UnsupportedFormat => "unsupportedFormat",
        ImageDecodeError.Corrupt => "corrupt",
        ImageDecodeError.TooManyPixels => "tooManyPixels",
        _ => error.ToString(),
    };

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Bad request";
}
