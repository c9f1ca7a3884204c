// Namespaces nearly every test file of this project uses.
global using ScanService.Core.Bundle;
global using ScanService.Core.Batching;
global using ScanService.Core.Inference;
global using ScanService.Core.Preprocessing;
global using SkiaSharp;
global using ScanService.TestSupport;
