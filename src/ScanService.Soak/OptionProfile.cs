using System.Globalization;
using System.Text.Json.Nodes;
using ScanService.Protocols.Scan.V1;

namespace ScanService.Soak;

/// <summary>
/// One way of asking for an answer: an operating point, a depth cap, full depth or the ensemble. Every image is sent
/// with every profile, so the soak mixes requests that leave at every exit.
/// </summary>
public sealed record OptionProfile(string Name, string? OperatingPoint = null, int? MaxExit = null, bool FullDepth = false, bool Ensemble = false)
{
    /// <summary>The profiles for a model with these operating points and exits.</summary>
    public static IReadOnlyList<OptionProfile> For(IReadOnlyList<string> operatingPoints, int exitCount)
    {
        var profiles = new List<OptionProfile> { new("default") };
        profiles.AddRange(operatingPoints.Select(p => new OptionProfile($"operatingPoint={p}", OperatingPoint: p)));
        profiles.Add(new OptionProfile("maxExit=1", MaxExit: 1));
        if (exitCount > 2) profiles.Add(new OptionProfile($"maxExit={exitCount - 1}", MaxExit: exitCount - 1));
        if (operatingPoints.Count > 0 && exitCount > 1)
            profiles.Add(new OptionProfile($"operatingPoint={operatingPoints[0]}&maxExit=2", OperatingPoint: operatingPoints[0], MaxExit: 2));
        profiles.Add(new OptionProfile("fullDepth", FullDepth: true));
        if (exitCount > 1) profiles.Add(new OptionProfile("fullDepth&maxExit=2", MaxExit: 2, FullDepth: true));
        profiles.Add(new OptionProfile("ensemble", Ensemble: true));
        return profiles;
    }

    /// <summary>The query string of POST /v1/classify.</summary>
    public string Query()
    {
        var parts = new List<string>();
        if (OperatingPoint is not null) parts.Add($"operatingPoint={Uri.EscapeDataString(OperatingPoint)}");
        if (MaxExit is { } maxExit) parts.Add(string.Create(CultureInfo.InvariantCulture, $"maxExit={maxExit}"));
        if (FullDepth) parts.Add("fullDepth=true");
        if (Ensemble) parts.Add("ensemble=true");
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    /// <summary>The parameters of an Open Inference Protocol request.</summary>
    public JsonObject InferParameters()
    {
        var parameters = new JsonObject();
        if (OperatingPoint is not null) parameters["operating_point"] = OperatingPoint;
        if (MaxExit is { } maxExit) parameters["max_exit"] = maxExit;
        if (FullDepth) parameters["full_depth"] = true;
        if (Ensemble) parameters["ensemble"] = true;
        return parameters;
    }

    /// <summary>The parameters of an Open Inference Protocol gRPC ModelInfer request.</summary>
    public void AddInferParameters(Google.Protobuf.Collections.MapField<string, ScanService.Protocols.OpenInference.InferParameter> parameters)
    {
        if (OperatingPoint is not null) parameters["operating_point"] = new() { StringParam = OperatingPoint };
        if (MaxExit is { } maxExit) parameters["max_exit"] = new() { Int64Param = maxExit };
        if (FullDepth) parameters["full_depth"] = new() { BoolParam = true };
        if (Ensemble) parameters["ensemble"] = new() { BoolParam = true };
    }

    public ClassifyOptions Grpc()
    {
        var options = new ClassifyOptions { OperatingPoint = OperatingPoint ?? "", FullDepth = FullDepth, Ensemble = Ensemble };
        if (MaxExit is { } maxExit) options.MaxExit = maxExit;
        return options;
    }

    public override string ToString() => Name;
}
