using System.Diagnostics;
using ScanService.Api.OpenInference.Rest;

namespace ScanService.Api.Metrics;

/// <summary>
/// Times each request to the REST front ends (/v1 as rest, /v2 as v2) and labels it with the outcome its status
/// code says. It runs outside the exception handler, so it sees the status the client got, 413s from Kestrel's
/// body limit and 400s from parameter binding included. Health probes are left out: a probe every few seconds
/// would drown the latency of real requests.
/// </summary>
internal sealed class RequestMetricsMiddleware(RequestDelegate next, ScanMetrics metrics)
{
    private static readonly PathString RestPrefix = "/v1";
    private static readonly PathString HealthPrefix = InferenceProtocolApi.Prefix + "/health";

    public async Task InvokeAsync(HttpContext context)
    {
        if (FrontEndOf(context.Request.Path) is not { } frontEnd)
        {
            await next(context);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        var outcome = RequestOutcome.ServerError;
        try
        {
            await next(context);
            // A client that went away gets no answer; what its status code says then is not what happened.
            outcome = context.RequestAborted.IsCancellationRequested
                ? RequestOutcome.ClientError
                : RequestOutcomes.FromHttpStatus(context.Response.StatusCode);
        }
        finally
        {
            metrics.RecordRequest(frontEnd, outcome, Stopwatch.GetElapsedTime(started));
        }
    }

    internal static FrontEnd? FrontEndOf(PathString path)
    {
        if (path.StartsWithSegments(RestPrefix)) return FrontEnd.Rest;
        if (path.StartsWithSegments(HealthPrefix)) return null;
        return InferenceProtocolApi.Serves(path) ? FrontEnd.V2 : null;
    }
}

/// <summary>Puts <see cref="RequestMetricsMiddleware"/> first in the pipeline, before the exception handler that sets error statuses.</summary>
internal sealed class RequestMetricsStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<RequestMetricsMiddleware>();
        next(app);
    };
}
