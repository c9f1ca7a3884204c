namespace ScanService.Core.Bundle;

public enum BundleProblem
{
    ManifestMissing,
    ManifestUnreadable,
    UnsupportedSchemaVersion,
    FileMissing,
    ChecksumMismatch,
    GraphsDoNotChain,
    InvalidManifest,
}

/// <summary>A model bundle that cannot be served, with the one problem that was found first.</summary>
public sealed class BundleValidationException(BundleProblem problem, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public BundleProblem Problem { get; } = problem;
}
