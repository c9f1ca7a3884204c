using System.Text.RegularExpressions;

namespace ScanService.Api.Tests.Metrics;

/// <summary>
/// ASP.NET Core's and the .NET runtime's metrics have the same names in every .NET service a Prometheus scrapes: the
/// dashboard keeps them to ScanService's job (and to a namespace and pod) through its variables.
/// </summary>
public sealed partial class DashboardFilterTests
{
    private static readonly string[] Variables = ["job", "namespace", "pod"];

    [Fact]
    public void The_dashboard_has_job_namespace_and_pod_variables_over_the_services_own_metric_with_All()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardTests.DashboardPath));
        var list = dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
        foreach (var name in Variables)
        {
            var variable = list.Single(v => v.GetProperty("name").GetString() == name);
            Assert.Equal("query", variable.GetProperty("type").GetString());
            Assert.True(variable.GetProperty("includeAll").GetBoolean(), $"{name} has no All");
            // All must also match series without the label (compose has no namespace or pod).
            Assert.Equal(".*", variable.GetProperty("allValue").GetString());
            var query = variable.GetProperty("query").GetProperty("query").GetString()!;
            Assert.Matches($@"^label_values\(scan_[a-z_]+(\{{.*\}})?, {name}\)$", query);
        }
    }

    [Fact]
    public void Every_ASP_NET_Core_and_runtime_query_filters_on_job_namespace_and_pod()
    {
        var filtered = 0;
        foreach (var (where, query) in DashboardTests.Queries())
        {
            foreach (Match selector in FrameworkSelector().Matches(query))
            {
                var matchers = selector.Groups["matchers"].Value;
                foreach (var name in Variables)
                    Assert.True(matchers.Contains($"{name}=~\"${name}\"", StringComparison.Ordinal), $"{where}: {selector.Value} is not filtered on ${name} ({query})");
                filtered++;
            }
        }
        // The HTTP requests panel and the three .NET runtime panels at least.
        Assert.True(filtered >= 4, $"only {filtered} ASP.NET Core or runtime selectors found");
    }

    // Metric names of ASP.NET Core, Kestrel and the System.Runtime meter, with the matcher block that follows.
    [GeneratedRegex(@"(?<![\w:])(?:http_server|kestrel|aspnetcore|dotnet|signalr)_[a-zA-Z0-9_:]*\s*(?:\{(?<matchers>[^}]*)\})?")]
    private static partial Regex FrameworkSelector();
}
