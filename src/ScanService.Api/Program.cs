using ScanService.Api;
using ScanService.Api.Admin;
using ScanService.Api.Grpc;
using ScanService.Api.Classifier;
using ScanService.Api.Degradation;
using ScanService.Api.Metrics;
using ScanService.Api.ModelLoading;
using ScanService.Api.Rest;
using ScanService.Api.Tracing;

var builder = WebApplication.CreateBuilder(ServiceContentRoot.Options(args));
builder.AddScanModel();
builder.AddScanInference();
builder.AddScanDegradation();
builder.AddScanRest();
builder.AddScanGrpc();
builder.AddScanMetrics();
builder.AddScanTracing();
builder.AddScanAdmin();

var app = builder.Build();
app.UseScanRest();
app.MapScanRest();
app.MapScanGrpc();
app.MapScanMetrics();
app.MapScanAdmin();
app.Run();

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
