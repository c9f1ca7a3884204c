// Namespaces nearly every test file of this project uses.
global using System.Net;
global using System.Net.Http.Json;
global using System.Text.Json;
global using Microsoft.Extensions.DependencyInjection;
global using ScanService.Api.ModelLoading;
global using ScanService.Api.Rest;
global using ScanService.Core.Inference;
global using ScanService.TestSupport;
global using static ScanService.Api.Tests.Rest.RestCalls;
